"""Finding and choosing images: multi-image archives, multi-platform indexes, broken manifests."""

from __future__ import annotations

import platform as std_platform
from pathlib import Path

import orjson
import pytest

from dive_py.core.archive import open_archive
from dive_py.core.model.image import Image
from dive_py.core.model.loader import load_image
from dive_py.core.oci import manifest as mf
from dive_py.core.oci import selection
from dive_py.errors import ManifestError, UsageError
from dive_py.fixtures.builder import ImageSpec, write_archive
from dive_py.report.export import archive_summary
from tests.helpers import (
    OCI_GZIP,
    OCI_INDEX,
    OCI_MANIFEST,
    OCI_TAR,
    config_doc,
    docker_archive,
    gz,
    loaded,
    member,
    member_data,
    oci_archive,
    read_members,
    replace_members,
    sha,
    tar_of,
    write_members,
)
from tests.images import tiny_image

LAYER = tar_of([member("f", data=b"content")])


def found(path: str | Path) -> mf.ArchiveIndex:
    archive = open_archive(str(path), hash_files=False)
    try:
        return mf.find_images(archive)
    finally:
        archive.close()


def hello(image: Image) -> str:
    e = image.entries
    (g,) = [g for g in range(len(e)) if image.paths.paths[e.pid[g]] == "hello.txt"]
    return image.archive.pread(e.blob_of[e.layer_of(g)], e.offset[g], e.size[g]).decode()


def stored_size(image: Image, member: str) -> int:
    """The size of an archive member as stored."""
    stored = image.archive.resolve(member)
    assert stored is not None, member
    return stored.size


# -- several images in one archive -------------------------------------------------


@pytest.fixture
def two_images(tmp_path: Path) -> str:
    return write_archive(
        [tiny_image("first:1", marker="A"), tiny_image("second:2", marker="B")], tmp_path / "two.tar", "docker"
    )


@pytest.mark.parametrize(
    ("select", "name", "marker"),
    [
        (None, "first:1", "A"),
        ("first:1", "first:1", "A"),
        ("second:2", "second:2", "B"),
        ("0", "first:1", "A"),
        ("1", "second:2", "B"),
        ("docker.io/library/second:2", "second:2", "B"),
    ],
)
def test_select_image_in_a_multi_image_archive(two_images: str, select: str | None, name: str, marker: str) -> None:
    with loaded(two_images, image=select) as image:
        assert image.names == [name]
        assert hello(image) == f"hello {marker}\n"
        assert [(o.names, len(o.layer_members)) for o in image.other_images()] == [
            ([n], 2) for n in ("first:1", "second:2") if n != name
        ]


def test_unknown_image_name_lists_the_available_ones(two_images: str) -> None:
    with pytest.raises(UsageError) as err:
        load_image(two_images, image="third:3")
    assert str(err.value) == "--image third:3: no such image in the archive; available: first:1, second:2"


def test_image_index_out_of_range(two_images: str) -> None:
    with pytest.raises(UsageError, match=r"^--image 2: the archive holds 2 image\(s\) \(0\.\.1\)$"):
        load_image(two_images, image="2")


def test_name_without_tag_means_latest(tmp_path: Path) -> None:
    path = write_archive(
        [tiny_image("app:1.0", marker="A"), tiny_image("app:latest", marker="B")], tmp_path / "t.tar", "docker"
    )
    with loaded(path, image="app") as image:
        assert image.names == ["app:latest"]


def test_archive_summary_without_sharing(two_images: str) -> None:
    with loaded(two_images, image="second:2") as image:
        summary = archive_summary(image)
        stored = {info.name: info.size for info, _ in read_members(two_images) if info.name.endswith("layer.tar")}
    assert summary["sharedLayers"] == []
    assert summary["layerBytesStored"] == sum(stored.values())
    assert len(stored) == 4
    assert [(i["names"], i["layers"], i["selected"]) for i in summary["images"]] == [
        (["first:1"], 2, False),
        (["second:2"], 2, True),
    ]


