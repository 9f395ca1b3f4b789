"""Shared and unique layer bytes of the images in one archive, against a naive count with tarfile."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

from dive_py.core.model.image_set import image_set, shared_layers
from dive_py.fixtures.builder import write_archive
from tests.helpers import loaded
from tests.images import tiny_image


def family(tmp_path: Path, layout: str) -> str:
    parent = tiny_image("parent:1")
    child = tiny_image("child:1")
    child.layer("RUN more").file("more.txt", "more" * 300)
    other = tiny_image("other:2", marker="o")  # shares nothing
    return write_archive([parent, child, other], tmp_path / "family.tar", layout)


@pytest.mark.parametrize("layout", ["docker", "oci", "docker25"])
def test_sizes_match_a_naive_count(tmp_path: Path, layout: str) -> None:
    path = family(tmp_path, layout)
    with loaded(path, image="child:1") as image:
        found = image_set(image)
        members = [[lr.member for lr in ref.layers] for ref in image.index.images]
        mine = shared_layers(image)
    with tarfile.open(path) as tar:
        size_of = {m.name: m.size for m in tar.getmembers()}
    for i, row in enumerate(found.rows):
        own = set(members[i])
        others = {m for j, ms in enumerate(members) if j != i for m in ms}
        assert row.size == sum(size_of[m] for m in own)
        assert row.shared == sum(size_of[m] for m in own & others)
        assert row.unique == row.size - row.shared
    assert [r.names for r in found.rows] == [["parent:1"], ["child:1"], ["other:2"]]
    assert [r.selected for r in found.rows] == [False, True, False]
    assert [r.choice for r in found.rows] == ["0", "1", "2"]
    assert found.rows[2].shared == 0 and found.rows[0].unique == 0  # parent's layers are all in child
    assert found.stored == sum(size_of[m] for m in {m for ms in members for m in ms})
    assert found.sum_of_sizes == sum(r.size for r in found.rows) > found.stored
    assert found.archive_bytes == os.path.getsize(path)
    assert mine == {0, 1}


def test_a_layout_directory_counts_its_files(tmp_path: Path) -> None:
    from dive_py.fixtures.builder import write_layout_dir

    out = tmp_path / "layout"
    second = tiny_image("b:1")
    second.layer("RUN b").file("b.txt", "b")
    write_layout_dir([tiny_image("a:1"), second], out)
    with loaded(out) as image:
        found = image_set(image)
    files = sum(p.stat().st_size for p in out.rglob("*") if p.is_file() and not p.is_symlink())
    assert found.archive_bytes == files
    assert found.rows[0].shared == found.rows[1].shared == found.rows[0].size > 0  # both layers of a:1 are shared


def test_a_single_image_shares_nothing(tmp_path: Path) -> None:
    with loaded(write_archive(tiny_image(), tmp_path / "one.tar")) as image:
        found = image_set(image)
        assert shared_layers(image) == set()
    assert len(found.rows) == 1 and found.rows[0].shared == 0 and found.rows[0].size == found.stored
