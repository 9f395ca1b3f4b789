"""Every archive layout of one image gives identical results.

The reference is the legacy ``docker save`` layout of ``edge_case_image()``;
each other layout (and compression, and directory form) must produce the
same efficiency figures, the same merged tree at every layer and the same
per-layer dive trees.
"""

from __future__ import annotations

import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
import zstandard

from dive_py.core.oci import manifest as mf
from dive_py.fixtures.builder import ImageSpec, write_archive, write_layout_dir
from tests.helpers import (
    END,
    OCI_GZIP,
    OCI_TAR,
    OCI_ZSTD,
    config_doc,
    docker_archive,
    everything,
    gz,
    loaded,
    member,
    oci_archive,
    read_members,
    sha,
    tar_of,
    write_members,
)
from tests.images import edge_case_image

# (layout, layer compression, outer compression, expected format, expected layer compression)
CASES = [
    ("docker", "gzip", "none", mf.FORMAT_DOCKER_LEGACY, "tar"),
    ("containers-image", "gzip", "none", mf.FORMAT_CONTAINERS_IMAGE, "tar"),
    ("kaniko", "gzip", "none", mf.FORMAT_KANIKO, "gzip"),
    ("kaniko", "zstd", "none", mf.FORMAT_KANIKO, "zstd"),  # zstd bytes in a file named .tar.gz
    ("oci", "gzip", "none", mf.FORMAT_OCI, "gzip"),
    ("oci", "zstd", "none", mf.FORMAT_OCI, "zstd"),
    ("oci", "none", "none", mf.FORMAT_OCI, "tar"),
    ("docker25", "gzip", "none", mf.FORMAT_DOCKER25, "gzip"),
    ("docker25", "zstd", "none", mf.FORMAT_DOCKER25, "zstd"),
    ("docker25", "none", "none", mf.FORMAT_DOCKER25, "tar"),
    ("docker", "gzip", "gzip", mf.FORMAT_DOCKER_LEGACY, "tar"),
    ("docker", "gzip", "zstd", mf.FORMAT_DOCKER_LEGACY, "tar"),
    ("containers-image", "gzip", "gzip", mf.FORMAT_CONTAINERS_IMAGE, "tar"),
    ("kaniko", "gzip", "zstd", mf.FORMAT_KANIKO, "gzip"),
    ("oci", "gzip", "gzip", mf.FORMAT_OCI, "gzip"),
    ("oci", "none", "zstd", mf.FORMAT_OCI, "tar"),
    ("docker25", "zstd", "gzip", mf.FORMAT_DOCKER25, "zstd"),
]

COMMANDS = [
    "#(nop) ADD file:abc in / ",
    "COPY odd names",
    "RUN true",
    "RUN change everything",
    "RUN rm big files; recreate",
]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = write_archive(edge_case_image(), tmp_path_factory.mktemp("ref") / "ref.tar", "docker")
    with loaded(path) as image:
        return everything(image)


def test_reference_is_what_the_recipe_says(reference: dict[str, Any]) -> None:
    # Anchor the reference itself so that "all equal" cannot mean "all equally empty".
    assert [c for *_rest, c in reference["layer_sizes"]] == COMMANDS
    assert [n for _s, n, _d, _c in reference["layer_sizes"]] == [27, 8, 0, 17, 5]
    assert reference["figures"]["size"] == sum(s for s, *_ in reference["layer_sizes"]) > 40000
    wasted = {p: (count, cum) for p, count, cum, _m, _l in reference["figures"]["inefficient"]}
    assert wasted["/big.bin"] == (3, 40000)  # added, copied again, deleted (whiteout of a file counts 0)
    assert wasted["/bin/su"] == (2, 700)  # 700 bytes, then a whiteout of a file (0)
    assert wasted["/olddir/a.txt"] == (2, 4 + 10)  # deleted with its directory, re-created
    top = reference["listings"][-1]
    assert any('"path":"/becomes-dir/now"' in line for line in top)
    assert not any('"/olddir/sub' in line or '"/opaque/keep-not"' in line for line in top)


