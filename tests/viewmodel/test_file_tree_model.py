"""The file-tree pane's model on a small image: rows, diff types, hiding, sizes, size order, collapsing, the cursor."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dive_py.core.analysis.compare import ADDED, MODIFIED, REMOVED, UNMODIFIED
from dive_py.core.model.image import Image
from dive_py.fixtures.builder import ImageSpec, write_archive
from dive_py.viewmodel.file_tree import FileTreeModel, FilterError
from tests.helpers import loaded


def spec() -> ImageSpec:
    img = ImageSpec()
    base = img.layer("ADD base")
    base.dir("etc").file("etc/hosts", "127.0.0.1\n").file("etc/passwd", "root\n")  # 10 and 5 bytes
    base.dir("olddir").file("olddir/f1", "1234567").file("olddir/f2", "12345678")  # 7 and 8
    base.dir("opt").file("opt/keep", "keep")  # 4
    base.dir("srv")  # empty
    base.dir("usr").dir("usr/bin").file("usr/bin/a", "a").file("usr/bin/tool", "t" * 100)
    base.dir("var").file("var/log.txt", "log")
    change = img.layer("RUN change")
    change.file("etc/hosts", "127.0.0.2\n")  # same size, other bytes
    change.whiteout("var/log.txt").whiteout("olddir")
    change.file("usr/bin/new", "n" * 50).file("srv/data", "data!")
    return img


LAYER0 = [
    "etc",
    "etc/hosts",
    "etc/passwd",
    "olddir",
    "olddir/f1",
    "olddir/f2",
    "opt",
    "opt/keep",
    "srv",
    "usr",
    "usr/bin",
    "usr/bin/a",
    "usr/bin/tool",
    "var",
    "var/log.txt",
]

#: Layer 1 against layer 0, in name order.
LAYER1 = [
    ("etc", MODIFIED),  # something below changed
    ("etc/hosts", MODIFIED),  # only the content hash tells
    ("etc/passwd", UNMODIFIED),
    ("olddir", REMOVED),
    ("olddir/f1", REMOVED),
    ("olddir/f2", REMOVED),
    ("opt", UNMODIFIED),
    ("opt/keep", UNMODIFIED),
    ("srv", MODIFIED),
    ("srv/data", ADDED),
    ("usr", MODIFIED),
    ("usr/bin", MODIFIED),
    ("usr/bin/a", UNMODIFIED),
    ("usr/bin/new", ADDED),
    ("usr/bin/tool", UNMODIFIED),
    ("var", MODIFIED),
    ("var/log.txt", REMOVED),
]


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Image]:
    with loaded(write_archive(spec(), tmp_path_factory.mktemp("tree") / "img.tar", "docker")) as img:
        yield img


@pytest.fixture
def model(image: Image) -> FileTreeModel:
    return FileTreeModel(image)


def rows(model: FileTreeModel) -> list[str]:
    return [model.image.paths.paths[p] for p in model.rows]


def pid(model: FileTreeModel, path: str) -> int:
    found = model.image.paths.lookup(path)
    assert found is not None, path
    return found


def size(model: FileTreeModel, path: str) -> int:
    return int(model.sizes[pid(model, path)])


def error_of(model: FileTreeModel) -> str:
    """The filter's error message, "" for none."""
    return model.filter_error or ""


def selected(model: FileTreeModel) -> str | None:
    p = model.selected
    return None if p is None else model.image.paths.paths[p]


# -- rows and diff types ------------------------------------------------------------------------------


def test_the_first_layer_in_name_order(model: FileTreeModel) -> None:
    assert rows(model) == LAYER0
    assert (model.cursor, selected(model)) == (0, "etc")
    assert {model.diff_of(p) for p in model.rows} == {UNMODIFIED}  # layer 0 is compared with nothing (dive)


def test_the_second_layer_shows_what_changed_and_what_was_removed(model: FileTreeModel) -> None:
    model.set_layer(1, False)
    assert [(path, model.diff_of(p)) for path, p in zip(rows(model), model.rows, strict=True)] == LAYER1


def test_directory_sizes_leave_out_removed_files_unless_removed_themselves(model: FileTreeModel) -> None:
    assert [size(model, p) for p in ("etc", "olddir", "opt", "srv", "usr", "usr/bin", "var")] == [
        15,
        15,
        4,
        0,
        101,
        101,
        3,
    ]
    model.set_layer(1, False)
    # var/log.txt is gone: var holds 0 bytes; olddir is gone itself: it shows what it held
    assert [size(model, p) for p in ("etc", "olddir", "opt", "srv", "usr", "usr/bin", "var")] == [
        15,
        15,
        4,
        5,
        151,
        151,
        0,
    ]
    assert [size(model, p) for p in ("olddir/f1", "var/log.txt", "usr/bin/new")] == [7, 3, 50]


