"""Write the seed corpora for ``fuzz_divepy.py`` (one directory per target).

Why it exists: coverage-guided fuzzing starts far deeper from real inputs than
from nothing, and real inputs are what :mod:`dive_py.fixtures.builder` writes.
The seeds are generated, never committed: run this before fuzzing::

    pip install atheris==2.3.0          # in the project's virtual environment
    python benchmarks/fuzz/make_seeds.py /tmp/fuzz-corpus

which fills ``/tmp/fuzz-corpus/tar``, ``/tmp/fuzz-corpus/archive`` and
``/tmp/fuzz-corpus/manifest`` (``--target NAME`` writes one of them only).

* ``tar``: single layer tars in PAX, GNU and ustar format (PAX records, GNU
  long names and base-256 numbers, hardlinks, whiteouts, opaque directories,
  old-style regular files, device nodes, a PAX global header...).
* ``archive``: whole archives in every layout the builder writes, with gzip,
  zstd and uncompressed layers and gzip/zstd outer compression, each followed
  by the one control byte the archive target reads (see ``fuzz_divepy.py``).
* ``manifest``: the JSON documents of those archives as member bundles in the
  manifest target's input format (``fuzz_divepy.encode_manifest_input``).

Every seed stays under the ``-max_len`` used for its target (16 KiB for
``tar``, 64 KiB otherwise); larger ones are dropped with a note.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import random
import sys
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import orjson
import zstandard

from dive_py.fixtures.builder import LAYOUTS, ImageSpec, LayerSpec, archive_bytes

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root, for tests.images
from tests.images import tiny_image

TAR_MAX = 16384
ARCHIVE_MAX = 65536

#: Control bytes written after each archive seed (see ``fuzz_divepy.archive_options``):
#: bit 0 hash_files, bits 1-2 outer compression applied by the harness (0 none, 1 gzip, 2 zstd).
ARCHIVE_CONTROLS = (0b000, 0b001, 0b010, 0b011, 0b100)


@contextmanager
def compact_tars() -> Iterator[None]:
    """Let :mod:`tarfile` end archives after the two zero blocks instead of padding to 10 KiB.

    Real archives are padded (or not) either way; here the padding would only push
    small seeds over ``-max_len``.
    """
    with mock.patch.object(tarfile, "RECORDSIZE", tarfile.BLOCKSIZE):  # a Final in typeshed: patched, not assigned
        yield


def _bytes(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


# -- image specs ------------------------------------------------------------------


def small_edge_image(tag: str = "edge:latest") -> ImageSpec:
    """Every kind of entry and change, with contents small enough for a 64 KiB archive."""
    img = ImageSpec(tags=[tag, "docker.io/library/edge:v2"])
    img.config = {
        "Env": ["A=1"],
        "Cmd": ["sh"],
        "Entrypoint": "/bin/sh",
        "User": "1000",
        "WorkingDir": "/app",
        "ExposedPorts": {"80/tcp": {}},
        "Volumes": {"/data": {}},
        "Labels": {"k": "v"},
        "StopSignal": "SIGTERM",
        "Healthcheck": {"Test": ["CMD", "true"]},
    }
    img.empty("ARG V=1")
    base = img.layer("/bin/sh -c #(nop) ADD file:abc in / ")
    for d in ("bin", "etc", "tmp", "var", "var/log"):
        base.dir(d, mode=0o1777 if d == "tmp" else 0o755)
    base.file("bin/busybox", _bytes(1, 300), mode=0o755)
    base.symlink("bin/sh", "/bin/busybox")
    base.hardlink("bin/ls", "bin/busybox", mode=0o755)
    base.file("bin/su", _bytes(2, 70), mode=0o4755)
    base.file("etc/passwd", "root:x:0:0::/root:/bin/sh\n")
    base.fifo("var/log/pipe")
    base.chardev("dev-null")
    base.dir("olddir").file("olddir/a.txt", "aaaa").dir("olddir/sub").file("olddir/sub/b.txt", "bb")
    base.file("becomes-dir", "file first\n")
    base.dir("becomes-file").file("becomes-file/inner", "inner\n")
    base.dir("opaque").file("opaque/keep-not", "lower\n")
    base.symlink("retarget", "etc/passwd")
    img.empty("ENV A=1")
    odd = img.layer("COPY odd names")
    odd.dir("names").file("names/with space.txt", "s").file("names/ünïcödé-☃.txt", "u")
    odd.file("names/" + "n" * 120 + ".txt", "long name")
    odd.file("big.bin", _bytes(3, 900))
    img.layer("RUN true")  # an empty layer
    change = img.layer("RUN change everything")
    change.dir("etc").file("etc/passwd", "root:x:0:0::/root:/bin/bash\n")
    change.whiteout("bin/su").whiteout("olddir")
    change.dir("becomes-dir").opaque("becomes-dir").file("becomes-dir/now", "dir\n")
    change.file("becomes-file", "now a file\n")
    change.dir("opaque").opaque("opaque").file("opaque/new", "fresh\n")
    change.symlink("retarget", "etc/shadow")
    change.file("big.bin", _bytes(3, 900))
    change.dir("tmp", mode=0o1777).hardlink("tmp/ls-link", "bin/busybox", mode=0o755)
    final = img.layer("RUN rm; recreate")
    final.whiteout("big.bin").dir("olddir").file("olddir/a.txt", "back")
    final.file("etc/passwd", "root:x:0:0::/root:/bin/bash\n", uid=1000, gid=1000)
    img.empty('CMD ["sh"]')
    return img


def images() -> dict[str, list[ImageSpec]]:
    """Named image sets written in every layout."""
    return {
        "tiny": [tiny_image()],
        "edge": [small_edge_image()],
        "two": [tiny_image("one:latest", marker="1"), tiny_image("two:latest", marker="2")],
        "arches": [
            tiny_image("multi:latest", marker="a"),
            tiny_image("multi:latest", arch="arm64", variant="v8", marker="b"),
            tiny_image("multi:latest", arch="arm", variant="v7", marker="c"),
        ],
    }


# -- layer tars (tar target) ------------------------------------------------------------


def _info(
    name: str,
    type_: bytes = tarfile.REGTYPE,
    *,
    size: int = 0,
    mode: int = 0o644,
    link: str = "",
    uid: int = 0,
    gid: int = 0,
    mtime: int = 1_600_000_000,
    pax: dict[str, str] | None = None,
) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = type_
    info.size = size
    info.mode = mode
    info.linkname = link
    info.uid = uid
    info.gid = gid
    info.mtime = mtime
    info.uname = info.gname = ""
    if pax:
        info.pax_headers = dict(pax)
    return info


def tricky_layer() -> LayerSpec:
    """Hand-made headers for the odd corners of the tar reader."""
    spec = LayerSpec("tricky")
    spec.raw(_info("./", tarfile.DIRTYPE, mode=0o755))
    spec.raw(_info("/", tarfile.DIRTYPE, mode=0o755))  # kaniko writes the root as "/"
    spec.raw(_info("./etc/", tarfile.DIRTYPE, mode=0o755))
    spec.raw(_info("./etc/hosts", size=4), b"hi!\n")
    spec.raw(_info("old-dir/", tarfile.AREGTYPE, mode=0o755))  # type '\0' + trailing slash: a directory
    spec.raw(_info("old-file", tarfile.AREGTYPE, size=3), b"old")
    spec.raw(_info("contig", tarfile.CONTTYPE, size=2), b"ct")
    spec.raw(_info("etc/hardlink", tarfile.LNKTYPE, link="./etc/hosts"))
    spec.raw(_info("etc/abs-hardlink", tarfile.LNKTYPE, link="/etc/hosts"))
    spec.raw(_info("etc/link", tarfile.SYMTYPE, link="../" * 40 + "etc/hosts"))  # > 100 bytes: PAX/GNU K
    spec.raw(_info("dev/blk", tarfile.BLKTYPE, mode=0o660))
    spec.raw(_info("dev/chr", tarfile.CHRTYPE, mode=0o666))
    spec.raw(_info("dev/fifo", tarfile.FIFOTYPE))
    spec.raw(_info("a//b/./c", size=1), b"c")
    spec.raw(_info(".wh..wh..opq", mode=0))  # opaque root
    spec.raw(_info("etc/.wh..wh..opq", mode=0))
    spec.raw(_info(".wh..wh.plnk/12345", mode=0))  # aufs bookkeeping
    spec.raw(_info("etc/.wh.passwd", mode=0))
    spec.raw(_info(".wh.toplevel", mode=0))
    spec.raw(_info("deep/" + "/".join(f"d{i:02d}" for i in range(40)) + "/leaf", size=1), b"x")  # prefix / long
    spec.raw(
        _info(
            "pax/overridden",
            size=2,
            pax={
                "path": "pax/real-name-☃",
                "mtime": "1600000000.25",
                "uid": "4294967296",
                "gid": "70000",
                "comment": "c",
            },
        ),
        b"pp",
    )
    spec.raw(_info("pax/sized", size=3, pax={"size": "3"}), b"abc")
    spec.raw(_info("pax/link", tarfile.SYMTYPE, pax={"linkpath": "target/☃"}))
    spec.raw(
        _info("pax/sparse", size=4, pax={"GNU.sparse.name": "pax/sparse-real", "GNU.sparse.realsize": "9"}), b"spar"
    )
    spec.raw(_info("big-ids", size=1, uid=8**8, gid=8**9, mtime=8**12), b"i")  # PAX or base-256 numbers
    return spec


def layer_specs() -> Iterator[tuple[str, LayerSpec]]:
    for name, imgs in images().items():
        for img in imgs[:1]:
            for i, layer in enumerate(img.layers):
                yield f"{name}-{i}", layer
    tricky = tricky_layer()
    third = len(tricky.members) // 3 + 1
    for i, suffix in enumerate("abc"):
        part = tricky.members[i * third : (i + 1) * third]
        spec = LayerSpec(f"tricky {suffix}")
        spec.members = part
        yield f"tricky-{suffix}", spec


def _global_header_tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT, pax_headers={"comment": "global"}) as tar:
        info = _info("file", size=1)
        tar.addfile(info, io.BytesIO(b"g"))
    return buf.getvalue()


def tar_seeds() -> Iterator[tuple[str, bytes]]:
    formats = {"pax": tarfile.PAX_FORMAT, "gnu": tarfile.GNU_FORMAT, "ustar": tarfile.USTAR_FORMAT}
    for name, spec in layer_specs():
        for fmt_name, fmt in formats.items():
            try:
                data = spec.tar_bytes(fmt)
            except ValueError:  # ustar cannot hold some names or numbers
                continue
            yield f"{name}.{fmt_name}.tar", data
            # without the end-of-archive blocks: a clean EOF on a header boundary
            body = data.rstrip(b"\x00")
            yield f"{name}.{fmt_name}.noeof.tar", body + bytes(-len(body) % 512)
    yield "empty-layer.tar", bytes(1024)
    yield "global-header.tar", _global_header_tar()


# -- archives (archive target) and their JSON (manifest target) ----------------------------


def _outer(data: bytes, outer: str) -> bytes:
    if outer == "gzip":
        return gzip.compress(data, mtime=0)
    if outer == "zstd":
        return zstandard.ZstdCompressor().compress(data)
    return data


def archives() -> Iterator[tuple[str, bytes]]:
    """``(name, uncompressed archive bytes)`` for every image set, layout and layer compression."""
    for set_name, imgs in images().items():
        for layout in LAYOUTS:
            oci = layout in ("oci", "docker25")
            compressions = ("gzip", "zstd", "none") if oci or layout == "kaniko" else ("none",)
            for comp in compressions:
                if layout == "kaniko" and comp == "none":
                    continue  # kaniko layers are always compressed
                variants = [("", False, False)]
                if oci and set_name == "arches":
                    variants.append(("-platforms", True, False))
                if oci and set_name in ("tiny", "arches"):
                    variants.append(("-attest", False, True))
                for suffix, platforms, attestation in variants:
                    data = archive_bytes(imgs, layout, compression=comp, platforms=platforms, attestation=attestation)
                    yield f"{set_name}.{layout}.{comp}{suffix}", data


def archive_seeds() -> Iterator[tuple[str, bytes]]:
    for name, data in archives():
        for ctrl in ARCHIVE_CONTROLS:
            yield f"{name}.tar.c{ctrl}", data + bytes([ctrl])
        for outer in ("gzip", "zstd"):
            packed = _outer(data, outer)
            for ctrl in (0, 1):
                yield f"{name}.tar.{outer}.c{ctrl}", packed + bytes([ctrl])


def archive_members(data: bytes) -> list[tuple[str, bytes, str | None]]:
    """The members of an (uncompressed) archive as ``(name, content, symlink target)``.

    Contents that are not JSON (layer tars, ``VERSION``) are replaced by ``b""``:
    the manifest parsers only ask whether such members exist.
    """
    out: list[tuple[str, bytes, str | None]] = []
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for info in tar:
            if info.issym():
                out.append((info.name, b"", info.linkname))
            elif info.isfile():
                fh = tar.extractfile(info)
                content = fh.read() if fh is not None else b""
                try:
                    orjson.loads(content)
                except orjson.JSONDecodeError:
                    content = b""
                out.append((info.name, content, None))
    return out


def manifest_seeds() -> Iterator[tuple[str, bytes]]:
    # Imported here: the harness module imports this one for its templates.
    from fuzz_divepy import encode_manifest_input

    rng = random.Random(0)
    for name, data in archives():
        members = archive_members(data)
        yield f"{name}.bundle", encode_manifest_input(members, b"")
        yield f"{name}.bundle.m", encode_manifest_input(members, rng.randbytes(24))


# -- main -----------------------------------------------------------------------------


SEEDS = {
    "tar": (tar_seeds, TAR_MAX),
    "archive": (archive_seeds, ARCHIVE_MAX),
    "manifest": (manifest_seeds, ARCHIVE_MAX),
}


def write_seeds(root: Path, targets: list[str]) -> None:
    for target in targets:
        make, limit = SEEDS[target]
        out = root / target
        out.mkdir(parents=True, exist_ok=True)
        written = dropped = 0
        with compact_tars():
            seeds = list(make())
        for name, data in seeds:
            if len(data) > limit:
                dropped += 1
                print(f"  {target}: dropped {name} ({len(data)} bytes > {limit})", file=sys.stderr)
                continue
            digest = hashlib.sha1(data).hexdigest()[:12]
            (out / f"{name}.{digest}").write_bytes(data)
            written += 1
        print(f"{target}: {written} seeds in {out}" + (f" ({dropped} too large)" if dropped else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("root", type=Path, help="directory to fill with <target>/ seed directories")
    parser.add_argument(
        "--target", choices=sorted(SEEDS), action="append", help="only this target (repeatable; default: all)"
    )
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    write_seeds(args.root, args.target or list(SEEDS))


if __name__ == "__main__":
    main()