@pytest.mark.parametrize(
    ("layout", "compression", "outer", "fmt", "layer_comp"), CASES, ids=[f"{c[0]}-{c[1]}-outer_{c[2]}" for c in CASES]
)
def test_archive_layouts_agree(
    reference: dict[str, Any], tmp_path: Path, layout: str, compression: str, outer: str, fmt: str, layer_comp: str
) -> None:
    path = write_archive(edge_case_image(), tmp_path / "img.tar", layout, compression=compression, outer=outer)
    with loaded(path) as image:
        assert image.archive_format == fmt
        assert {layer.compression for layer in image.layers} == {layer_comp}
        assert image.names == ["edge:latest"]
        ids = [layer.id for layer in image.layers]
        assert len(set(ids)) == len(ids) == 5
        assert "blobs" not in ids
        if layout in ("oci", "docker25"):
            assert ids == [(layer.blob_digest or "").removeprefix("sha256:") for layer in image.layers]
            assert all(layer.member == "blobs/sha256/" + layer.id for layer in image.layers)
        got = everything(image)
    assert got == reference


@pytest.mark.parametrize(
    ("layout", "compression"),
    [
        ("oci", "gzip"),
        ("oci", "zstd"),
        ("oci", "none"),
        ("docker25", "gzip"),
        ("docker", "gzip"),
        ("containers-image", "gzip"),
    ],
)
def test_layout_directories_agree(reference: dict[str, Any], tmp_path: Path, layout: str, compression: str) -> None:
    path = write_layout_dir(edge_case_image(), tmp_path / "layout", layout, compression=compression)
    with loaded(path) as image:
        got = everything(image)
    assert got == reference


@pytest.mark.parametrize(
    ("layout", "compression", "outer"),
    [
        ("oci", "none", "none"),
        ("oci", "gzip", "none"),
        ("oci", "zstd", "gzip"),
        ("docker", "gzip", "none"),
        ("docker", "gzip", "zstd"),
    ],
)
def test_layer_order_follows_the_manifest(
    reference: dict[str, Any], tmp_path: Path, layout: str, compression: str, outer: str
) -> None:
    """Blobs stored in reverse order (and the manifest first) change nothing."""
    plain = write_archive(edge_case_image(), tmp_path / "plain.tar", layout, compression=compression)
    members = read_members(plain)
    layers = [m for m in members if m[0].name.startswith("blobs/sha256/") or m[0].name.endswith("/layer.tar")]
    rest = [m for m in members if m not in layers]
    meta = [m for m in rest if m[0].name in ("manifest.json", "index.json")]
    others = [m for m in rest if m not in meta]
    reordered = meta + others + layers[::-1]
    assert [m[0].name for m in reordered] != [m[0].name for m in members]
    path = write_members(tmp_path / "reordered.tar", reordered)
    if outer != "none":
        raw = (tmp_path / "reordered.tar").read_bytes()
        packed = gz(raw) if outer == "gzip" else zstandard.ZstdCompressor().compress(raw)
        (tmp_path / "reordered.tar.x").write_bytes(packed)
        path = str(tmp_path / "reordered.tar.x")
    with loaded(path) as image:
        diff_ids = image.config.diff_ids
        assert [layer.digest for layer in image.layers] == diff_ids
        got = everything(image)
    assert got == reference


def test_history_mapping_skips_empty_layer_entries(tmp_path: Path) -> None:
    """history[0] is an empty-layer ARG: layer i is not history[i]."""
    path = write_archive(edge_case_image(), tmp_path / "img.tar", "oci")
    with loaded(path) as image:
        assert [layer.command for layer in image.layers] == COMMANDS
        assert image.layers[0].created_by == "/bin/sh -c #(nop) ADD file:abc in / "
        hist = [(h.created_by, h.empty_layer, h.layer_index, h.after_layer) for h in image.config.history]
    assert hist == [
        ("ARG V=1", True, None, -1),
        ("/bin/sh -c #(nop) ADD file:abc in / ", False, 0, -1),
        ("ENV A=1", True, None, 0),
        ("COPY odd names", False, 1, -1),
        ("LABEL x=y", True, None, 1),
        ("RUN true", False, 2, -1),
        ("RUN change everything", False, 3, -1),
        ("RUN rm big files; recreate", False, 4, -1),
        ('CMD ["sh"]', True, None, 4),
    ]


def test_history_shorter_than_the_layers(tmp_path: Path) -> None:
    tars = [tar_of([member("a", data=b"1")]), tar_of([member("b", data=b"2")])]
    cfg = orjson.dumps(config_doc(tars, history=[{"created_by": "/bin/sh -c only one", "empty_layer": False}]))
    with loaded(docker_archive(tmp_path / "img.tar", tars, config=cfg)) as image:
        assert [(layer.command, layer.history is None) for layer in image.layers] == [
            ("only one", False),
            ("(missing)", True),
        ]


