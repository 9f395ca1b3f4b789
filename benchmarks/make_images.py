"""Generate the large, deterministic image archives the benchmarks run on.

Why generated and not pulled: the numbers must be reproducible on any
machine, without a registry or a Docker daemon, and the shapes must stress
exactly what makes an analyzer slow: bytes (a 1 GB archive), entries (400k
files), copy-ups (a ``chown -R`` layer re-adding every file) and whiteouts
(200k per-file whiteouts, the case where dive's restacking is quadratic).

Images (written to ``--work``, default ``benchmarks/work/``, git-ignored):

``big-30k.docker.tar``
    ~1 GB uncompressed legacy ``docker save`` (``manifest.json``, config with
    ``rootfs.diff_ids`` and ``history``, ``<id>/layer.tar``): 7 layers,
    ~30k entries, file sizes mixed (mostly small, some MB-sized, a few tens of
    MB), cross-layer overwrites (same and changed content), per-file and
    directory whiteouts and one opaque directory.
``big-30k.oci-gzip.tar``
    The same image (same diff_ids) as an OCI image-layout archive
    (``oci-layout``, ``index.json``, ``blobs/sha256/...``) with gzip layers.
    Compressed with ISA-L level 1 when ``isal`` is installed (else zlib -1).
``hard-400k.docker.tar``
    A node_modules-shaped image: L0 a small base, L1 ~400k small files
    (~1.4 KB average content, so ~2 KB per tar member with its header),
    L2 ``chown -R 1000:1000``: every file, directory and symlink again with
    the same content, L3 deletes more than half of the tree: ~200k per-file
    whiteouts inside directories that stay, plus whole-package directory
    whiteouts.  1.31M tar entries, ~1.2 GB of content (dive's "image
    size"), ~2.0 GB of tar.
``hard-200k.docker.tar``
    Like ``hard-400k`` with 200k files and no delete layer (base, files,
    chown; 512k entries, ~0.9 GB): a big tree for UI benchmarks.

Everything is deterministic: fixed seeds, fixed mtimes, file contents cut
from one seeded pseudo-random pool (3/4 word-like text, 1/4 random bytes, so
gzip ratios look like real layers', ~0.45).  The same script version always
writes the same bytes.  A ``<image>.meta.json`` next to each archive records
the generator version and statistics; an archive whose meta matches is
reused, so run this as often as you like (``--force`` regenerates).

The tar writer here streams: layer tars are written straight into the
outer archive (the outer member's header is patched once the layer's size
and digest are known), so memory stays small whatever the image size.

Usage::

    python benchmarks/make_images.py                 # all four images
    python benchmarks/make_images.py --images hard-200k.docker --work /tmp/w
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import struct
import sys
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, BinaryIO


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _loads(data: bytes) -> Any:
    return json.loads(data)


_isal_zlib: ModuleType | None
try:  # ISA-L deflate level 1 is several times faster than zlib -1
    from isal import isal_zlib as _isal_zlib
except ImportError:  # pragma: no cover
    _isal_zlib = None

GENERATOR_VERSION = 2  # 2: the base's hardlink follows its target, so docker load takes the image
MTIME = 1_600_000_000
CREATED = "2024-05-06T07:08:09Z"
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_WORK = os.path.join(HERE, "work")

# ---------------------------------------------------------------------------
# Content pool
# ---------------------------------------------------------------------------

_POOL_SIZE = 64 << 20
_BLOCK = 256 << 10


class Pool:
    """Deterministic file contents: slices of one seeded 64 MiB buffer.

    Blocks of 256 KiB alternate (3 text : 1 random) so that a slice of any
    size compresses roughly like real files do.  ``slice(key, n)`` always
    returns the same bytes for the same ``(key, n)``.
    """

    def __init__(self, seed: int = 20240506) -> None:
        rnd = random.Random(seed)
        vocab = []
        for _ in range(700):
            n = rnd.randint(2, 11)
            vocab.append("".join(rnd.choice("etaoinshrdlcumwfgypbvkjxqz_.(){}=;") for _ in range(n)))
        seps = [" "] * 12 + ["\n", "\n    ", ", ", "; "]
        n_text_blocks = (_POOL_SIZE // _BLOCK) * 3 // 4
        words = rnd.choices(vocab, k=n_text_blocks * _BLOCK // 5)
        glue = rnd.choices(seps, k=len(words))
        text = "".join(w + s for w, s in zip(words, glue)).encode()
        rand = rnd.randbytes(_POOL_SIZE)
        out = bytearray()
        t = 0
        for i in range(_POOL_SIZE // _BLOCK):
            if i % 4 == 3:
                out += rand[i * _BLOCK : (i + 1) * _BLOCK]
            else:
                chunk = text[t : t + _BLOCK]
                if len(chunk) < _BLOCK:
                    chunk = (chunk + text)[:_BLOCK]
                out += chunk
                t += _BLOCK
        self.buf = memoryview(bytes(out))

    def slice(self, key: int, n: int) -> memoryview:
        if n > _POOL_SIZE:
            raise ValueError(f"file of {n} bytes is larger than the content pool")
        span = _POOL_SIZE - n + 1
        off = (key * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) % span
        return self.buf[off : off + n]


_POOL: Pool | None = None


def pool() -> Pool:
    global _POOL
    if _POOL is None:
        _POOL = Pool()
    return _POOL


# ---------------------------------------------------------------------------
# Streaming tar writing
# ---------------------------------------------------------------------------

_HDR = struct.Struct("100s8s8s8s12s12s8sc100s6s2s32s32s8s8s155s12x")
REG, LNK, SYM, DIR, PAX = b"0", b"1", b"2", b"5", b"x"


def _split_ustar(name: bytes) -> tuple[bytes, bytes] | None:
    """(prefix, name) for the ustar prefix field, like Go's archive/tar."""
    if len(name) <= 100:
        return b"", name
    if len(name) > 256:
        return None
    i = name.rfind(b"/", 0, min(len(name) - 1, 156))
    while i > 0:
        if len(name) - i - 1 <= 100:
            return name[:i], name[i + 1 :]
        break
    return None


