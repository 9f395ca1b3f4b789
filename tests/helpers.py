"""Helpers shared by the core, CLI and real-image tests.

* raw tar building: tarfile members, hand-made headers, header patching;
* scanning a tar with both window kinds (:func:`scan`);
* archives built from raw layer bytes (:func:`docker_archive`,
  :func:`oci_archive`), for layers the builder cannot express;
* reading/rewriting an outer archive member by member;
* loading an image and flattening its merged tree into comparable values.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from dive_py.core.analysis.efficiency import analyse
from dive_py.core.analysis.layertree import layer_nodes
from dive_py.core.model.image import Image
from dive_py.core.model.loader import load_image
from dive_py.core.tar.tarscan import Header, iter_headers
from dive_py.core.tar.tarwindow import FileWindow, StreamWindow
from dive_py.report.listing import iter_listing

OCI_TAR = "application/vnd.oci.image.layer.v1.tar"
OCI_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"


# -- raw tar building ------------------------------------------------------------


def member(name: str, type_: bytes = tarfile.REGTYPE, data: bytes = b"", **attrs: Any) -> tuple[tarfile.TarInfo, bytes]:
    """A tarfile member: ``size`` defaults to ``len(data)`` (override for odd headers)."""
    info = tarfile.TarInfo(name)
    info.type = type_
    info.mtime = attrs.pop("mtime", 1_600_000_000)
    info.mode = attrs.pop("mode", 0o755 if type_ == tarfile.DIRTYPE else 0o644)
    info.size = attrs.pop("size", len(data))
    for key, value in attrs.items():
        setattr(info, key, value)
    return info, data


def tar_of(
    members: list[tuple[tarfile.TarInfo, bytes]],
    fmt: int = tarfile.PAX_FORMAT,
    pax_headers: dict[str, str] | None = None,
) -> bytes:
    """Bytes of a tar holding ``members`` (data written only for regular files)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt, pax_headers=pax_headers) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buf.getvalue()


def _fix_checksum(block: bytearray) -> None:
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\x00 " % sum(block)


def raw_header(
    name: bytes,
    typeflag: bytes = b"0",
    *,
    size: int = 0,
    mode: int = 0o644,
    uid: int = 0,
    gid: int = 0,
    mtime: int = 1_600_000_000,
    link: bytes = b"",
    magic: bytes = b"ustar\x0000",
    prefix: bytes = b"",
) -> bytes:
    """One 512-byte header with a correct checksum, fields given as raw bytes."""
    block = bytearray(512)
    block[0 : len(name)] = name
    block[100:108] = b"%07o\x00" % mode
    block[108:116] = b"%07o\x00" % uid
    block[116:124] = b"%07o\x00" % gid
    block[124:136] = b"%011o\x00" % size
    block[136:148] = b"%011o\x00" % mtime
    block[156:157] = typeflag
    block[157 : 157 + len(link)] = link
    block[257:265] = magic
    block[345 : 345 + len(prefix)] = prefix
    _fix_checksum(block)
    return bytes(block)


def padded(data: bytes) -> bytes:
    return data + bytes(-len(data) % 512)


def raw_member(name: bytes, data: bytes = b"", typeflag: bytes = b"0", **kw: Any) -> bytes:
    """A hand-made header plus its padded data."""
    return raw_header(name, typeflag, size=kw.pop("size", len(data)), **kw) + padded(data)


def pax_record(key: str, value: bytes) -> bytes:
    """One PAX record ``"<len> key=value\\n"`` (the length counts itself)."""
    body = b" " + key.encode() + b"=" + value + b"\n"
    n = len(body) + 1
    while len(str(n).encode()) + len(body) != n:
        n += 1
    return str(n).encode() + body


def pax_member(records: dict[str, bytes], typeflag: bytes = b"x") -> bytes:
    data = b"".join(pax_record(k, v) for k, v in records.items())
    return raw_member(b"PaxHeaders/x", data, typeflag)


END = bytes(1024)


