"""Hostile archives: metadata sizes, manifests and indexes, member links, layout directories, compression."""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Callable
from pathlib import Path

import orjson
import zstandard

from tests.helpers import OCI_GZIP, OCI_TAR, OCI_ZSTD, config_doc, file_member, gz, member, tar_of
from tests.hostile import layers as L
from tests.hostile.archives import (
    IndexBuilder,
    docker_members,
    image_in,
    link_member,
    oci_dir,
    oci_members,
    raw_archive,
    sparse_file,
    sparse_member_archive,
    spec_of,
)
from tests.hostile.model import Case, fails, ok_everywhere

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"


def _docker(box: Path, *, config: bytes | None = None, manifest: object = None) -> str:
    return raw_archive(box, docker_members([L.good()], config=config, manifest=manifest))


def _json_limit(what: str) -> str:
    return rf"{what}: a JSON document of [\d,]+ bytes is over divepy's limit of 16 MiB"


# -- metadata that claims gigabytes --------------------------------------------------------


def big_manifest_json(box: Path) -> list[str]:
    return [sparse_member_archive(box, "manifest.json", 1 << 30, [file_member("x", b"x")])]


def big_config(box: Path) -> list[str]:
    members = docker_members([L.good()], manifest=[{"Config": "cfg.json", "RepoTags": ["a:1"], "Layers": []}])
    return [sparse_member_archive(box, "cfg.json", 1 << 30, [m for m in members if m[0].name == "manifest.json"])]


def big_index_in_layout(box: Path) -> list[str]:
    layout = oci_dir(box, [L.good()])
    sparse_file(layout / "index.json", 1 << 30, b'{"manifests": [')
    return [str(layout.relative_to(box))]


def _gzip_archive_with_fillers(box: Path, count: int, size: int, head: bytes) -> list[str]:
    """A gzip'd docker archive with ``count`` extra members of ``size`` bytes first (compressed once, reused)."""
    filler = head + b" " * (size - len(head))
    packed_filler = gzip.compress(filler, compresslevel=1, mtime=0)
    parts = []
    import tarfile

    for i in range(count):
        info = tarfile.TarInfo(f"filler-{i}.json")
        info.size = size
        parts.append(gzip.compress(info.tobuf(format=tarfile.PAX_FORMAT), mtime=0))
        parts.append(packed_filler)
        parts.append(gzip.compress(bytes(-size % 512), mtime=0))
    (box / "in").mkdir(exist_ok=True)
    image = raw_archive(box, docker_members([L.good()]), "img.tar")
    parts.append(gz((box / image).read_bytes()))
    (box / "in" / "fillers.tar.gz").write_bytes(b"".join(parts))
    return ["in/fillers.tar.gz"]


def nested_index_chain(depth: int, repeats: int) -> IndexBuilder:
    """An index that lists the next one ``repeats`` times, ``depth`` levels down to the manifest."""

    def build(man_digest: str, man_size: int, put: Callable[[bytes], str]) -> object:
        desc: dict[str, object] = {"mediaType": MANIFEST, "digest": man_digest, "size": man_size}
        for _ in range(depth):
            doc = orjson.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": [desc] * repeats})
            desc = {"mediaType": INDEX, "digest": put(doc), "size": len(doc)}
        return {"schemaVersion": 2, "manifests": [desc] * repeats}

    return build


def many_manifests(count: int) -> IndexBuilder:
    def build(man_digest: str, man_size: int, put: Callable[[bytes], str]) -> object:
        return {
            "schemaVersion": 2,
            "manifests": [
                {
                    "mediaType": MANIFEST,
                    "digest": man_digest,
                    "size": man_size,
                    "annotations": {"org.opencontainers.image.ref.name": f"t{i}"},
                }
                for i in range(count)
            ],
        }

    return build


