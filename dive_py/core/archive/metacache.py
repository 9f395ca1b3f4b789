"""The layer metadata cache: what a load parsed, kept on disk so the same image opens again at once.

Reading a gigabyte archive (or an engine's export, or a registry's gzip
blobs) is the slow part of every run; what it yields is small -- the member
table, the manifests and configs, and each layer's columns of entries.  A
*snapshot* of those is written after a successful load, keyed by the
source's identity:

* a file: its real path, device, inode, size, mtime and ctime, so an
  edited or replaced archive is never served stale;
* a layout directory: the same for every regular file under it;
* an engine's image: the endpoint, the image id (the digest of its config,
  which names every layer's digest) and the platform asked for.

A snapshot is one file, written to a temporary name and renamed into place
(concurrent runs never see half a file), with a magic, a version and an
xxh3-128 checksum of its payload: a truncated or corrupt one is detected,
deleted and the image read again.  The cache is capped by size and pruned
least-recently-used first (a hit refreshes the file's mtime).

File contents are never cached: the viewer and extraction read them from
the source (``snapshot_archive.SnapshotArchive`` opens it on first need).
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
from array import array
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import orjson
import xxhash

from dive_py.core.archive.base import LayerBlob, Member
from dive_py.core.tar.layerread import RawLayer

MAGIC = b"divepy-layer-metadata\x00"
VERSION = 1
SUFFIX = ".meta"
#: The cache's default cap; pruned to it after every store.
DEFAULT_MAX_BYTES = 4 << 30
#: A layout directory with more files than this is not cached (its identity would cost a walk of them all).
MAX_LAYOUT_FILES = 20_000
#: The only files the cache removes (pruning, a corrupt entry): named by a key of ours.
_OURS = re.compile(r"[0-9a-f]{64}\.meta\Z")
_INT_COLUMNS = ("modes", "uids", "gids", "sizes", "mtimes", "offsets")
#: Kinds of source, for reading file contents later.
TAR, DIRECTORY, STREAM = "tar", "dir", "stream"


def file_identity(path: str) -> str | None:
    """A key that changes whenever the file (or directory tree) at ``path`` may have changed."""
    try:
        real = os.path.realpath(path)
        st = os.stat(real)
    except OSError:
        return None
    parts = [real]
    if stat.S_ISREG(st.st_mode):
        parts.append(_stat_key(st))
    elif stat.S_ISDIR(st.st_mode):
        files = _tree(real)
        if files is None:
            return None
        parts += files
    else:
        return None
    return hashlib.sha256("\0".join(["file", *parts]).encode("utf-8", "surrogatepass")).hexdigest()


def _stat_key(st: os.stat_result) -> str:
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def _tree(root: str) -> list[str] | None:
    out: list[str] = []
    stack = [root]
    while stack:
        top = stack.pop()
        try:
            with os.scandir(top) as it:
                for entry in it:
                    rel = os.path.relpath(entry.path, root)
                    st = entry.stat(follow_symlinks=True) if not entry.is_dir(follow_symlinks=False) else None
                    if st is None:
                        stack.append(entry.path)
                        out.append(f"{rel}/")
                    else:
                        out.append(f"{rel}={_stat_key(st)}")
                    if len(out) > MAX_LAYOUT_FILES:
                        return None
        except OSError:
            return None
    return sorted(out)


@dataclass(slots=True)
class Snapshot:
    """What one load parsed."""

    kind: str  #: TAR, DIRECTORY or STREAM: how to read contents again
    members: dict[str, Member]
    complete: bool  #: every member is in ``members`` (not so for a directory, resolved name by name)
    tar_links: bool  #: ``has_layer_tar_links()`` of the source
    json: dict[str, Any]
    layers: dict[str, LayerBlob]


# -- encoding ---------------------------------------------------------------------------------------------------


def _strings(values: list[str]) -> bytes | None:
    joined = "\0".join(values)
    if joined.count("\0") != max(len(values) - 1, 0):
        return None  # a NUL inside a value: this layer is not cached
    return joined.encode("utf-8", "surrogatepass")


def encode(snapshot: Snapshot) -> bytes | None:
    """The snapshot as bytes (None when something in it cannot be encoded faithfully)."""
    payload = bytearray()
    layers: list[dict[str, Any]] = []

    def section(data: bytes | bytearray | memoryview) -> list[int]:
        start = len(payload)
        payload.extend(data)
        return [start, len(data)]

    for name, blob in snapshot.layers.items():
        raw = blob.raw
        paths, links = _strings(raw.paths), _strings(raw.links)
        if paths is None or links is None:
            return None
        doc: dict[str, Any] = {
            "member": name,
            "compression": blob.compression,
            "stored": blob.stored_size,
            "count": len(raw),
            "tarBytes": raw.tar_bytes,
            "paths": section(paths),
            "links": section(links),
            "kinds": section(raw.kinds),
            "tflags": section(raw.tflags),
        }
        for col in _INT_COLUMNS:
            doc[col] = section(getattr(raw, col).tobytes())
        if raw.hashes is not None:
            doc["hashes"] = section(raw.hashes.tobytes())
        layers.append(doc)
    members = [[m.name, m.is_file, m.offset, m.size, m.link, m.refused, key] for key, m in snapshot.members.items()]
    header = {
        "version": VERSION,
        "kind": snapshot.kind,
        "complete": snapshot.complete,
        "tarLinks": snapshot.tar_links,
        "members": members,
        "json": snapshot.json,
        "layers": layers,
        "payload": len(payload),
        "checksum": xxhash.xxh3_128_hexdigest(payload),
    }
    try:
        head = orjson.dumps(header)
    except (TypeError, orjson.JSONEncodeError):  # JSON nested deeper than orjson writes: not cached
        return None
    return b"".join((MAGIC, len(head).to_bytes(8, "little"), head, payload))  # one copy of the payload, not three


class CorruptSnapshot(Exception):
    """The file is not a whole, valid snapshot."""


def decode(data: bytes) -> Snapshot:
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 8:
        raise CorruptSnapshot("no magic")
    at = len(MAGIC)
    size = int.from_bytes(data[at : at + 8], "little")
    try:
        header = orjson.loads(data[at + 8 : at + 8 + size])
    except orjson.JSONDecodeError:
        raise CorruptSnapshot("header") from None
    payload = memoryview(data)[at + 8 + size :]
    if not isinstance(header, dict) or header.get("version") != VERSION or header.get("payload") != len(payload):
        raise CorruptSnapshot("version or length")
    if xxhash.xxh3_128_hexdigest(payload) != header.get("checksum"):
        raise CorruptSnapshot("checksum")
    try:
        return _snapshot(header, payload)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise CorruptSnapshot(f"structure ({exc})") from None


def _snapshot(header: dict[str, Any], payload: memoryview) -> Snapshot:
    def part(span: list[int]) -> memoryview:
        start, n = span
        if start < 0 or n < 0 or start + n > len(payload):
            raise ValueError("section out of range")
        return payload[start : start + n]

    def strings(span: list[int], count: int) -> list[str]:
        values = bytes(part(span)).decode("utf-8", "surrogatepass").split("\0") if count else []
        if len(values) != count:
            raise ValueError("string count")
        return values

    layers: dict[str, LayerBlob] = {}
    for doc in header["layers"]:
        count = int(doc["count"])
        raw = RawLayer(paths=strings(doc["paths"], count), links=strings(doc["links"], count))
        raw.kinds = bytearray(part(doc["kinds"]))
        raw.tflags = bytearray(part(doc["tflags"]))
        for col in _INT_COLUMNS:
            values = array("q")
            values.frombytes(part(doc[col]))
            setattr(raw, col, values)
        if "hashes" in doc:
            raw.hashes = array("Q")
            raw.hashes.frombytes(part(doc["hashes"]))
        raw.tar_bytes = int(doc["tarBytes"])
        columns = [raw.kinds, raw.tflags, *(getattr(raw, c) for c in _INT_COLUMNS)]
        if any(len(c) != count for c in columns) or (raw.hashes is not None and len(raw.hashes) != count):
            raise ValueError("column length")
        layers[str(doc["member"])] = LayerBlob(raw, str(doc["compression"]), int(doc["stored"]))
    members = {
        str(key): Member(str(name), bool(is_file), int(offset), int(size), str(link), str(refused))
        for name, is_file, offset, size, link, refused, key in header["members"]
    }
    return Snapshot(
        kind=str(header["kind"]),
        members=members,
        complete=bool(header["complete"]),
        tar_links=bool(header["tarLinks"]),
        json=dict(header["json"]),
        layers=layers,
    )


# -- the cache directory ----------------------------------------------------------------------------------------


class MetaCache:
    """Snapshots under one directory, by key."""

    def __init__(self, root: str, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def _path(self, key: str) -> str:
        return os.path.join(self.root, key[:2], key + SUFFIX)

    def get(self, key: str) -> Snapshot | None:
        path = self._path(key)
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError:
            return None
        try:
            snapshot = decode(data)
        except CorruptSnapshot:
            with suppress(OSError):
                os.unlink(path)  # ours (the name is a key of ours, under our directory): read the image again
            return None
        with suppress(OSError):
            os.utime(path)  # last used: the LRU order
        return snapshot

    def put(self, key: str, snapshot: Snapshot) -> bool:
        """Store atomically; False when it could not be (a full disk is no reason to fail the run)."""
        data = encode(snapshot)
        if data is None:
            return False
        directory = os.path.dirname(self._path(key))
        try:
            os.makedirs(directory, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
        except OSError:
            return False
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, self._path(key))
        except OSError:
            with suppress(OSError):
                os.unlink(tmp)
            return False
        self.prune(self.max_bytes)
        return True

    def entries(self) -> list[tuple[str, int, float]]:
        """(path, bytes, last used) of every snapshot, oldest first."""
        out = []
        for path in self._files():
            with suppress(OSError):
                st = os.stat(path)
                out.append((path, st.st_size, st.st_mtime))
        return sorted(out, key=lambda e: e[2])

    def _files(self) -> Iterator[str]:
        try:
            shards = list(os.scandir(self.root))
        except OSError:
            return
        for shard in shards:
            if len(shard.name) != 2 or not shard.is_dir(follow_symlinks=False):
                continue
            with suppress(OSError), os.scandir(shard.path) as it:
                for entry in it:
                    if _OURS.match(entry.name) and entry.is_file(follow_symlinks=False):
                        yield entry.path

    def prune(self, limit: int) -> list[tuple[str, int]]:
        """Remove the least recently used snapshots until at most ``limit`` bytes remain."""
        entries = self.entries()
        total = sum(size for _, size, _ in entries)
        gone: list[tuple[str, int]] = []
        for path, size, _ in entries:
            if total <= limit:
                break
            with suppress(OSError):
                os.unlink(path)
                total -= size
                gone.append((path, size))
        return gone


__all__ = [
    "DEFAULT_MAX_BYTES",
    "DIRECTORY",
    "STREAM",
    "TAR",
    "CorruptSnapshot",
    "MetaCache",
    "Snapshot",
    "decode",
    "encode",
    "file_identity",
]