def test_is_last_child(model: FileTreeModel) -> None:
    last = [p for p in LAYER0 if model.is_last_child(pid(model, p))]
    assert last == ["etc/passwd", "olddir/f2", "opt/keep", "usr/bin", "usr/bin/tool", "var", "var/log.txt"]


# -- hiding diff types ----------------------------------------------------------------------------------


def test_hiding_unmodified_keeps_the_changes_and_their_directories(model: FileTreeModel) -> None:
    model.set_layer(1, False)
    model.toggle_hidden(UNMODIFIED)
    assert rows(model) == [
        "etc",
        "etc/hosts",
        "olddir",
        "olddir/f1",
        "olddir/f2",
        "srv",
        "srv/data",
        "usr",
        "usr/bin",
        "usr/bin/new",
        "var",
        "var/log.txt",
    ]
    assert [size(model, p) for p in ("etc", "usr", "usr/bin")] == [10, 50, 50]  # only what is shown counts
    model.toggle_hidden(UNMODIFIED)
    assert [path for path, _ in LAYER1] == rows(model)


def test_a_hidden_directory_stays_when_something_below_it_is_shown(model: FileTreeModel) -> None:
    model.set_layer(1, False)
    model.toggle_hidden(MODIFIED)  # every directory here is modified
    assert rows(model) == [
        "etc",
        "etc/passwd",
        "olddir",
        "olddir/f1",
        "olddir/f2",
        "opt",
        "opt/keep",
        "srv",
        "srv/data",
        "usr",
        "usr/bin",
        "usr/bin/a",
        "usr/bin/new",
        "usr/bin/tool",
        "var",
        "var/log.txt",
    ]
    assert size(model, "etc") == 5


def test_hiding_all_but_modified(model: FileTreeModel) -> None:
    model.set_layer(1, False)
    for diff in (ADDED, REMOVED, UNMODIFIED):
        model.toggle_hidden(diff)
    assert model.hidden == {ADDED, REMOVED, UNMODIFIED}
    assert rows(model) == ["etc", "etc/hosts", "srv", "usr", "usr/bin", "var"]
    assert [size(model, p) for p in ("etc", "srv", "usr")] == [10, 0, 0]


def test_hiding_everything_leaves_no_rows(image: Image) -> None:
    model = FileTreeModel(image, hidden=(ADDED, REMOVED, MODIFIED, UNMODIFIED))
    assert (rows(model), model.selected, model.cursor) == ([], None, 0)


# -- sorting by size ------------------------------------------------------------------------------------


def test_size_order_puts_the_largest_sibling_first_and_ties_by_name(model: FileTreeModel) -> None:
    model.set_layer(1, False)
    model.move(5)
    model.toggle_sort()
    assert rows(model) == [
        "usr",  # 151
        "usr/bin",
        "usr/bin/tool",  # 100
        "usr/bin/new",  # 50
        "usr/bin/a",  # 1
        "etc",  # 15, before olddir (15) by name
        "etc/hosts",
        "etc/passwd",
        "olddir",
        "olddir/f2",  # 8
        "olddir/f1",  # 7
        "srv",  # 5
        "srv/data",
        "opt",  # 4
        "opt/keep",
        "var",  # 0
        "var/log.txt",
    ]
    assert (model.cursor, selected(model)) == (0, "usr")  # like dive, back to the top
    model.toggle_sort()
    assert rows(model) == [path for path, _ in LAYER1]


def test_size_order_with_collapsed_directories(model: FileTreeModel) -> None:
    model.toggle_sort()
    model.toggle_collapse(pid(model, "usr/bin"))
    model.toggle_collapse(pid(model, "etc"))
    assert rows(model) == [
        "usr",
        "usr/bin",  # collapsed
        "etc",  # collapsed
        "olddir",
        "olddir/f2",
        "olddir/f1",
        "opt",
        "opt/keep",
        "var",
        "var/log.txt",
        "srv",
    ]


# -- collapsing and expanding ------------------------------------------------------------------------


def test_collapsing_a_directory_hides_its_subtree(model: FileTreeModel) -> None:
    usr = pid(model, "usr")
    assert model.toggle_collapse(usr) is True
    assert model.is_collapsed(usr)
    assert rows(model) == [*LAYER0[:10], "var", "var/log.txt"]
    assert model.toggle_collapse(usr) is True
    assert not model.is_collapsed(usr)
    assert rows(model) == LAYER0


def test_files_and_empty_directories_do_not_collapse(model: FileTreeModel) -> None:
    assert model.toggle_collapse(pid(model, "etc/hosts")) is False
    assert model.toggle_collapse(pid(model, "srv")) is False
    assert model.collapsed == set()
    assert rows(model) == LAYER0