@pytest.mark.parametrize("layout", ["docker", "containers-image", "kaniko", "oci", "docker25"])
def test_archive_summary_with_shared_layers(tmp_path: Path, layout: str) -> None:
    child = tiny_image("child:1")
    child.layer("RUN more").file("more.txt", "more")
    path = write_archive([tiny_image("parent:1"), child], tmp_path / "family.tar", layout)
    with loaded(path, image="child:1") as image:
        summary = archive_summary(image)
        members = [lay.member for lay in image.layers]
        sizes = {m: stored_size(image, m) for m in members}
    assert summary["sharedLayers"] == sorted(members[:2])
    assert summary["layerBytesStored"] == sum(sizes.values())  # each shared blob counted once
    assert [(i["names"], i["layers"], i["selected"]) for i in summary["images"]] == [
        (["parent:1"], 2, False),
        (["child:1"], 3, True),
    ]


# -- multi-platform indexes ---------------------------------------------------------


@pytest.fixture
def multi_platform(tmp_path: Path) -> str:
    return write_archive(
        [
            tiny_image("multi:1", arch="amd64", marker="amd"),
            tiny_image("multi:1", arch="arm64", variant="v8", marker="arm"),
        ],
        tmp_path / "multi.tar",
        "oci",
        platforms=True,
        attestation=True,
    )


def diff_ids(spec: ImageSpec) -> list[str]:
    return ["sha256:" + sha(t) for t in spec.layer_tars()]


AMD = diff_ids(tiny_image("multi:1", arch="amd64", marker="amd"))
ARM = diff_ids(tiny_image("multi:1", arch="arm64", variant="v8", marker="arm"))


@pytest.mark.parametrize(
    ("machine", "expected", "digests"),
    [
        ("x86_64", "linux/amd64", AMD),
        ("aarch64", "linux/arm64/v8", ARM),
        ("arm64", "linux/arm64/v8", ARM),
        ("AMD64", "linux/amd64", AMD),
    ],
)
def test_host_platform_is_the_default(
    multi_platform: str, monkeypatch: pytest.MonkeyPatch, machine: str, expected: str, digests: list[str]
) -> None:
    monkeypatch.setattr(std_platform, "machine", lambda: machine)
    with loaded(multi_platform) as image:
        assert image.ref.platform == expected
        assert image.config.platform == expected
        assert [lay.digest for lay in image.layers] == digests


def test_host_armv7_picks_plain_arm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An index entry "linux/arm" without a variant means arm/v7 (containerd's normalisation)."""
    path = write_archive(
        [tiny_image("pi:1", arch="amd64", marker="a"), tiny_image("pi:1", arch="arm", marker="b")],
        tmp_path / "pi.tar",
        "oci",
        platforms=True,
    )
    monkeypatch.setattr(std_platform, "machine", lambda: "armv7l")
    with loaded(path) as image:
        assert image.ref.platform == "linux/arm"
    monkeypatch.setattr(std_platform, "machine", lambda: "armv6l")
    with pytest.raises(UsageError, match=r"^the image has no linux/arm/v6 variant"):
        load_image(path)


def test_host_platform_missing(multi_platform: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(std_platform, "machine", lambda: "s390x")
    with pytest.raises(UsageError) as err:
        load_image(multi_platform)
    assert str(err.value) == (
        "the image has no linux/s390x variant; choose one with --platform (linux/amd64, linux/arm64/v8)"
    )


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        ("linux/arm64", "linux/arm64/v8"),
        ("arm64", "linux/arm64/v8"),
        ("linux/arm64/v8", "linux/arm64/v8"),
        ("LINUX/ARM64", "linux/arm64/v8"),
        ("linux/amd64", "linux/amd64"),
        ("amd64", "linux/amd64"),
    ],
)
def test_platform_flag(multi_platform: str, wanted: str, expected: str) -> None:
    with loaded(multi_platform, platform=wanted) as image:
        assert image.ref.platform == expected


