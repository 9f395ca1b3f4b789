"""The path index: depth-first, byte-wise name order, parents, depths, subtree extents and prefix sums."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dive_py.core.model.entries import ROOT, PathTable
from dive_py.fixtures.builder import ImageSpec, write_archive
from dive_py.viewmodel.tree_index import TreeIndex
from tests.helpers import loaded


def table(*paths: str) -> PathTable:
    table = PathTable()
    for p in paths:
        table.intern(p)
    return table


def index() -> TreeIndex:
    # ids: "" 0, "a-b" 1, "a" 2, "a/c" 3, "a/c/d" 4, "a/b" 5, "B" 6, "a.txt" 7 (parents interned first)
    paths = table("a-b", "a/c/d", "a/b", "B", "a.txt")
    assert paths.paths == ["", "a-b", "a", "a/c", "a/c/d", "a/b", "B", "a.txt"]
    return TreeIndex(paths)


def test_name_order_is_depth_first_with_siblings_byte_wise() -> None:
    idx = index()
    # "a/..." comes right after "a", before "a-b" and "a.txt" ('-' and '.' sort before '/' as bytes);
    # upper case before lower case.
    assert [idx.paths.paths[p] for p in idx.name_order] == ["", "B", "a", "a/b", "a/c", "a/c/d", "a-b", "a.txt"]
    assert idx.name_order.tolist() == [0, 6, 2, 5, 3, 4, 1, 7]
    assert idx.pos.tolist() == [0, 6, 2, 4, 5, 3, 1, 7]
    assert idx.n == 8


def test_siblings_in_code_point_order() -> None:
    idx = TreeIndex(table("z", "é", "Z", "ab", "a b", "a/x"))
    assert [idx.paths.paths[p] for p in idx.name_order] == ["", "Z", "a", "a/x", "a b", "ab", "z", "é"]


def test_parents_depths_and_subtrees() -> None:
    idx = index()
    assert idx.parent.tolist() == [ROOT, 0, 0, 2, 3, 2, 0, 0]  # the root is its own parent
    assert idx.depth.tolist() == [0, 1, 1, 2, 3, 2, 1, 1]
    assert idx.subtree.tolist() == [8, 1, 4, 2, 1, 1, 1, 1]  # "a": a, a/b, a/c, a/c/d
    assert idx.end.tolist() == [8, 7, 6, 6, 6, 4, 2, 8]
    assert idx.slash_paths == ["/", "/a-b", "/a", "/a/c", "/a/c/d", "/a/b", "/B", "/a.txt"]


def test_a_subtree_is_the_slice_from_pos_to_end() -> None:
    idx = index()
    a = idx.paths.lookup("a")
    assert a is not None
    inside = idx.name_order[idx.pos[a] : idx.end[a]]
    assert [idx.paths.paths[p] for p in inside] == ["a", "a/b", "a/c", "a/c/d"]


def test_prefix_and_subtree_sums() -> None:
    idx = index()
    values = np.asarray([0, 1, 10, 100, 1000, 10000, 100000, 1000000], dtype=np.int64)  # by path id
    # in name order: 0 (root), 100000 (B), 10 (a), 10000 (a/b), 100 (a/c), 1000 (a/c/d), 1 (a-b), 1000000 (a.txt)
    assert idx.prefix(values).tolist() == [0, 0, 100000, 100010, 110010, 110110, 111110, 111111, 1111111]
    assert idx.subtree_sum(values).tolist() == [1111111, 1, 11110, 1100, 1000, 10000, 100000, 1000000]


def test_only_the_root() -> None:
    idx = TreeIndex(PathTable())
    assert (idx.name_order.tolist(), idx.depth.tolist(), idx.subtree.tolist(), idx.end.tolist()) == ([0], [0], [1], [1])
    assert idx.subtree_sum(np.asarray([7], dtype=np.int64)).tolist() == [7]


def test_an_image_with_undeclared_parents(tmp_path: Path) -> None:
    img = ImageSpec()
    img.layer("ADD deep").file("usr/lib/x", "xx").file("usr/bin/tool", "tool")
    img.layer("ADD more").file("usr/bin/a", "a").dir("usr/bin")
    with loaded(write_archive(img, tmp_path / "img.tar")) as image:
        idx = TreeIndex(image.paths)
        order = [image.paths.paths[p] for p in idx.name_order]
        assert order == ["", "usr", "usr/bin", "usr/bin/a", "usr/bin/tool", "usr/lib", "usr/lib/x"]
        by_path = dict(zip(image.paths.paths, range(len(image.paths)), strict=True))
        assert {p: int(idx.depth[i]) for p, i in by_path.items()} == {
            "": 0,
            "usr": 1,
            "usr/bin": 2,
            "usr/bin/a": 3,
            "usr/bin/tool": 3,
            "usr/lib": 2,
            "usr/lib/x": 3,
        }
        assert {p: image.paths.paths[idx.parent[i]] for p, i in by_path.items() if p} == {
            "usr": "",
            "usr/bin": "usr",
            "usr/bin/a": "usr/bin",
            "usr/bin/tool": "usr/bin",
            "usr/lib": "usr",
            "usr/lib/x": "usr/lib",
        }
        assert {p: int(idx.subtree[i]) for p, i in by_path.items()} == {
            "": 7,
            "usr": 6,
            "usr/bin": 3,
            "usr/bin/a": 1,
            "usr/bin/tool": 1,
            "usr/lib": 2,
            "usr/lib/x": 1,
        }