def images_across_indexes(per_index: int, indexes: int) -> IndexBuilder:
    """``indexes`` nested indexes of ``per_index`` manifests each: every one under the per-index limit."""

    def build(man_digest: str, man_size: int, put: Callable[[bytes], str]) -> object:
        nested = []
        for k in range(indexes):
            doc = orjson.dumps(
                {
                    "schemaVersion": 2,
                    "mediaType": INDEX,
                    "manifests": [
                        {
                            "mediaType": MANIFEST,
                            "digest": man_digest,
                            "size": man_size,
                            "annotations": {"org.opencontainers.image.ref.name": f"i{k}-t{i}"},
                        }
                        for i in range(per_index)
                    ],
                }
            )
            nested.append({"mediaType": INDEX, "digest": put(doc), "size": len(doc)})
        return {"schemaVersion": 2, "manifests": nested}

    return build


def _oci(box: Path, layers: list[tuple[bytes, str]] | None = None, *, index: IndexBuilder | None = None) -> list[str]:
    return [raw_archive(box, oci_members(layers or [(L.good(), OCI_TAR)], index=index))]


def deep_healthcheck(box: Path) -> list[str]:
    """600 levels of lists inside the healthcheck and a label (orjson loads 1024, but dumps only 255)."""
    nested = b"[" * 600 + b'"x"' + b"]" * 600
    cfg = config_doc([L.good()])
    cfg["config"] = {
        "Healthcheck": {"Test": ["CMD", "true"], "Interval": 5, "Deep": "@"},
        "Labels": {"deep": "@", "fine": "yes"},
    }
    return [_docker(box, config=orjson.dumps(cfg).replace(b'"@"', nested))]


def long_history(box: Path) -> list[str]:
    cfg = config_doc([L.good()], history=[{"created_by": "x", "empty_layer": True}] * 70_000)
    return [_docker(box, config=orjson.dumps(cfg))]


def many_layers_in_oci_manifest(box: Path) -> list[str]:
    return _oci(box, [(L.good(), OCI_TAR)] * 5000)


def many_layers_in_manifest(box: Path) -> list[str]:
    members = docker_members([L.good()])
    man = orjson.loads(members[-1][1])
    man[0]["Layers"] = man[0]["Layers"] * 5000
    members[-1] = file_member("manifest.json", orjson.dumps(man))
    return [raw_archive(box, members)]


def many_images_in_manifest(box: Path) -> list[str]:
    members = docker_members([L.good()])
    man = orjson.loads(members[-1][1])
    members[-1] = file_member("manifest.json", orjson.dumps(man * 5000))
    return [raw_archive(box, members)]


def json_too_deep(box: Path) -> list[str]:
    return [_docker(box, manifest=b"[" * 2000 + b"]" * 2000)]


# -- member links ---------------------------------------------------------------------------


def layer_as_hardlink_member(box: Path) -> list[str]:
    members = docker_members([L.good()])
    layer = members[0]
    blob = file_member("blob.tar", layer[1])
    import tarfile

    members[0] = link_member(layer[0].name, "blob.tar", tarfile.LNKTYPE)
    return [raw_archive(box, [blob, *members])]


def member_link_outside(kind: str) -> Callable[[Path], list[str]]:
    def build(box: Path) -> list[str]:
        import tarfile

        members = docker_members([L.good()])
        name = members[0][0].name
        target = "../../../etc/passwd" if kind == "symlink" else "../outside.tar"
        members[0] = link_member(name, target, tarfile.SYMTYPE if kind == "symlink" else tarfile.LNKTYPE)
        return [raw_archive(box, members)]

    return build


def member_link_loop(box: Path) -> list[str]:
    members = docker_members([L.good()])
    name = members[0][0].name  # <id>/layer.tar -> other.tar -> layer.tar, in the same directory
    members[0] = link_member(name, "other.tar")
    return [raw_archive(box, [link_member(name.replace("layer.tar", "other.tar"), "layer.tar"), *members])]


def layout_blob_symlink_outside(box: Path) -> list[str]:
    layout = oci_dir(box, [L.good()])
    blobs = sorted((layout / "blobs" / "sha256").iterdir(), key=lambda p: p.stat().st_size)
    biggest = blobs[-1]  # the layer
    biggest.unlink()
    os.symlink("/etc/passwd", biggest)
    return [str(layout.relative_to(box))]