def tar_header(
    name: str,
    tflag: bytes,
    size: int = 0,
    mode: int = 0o644,
    uid: int = 0,
    gid: int = 0,
    link: str = "",
    mtime: int = MTIME,
) -> bytes:
    """One ustar header block, preceded by a PAX record block when needed."""
    bname = name.encode()
    blink = link.encode()
    split = _split_ustar(bname)
    pax = b""
    if split is None or len(blink) > 100:
        records = []
        if split is None:
            records.append(_pax_record("path", bname))
            split = (b"", bname[:100])
        if len(blink) > 100:
            records.append(_pax_record("linkpath", blink))
            blink = blink[:100]
        body = b"".join(records)
        pax = _raw_header(b"PaxHeaders/" + split[1][-80:], PAX, len(body), 0o644, 0, 0, b"", b"", mtime)
        pax += body + bytes(-len(body) % 512)
    prefix, short = split
    return pax + _raw_header(short, tflag, size, mode, uid, gid, blink, prefix, mtime)


def _pax_record(key: str, value: bytes) -> bytes:
    payload = b" " + key.encode() + b"=" + value + b"\n"
    n = len(payload) + 1
    while len(str(n).encode()) + len(payload) != n:
        n = len(str(n).encode()) + len(payload)
    return str(n).encode() + payload


def _raw_header(
    name: bytes, tflag: bytes, size: int, mode: int, uid: int, gid: int, link: bytes, prefix: bytes, mtime: int
) -> bytes:
    h = _HDR.pack(
        name,
        b"%07o\x00" % mode,
        b"%07o\x00" % uid,
        b"%07o\x00" % gid,
        b"%011o\x00" % size,
        b"%011o\x00" % mtime,
        b"        ",
        tflag,
        link,
        b"ustar\x00",
        b"00",
        b"",
        b"",
        b"0000000\x00",
        b"0000000\x00",
        prefix,
    )
    return h[:148] + b"%06o\x00 " % sum(h) + h[156:]


class LayerStream:
    """Writes one layer tar into a sink, hashing (and optionally gzipping) it.

    ``diff_id`` is the sha256 of the uncompressed tar; ``blob_digest`` that of
    the bytes actually stored (the same unless compressed).
    """

    FLUSH = 1 << 20

    def __init__(self, out: BinaryIO, gzip_level: int | None = None) -> None:
        self.out = out
        self.diff = hashlib.sha256()
        self.blob = hashlib.sha256()
        self.comp: Any = None
        if gzip_level is not None:
            if _isal_zlib is not None:
                self.comp = _isal_zlib.compressobj(min(gzip_level, 3), _isal_zlib.DEFLATED, 31)
            else:
                self.comp = zlib.compressobj(gzip_level, zlib.DEFLATED, 31)
        self.buf = bytearray()
        self.tar_bytes = 0
        self.stored_bytes = 0
        # statistics
        self.entries = 0
        self.content_bytes = 0
        self.whiteouts = 0
        self.opaques = 0

    def _emit(self, data: bytes | bytearray | memoryview) -> None:
        self.diff.update(data)
        self.tar_bytes += len(data)
        if self.comp is not None:
            data = self.comp.compress(data)
            if not data:
                return
        self.blob.update(data)
        self.stored_bytes += len(data)
        self.out.write(data)

    def _flush(self) -> None:
        if self.buf:
            self._emit(self.buf)
            self.buf = bytearray()

    def write(self, data: bytes | memoryview) -> None:
        if len(data) >= self.FLUSH:
            self._flush()
            self._emit(data)
            return
        self.buf += data
        if len(self.buf) >= self.FLUSH:
            self._flush()

    # -- entries ------------------------------------------------------------
    def add(
        self,
        name: str,
        tflag: bytes,
        *,
        size: int = 0,
        mode: int = 0o644,
        uid: int = 0,
        gid: int = 0,
        link: str = "",
        data: bytes | memoryview | None = None,
    ) -> None:
        self.write(tar_header(name, tflag, size, mode, uid, gid, link))
        self.entries += 1
        if tflag == REG and size:
            assert data is not None and len(data) == size
            self.write(data)
            pad = -size % 512
            if pad:
                self.write(bytes(pad))
            self.content_bytes += size

    def file(self, path: str, size: int, key: int, *, mode: int = 0o644, uid: int = 0, gid: int = 0) -> None:
        self.add(path, REG, size=size, mode=mode, uid=uid, gid=gid, data=pool().slice(key, size) if size else None)

    def dir(self, path: str, *, mode: int = 0o755, uid: int = 0, gid: int = 0) -> None:
        self.add(path.rstrip("/") + "/", DIR, mode=mode, uid=uid, gid=gid)

    def symlink(self, path: str, target: str, *, uid: int = 0, gid: int = 0) -> None:
        self.add(path, SYM, mode=0o777, uid=uid, gid=gid, link=target)

    def hardlink(self, path: str, target: str) -> None:
        self.add(path, LNK, link=target)

    def whiteout(self, path: str) -> None:
        head, _, tail = path.rpartition("/")
        self.add(f"{head}/.wh.{tail}" if head else f".wh.{tail}", REG, mode=0)
        self.whiteouts += 1

    def opaque(self, directory: str) -> None:
        self.add(f"{directory}/.wh..wh..opq", REG, mode=0)
        self.opaques += 1

    def close(self) -> None:
        self.write(bytes(1024))
        self._flush()
        if self.comp is not None:
            tail = self.comp.flush()
            self.blob.update(tail)
            self.stored_bytes += len(tail)
            self.out.write(tail)

    def stats(self) -> dict[str, Any]:
        return {
            "entries": self.entries,
            "contentBytes": self.content_bytes,
            "tarBytes": self.tar_bytes,
            "storedBytes": self.stored_bytes,
            "whiteouts": self.whiteouts,
            "opaques": self.opaques,
            "diffId": "sha256:" + self.diff.hexdigest(),
            "blobDigest": "sha256:" + self.blob.hexdigest(),
        }