def patch_header(data: bytes, offset: int, **fields: bytes) -> bytes:
    """Overwrite raw fields of the header at ``offset`` and fix its checksum."""
    spans = {
        "name": (0, 100),
        "mode": (100, 108),
        "uid": (108, 116),
        "size": (124, 136),
        "typeflag": (156, 157),
        "link": (157, 257),
        "magic": (257, 265),
        "prefix": (345, 500),
    }
    out = bytearray(data)
    block = bytearray(out[offset : offset + 512])
    for key, value in fields.items():
        start, stop = spans[key]
        block[start:stop] = value.ljust(stop - start, b"\x00")
    _fix_checksum(block)
    out[offset : offset + 512] = block
    return bytes(out)


def header_offsets(data: bytes) -> list[tuple[str, int]]:
    """(name, header offset) of every member tarfile sees (extension headers folded)."""
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return [(m.name, m.offset) for m in tar.getmembers()]


# -- scanning -------------------------------------------------------------------


@contextmanager
def file_window(tmp_path: Path, data: bytes, *, lead: bytes = b"", what: str = "layer") -> Iterator[FileWindow]:
    """A FileWindow over ``data`` stored after ``lead`` bytes of a temporary file."""
    path = tmp_path / f"win-{len(lead)}-{hashlib.sha256(data).hexdigest()[:12]}.tar"
    path.write_bytes(lead + data)
    fd = os.open(path, os.O_RDONLY)
    try:
        yield FileWindow(fd, len(lead), len(data), what)
    finally:
        os.close(fd)


def stream_window(data: bytes, what: str = "layer") -> StreamWindow:
    return StreamWindow(io.BytesIO(data), what)


def scan(data: bytes, kind: str, tmp_path: Path) -> list[Header]:
    """Every header of ``data`` via a FileWindow (``kind="file"``) or a StreamWindow."""
    if kind == "stream":
        return list(iter_headers(stream_window(data)))
    with file_window(tmp_path, data) as win:
        return list(iter_headers(win))


# -- archives from raw layer bytes -----------------------------------------------


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def config_doc(layer_tars: list[bytes], history: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    if history is None:
        history = [{"created_by": f"step {i}"} for i in range(len(layer_tars))]
    doc: dict[str, Any] = {
        "architecture": "amd64",
        "os": "linux",
        "config": {},
        "history": history,
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + sha(t) for t in layer_tars]},
    }
    doc.update(extra)
    return doc