@pytest.mark.parametrize(
    ("wanted", "shown"),
    [
        ("linux/s390x", "linux/s390x"),
        ("riscv64", "linux/riscv64"),
        ("linux/arm64/v7", "linux/arm64/v7"),
        ("windows/amd64", "windows/amd64"),
    ],
)
def test_missing_platform_lists_the_available_ones(multi_platform: str, wanted: str, shown: str) -> None:
    with pytest.raises(UsageError) as err:
        load_image(multi_platform, platform=wanted)
    assert str(err.value) == f"--platform {shown}: not in this image; available: linux/amd64, linux/arm64/v8"


def test_attestation_manifest_is_skipped(multi_platform: str) -> None:
    idx = found(multi_platform)
    assert [(i.names, i.platform) for i in idx.images] == [
        (["multi:1"], "linux/amd64"),
        (["multi:1"], "linux/arm64/v8"),
    ]
    assert idx.notes == ["attestation manifest"]
    assert len({i.group for i in idx.images}) == 1  # one image, two platforms


def test_attestation_next_to_a_single_image(tmp_path: Path) -> None:
    path = write_archive(tiny_image("one:1"), tmp_path / "one.tar", "oci", attestation=True)
    idx = found(path)
    assert [(i.names, i.platform, len(i.layers)) for i in idx.images] == [(["one:1"], "linux/amd64", 2)]
    with loaded(path) as image:  # no platform question: the attestation is not a second platform
        assert image.names == ["one:1"]


@pytest.mark.parametrize(
    ("wanted", "have", "ok"),
    [
        ("linux/arm64", "linux/arm64/v8", True),
        ("linux/arm64/v8", "linux/arm64", True),
        ("linux/arm/v7", "linux/arm/v6", False),
        ("linux/arm/v7", "linux/arm", True),
        ("linux/arm/v6", "linux/arm", False),
        ("linux/arm64/v8", "linux/arm", False),
        ("linux/amd64", None, False),
        ("linux/amd64", "windows/amd64", False),
        ("linux/arm", "linux/arm/v7", True),
    ],
)
def test_platform_matches(wanted: str, have: str | None, ok: bool) -> None:
    assert selection.platform_matches(wanted, have) is ok


def test_normalise_platform() -> None:
    assert selection.normalise_platform(" ARM64 ") == "linux/arm64"
    with pytest.raises(UsageError, match="--platform needs a value"):
        selection.normalise_platform(" ")


# -- broken indexes and manifests ----------------------------------------------------


def test_index_with_null_manifests(tmp_path: Path) -> None:
    index = orjson.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": None})
    path = oci_archive(tmp_path / "null.tar", [(LAYER, OCI_TAR)], index=index)
    with pytest.raises(ManifestError) as err:
        load_image(path)
    assert str(err.value) == "index.json holds no usable image (index.json lists no manifests)"


def test_manifest_with_zero_layers_only(tmp_path: Path) -> None:
    path = oci_archive(tmp_path / "zero.tar", [], config=orjson.dumps(config_doc([])))
    with pytest.raises(
        ManifestError,
        match=r"^index\.json holds no usable image \(manifest sha256:[0-9a-f]{64} "
        r"lists no layers\)$",
    ):
        load_image(path)


def test_artifact_manifest_is_not_an_image(tmp_path: Path) -> None:
    path = oci_archive(
        tmp_path / "art.tar",
        [(LAYER, OCI_TAR)],
        manifest_extra={
            "config": {
                "mediaType": "application/vnd.cncf.helm.config.v1+json",
                "digest": "sha256:" + "0" * 64,
                "size": 2,
            }
        },
    )
    with pytest.raises(ManifestError, match=r"is an artifact \(application/vnd\.cncf\.helm\.config\.v1\+json\)"):
        load_image(path)


def test_unknown_manifest_media_type(tmp_path: Path) -> None:
    path = oci_archive(tmp_path / "odd.tar", [(LAYER, OCI_TAR)], manifest_media="application/vnd.example+json")
    with pytest.raises(ManifestError) as err:
        load_image(path)
    assert str(err.value) == "index.json: manifests[0] has unknown media type 'application/vnd.example+json'"