class OuterTar:
    """The outer archive, written sequentially; big members are back-patched."""

    def __init__(self, path: str) -> None:
        self.fh = open(path, "wb", buffering=4 << 20)  # noqa: SIM115 - closed in close()

    def add_bytes(self, name: str, data: bytes, mode: int = 0o644) -> None:
        self.fh.write(tar_header(name, REG, len(data), mode, mtime=0))
        self.fh.write(data)
        self.fh.write(bytes(-len(data) % 512))

    def add_dir(self, name: str) -> None:
        self.fh.write(tar_header(name.rstrip("/") + "/", DIR, 0, 0o755, mtime=0))

    def stream_member(self, write_body: Callable[[BinaryIO], Any], n_headers: int = 1) -> tuple[int, Any]:
        """Reserve ``n_headers`` header blocks, let ``write_body`` stream the data.

        Returns the header position and whatever ``write_body`` returned; call
        :meth:`patch` with the final headers.
        """
        self.fh.flush()
        pos = self.fh.tell()
        self.fh.write(bytes(512 * n_headers))
        start = pos + 512 * n_headers
        result = write_body(self.fh)
        self.fh.flush()
        size = self.fh.tell() - start
        self.fh.write(bytes(-size % 512))
        return pos, (size, result)

    def patch(self, pos: int, headers: bytes) -> None:
        self.fh.flush()
        end = self.fh.tell()
        self.fh.seek(pos)
        self.fh.write(headers)
        self.fh.flush()
        self.fh.seek(end)

    def close(self) -> None:
        self.fh.write(bytes(1024))
        self.fh.close()


# ---------------------------------------------------------------------------
# Image specification: a layer is a function that writes entries
# ---------------------------------------------------------------------------

LayerFn = Callable[[LayerStream], None]


@dataclass
class ImagePlan:
    name: str
    tag: str
    layers: list[tuple[str, LayerFn]]  # (created_by, writer)
    empty_steps: dict[int, list[str]] = field(default_factory=dict)  # after layer i: ENV/CMD steps
    config: dict[str, Any] = field(default_factory=dict)


def _config_json(plan: ImagePlan, diff_ids: list[str]) -> bytes:
    history: list[dict[str, str | bool]] = []
    for i, (created_by, _fn) in enumerate(plan.layers):
        history.append({"created": CREATED, "created_by": created_by})
        for step in plan.empty_steps.get(i, []):
            history.append({"created": CREATED, "created_by": step, "empty_layer": True})
    return _dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "created": CREATED,
            "config": plan.config
            or {
                "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                "Cmd": ["/bin/sh"],
                "WorkingDir": "/app",
            },
            "history": history,
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }
    )


def write_docker_save(plan: ImagePlan, path: str, log: Callable[[str], None]) -> dict[str, Any]:
    """Legacy ``docker save`` layout, uncompressed layers."""
    out = OuterTar(path)
    layer_paths: list[str] = []
    diff_ids: list[str] = []
    stats: list[dict[str, Any]] = []
    parent = ""
    for i, (created_by, fn) in enumerate(plan.layers):
        t0 = time.perf_counter()

        def body(fh: BinaryIO, fn: LayerFn = fn) -> LayerStream:
            ls = LayerStream(fh)
            fn(ls)
            ls.close()
            return ls

        pos, (size, ls) = out.stream_member(body, n_headers=2)
        diff_hex = ls.diff.hexdigest()
        v1 = hashlib.sha256((parent + diff_hex).encode()).hexdigest()
        parent = v1
        out.patch(
            pos, tar_header(v1 + "/", DIR, 0, 0o755, mtime=0) + tar_header(f"{v1}/layer.tar", REG, size, 0o644, mtime=0)
        )
        out.add_bytes(f"{v1}/VERSION", b"1.0")
        out.add_bytes(f"{v1}/json", _dumps({"id": v1, **({"parent": layer_paths[-1].split("/")[0]} if i else {})}))
        layer_paths.append(f"{v1}/layer.tar")
        diff_ids.append("sha256:" + diff_hex)
        _note_layer(stats, ls, created_by, log, i, t0, "")
    cfg = _config_json(plan, diff_ids)
    cfg_hex = hashlib.sha256(cfg).hexdigest()
    out.add_bytes(f"{cfg_hex}.json", cfg)
    out.add_bytes(
        "manifest.json", _dumps([{"Config": f"{cfg_hex}.json", "RepoTags": [plan.tag], "Layers": layer_paths}])
    )
    repo, _, tag = plan.tag.rpartition(":")
    out.add_bytes("repositories", _dumps({repo: {tag: parent}}))
    out.close()
    return {"format": "docker-save", "layers": stats, "configDigest": "sha256:" + cfg_hex}