def layout_index_symlink_outside(box: Path) -> list[str]:
    layout = oci_dir(box, [L.good()])
    (box / "in" / "elsewhere.json").write_bytes((layout / "index.json").read_bytes())
    (layout / "index.json").unlink()
    os.symlink("../elsewhere.json", layout / "index.json")
    return [str(layout.relative_to(box))]


def layout_blob_is_a_fifo(box: Path) -> list[str]:
    layout = oci_dir(box, [L.good()])
    blobs = sorted((layout / "blobs" / "sha256").iterdir(), key=lambda p: p.stat().st_size)
    blobs[-1].unlink()
    os.mkfifo(blobs[-1])
    return [str(layout.relative_to(box))]


def layout_blobs_dir_symlinked_inside(box: Path) -> list[str]:
    layout = oci_dir(box, [L.good()])
    os.rename(layout / "blobs", layout / "real-blobs")
    os.symlink("real-blobs", layout / "blobs")
    return [str(layout.relative_to(box))]


def layout_without_index(box: Path) -> list[str]:
    (box / "in" / "plain").mkdir(parents=True)
    (box / "in" / "plain" / "file.txt").write_text("x")
    return ["in/plain"]


# -- compression ------------------------------------------------------------------------------


def gzip_corrupt(where: str) -> bytes:
    if where == "deflate":  # a valid gzip header, then a deflate block of the reserved type 3: ISA-L's own error
        return bytes([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF, 0x07]) + bytes(20)
    data = bytearray(gz(L.good() + bytes(20000)))
    if where == "crc":
        data[-8] ^= 0xFF
    elif where == "header":
        data[3] = 0xFF  # reserved flag bits
    else:
        data[len(data) // 2] ^= 0xFF
    return bytes(data)


def gzip_layer_corrupt(where: str) -> Callable[[Path], list[str]]:
    def build(box: Path) -> list[str]:
        return _oci(box, [(gzip_corrupt(where), OCI_GZIP)])

    return build


def zstd_truncated_at_block() -> bytes:
    raw = tar_of([member("big", data=os.urandom(300_000))])
    packed = zstandard.ZstdCompressor(write_checksum=False).compress(raw)
    return packed[: len(packed) * 2 // 3]


def gzip_outer_corrupt(box: Path) -> list[str]:
    path = raw_archive(box, docker_members([L.good()]))
    data = bytearray(gz((box / path).read_bytes()))
    data[-8] ^= 0xFF
    (box / "in" / "img.tar.gz").write_bytes(bytes(data))
    return ["in/img.tar.gz"]


def outer_wrapped(kind: str) -> Callable[[Path], list[str]]:
    def build(box: Path) -> list[str]:
        path = raw_archive(box, docker_members([L.good()]))
        data = (box / path).read_bytes()
        if kind == "gzip-gzip":
            data = gz(gz(data))
        elif kind == "zstd-truncated":
            data = zstandard.ZstdCompressor().compress(data + os.urandom(200_000))
            data = data[: len(data) // 2]
        elif kind == "xz-corrupt":
            import lzma

            corrupt = bytearray(lzma.compress(data))
            corrupt[len(corrupt) // 2] ^= 0xFF
            data = bytes(corrupt)
        elif kind == "bzip2-corrupt":
            import bz2

            corrupt = bytearray(bz2.compress(data))
            corrupt[len(corrupt) // 2] ^= 0xFF
            data = bytes(corrupt)
        elif kind == "zlib-not-gzip":
            data = zlib.compress(data)
        (box / "in" / "img.bin").write_bytes(bytes(data))
        return ["in/img.bin"]

    return build


CASES: list[Case] = [
    Case("manifest-json-of-1-gib", "memory", big_manifest_json, fails(_json_limit("manifest.json"))),
    Case("config-of-1-gib", "memory", big_config, fails(_json_limit("config cfg.json"))),
    Case(
        "layout-index-json-of-1-gib",
        "memory",
        big_index_in_layout,
        fails(_json_limit("index.json")),
        ("json", "list", "explorer"),
    ),
    Case(
        "two-dozen-60-mib-members-gzip",
        "memory",
        lambda box: _gzip_archive_with_fillers(box, 24, 60 << 20, b""),
        ok_everywhere(),
        ("json", "ci"),
    ),
    Case(
        "two-dozen-60-mib-json-members-gzip",
        "memory",
        lambda box: _gzip_archive_with_fillers(box, 24, 60 << 20, b"["),
        ok_everywhere(),
        ("json",),
    ),
    Case(
        "twenty-12-mib-json-members-gzip",
        "memory",  # 240 MiB offered, at most 128 MiB held
        lambda box: _gzip_archive_with_fillers(box, 20, 12 << 20, b"{"),
        ok_everywhere(),
        ("json", "list"),
    ),
    Case(
        "index-chain-listing-each-next-12-times",
        "memory",
        lambda box: _oci(box, index=nested_index_chain(7, 12)),
        ok_everywhere(),
        ("json", "list", "explorer"),
    ),
    Case(
        "index-chain-too-deep",
        "memory",
        lambda box: _oci(box, index=nested_index_chain(12, 1)),
        fails(r"indexes nested more than 8 deep \(divepy's limit\)"),
    ),
    Case(
        "index-with-5000-manifests",
        "memory",
        lambda box: _oci(box, index=many_manifests(5000)),
        fails(r"index.json: more than 4,096 manifests \(divepy's limit\)"),
    ),
    Case(
        "5000-images-across-nested-indexes",
        "memory",
        lambda box: _oci(box, index=images_across_indexes(2500, 2)),
        fails(r"the archive: more than 4,096 images \(divepy's limit\)"),
        ("json",),
    ),
    Case(
        "manifest-json-with-5000-images",
        "memory",
        many_images_in_manifest,
        fails(r"manifest.json: more than 4,096 images \(divepy's limit\)"),
    ),
    Case(
        "manifest-with-5000-layers",
        "memory",
        many_layers_in_manifest,
        fails(r"manifest.json entry 0: more than 4,096 layers \(divepy's limit\)"),
    ),
    Case(
        "oci-manifest-with-5000-layers",
        "memory",
        many_layers_in_oci_manifest,
        fails(r"manifest sha256:[0-9a-f]+: more than 4,096 layers \(divepy's limit\)"),
        ("json",),
    ),
    Case(
        "history-of-70000-steps",
        "memory",
        long_history,
        fails(r"config .*: more than 65,536 history entries \(divepy's limit\)"),
    ),
    Case(
        "index-media-type-is-a-list",
        "traceback",  # found by the fuzzer
        lambda box: _oci(box, index=lambda d, n, put: {"manifests": [{"mediaType": ["x"], "digest": d, "size": n}]}),
        fails(r"index.json: manifests\[0\]: 'mediaType' is not a string"),
    ),
    Case(
        "manifest-media-type-is-an-object",
        "traceback",
        lambda box: _oci(
            box,
            index=lambda d, n, put: {
                "manifests": [{"digest": put(orjson.dumps({"mediaType": {"a": 1}, "layers": []})), "size": 1}]
            },
        ),
        fails(r"manifest sha256:[0-9a-f]+: 'mediaType' is not a string"),
    ),
    Case("json-nested-2000-deep", "traceback", json_too_deep, fails(r"manifest.json is not valid JSON")),
    Case(
        "healthcheck-nested-600-deep",
        "traceback",
        deep_healthcheck,
        ok_everywhere(),
        ("json", "ci", "summary", "explorer"),
    ),
    # -- member links and layout directories -------------------------------------------------
    Case(
        "layer-stored-as-a-hardlink-member",
        "messages",
        layer_as_hardlink_member,
        ok_everywhere(),
        ("json", "list", "extract"),
    ),
    Case(
        "member-symlink-outside-the-archive",
        "messages",
        member_link_outside("symlink"),
        fails(r"is a link that points outside the archive: refused"),
    ),
    Case(
        "member-hardlink-outside-the-archive",
        "messages",
        member_link_outside("hardlink"),
        fails(r"is a link that points outside the archive: refused"),
    ),
    Case("member-symlink-loop", "messages", member_link_loop, fails(r"is a loop of links")),
    Case(
        "layout-blob-symlink-to-etc-passwd",
        "messages",
        layout_blob_symlink_outside,
        fails(r"is a symlink that points outside the layout: refused"),
        ("json", "list", "explorer"),
    ),
    Case(
        "layout-index-symlink-outside",
        "messages",
        layout_index_symlink_outside,
        fails(r"'index.json' is a symlink that points outside the layout: refused"),
    ),
    Case(
        "layout-blob-is-a-fifo",
        "hang",
        layout_blob_is_a_fifo,
        fails(r"is not a regular file: refused"),
        ("json", "explorer"),
    ),
    Case(
        "layout-blobs-dir-symlinked-inside",
        "formats",
        layout_blobs_dir_symlinked_inside,
        ok_everywhere(),
        ("json", "list"),
    ),
    Case(
        "directory-without-a-layout", "messages", layout_without_index, fails(r"is a directory but not an image layout")
    ),
    # -- compression --------------------------------------------------------------------------
    *[
        Case(
            f"gzip-layer-corrupt-{where}",
            "traceback",
            gzip_layer_corrupt(where),
            fails(r"is (not valid gzip data|truncated \(gzip stream ends early\))"),
            ("json", "explorer"),
        )
        for where in ("crc", "header", "middle", "deflate")
    ],
    Case(
        "zstd-layer-truncated-mid-stream",
        "messages",
        lambda box: _oci(box, [(zstd_truncated_at_block(), OCI_ZSTD)]),
        fails(r"is truncated \(zstd stream ends early\)"),
        ("json", "list", "explorer"),
    ),
    Case(
        "zstd-layer-garbage",
        "traceback",
        lambda box: _oci(box, [(b"\x28\xb5\x2f\xfd" + os.urandom(3000), OCI_ZSTD)]),
        fails(r"is not valid zstd data|is truncated \(zstd stream ends early\)"),
    ),
    Case(
        "gzip-inside-gzip-layer",
        "messages",
        lambda box: _oci(box, [(gz(gz(L.good())), OCI_GZIP)]),
        fails(r"is compressed twice \(gzip data inside the gzip stream\)"),
    ),
    Case(
        "zstd-inside-gzip-layer",
        "messages",
        lambda box: _oci(box, [(gz(zstandard.ZstdCompressor().compress(L.good())), OCI_GZIP)]),
        fails(r"is compressed twice \(zstd data inside the gzip stream\)"),
    ),
    Case("gzip-outer-corrupt-crc", "traceback", gzip_outer_corrupt, fails(r"is not valid gzip data")),
    Case(
        "gzip-inside-gzip-archive",
        "messages",
        outer_wrapped("gzip-gzip"),
        fails(r"img.bin is compressed twice \(gzip data inside the gzip stream\)"),
    ),
    Case(
        "zstd-archive-truncated",
        "messages",
        outer_wrapped("zstd-truncated"),
        fails(r"img.bin is truncated( \(zstd stream ends early\))?"),
    ),
    Case("xz-archive-corrupt", "traceback", outer_wrapped("xz-corrupt"), fails(r"img.bin is not valid xz data")),
    Case(
        "bzip2-archive-corrupt",
        "traceback",
        outer_wrapped("bzip2-corrupt"),
        fails(r"img.bin is (not valid bzip2 data|truncated)"),
    ),
    Case("zlib-stream-not-gzip", "messages", outer_wrapped("zlib-not-gzip"), fails(r"img.bin is not a tar archive")),
    # -- images that are odd but legal ------------------------------------------------------------
    Case(
        "image-with-no-layers",
        "semantics",
        lambda box: [raw_archive(box, docker_members([]))],
        {
            "list": fails(r"the image has no layers: there is nothing to list"),
            "extract": fails(r"the image has no layers: there is nothing to extract"),
            "json": ok_everywhere()["json"],
            "ci": ok_everywhere()["ci"],
            "summary": ok_everywhere()["summary"],
            "explorer": fails(r"the image has no layers: there is nothing to explore"),
        },
        ("list", "extract", "json", "ci", "summary", "explorer"),
    ),
    Case(
        "same-layer-listed-twice",
        "formats",
        lambda box: [image_in(box, spec_of([L.good(), L.good()]))],
        ok_everywhere(),
        ("json", "list"),
    ),
]