def test_unknown_layer_media_type(tmp_path: Path) -> None:
    path = oci_archive(tmp_path / "odd.tar", [(LAYER, OCI_TAR), (LAYER, "application/x-foo")])
    with pytest.raises(
        ManifestError,
        match=r"^manifest sha256:[0-9a-f]{64}: layer 1 has unknown media type "
        r"'application/x-foo'$",
    ):
        load_image(path)


def test_index_pointing_at_a_missing_manifest(tmp_path: Path) -> None:
    digest = "sha256:" + "ab" * 32
    index = orjson.dumps({"schemaVersion": 2, "manifests": [{"mediaType": OCI_MANIFEST, "digest": digest, "size": 10}]})
    path = oci_archive(tmp_path / "gone.tar", [(LAYER, OCI_TAR)], index=index)
    with pytest.raises(ManifestError) as err:
        load_image(path)
    assert str(err.value) == f"index.json refers to {digest}, which is not in the archive"


def test_invalid_digest_is_refused(tmp_path: Path) -> None:
    index = orjson.dumps(
        {
            "schemaVersion": 2,
            "manifests": [{"mediaType": OCI_MANIFEST, "digest": "sha256:../../etc/passwd", "size": 10}],
        }
    )
    path = oci_archive(tmp_path / "evil.tar", [(LAYER, OCI_TAR)], index=index)
    with pytest.raises(ManifestError, match=r"^invalid digest 'sha256:\.\./\.\./etc/passwd'$"):
        load_image(path)


def test_oci_layer_blob_missing(tmp_path: Path) -> None:
    path = oci_archive(tmp_path / "img.tar", [(LAYER, OCI_TAR)])
    blob = "blobs/sha256/" + sha(LAYER)
    members = [m for m in read_members(path) if m[0].name != blob]
    write_members(tmp_path / "missing.tar", members)
    with pytest.raises(ManifestError) as err:
        load_image(str(tmp_path / "missing.tar"))
    assert str(err.value) == f"layer 0 ({blob}): blob '{blob}' is missing from the archive"


def test_manifest_json_pointing_at_a_missing_layer(tmp_path: Path) -> None:
    cfg = orjson.dumps(config_doc([LAYER]))
    man = orjson.dumps([{"Config": "c.json", "RepoTags": ["x:1"], "Layers": ["deadbeef/layer.tar"]}])
    path = docker_archive(tmp_path / "m.tar", [LAYER], config=cfg, manifest=man)
    with pytest.raises(ManifestError) as err:
        load_image(path)
    assert str(err.value) == "manifest.json refers to layer 'deadbeef/layer.tar', which is not in the archive"


def test_manifest_json_pointing_at_a_missing_config(tmp_path: Path) -> None:
    path = docker_archive(tmp_path / "m.tar", [LAYER])
    man = orjson.loads(member_data(path, "manifest.json"))
    man[0]["Config"] = "0" * 64 + ".json"
    replace_members(path, tmp_path / "m2.tar", {"manifest.json": orjson.dumps(man)})
    with pytest.raises(ManifestError) as err:
        load_image(str(tmp_path / "m2.tar"))
    assert str(err.value) == f"manifest.json refers to config '{'0' * 64}.json', which is not in the archive"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (b"{}", "manifest.json is not a JSON list"),
        (b"[]", "manifest.json lists no images"),
        (b'[{"Layers": []}]', "manifest.json entry 0 has no Config"),
        (b'[{"Config": "c.json", "Layers": "x"}]', "manifest.json entry 0 Layers must be a list of strings"),
        (b'["x"]', "manifest.json entry 0 is not a JSON object"),
        (b"[{", "manifest.json is not valid JSON"),
    ],
)
def test_malformed_manifest_json(tmp_path: Path, doc: bytes, message: str) -> None:
    path = docker_archive(tmp_path / "m.tar", [LAYER], manifest=doc)
    with pytest.raises(ManifestError, match="^" + message.replace(".", r"\.")):
        load_image(path)