def _note_layer(
    stats: list[dict[str, Any]],
    ls: LayerStream,
    created_by: str,
    log: Callable[[str], None],
    i: int,
    t0: float,
    extra: str,
) -> None:
    """Record a written layer's statistics and log one progress line."""
    st = ls.stats()
    st["createdBy"] = created_by
    stats.append(st)
    log(
        f"  layer {i}: {st['entries']:>7} entries, {st['tarBytes'] / 2**20:8.1f} MiB tar{extra} "
        f"({time.perf_counter() - t0:.1f} s)"
    )


def write_oci_gzip(plan: ImagePlan, path: str, log: Callable[[str], None], level: int = 1) -> dict[str, Any]:
    """OCI image layout in a tar, gzip layer blobs."""
    out = OuterTar(path)
    out.fh.write(tar_header("oci-layout", REG, 30, 0o644, mtime=0))
    out.fh.write(b'{"imageLayoutVersion":"1.0.0"}' + bytes(512 - 30))
    out.add_dir("blobs")
    out.add_dir("blobs/sha256")
    descs = []
    diff_ids = []
    stats: list[dict[str, Any]] = []
    for i, (created_by, fn) in enumerate(plan.layers):
        t0 = time.perf_counter()

        def body(fh: BinaryIO, fn: LayerFn = fn) -> LayerStream:
            ls = LayerStream(fh, gzip_level=level)
            fn(ls)
            ls.close()
            return ls

        pos, (size, ls) = out.stream_member(body)
        assert size == ls.stored_bytes
        blob_hex = ls.blob.hexdigest()
        out.patch(pos, tar_header(f"blobs/sha256/{blob_hex}", REG, size, 0o444, mtime=0))
        descs.append(
            {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + blob_hex, "size": size}
        )
        diff_ids.append("sha256:" + ls.diff.hexdigest())
        _note_layer(stats, ls, created_by, log, i, t0, f", {size / 2**20:8.1f} MiB gzip")
    cfg = _config_json(plan, diff_ids)
    cfg_hex = hashlib.sha256(cfg).hexdigest()
    out.add_bytes(f"blobs/sha256/{cfg_hex}", cfg, 0o444)
    manifest = _dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": "sha256:" + cfg_hex,
                "size": len(cfg),
            },
            "layers": descs,
        }
    )
    man_hex = hashlib.sha256(manifest).hexdigest()
    out.add_bytes(f"blobs/sha256/{man_hex}", manifest, 0o444)
    index = _dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": "sha256:" + man_hex,
                    "size": len(manifest),
                    "annotations": {
                        "io.containerd.image.name": plan.tag,
                        "org.opencontainers.image.ref.name": plan.tag.rpartition(":")[2],
                    },
                    "platform": {"architecture": "amd64", "os": "linux"},
                }
            ],
        }
    )
    out.add_bytes("index.json", index)
    out.close()
    return {
        "format": "oci-gzip",
        "layers": stats,
        "configDigest": "sha256:" + cfg_hex,
        "manifestDigest": "sha256:" + man_hex,
        "compressor": "isal" if _isal_zlib else "zlib",
    }


# ---------------------------------------------------------------------------
# Names and sizes
# ---------------------------------------------------------------------------

_SYL_TEXT = (
    "ba be bi bo bu da de di do du ka ke ki ko ku la le li lo lu ma me mi mo mu na ne ni no nu "
    "pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo za ze zo ex in un "
    "al el il ol ar er ir or an en on str tr pr gr fl cl"
)
_SYL = _SYL_TEXT.split()


def word(rnd: random.Random, lo: int = 2, hi: int = 4) -> str:
    return "".join(rnd.choice(_SYL) for _ in range(rnd.randint(lo, hi)))


def unique_words(rnd: random.Random, n: int, lo: int = 2, hi: int = 4) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        w = word(rnd, lo, hi)
        if w not in seen:
            seen.add(w)
            out.append(w)
    return out


def mixed_size(rnd: random.Random) -> int:
    """General-purpose files: many small, some medium, a few MB-sized."""
    r = rnd.random()
    if r < 0.70:
        return rnd.randint(0, 8 << 10)
    if r < 0.93:
        return rnd.randint(8 << 10, 64 << 10)
    if r < 0.99:
        return rnd.randint(64 << 10, 1 << 20)
    return rnd.randint(1 << 20, 6 << 20)


def small_size(rnd: random.Random) -> int:
    """node_modules-like files: median ~700 B, mean ~1.4 KB."""
    return min(int(rnd.lognormvariate(math.log(700), 1.2)), 256 << 10)


def _tree_key(path: str) -> str:
    return path.replace("/", "\x00")


@dataclass(slots=True)
class Node:
    path: str
    kind: str  # "d", "f", "l"
    size: int = 0
    key: int = 0
    mode: int = 0o644
    link: str = ""


def sorted_tree(nodes: Iterable[Node]) -> list[Node]:
    """Add missing parent directories and sort depth-first like ``docker save`` layers."""
    by_path: dict[str, Node] = {}
    for n in nodes:
        by_path[n.path] = n
    for p in list(by_path):
        q = p.rpartition("/")[0]
        while q and q not in by_path:
            by_path[q] = Node(q, "d", mode=0o755)
            q = q.rpartition("/")[0]
    return sorted(by_path.values(), key=lambda n: _tree_key(n.path))


