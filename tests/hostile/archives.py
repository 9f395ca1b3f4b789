"""Put layers into archives of every layout divepy reads, and build broken archives.

``image_in(box, layers, layout)`` writes an image whose layers are the given
tar streams in one of :data:`LAYOUTS` and returns the IMAGE argument.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import zstandard

from dive_py.fixtures.builder import ImageSpec, write_archive, write_layout_dir
from tests.helpers import OCI_GZIP, OCI_TAR, config_doc, docker_members, file_member, member, sha, tar_of

#: layout name -> (builder layout, layer compression, outer compression or a directory)
LAYOUTS: dict[str, tuple[str, str, str]] = {
    "docker": ("docker", "none", "none"),
    "containers-image": ("containers-image", "none", "none"),
    "kaniko": ("kaniko", "gzip", "none"),
    "oci": ("oci", "none", "none"),
    "oci-gzip": ("oci", "gzip", "none"),
    "oci-zstd": ("oci", "zstd", "none"),
    "docker25": ("docker25", "none", "none"),
    "oci-dir": ("oci", "gzip", "dir"),
    "docker-gzip": ("docker", "none", "gzip"),
    "docker-zstd": ("docker", "none", "zstd"),
    "docker-xz": ("docker", "none", "xz"),
    "docker-bzip2": ("docker", "none", "bzip2"),
}


def spec_of(layers: list[bytes], tag: str = "hostile:1", **config: Any) -> ImageSpec:
    img = ImageSpec(tags=[tag])
    img.config = dict(config)
    for i, data in enumerate(layers):
        img.raw_layer(f"/bin/sh -c step {i}", data)
    return img


def outer(data: bytes, kind: str) -> bytes:
    if kind == "gzip":
        return gzip.compress(data, compresslevel=1, mtime=0)
    if kind == "zstd":
        return zstandard.ZstdCompressor().compress(data)
    if kind == "xz":
        return lzma.compress(data, preset=0)
    if kind == "bzip2":
        return bz2.compress(data, 1)
    return data


def image_in(box: Path, layers: list[bytes] | ImageSpec, layout: str = "docker", name: str = "img") -> str:
    """Write the image into ``box/in`` and return its path relative to ``box``."""
    spec = layers if isinstance(layers, ImageSpec) else spec_of(layers)
    base, compression, wrap = LAYOUTS[layout]
    (box / "in").mkdir(exist_ok=True)
    if wrap == "dir":
        write_layout_dir(spec, box / "in" / name, base, compression=compression)
        return f"in/{name}"
    path = box / "in" / f"{name}.tar"
    write_archive(spec, path, base, compression=compression if compression != "none" else "none")
    if wrap != "none":
        path.write_bytes(outer(path.read_bytes(), wrap))
    return f"in/{name}.tar"


def raw_archive(box: Path, members: list[tuple[tarfile.TarInfo, bytes]], name: str = "raw.tar") -> str:
    (box / "in").mkdir(exist_ok=True)
    (box / "in" / name).write_bytes(tar_of(members))
    return f"in/{name}"


def sparse_member_archive(
    box: Path, name: str, size: int, before: list[tuple[tarfile.TarInfo, bytes]], file: str = "big.tar"
) -> str:
    """A plain tar whose member ``name`` claims ``size`` bytes, stored as a sparse hole (no disk used)."""
    (box / "in").mkdir(exist_ok=True)
    head = b"".join(i.tobuf(format=tarfile.PAX_FORMAT) + d + bytes(-len(d) % 512) for i, d in before)
    info = tarfile.TarInfo(name)
    info.size = size
    header = info.tobuf(format=tarfile.PAX_FORMAT)
    path = box / "in" / file
    with open(path, "wb") as fh:
        fh.write(head + header)
        fh.seek(len(head) + len(header) + size + (-size % 512))
        fh.write(bytes(1024))
    return f"in/{file}"


def sparse_file(path: Path, size: int, prefix: bytes = b"") -> None:
    with open(path, "wb") as fh:
        fh.write(prefix)
        fh.truncate(size)


def oci_dir(box: Path, layers: list[bytes], name: str = "layout") -> Path:
    """An OCI layout directory (uncompressed layers) to be tampered with."""
    image_in(box, spec_of(layers), "oci-dir", name)
    return box / "in" / name


#: An index built from the manifest's digest and size and ``put`` (stores a blob, returns its digest).
IndexBuilder = Callable[[str, int, Callable[[bytes], str]], object]


def oci_members(
    layers: list[tuple[bytes, str]],
    *,
    index: Any = None,
    manifests: list[Any] | None = None,
    config: bytes | None = None,
) -> list[tuple[tarfile.TarInfo, bytes]]:
    """An OCI archive's members with optional hand-made index / extra manifests (as JSON values)."""
    blobs: dict[str, bytes] = {}

    def put(data: bytes) -> str:
        blobs["sha256:" + sha(data)] = data
        return "sha256:" + sha(data)

    cfg = config if config is not None else orjson.dumps(config_doc([b for b, _ in layers]))
    man = orjson.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(cfg), "size": len(cfg)},
            "layers": [{"mediaType": m, "digest": put(b), "size": len(b)} for b, m in layers],
        }
    )
    man_digest = put(man)
    for extra in manifests or []:
        put(extra if isinstance(extra, bytes) else orjson.dumps(extra))
    if index is None:
        index = {
            "schemaVersion": 2,
            "manifests": [
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": man_digest, "size": len(man)}
            ],
        }
    elif callable(index):
        index = index(man_digest, len(man), put)
    members = [file_member("blobs/sha256/" + d[7:], data) for d, data in blobs.items()]
    members.append(file_member("index.json", index if isinstance(index, bytes) else orjson.dumps(index)))
    members.append(file_member("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'))
    return members


def link_member(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tuple[tarfile.TarInfo, bytes]:
    return member(name, kind, linkname=target, mtime=0)


__all__ = ["OCI_GZIP", "OCI_TAR", "docker_members", "os"]