def write_members(path: str | Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> str:
    Path(path).write_bytes(tar_of(members))
    return str(path)


def file_member(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    return member(name, data=data, mtime=0)


def docker_members(
    layer_tars: list[bytes], *, config: bytes | None = None, tags: list[str] | None = None, manifest: Any = None
) -> list[tuple[tarfile.TarInfo, bytes]]:
    """The members of a legacy ``docker save`` archive (``<id>/layer.tar``) of raw layer tars.

    ``manifest`` replaces manifest.json: bytes as they are, or a JSON value.
    """
    members = []
    layer_paths = []
    for i, tar in enumerate(layer_tars):
        lid = sha(b"%d" % i + tar)
        members.append(file_member(f"{lid}/layer.tar", tar))
        layer_paths.append(f"{lid}/layer.tar")
    cfg = config if config is not None else orjson.dumps(config_doc(layer_tars))
    cfg_name = sha(cfg) + ".json"
    members.append(file_member(cfg_name, cfg))
    man = (
        manifest
        if manifest is not None
        else [{"Config": cfg_name, "RepoTags": tags or ["raw:latest"], "Layers": layer_paths}]
    )
    members.append(file_member("manifest.json", man if isinstance(man, bytes) else orjson.dumps(man)))
    return members


def docker_archive(
    path: str | Path,
    layer_tars: list[bytes],
    *,
    config: bytes | None = None,
    manifest: bytes | None = None,
    tags: list[str] | None = None,
) -> str:
    """A legacy ``docker save`` archive (``<id>/layer.tar``) of raw layer tars."""
    return write_members(path, docker_members(layer_tars, config=config, manifest=manifest, tags=tags))


def oci_archive(
    path: str | Path,
    layers: list[tuple[bytes, str]],
    *,
    diff_tars: list[bytes] | None = None,
    manifest_extra: dict[str, Any] | None = None,
    index: bytes | None = None,
    config: bytes | None = None,
    manifest_media: str = OCI_MANIFEST,
) -> str:
    """An OCI layout archive of raw layer blobs ``(blob bytes, media type)``.

    ``diff_tars`` are the uncompressed layer tars for the config's diff_ids
    (default: the blobs themselves).
    """
    blobs: dict[str, bytes] = {}

    def put(data: bytes) -> str:
        blobs["sha256:" + sha(data)] = data
        return "sha256:" + sha(data)

    cfg = (
        config
        if config is not None
        else orjson.dumps(config_doc(diff_tars if diff_tars is not None else [b for b, _ in layers]))
    )
    man_doc: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": manifest_media,
        "config": {"mediaType": OCI_CONFIG, "digest": put(cfg), "size": len(cfg)},
        "layers": [{"mediaType": media, "digest": put(blob), "size": len(blob)} for blob, media in layers],
    }
    man_doc.update(manifest_extra or {})
    man = orjson.dumps(man_doc)
    man_digest = put(man)
    if index is None:
        index = orjson.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_INDEX,
                "manifests": [
                    {
                        "mediaType": manifest_media,
                        "digest": man_digest,
                        "size": len(man),
                        "annotations": {"org.opencontainers.image.ref.name": "raw:latest"},
                    }
                ],
            }
        )
    members = [file_member("blobs/sha256/" + d[7:], data) for d, data in blobs.items()]
    members.append(file_member("index.json", index))
    members.append(file_member("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'))
    return write_members(path, members)


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def read_members(path: str | Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    """Every member of an (uncompressed) outer archive, in order, with its data."""
    out = []
    with tarfile.open(path) as tar:
        for info in tar.getmembers():
            fh = tar.extractfile(info) if info.isreg() else None
            out.append((info, fh.read() if fh else b""))
    return out


def member_data(path: str | Path, name: str) -> bytes:
    for info, data in read_members(path):
        if info.name == name:
            return data
    raise KeyError(name)


def replace_members(src: str | Path, dst: str | Path, replace: dict[str, bytes]) -> str:
    """Copy an outer archive, replacing the data of the named members."""
    members = []
    for info, data in read_members(src):
        if info.name in replace:
            data = replace[info.name]
            info.size = len(data)
        members.append((info, data))
    return write_members(dst, members)


# -- loaded images ----------------------------------------------------------------


@contextmanager
def loaded(path: str | Path, **kw: Any) -> Iterator[Image]:
    image = load_image(str(path), **kw)
    try:
        yield image
    finally:
        image.close()


def listing(image: Image, layer: int | None = None) -> list[str]:
    top = len(image.layers) - 1 if layer is None else layer
    return list(iter_listing(image, top, "jsonl"))


def tree_of(image: Image, layer: int) -> dict[str, tuple[int, int, int, int, int, str, bool]]:
    """The merged tree after ``layer``: path -> (tflag, perm bits, uid, gid, size, link, implicit)."""
    e = image.entries
    names = image.paths.paths
    out = {}
    for g in image.tree_at(layer):
        out[names[e.pid[g]]] = (
            e.tflag[g],
            e.mode[g] & 0o7777,
            e.uid[g],
            e.gid[g],
            e.size[g],
            e.link[g],
            g >= e.layer_start[-1],
        )
    return out


def figures(image: Image) -> dict[str, Any]:
    """Every efficiency figure, in plain values."""
    eff = analyse(image)
    return {
        "score": eff.score,
        "wasted": eff.wasted_bytes,
        "size": eff.size_bytes,
        "user_size": eff.user_size_bytes,
        "user_pct": eff.user_wasted_percent,
        "min_total": eff.min_total,
        "cum_total": eff.cumulative_total,
        "inefficient": [(w.path, w.count, w.cumulative, w.minimum, w.layers) for w in eff.inefficient],
    }


def layer_node_paths(image: Image) -> list[list[str]]:
    return [[n.path for n in layer_nodes(image.entries, image.paths, i)] for i in range(len(image.layers))]


def everything(image: Image) -> dict[str, Any]:
    """Figures, per-layer trees, per-layer dive node lists and the merged listing at every layer."""
    return {
        "figures": figures(image),
        "nodes": layer_node_paths(image),
        "listings": [listing(image, i) for i in range(len(image.layers))],
        "layer_sizes": [(lay.size, lay.entry_count, lay.digest, lay.command) for lay in image.layers],
    }