def write_nodes(ls: LayerStream, nodes: Iterable[Node], *, uid: int = 0, gid: int = 0) -> None:
    for n in nodes:
        if n.kind == "d":
            ls.dir(n.path, mode=n.mode, uid=uid, gid=gid)
        elif n.kind == "l":
            ls.symlink(n.path, n.link, uid=uid, gid=gid)
        elif n.kind == "h":
            ls.hardlink(n.path, n.link)
        else:
            ls.file(n.path, n.size, n.key, mode=n.mode, uid=uid, gid=gid)


# ---------------------------------------------------------------------------
# big-30k: a ~1 GB general image, 7 layers, ~30k entries
# ---------------------------------------------------------------------------


def _fill(
    rnd: random.Random,
    dirs: list[str],
    n_files: int,
    budget: int,
    key0: int,
    ext: list[str],
    big: int = 0,
    big_range: tuple[int, int] = (8 << 20, 40 << 20),
) -> list[Node]:
    """``n_files`` files spread over ``dirs``, about ``budget`` bytes in total.

    Sizes come from :func:`mixed_size`; ``big`` files of ``big_range`` bytes
    are added and the rest of the budget is spread over the largest files.
    """
    names: set[str] = set()
    out: list[Node] = []
    while len(out) < n_files:
        d = rnd.choice(dirs)
        p = f"{d}/{word(rnd)}{rnd.choice(ext)}"
        if p in names:
            continue
        names.add(p)
        mode = 0o755 if rnd.random() < 0.05 else 0o644
        out.append(Node(p, "f", mixed_size(rnd), key0 + len(out), mode))
    bigs = set()
    for i in range(big):
        j = i * 7 % len(out)
        bigs.add(j)
        out[j].size = rnd.randint(*big_range)
    # Small files (<= 64 KiB) keep their sizes; the medium ones are scaled so
    # the layer holds about ``budget`` bytes.
    fixed = sum(n.size for j, n in enumerate(out) if j in bigs or n.size <= 64 << 10)
    scalable = [n for j, n in enumerate(out) if j not in bigs and n.size > 64 << 10]
    movable = sum(n.size for n in scalable)
    if scalable:
        factor = max(budget - fixed, movable * 0.05) / movable
        for n in scalable:
            n.size = max(1, min(int(n.size * factor), 48 << 20))
    return out