EMPTY_LAYER_DIGEST = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"


@pytest.mark.parametrize("layout", ["docker", "oci-gzip", "oci-tar"])
def test_empty_1024_byte_layer_counts(tmp_path: Path, layout: str) -> None:
    tars = [tar_of([member("a", data=b"one")]), END, tar_of([member("b", data=b"two")])]
    assert sha(END) == EMPTY_LAYER_DIGEST[7:]
    if layout == "docker":
        path = docker_archive(tmp_path / "img.tar", tars)
    elif layout == "oci-gzip":
        path = oci_archive(tmp_path / "img.tar", [(gz(t), OCI_GZIP) for t in tars], diff_tars=tars)
    else:
        path = oci_archive(tmp_path / "img.tar", [(t, OCI_TAR) for t in tars])
    with loaded(path) as image:
        assert len(image.layers) == 3
        empty = image.layers[1]
        assert (empty.index, empty.entry_count, empty.size, empty.digest) == (1, 0, 0, EMPTY_LAYER_DIGEST)
        assert empty.stored_size == (len(gz(END)) if layout == "oci-gzip" else 1024)
        assert [layer.command for layer in image.layers] == ["step 0", "step 1", "step 2"]
        assert [line.split(",")[0] for line in everything(image)["listings"][2]] == ['{"path":"/a"', '{"path":"/b"']


@pytest.mark.parametrize("layout", ["docker", "containers-image", "kaniko", "oci", "docker25"])
def test_identical_layers_get_distinct_ids(tmp_path: Path, layout: str) -> None:
    img = ImageSpec(tags=["twins:1"])
    img.layer("ADD a").file("same.txt", "same content\n")
    img.layer("ADD a again").file("same.txt", "same content\n")
    img.layer("ADD b").file("other.txt", "x")
    path = write_archive(img, tmp_path / "img.tar", layout)
    with loaded(path) as image:
        ids = [layer.id for layer in image.layers]
        assert len(set(ids)) == 3
        assert "blobs" not in ids
        shared_blob = image.layers[0].member == image.layers[1].member
        assert shared_blob == (layout != "docker")  # docker save names layer dirs by chain id
        if shared_blob:
            assert ids[1] == ids[0] + "@1"
        assert [layer.entry_count for layer in image.layers] == [1, 1, 1]
        fig = everything(image)["figures"]
    assert fig["inefficient"] == [("/same.txt", 2, 26, 13, [0, 1])]


@pytest.mark.parametrize(
    ("label", "encode", "expected"),
    [
        (OCI_GZIP, lambda t: t, "tar"),  # skopeo --dest-oci-accept-uncompressed-layers
        (OCI_TAR, gz, "gzip"),
        (OCI_GZIP, lambda t: zstandard.ZstdCompressor().compress(t), "zstd"),
        (OCI_ZSTD, gz, "gzip"),
    ],
)
def test_compression_from_magic_bytes_not_media_type(
    reference: dict[str, Any], tmp_path: Path, label: str, encode: Callable[[bytes], bytes], expected: str
) -> None:
    spec = edge_case_image()
    tars = spec.layer_tars()
    path = oci_archive(
        tmp_path / "lying.tar", [(encode(t), label) for t in tars], diff_tars=tars, config=spec.config_json(tars)
    )
    with loaded(path) as image:
        assert [(layer.media_type, layer.compression) for layer in image.layers] == [(label, expected)] * 5
        got = everything(image)
    assert got == reference


def test_outer_archive_with_directory_entries_and_dot_slash_names(reference: dict[str, Any], tmp_path: Path) -> None:
    """`tar -C dir -cf x.tar .` writes ./manifest.json, ./blobs/ ...: names are normalised."""
    plain = write_archive(edge_case_image(), tmp_path / "plain.tar", "oci", compression="none")
    members = []
    for info, data in read_members(plain):
        info.name = "./" + info.name
        members.append((info, data))
    members.insert(0, (tarfile.TarInfo("./"), b""))
    members[0][0].type = tarfile.DIRTYPE
    with loaded(write_members(tmp_path / "dot.tar", members)) as image:
        got = everything(image)
    assert got == reference
