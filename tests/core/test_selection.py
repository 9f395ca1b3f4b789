"""Choosing one image of an archive: by ``--image`` (name or index), then by platform."""

from __future__ import annotations

import platform as std_platform
from collections.abc import Iterator
from pathlib import Path

import pytest

from dive_py.core.archive import open_archive
from dive_py.core.model.loader import load_image
from dive_py.core.oci.manifest import ArchiveIndex, ImageRef, find_images
from dive_py.core.oci.selection import host_platform, select_image
from dive_py.errors import UsageError
from dive_py.fixtures.builder import ImageSpec, write_archive
from tests.images import tiny_image


def found(path: str) -> ArchiveIndex:
    archive = open_archive(path, hash_files=False)
    try:
        return find_images(archive)
    finally:
        archive.close()


def picked(ref: ImageRef) -> tuple[list[str], str | None]:
    return ref.names, ref.platform


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Pretend to run on an x86_64 machine unless a test says otherwise."""
    monkeypatch.setattr(std_platform, "machine", lambda: "x86_64")
    yield monkeypatch


@pytest.fixture(scope="module")
def family(tmp_path_factory: pytest.TempPathFactory) -> ArchiveIndex:
    """A flat OCI index: ``multi:1`` for amd64 and arm64/v8 (one image), then ``solo:2`` for arm64 only."""
    path = write_archive(
        [
            tiny_image("multi:1", arch="amd64", marker="a"),
            tiny_image("multi:1", arch="arm64", variant="v8", marker="b"),
            tiny_image("solo:2", arch="arm64", marker="c"),
        ],
        tmp_path_factory.mktemp("family") / "family.tar",
        "oci",
    )
    idx = found(path)
    assert [(i.names, i.platform, i.group) for i in idx.images] == [
        (["multi:1"], "linux/amd64", 1),
        (["multi:1"], "linux/arm64/v8", 1),
        (["solo:2"], "linux/arm64", 2),
    ]
    return idx


@pytest.fixture(scope="module")
def named(tmp_path_factory: pytest.TempPathFactory) -> ArchiveIndex:
    """A docker save of four images whose names need normalising to match (no platforms in manifest.json)."""
    tags = ["localhost/app:1", "docker.io/team/tool:2", "registry.example:5000/svc", "web:v9"]
    path = write_archive(
        [tiny_image(tag, marker=str(i)) for i, tag in enumerate(tags)],
        tmp_path_factory.mktemp("named") / "named.tar",
        "docker",
    )
    return found(path)


# -- no flags: the first image, this machine's platform ------------------------------------


@pytest.mark.parametrize(
    ("machine", "expected"),
    [("x86_64", "linux/amd64"), ("aarch64", "linux/arm64/v8"), ("arm64", "linux/arm64/v8")],
)
def test_the_first_image_opens_in_the_host_platform(
    family: ArchiveIndex, host: pytest.MonkeyPatch, machine: str, expected: str
) -> None:
    host.setattr(std_platform, "machine", lambda: machine)
    assert picked(select_image(family)) == (["multi:1"], expected)


def test_no_host_variant_is_an_error_that_lists_the_platforms(family: ArchiveIndex, host: pytest.MonkeyPatch) -> None:
    host.setattr(std_platform, "machine", lambda: "s390x")
    with pytest.raises(UsageError) as err:
        select_image(family)
    assert str(err.value) == (
        "the image has no linux/s390x variant; choose one with --platform (linux/amd64, linux/arm64/v8)"
    )


def test_an_image_with_one_platform_opens_on_any_host(family: ArchiveIndex, host: pytest.MonkeyPatch) -> None:
    assert picked(select_image(family, "solo:2")) == (["solo:2"], "linux/arm64")  # an arm64 image on amd64


@pytest.mark.parametrize(
    ("machine", "expected"),
    [
        ("x86_64", "linux/amd64"),
        ("AMD64", "linux/amd64"),
        ("aarch64", "linux/arm64"),
        ("armv7l", "linux/arm/v7"),
        ("armv6l", "linux/arm/v6"),
        ("i686", "linux/386"),
        ("i386", "linux/386"),
        ("ppc64le", "linux/ppc64le"),
        ("riscv64", "linux/riscv64"),
        ("mips64", "linux/mips64"),  # unknown machines are taken as they are
    ],
)
def test_host_platform_names(host: pytest.MonkeyPatch, machine: str, expected: str) -> None:
    host.setattr(std_platform, "machine", lambda: machine)
    assert host_platform() == expected


# -- --image by index or name, then --platform within that image -----------------------------------


def test_an_index_counts_images_not_platform_manifests(family: ArchiveIndex, host: pytest.MonkeyPatch) -> None:
    assert picked(select_image(family, "0")) == (["multi:1"], "linux/amd64")
    assert picked(select_image(family, "1")) == (["solo:2"], "linux/arm64")  # not multi:1's arm64 manifest
    with pytest.raises(UsageError) as err:
        select_image(family, "2")
    assert str(err.value) == "--image 2: the archive holds 2 image(s) (0..1)"


@pytest.mark.parametrize("index", ["0000000001", "9999999999", "1" * 5000])
def test_indexes_of_ten_digits_or_more_are_out_of_range(family: ArchiveIndex, index: str) -> None:
    """Never int() of a huge string (Python refuses over 4300 digits): such an index is out of range."""
    with pytest.raises(UsageError) as err:
        select_image(family, index)
    assert str(err.value) == f"--image {index}: the archive holds 2 image(s) (0..1)"


@pytest.mark.parametrize("name", ["²", "٣", "1.0", "-1"])
def test_what_int_would_not_read_as_an_index_is_a_name(family: ArchiveIndex, name: str) -> None:
    with pytest.raises(UsageError) as err:
        select_image(family, name)
    assert str(err.value) == f"--image {name}: no such image in the archive; available: multi:1, solo:2"


def test_platform_is_chosen_within_the_named_image(family: ArchiveIndex) -> None:
    assert picked(select_image(family, "multi:1", "arm64")) == (["multi:1"], "linux/arm64/v8")
    assert picked(select_image(family, "multi:1", "linux/amd64")) == (["multi:1"], "linux/amd64")
    assert picked(select_image(family, "solo:2", "linux/arm64/v8")) == (["solo:2"], "linux/arm64")
    with pytest.raises(UsageError) as err:  # another image of the archive has it: not this one
        select_image(family, "solo:2", "amd64")
    assert str(err.value) == "--platform linux/amd64: not in this image; available: linux/arm64"


def test_without_platforms_in_the_manifest_the_config_decides(named: ArchiveIndex, tmp_path: Path) -> None:
    """manifest.json has no platforms: the image is chosen, and the loader checks its config."""
    assert picked(select_image(named, None, "linux/s390x")) == (["localhost/app:1"], None)
    assert picked(select_image(named, "web:v9", "arm64")) == (["web:v9"], None)
    path = write_archive(tiny_image("one:1", arch="amd64"), tmp_path / "one.tar", "docker")
    with pytest.raises(UsageError) as err:
        load_image(path, platform="s390x")
    assert str(err.value) == "--platform linux/s390x: this image is linux/amd64"


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        ("localhost/app:1", "localhost/app:1"),
        ("app:1", "localhost/app:1"),  # podman's localhost/ prefix
        ("team/tool:2", "docker.io/team/tool:2"),  # Docker Hub
        ("docker.io/team/tool:2", "docker.io/team/tool:2"),
        ("registry.example:5000/svc:latest", "registry.example:5000/svc"),  # a port is not a tag
        ("registry.example:5000/svc", "registry.example:5000/svc"),
        ("v9", "web:v9"),  # skopeo's oci:DIR:TAG names an image by its tag
        ("docker.io/library/web:v9", "web:v9"),
        ("3", "web:v9"),
    ],
)
def test_names_match_the_way_registries_spell_them(named: ArchiveIndex, wanted: str, expected: str) -> None:
    assert select_image(named, wanted).names == [expected]


@pytest.mark.parametrize("wanted", ["app:2", "web", "tool:2", "svc"])
def test_unknown_names_list_every_name_sorted(named: ArchiveIndex, wanted: str) -> None:
    """``web`` means ``web:latest``; ``tool:2`` is a Docker Hub ``library/`` image, not ``team/tool``."""
    with pytest.raises(UsageError) as err:
        select_image(named, wanted)
    assert str(err.value) == (
        f"--image {wanted}: no such image in the archive; available: "
        "docker.io/team/tool:2, localhost/app:1, registry.example:5000/svc, web:v9"
    )


def test_an_archive_without_names_says_so(tmp_path: Path) -> None:
    untagged = ImageSpec(tags=[])
    untagged.layer("ADD f").file("f", "1")
    with pytest.raises(UsageError) as err:
        select_image(found(write_archive(untagged, tmp_path / "untagged.tar", "oci")), "app")
    assert str(err.value) == "--image app: no such image in the archive; available: (no names)"


def test_an_exact_name_wins_over_a_tag_of_the_same_spelling(tmp_path: Path) -> None:
    path = write_archive(
        [tiny_image("tools:redis", marker="T"), tiny_image("redis:latest", marker="R")], tmp_path / "two.tar", "docker"
    )
    assert select_image(found(path), "redis").names == ["redis:latest"]


# -- attestations are not platforms -----------------------------------------------------------------


def test_an_attestation_next_to_one_image_asks_no_platform_question(tmp_path: Path, host: pytest.MonkeyPatch) -> None:
    host.setattr(std_platform, "machine", lambda: "s390x")  # matches nothing
    idx = found(write_archive(tiny_image("one:1"), tmp_path / "att.tar", "oci", attestation=True))
    assert picked(select_image(idx)) == (["one:1"], "linux/amd64")


def test_an_attestation_in_a_multi_platform_index_is_not_offered(tmp_path: Path, host: pytest.MonkeyPatch) -> None:
    path = write_archive(
        [tiny_image("a:1", arch="amd64"), tiny_image("a:1", arch="arm64", variant="v8", marker="q")],
        tmp_path / "att.tar",
        "oci",
        platforms=True,
        attestation=True,
    )
    idx = found(path)
    assert picked(select_image(idx, None, "arm64")) == (["a:1"], "linux/arm64/v8")
    with pytest.raises(UsageError) as err:
        select_image(idx, None, "unknown/unknown")
    assert str(err.value) == "--platform unknown/unknown: not in this image; available: linux/amd64, linux/arm64/v8"