def big_30k_plan() -> ImagePlan:
    rnd = random.Random(30_000)
    # L0: a Debian-like base
    base_dirs = [
        "bin",
        "sbin",
        "etc",
        "etc/default",
        "etc/ssl/certs",
        "lib",
        "lib/x86_64-linux-gnu",
        "usr/bin",
        "usr/sbin",
        "usr/lib/x86_64-linux-gnu",
        "usr/share/zoneinfo/Europe",
        "usr/share/zoneinfo/America",
        "usr/share/locale/de/LC_MESSAGES",
        "var/lib/dpkg/info",
        "usr/share/perl5/Debian",
        "usr/lib/os-release.d",
    ]
    base_dirs += [f"usr/share/doc/{w}" for w in unique_words(rnd, 300)]
    base_dirs += [f"usr/lib/x86_64-linux-gnu/{w}" for w in unique_words(rnd, 60)]
    l0 = sorted_tree(
        _fill(rnd, base_dirs, 5000, 90 << 20, 1_000_000, ["", ".so.1", ".conf", ".list", ".md5sums", ".gz", ".pm"])
    )
    # The link sorts after its target: tar writers never link forward, and docker load refuses it.
    l0.append(Node("etc/ssl/certs/ca-bundle.crt", "f", 210_000, 1_900_000))
    l0.append(Node("etc/ssl/certs/ca-certificates.crt", "h", link="etc/ssl/certs/ca-bundle.crt"))
    l0.append(Node("usr/bin/python3", "l", link="python3.11"))
    l0 = sorted_tree(l0)
    l0_files = [n for n in l0 if n.kind == "f"]

    # L1: apt-get install: new packages + overwrites of ~300 base files
    apt_dirs = [f"usr/share/doc/{w}" for w in unique_words(rnd, 350)]
    apt_dirs += [f"usr/lib/x86_64-linux-gnu/{w}" for w in unique_words(rnd, 120)]
    apt_dirs += [f"usr/share/{w}/{v}" for w in unique_words(rnd, 40) for v in unique_words(rnd, 6)]
    apt_dirs += ["var/lib/apt/lists", "var/cache/apt/archives", "var/lib/dpkg/info", "usr/bin", "etc"]
    l1_new = _fill(
        rnd,
        apt_dirs,
        7000,
        270 << 20,
        2_000_000,
        ["", ".so.6", ".py", ".pyc", ".h", ".mo", ".deb"],
        big=6,
        big_range=(3 << 20, 12 << 20),
    )
    over = rnd.sample(l0_files, 300)
    l1_over = [
        Node(n.path, "f", n.size if i % 3 else n.size + 100, n.key if i % 3 else n.key + 7, n.mode)
        for i, n in enumerate(over)
    ]  # 2/3 same content (wasted copies), 1/3 changed
    l1 = sorted_tree(l1_new + l1_over)

    # L2: pip install
    site = "usr/local/lib/python3.11/site-packages"
    pkgs = unique_words(rnd, 180)
    pip_dirs = [f"{site}/{p}" for p in pkgs] + [f"{site}/{p}/{s}" for p in pkgs for s in ("tests", "_impl")]
    pip_dirs += [f"{site}/{p}/__pycache__" for p in pkgs]
    pip_dirs += [f"{site}/{p}-1.{i}.dist-info" for i, p in enumerate(pkgs)]
    l2 = sorted_tree(
        _fill(
            rnd,
            pip_dirs,
            6500,
            210 << 20,
            3_000_000,
            [".py", ".pyc", ".so", ".pyi", ".txt"],
            big=8,
            big_range=(4 << 20, 20 << 20),
        )
    )

    # L3: COPY . /app (with a few large assets)
    app_dirs = ["app", "app/assets/models", "app/assets/img", "app/static"]
    app_dirs += [f"app/src/{w}" for w in unique_words(rnd, 120)]
    app_dirs += [f"app/src/{w}/{v}" for w in unique_words(rnd, 30) for v in unique_words(rnd, 4)]
    l3_files = _fill(
        rnd,
        app_dirs,
        3500,
        200 << 20,
        4_000_000,
        [".ts", ".js", ".json", ".png", ".css"],
        big=4,
        big_range=(16 << 20, 40 << 20),
    )
    l3 = sorted_tree(l3_files)

    # L4: npm ci && npm run build: new build outputs + overwrites of 500 app files
    build_dirs = [f"app/dist/{w}" for w in unique_words(rnd, 150)] + [f"app/.cache/{w}" for w in unique_words(rnd, 40)]
    l4_new = _fill(rnd, build_dirs, 2500, 110 << 20, 5_000_000, [".js", ".map", ".css", ".html"])
    l3_small = [n for n in l3_files if n.size < (1 << 20)]
    l4_over = [
        Node(n.path, "f", n.size + (i % 2) * 512, n.key + (i % 2), n.mode)
        for i, n in enumerate(rnd.sample(l3_small, 500))
    ]
    l4 = sorted_tree(l4_new + l4_over)

    # L5: cleanup: per-file whiteouts in kept dirs, directory whiteouts, one opaque dir
    l1_files = [n for n in l1_new if n.kind == "f"]
    doomed_dirs = sorted({n.path.rpartition("/")[0] for n in l1_files if n.path.startswith("usr/share/doc/")})[:25]
    doomed_dirs += ["var/lib/apt/lists", "var/cache/apt/archives", "app/.cache"]
    doomed = set(doomed_dirs)
    victims = [
        n for n in l1_files if n.path.rpartition("/")[0] not in doomed and not n.path.startswith(("usr/bin/", "etc/"))
    ]
    victims = rnd.sample(victims, 900)

    def l5(ls: LayerStream) -> None:
        parents = sorted(
            {v.path.rpartition("/")[0] for v in victims} | {d.rpartition("/")[0] for d in doomed_dirs} | {"app/assets"}
        )
        items: list[tuple[str, str]] = [(p, "dir") for p in parents]
        items += [(v.path, "wh") for v in victims]
        items += [(d, "wh") for d in doomed_dirs]
        items += [("app/assets/img", "dir"), ("app/assets/img/.wh..wh..opq", "opq")]
        items += [(f"app/assets/img/{w}.webp", "file") for w in unique_words(rnd, 40)]
        items += [("etc/ld.so.cache", "file")]
        for full, kind in sorted(set(items), key=lambda t: _tree_key(t[0])):
            if kind == "dir":
                ls.dir(full)
            elif kind == "wh":
                ls.whiteout(full)
            elif kind == "opq":
                ls.opaque("app/assets/img")
            else:
                ls.file(full, 30_000 + len(full) * 100, 6_000_000 + len(full))

    # L6: COPY --from=build /app/dist (re-adds 700 L4 files unchanged) + a release bundle
    l4_files = [n for n in l4_new if n.kind == "f"]
    l6_copy = [Node(n.path, "f", n.size, n.key, n.mode) for n in rnd.sample(l4_files, 700)]
    rel_dirs = [f"opt/release/{w}" for w in unique_words(rnd, 60)]
    l6_new = _fill(
        rnd, rel_dirs, 700, 110 << 20, 7_000_000, [".bin", ".js", ".wasm"], big=3, big_range=(12 << 20, 30 << 20)
    )
    l6 = sorted_tree(l6_copy + l6_new)

    return ImagePlan(
        name="big-30k",
        tag="bench/big-30k:latest",
        layers=[
            ("/bin/sh -c #(nop) ADD file:4a1b2c3d4e5f rootfs.tar.xz in / ", lambda ls: write_nodes(ls, l0)),
            (
                "/bin/sh -c apt-get update && apt-get install -y build-essential python3-dev libpq-dev",
                lambda ls: write_nodes(ls, l1),
            ),
            ("/bin/sh -c pip install --no-cache-dir -r requirements.txt", lambda ls: write_nodes(ls, l2)),
            ("/bin/sh -c #(nop) COPY dir:9f8e7d6c5b4a in /app ", lambda ls: write_nodes(ls, l3)),
            ("/bin/sh -c npm ci && npm run build", lambda ls: write_nodes(ls, l4)),
            ("/bin/sh -c apt-get purge -y build-essential && rm -rf /var/lib/apt/lists/* /app/.cache", l5),
            ("/bin/sh -c #(nop) COPY dir:1a2b3c4d5e6f in /opt/release ", lambda ls: write_nodes(ls, l6)),
        ],
        empty_steps={
            0: ['/bin/sh -c #(nop)  CMD ["bash"]'],
            3: ["/bin/sh -c #(nop) WORKDIR /app"],
            6: ['/bin/sh -c #(nop)  CMD ["node", "dist/server.js"]'],
        },
    )


# ---------------------------------------------------------------------------
# hard-*: node_modules-shaped images
# ---------------------------------------------------------------------------