def test_an_inner_collapsed_directory_stays_collapsed_when_its_parent_opens(model: FileTreeModel) -> None:
    model.toggle_collapse(pid(model, "usr/bin"))
    model.toggle_collapse(pid(model, "usr"))
    assert rows(model)[9:] == ["usr", "var", "var/log.txt"]
    model.toggle_collapse(pid(model, "usr"))
    assert rows(model)[9:] == ["usr", "usr/bin", "var", "var/log.txt"]


def test_the_cursor_moves_up_to_the_collapsed_directory(model: FileTreeModel) -> None:
    model.move_to(12)
    assert selected(model) == "usr/bin/tool"
    model.toggle_collapse(pid(model, "usr"))
    assert (model.cursor, selected(model)) == (9, "usr")
    model.cursor_right()  # expands and steps into the first child
    assert (selected(model), model.is_collapsed(pid(model, "usr"))) == ("usr/bin", False)
    model.cursor_right()
    assert selected(model) == "usr/bin/a"
    model.cursor_left()
    model.cursor_left()
    assert selected(model) == "usr"
    model.cursor_left()  # a top-level row: stays
    assert selected(model) == "usr"


def test_collapse_all_and_expand_all(model: FileTreeModel, image: Image) -> None:
    model.move_to(7)
    model.toggle_collapse_all()
    assert rows(model) == ["etc", "olddir", "opt", "srv", "usr", "var"]
    assert model.cursor == 0
    model.toggle_collapse_all()
    assert rows(model) == LAYER0
    assert rows(FileTreeModel(image, collapse_all=True)) == ["etc", "olddir", "opt", "srv", "usr", "var"]


# -- the cursor across layers, filters, jumps -------------------------------------------------------------


def test_a_layer_switch_keeps_the_path_or_its_nearest_directory(model: FileTreeModel) -> None:
    model.set_layer(1, False)
    model.move_to(9)
    assert selected(model) == "srv/data"
    model.set_layer(0, False)  # srv/data does not exist yet
    assert selected(model) == "srv"
    model.move_to(12)
    model.set_layer(1, False)
    assert selected(model) == "usr/bin/tool"
    assert model.cursor == 14


def test_moves_are_clamped(model: FileTreeModel) -> None:
    model.move(-3)
    assert model.cursor == 0
    model.move(100)
    assert model.cursor == 14
    model.page_up(4)
    assert (model.cursor, model.top) == (10, 0)
    model.page_down(4)
    assert (model.cursor, model.top) == (14, 4)


def test_a_filter_keeps_matches_and_their_directories(model: FileTreeModel) -> None:
    model.set_filter("pass")
    assert rows(model) == ["etc", "etc/passwd"]
    assert size(model, "etc") == 5
    model.set_filter("(")
    assert error_of(model).startswith("invalid regex: ")
    assert rows(model) == ["etc", "etc/passwd"]  # the last valid filter stays
    model.set_filter("^/usr/bin/")
    assert rows(model) == ["usr", "usr/bin", "usr/bin/a", "usr/bin/tool"]
    model.set_filter("")
    assert (rows(model), error_of(model)) == (LAYER0, "")


def test_show_path_clears_what_hides_it_and_opens_its_directories(model: FileTreeModel) -> None:
    model.set_layer(1, False)
    model.toggle_hidden(UNMODIFIED)
    model.toggle_collapse(pid(model, "usr"))
    assert "opt/keep" not in rows(model)
    assert model.show_path("/opt/keep") is True
    assert (model.hidden, selected(model)) == (set(), "opt/keep")
    assert model.show_path("/usr/bin/new") is True
    assert selected(model) == "usr/bin/new" and not model.is_collapsed(pid(model, "usr"))
    assert model.show_path("/nowhere") is False


def test_search_wraps_around_and_opens_collapsed_directories(model: FileTreeModel) -> None:
    model.toggle_collapse(pid(model, "olddir"))
    assert model.search("f[12]$") is True
    assert selected(model) == "olddir/f1"
    assert model.search("f[12]$") is True
    assert selected(model) == "olddir/f2"
    assert model.search("f[12]$") is True
    assert selected(model) == "olddir/f1"
    assert model.search("f[12]$", forward=False) is True
    assert selected(model) == "olddir/f2"
    assert model.search("nothing here") is False
    with pytest.raises(FilterError):
        model.search("[")


def test_the_tree_of_a_path_that_is_only_in_the_index(tmp_path: Path) -> None:
    """A path that no layer holds at the shown layer has no row and cannot be shown."""
    img = ImageSpec()
    img.layer("ADD a").file("a", "1")
    img.layer("ADD b").file("b", "2")
    with loaded(write_archive(img, tmp_path / "img.tar")) as image:
        model = FileTreeModel(image)
        assert rows(model) == ["a"]
        assert model.show_path("b") is False
        model.set_layer(1, True)
        assert [(path, model.diff_of(p)) for path, p in zip(rows(model), model.rows, strict=True)] == [
            ("a", UNMODIFIED),
            ("b", ADDED),
        ]