def test_config_diff_ids_count_mismatch(tmp_path: Path) -> None:
    cfg = orjson.dumps(config_doc([LAYER, LAYER, LAYER]))
    path = docker_archive(tmp_path / "m.tar", [LAYER, tar_of([member("g", data=b"2")])], config=cfg)
    with pytest.raises(ManifestError) as err:
        load_image(path)
    assert str(err.value) == "the config lists 3 layer digests but the manifest has 2 layers"


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        (b"[]", "is not a JSON object"),
        (b"{}", "has no rootfs section (is it an image config?)"),
        (b'{"rootfs": {"diff_ids": "x"}}', "rootfs.diff_ids must be a list of digests"),
    ],
)
def test_malformed_config(tmp_path: Path, cfg: bytes, message: str) -> None:
    path = docker_archive(tmp_path / "m.tar", [LAYER], config=cfg)
    with pytest.raises(ManifestError) as err:
        load_image(path)
    assert str(err.value).startswith("config ") and str(err.value).endswith(message)


def test_not_an_image_archive(tmp_path: Path) -> None:
    path = write_members(tmp_path / "rootfs.tar", [member("etc/passwd", data=b"root")])
    with pytest.raises(ManifestError, match=r"is not a container image archive: no manifest\.json or index\.json"):
        load_image(path)


# -- Docker >= 25: manifest.json into an OCI layout -----------------------------------


def test_docker25_media_types_and_sizes_from_the_index(tmp_path: Path) -> None:
    path = write_archive(tiny_image("d25:1"), tmp_path / "d25.tar", "docker25")
    with loaded(path) as image:
        assert image.archive_format == mf.FORMAT_DOCKER25
        assert [(lay.media_type, lay.declared_size, lay.digest is not None) for lay in image.ref.layers] == [
            (OCI_GZIP, stored_size(image, lay.member), True) for lay in image.ref.layers
        ]
        assert image.ref.platform == "linux/amd64"
        assert image.ref.manifest_media_type == OCI_MANIFEST


@pytest.mark.parametrize("keep_index", [True, False])
def test_docker25_layer_sources(tmp_path: Path, keep_index: bool) -> None:
    path = write_archive(tiny_image("d25:1"), tmp_path / "d25.tar", "docker25")
    man = orjson.loads(member_data(path, "manifest.json"))
    digests = ["sha256:" + p.rsplit("/", 1)[1] for p in man[0]["Layers"]]
    media = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    man[0]["LayerSources"] = {d: {"mediaType": media, "size": 1000 + i} for i, d in enumerate(digests)}
    replace_members(path, tmp_path / "src.tar", {"manifest.json": orjson.dumps(man)})
    if not keep_index:
        members = [m for m in read_members(tmp_path / "src.tar") if m[0].name != "index.json"]
        write_members(tmp_path / "src.tar", members)
    with loaded(tmp_path / "src.tar") as image:
        assert image.archive_format == mf.FORMAT_DOCKER25
        assert [(lay.digest, lay.media_type, lay.declared_size) for lay in image.ref.layers] == [
            (d, media, 1000 + i) for i, d in enumerate(digests)
        ]
        assert [lay.media_type for lay in image.layers] == [media, media]
        assert [lay.compression for lay in image.layers] == ["gzip", "gzip"]


def test_docker25_broken_index_is_optional(tmp_path: Path) -> None:
    path = write_archive(tiny_image("d25:1"), tmp_path / "d25.tar", "docker25")
    replace_members(path, tmp_path / "b.tar", {"index.json": b'{"manifests": "nope"}'})
    with loaded(tmp_path / "b.tar") as image:
        assert image.names == ["d25:1"]
        assert [lay.media_type for lay in image.ref.layers] == [None, None]


def test_gzip_layer_in_oci_archive_with_declared_sizes(tmp_path: Path) -> None:
    blob = gz(LAYER)
    path = oci_archive(tmp_path / "g.tar", [(blob, OCI_GZIP)], diff_tars=[LAYER])
    with loaded(path) as image:
        (lay,) = image.layers
        assert (lay.media_type, lay.compression, lay.stored_size, image.ref.layers[0].declared_size) == (
            OCI_GZIP,
            "gzip",
            len(blob),
            len(blob),
        )
        assert lay.tar_size == 1024 and lay.size == 7