def node_modules_tree(n_files: int, seed: int) -> tuple[list[Node], list[str]]:
    """A sorted node_modules tree with ``n_files`` regular files.

    Returns the nodes (directories, files, ``.bin`` symlinks) and the
    package root directories (``.../node_modules/<pkg>``).
    """
    rnd = random.Random(seed)
    root = "app/node_modules"
    names = unique_words(rnd, 6000, 2, 4)
    scopes = ["@" + w for w in unique_words(rnd, 60, 2, 3)]
    nodes: list[Node] = []
    packages: list[str] = []
    used: set[str] = set()
    files = 0

    def package(base: str, depth: int) -> None:
        nonlocal files
        packages.append(base)
        nodes.append(Node(base, "d", mode=0o755))
        for f in ("package.json", "README.md", "LICENSE", "index.js"):
            nodes.append(Node(f"{base}/{f}", "f", small_size(rnd), files))
            files += 1
        if rnd.random() < 0.3:
            nodes.append(Node(f"{base}/CHANGELOG.md", "f", small_size(rnd) * 3, files))
            files += 1
        n_sub = rnd.choice((1, 1, 2, 2, 3, 4))
        for s in rnd.sample(("lib", "dist", "src", "types", "esm", "cjs", "build", "es"), n_sub):
            sub = f"{base}/{s}"
            nodes.append(Node(sub, "d", mode=0o755))
            nested = [sub] + [f"{sub}/{w}" for w in rnd.sample(names[:400], rnd.choice((0, 0, 1, 2, 3)))]
            for d in nested[1:]:
                nodes.append(Node(d, "d", mode=0o755))
            for _ in range(rnd.randint(2, 14)):
                d = rnd.choice(nested)
                p = f"{d}/{rnd.choice(names)}{rnd.choice(('.js', '.js', '.d.ts', '.mjs', '.cjs', '.map', '.json'))}"
                if p in used:
                    continue
                used.add(p)
                nodes.append(Node(p, "f", small_size(rnd), files))
                files += 1
        if rnd.random() < 0.1:
            nodes.append(Node(f"{base}/bin", "d", mode=0o755))
            nodes.append(Node(f"{base}/bin/cli.js", "f", small_size(rnd), files, mode=0o755))
            files += 1
        if depth < 3 and rnd.random() < 0.12:  # nested, conflicting versions
            nm = f"{base}/node_modules"
            nodes.append(Node(nm, "d", mode=0o755))
            for dep in rnd.sample(names[:2000], rnd.randint(1, 4)):
                package(f"{nm}/{dep}", depth + 1)

    nodes.append(Node("app", "d", mode=0o755))
    nodes.append(Node(root, "d", mode=0o755))
    nodes.append(Node(f"{root}/.bin", "d", mode=0o755))
    top = set()
    i = 0
    while files < n_files:
        if rnd.random() < 0.08:
            scope = rnd.choice(scopes)
            if f"{root}/{scope}" not in top:
                top.add(f"{root}/{scope}")
                nodes.append(Node(f"{root}/{scope}", "d", mode=0o755))
            name = f"{scope}/{names[i % len(names)]}{i // len(names) or ''}"
        else:
            name = f"{names[i % len(names)]}{i // len(names) or ''}"
        i += 1
        if rnd.random() < 0.05:
            nodes.append(Node(f"{root}/.bin/{name.rpartition('/')[2]}", "l", link=f"../{name}/bin/cli.js"))
        package(f"{root}/{name}", 0)
    dedup: dict[str, Node] = {}
    for n in nodes:
        dedup.setdefault(n.path, n)
    return sorted(dedup.values(), key=lambda n: _tree_key(n.path)), packages


def _base_layer(ls: LayerStream) -> None:
    rnd = random.Random(7)
    dirs = [
        "bin",
        "etc",
        "lib",
        "usr/bin",
        "usr/lib",
        "usr/local/bin",
        "usr/local/lib/node_modules/npm/lib",
        "usr/share/doc",
        "var/cache",
        "root",
        "tmp",
    ]
    write_nodes(ls, sorted_tree(_fill(rnd, dirs, 1500, 25 << 20, 90_000_000, ["", ".so", ".js", ".conf"])))


def hard_plan(n_files: int, *, delete: bool) -> ImagePlan:
    name = f"hard-{n_files // 1000}k"
    tree: list[Node] | None = None
    packages: list[str] = []

    def get_tree() -> list[Node]:
        nonlocal tree, packages
        if tree is None:
            tree, packages = node_modules_tree(n_files, seed=n_files)
        return tree

    def l1(ls: LayerStream) -> None:
        write_nodes(ls, get_tree())

    def l2(ls: LayerStream) -> None:  # chown -R 1000:1000 /app: every entry copied up
        write_nodes(ls, get_tree(), uid=1000, gid=1000)

    def l3(ls: LayerStream) -> None:
        """rm -rf of whole packages (one whiteout each) and of most files elsewhere.

        Deleting a file in a directory that stays produces one whiteout per file;
        every directory with a change is in the layer too (overlay diff).
        """
        nodes = get_tree()
        rnd = random.Random(n_files + 3)
        top_level = [p for p in packages if p.count("/node_modules/") == 1]
        gone = set(rnd.sample(top_level, len(top_level) * 8 // 100))
        items: list[tuple[str, str]] = []
        changed_dirs: set[str] = set()
        for n in nodes:
            if n.kind != "f":
                continue
            # Is the file inside a removed package?
            p = n.path
            pkg = _package_of(p)
            if pkg in gone:
                continue
            if (n.key * 2654435761) % 1000 < 545:
                items.append((p, "wh"))
                changed_dirs.add(p.rpartition("/")[0])
        items.extend((g, "wh") for g in gone)
        changed_dirs.update(g.rpartition("/")[0] for g in gone)
        for d in list(changed_dirs):  # overlay diffs carry the whole parent chain
            q = d.rpartition("/")[0]
            while q and q not in changed_dirs:
                changed_dirs.add(q)
                q = q.rpartition("/")[0]
        items.extend((d, "dir") for d in changed_dirs)
        for path, kind in sorted(items, key=lambda t: _tree_key(t[0])):
            if kind == "dir":
                ls.dir(path, uid=1000, gid=1000)
            else:
                ls.whiteout(path)

    layers: list[tuple[str, LayerFn]] = [
        ("/bin/sh -c #(nop) ADD file:c0ffee00 in / ", _base_layer),
        ("/bin/sh -c npm ci --omit=dev", l1),
        ("/bin/sh -c chown -R 1000:1000 /app", l2),
    ]
    if delete:
        layers.append(
            (
                "/bin/sh -c npm prune --production && find node_modules -name '*.map' -o -name '*.ts' "
                "-o -name '*.md' | xargs rm -f",
                l3,
            )
        )
    return ImagePlan(
        name=name,
        tag=f"bench/{name}:latest",
        layers=layers,
        empty_steps={2: ["/bin/sh -c #(nop)  USER 1000"]},
        config={"Cmd": ["node", "server.js"], "WorkingDir": "/app", "User": "1000"},
    )


def _package_of(path: str) -> str:
    """The outermost package directory a node_modules path belongs to."""
    head, sep, rest = path.partition("/node_modules/")
    if not sep:
        return ""
    parts = rest.split("/")
    n = 2 if parts[0].startswith("@") else 1
    return f"{head}/node_modules/" + "/".join(parts[:n])


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------

IMAGES: dict[str, tuple[str, Callable[[], ImagePlan], str]] = {
    # key: (file name, plan, writer)
    "big-30k.docker": ("big-30k.docker.tar", big_30k_plan, "docker"),
    "big-30k.oci-gzip": ("big-30k.oci-gzip.tar", big_30k_plan, "oci-gzip"),
    "hard-400k.docker": ("hard-400k.docker.tar", lambda: hard_plan(400_000, delete=True), "docker"),
    "hard-200k.docker": ("hard-200k.docker.tar", lambda: hard_plan(200_000, delete=False), "docker"),
}


def meta_path(path: str) -> str:
    return path + ".meta.json"


def read_meta(path: str) -> dict[str, Any] | None:
    """The statistics of an up-to-date archive, or None if it must be (re)made."""
    try:
        with open(meta_path(path), "rb") as fh:
            meta: dict[str, Any] = _loads(fh.read())
    except (OSError, ValueError):
        return None
    if meta.get("generatorVersion") != GENERATOR_VERSION or not os.path.isfile(path):
        return None
    if os.path.getsize(path) != meta.get("archiveBytes"):
        return None
    return meta


def ensure_image(key: str, work: str, *, force: bool = False, log: Callable[[str], None] = print) -> str:
    """Path of image ``key`` in ``work``, generating it if missing or stale."""
    fname, plan_fn, writer = IMAGES[key]
    path = os.path.join(work, fname)
    if not force and read_meta(path) is not None:
        return path
    os.makedirs(work, exist_ok=True)
    log(f"generating {path} ...")
    t0 = time.perf_counter()
    tmp = path + ".partial"
    plan = plan_fn()
    info = write_docker_save(plan, tmp, log) if writer == "docker" else write_oci_gzip(plan, tmp, log)
    os.replace(tmp, path)
    layers = info["layers"]
    meta = {
        "generatorVersion": GENERATOR_VERSION,
        "image": key,
        "file": fname,
        "tag": plan.tag,
        "archiveBytes": os.path.getsize(path),
        "entries": sum(st["entries"] for st in layers),
        "contentBytes": sum(st["contentBytes"] for st in layers),
        "tarBytes": sum(st["tarBytes"] for st in layers),
        "whiteouts": sum(st["whiteouts"] for st in layers),
        **info,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    with open(meta_path(path) + ".partial", "wb") as fh:
        fh.write(_dumps(meta))
    os.replace(meta_path(path) + ".partial", meta_path(path))
    log(
        f"  -> {meta['archiveBytes'] / 2**20:.0f} MiB, {meta['entries']} entries, "
        f"{meta['whiteouts']} whiteouts, {meta['contentBytes'] / 2**20:.0f} MiB content, {meta['seconds']} s"
    )
    return path


def parse_keys(spec: str | None) -> list[str]:
    if not spec or spec == "all":
        return list(IMAGES)
    keys: list[str] = []
    for item in spec.split(","):
        item = os.path.basename(item.strip())
        item = item[:-4] if item.endswith(".tar") else item
        # "hard-200k" names hard-200k.docker; "big-30k" both big-30k images
        found = [k for k in IMAGES if k == item or k.startswith(item + ".")]
        if not found:
            raise SystemExit(f"unknown image {item!r}; choose from {', '.join(IMAGES)}")
        keys.extend(k for k in found if k not in keys)
    return keys


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--work", default=DEFAULT_WORK, help="output directory (default: benchmarks/work)")
    ap.add_argument(
        "--images",
        help=f"comma-separated subset of: {', '.join(IMAGES)} (default: all); "
        "a prefix such as hard-200k or big-30k selects every matching image",
    )
    ap.add_argument("--force", action="store_true", help="regenerate even if an up-to-date archive exists")
    args = ap.parse_args(argv)
    for key in parse_keys(args.images):
        path = ensure_image(key, args.work, force=args.force)
        meta = read_meta(path)
        assert meta is not None
        print(f"{path}: {meta['archiveBytes'] / 2**20:.0f} MiB, {meta['entries']} entries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
