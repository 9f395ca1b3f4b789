"""Golden renderings of the file tree, reproducing dive's own view-model tests.

dive renders its test image (``tests/data/test-docker-image.tar``) in
``cmd/dive/cli/internal/ui/v1/viewmodel/filetree_test.go`` and compares with
``testdata/*.txt``.  The expected texts below are the ones the reference
document quotes exactly; for the other cases it gives the line counts, which
are asserted, and the full rendering is kept as a golden file under
``snapshots/viewmodel/test_golden_tree/``.  dive's files end with one extra
empty line, so "N lines" there means N - 1 rows here.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from syrupy.assertion import SnapshotAssertion

from dive_py.core.analysis.compare import ADDED, MODIFIED, REMOVED, UNMODIFIED
from dive_py.core.model.image import Image
from dive_py.core.model.loader import load_image
from dive_py.viewmodel.file_tree import FileTreeModel
from dive_py.viewmodel.row_text import render_rows
from tests.conftest import DIVE_TEST_IMAGE


@pytest.fixture(scope="module")
def image() -> Iterator[Image]:
    img = load_image(str(DIVE_TEST_IMAGE), hash_files=True)
    yield img
    img.close()


@pytest.fixture
def model(image: Image) -> FileTreeModel:
    return FileTreeModel(image)


def pid(model: FileTreeModel, path: str) -> int:
    found = model.image.paths.lookup(path)
    assert found is not None, path
    return found


def window(model: FileTreeModel, height: int, attributes: bool) -> list[str]:
    """dive renders rows [0, height] inclusive, or [0, height-1] with attributes."""
    count = height if attributes else height + 1
    return render_rows(model, model.top, count, attributes=attributes, width=100)


def test_go_case_all_rows_with_attributes(model: FileTreeModel, snapshot_txt: SnapshotAssertion) -> None:
    lines = window(model, 1000, attributes=True)
    assert len(lines) == 415
    assert lines[0] == "drwxr-xr-x         0:0     1.2 MB  ├── bin"
    assert lines[1] == "-rwxr-xr-x         0:0     1.1 MB  │   ├── ["
    assert lines[2] == "-rwxr-xr-x         0:0        0 B  │   ├── [[ → bin/["
    assert "\n".join(lines) + "\n" == snapshot_txt


def test_no_attributes(model: FileTreeModel, snapshot_txt: SnapshotAssertion) -> None:
    lines = window(model, 1000, attributes=False)
    assert len(lines) == 415
    assert "\n".join(lines) + "\n" == snapshot_txt


def test_restricted_height(model: FileTreeModel) -> None:
    lines = window(model, 20, attributes=False)
    assert len(lines) == 21
    assert lines[:3] == ["├── bin", "│   ├── [", "│   ├── [[ → bin/["]


def test_dir_collapse(model: FileTreeModel, snapshot_txt: SnapshotAssertion) -> None:
    model.toggle_collapse(pid(model, "bin"))
    model.move(2)  # down, down: onto /etc
    assert model.selected == pid(model, "etc")
    model.toggle_collapse()
    lines = window(model, 1000, attributes=True)
    assert len(lines) == 12
    assert lines[0].endswith("├─⊕ bin") and lines[2].endswith("├─⊕ etc")
    assert "\n".join(lines) + "\n" == snapshot_txt


def test_dir_collapse_all(model: FileTreeModel) -> None:
    model.toggle_collapse_all()
    lines = window(model, 1000, attributes=False)
    assert lines == ["├─⊕ bin", "├── dev", "├─⊕ etc", "├── home", "├── root", "├── tmp", "├─⊕ usr", "└─⊕ var"]


def test_dir_cursor_right(model: FileTreeModel, snapshot_txt: SnapshotAssertion) -> None:
    model.toggle_collapse(pid(model, "bin"))
    model.toggle_collapse(pid(model, "etc"))
    model.move_to(2)
    model.cursor_right()
    assert model.selected == pid(model, "etc/group")
    lines = window(model, 1000, attributes=True)
    assert len(lines) == 21
    assert "\n".join(lines) + "\n" == snapshot_txt


def test_select_layer(model: FileTreeModel, snapshot_txt: SnapshotAssertion) -> None:
    model.toggle_collapse(pid(model, "bin"))
    model.set_layer(1, aggregated=False)
    lines = window(model, 1000, attributes=True)
    assert len(lines) == 22
    assert "-rw-rw-r--         0:0     6.4 kB  ├── somefile.txt" in lines
    assert "\n".join(lines) + "\n" == snapshot_txt


AGGREGATED_13_HEAD = """\
drwxr-xr-x         0:0     1.2 MB  ├─⊕ bin
drwxr-xr-x         0:0        0 B  ├── dev
drwxr-xr-x         0:0     1.0 kB  ├── etc
-rw-rw-r--         0:0      307 B  │   ├── group"""

AGGREGATED_13_ROOT = """\
drwx------         0:0      21 kB  ├── root
drwxr-xr-x         0:0     8.6 kB  │   ├── .data
-rw-r--r--         0:0     6.4 kB  │   │   ├── saved.again2.txt
-rwxrwxr-x         0:0      917 B  │   │   ├── tag.sh
-rwxr-xr-x         0:0     1.3 kB  │   │   └── test.sh
-rw-r--r--         0:0     6.4 kB  │   ├── .saved.txt
drwxr-xr-x         0:0      19 kB  │   ├── example"""

AGGREGATED_13_TAIL = """\
-rwxr-xr-x         0:0     6.4 kB  │   └── saved.txt
-rw-rw-r--         0:0     6.4 kB  ├── somefile.txt
drwxrwxrwt         0:0     6.4 kB  ├── tmp
-rw-r--r--         0:0     6.4 kB  │   └── saved.again1.txt
drwxr-xr-x         0:0        0 B  ├── usr
drwxr-xr-x         1:1        0 B  │   └── sbin
drwxr-xr-x         0:0        0 B  └── var
drwxr-xr-x         0:0        0 B      ├── spool
drwxr-xr-x         8:8        0 B      │   └── mail
drwxr-xr-x         0:0        0 B      └── www"""


def test_show_aggregated_changes(model: FileTreeModel, snapshot_txt: SnapshotAssertion) -> None:
    model.toggle_collapse(pid(model, "bin"))
    model.set_layer(13, aggregated=True)
    lines = window(model, 1000, attributes=True)
    text = "\n".join(lines)
    assert len(lines) == 35
    assert text.startswith(AGGREGATED_13_HEAD)
    assert AGGREGATED_13_ROOT in text
    assert text.endswith(AGGREGATED_13_TAIL)
    # the diff types dive derives for this view (reference §10.6)
    diff = {
        p: model.diff_of(pid(model, p))
        for p in (
            "root/.data",
            "root/.saved.txt",
            "root/saved.txt",
            "somefile.txt",
            "tmp/saved.again1.txt",
            "root/example",
            "root/example/somefile2.txt",
            "root",
            "tmp",
            "etc",
            "bin",
        )
    }
    assert diff == {
        "root/.data": ADDED,
        "root/.saved.txt": ADDED,
        "root/saved.txt": ADDED,
        "somefile.txt": ADDED,
        "tmp/saved.again1.txt": ADDED,
        "root/example": REMOVED,
        "root/example/somefile2.txt": REMOVED,
        "root": MODIFIED,
        "tmp": MODIFIED,
        "etc": UNMODIFIED,
        "bin": UNMODIFIED,
    }
    assert text + "\n" == snapshot_txt


def test_hide_added_removed_modified(model: FileTreeModel, snapshot_txt: SnapshotAssertion) -> None:
    model.set_layer(7, aggregated=True)
    for kind in (ADDED, MODIFIED, REMOVED):
        model.toggle_hidden(kind)
    lines = window(model, 20, attributes=True)
    assert len(lines) == 20
    assert all(model.diff_of(int(p)) == UNMODIFIED or model.is_dir[int(p)] for p in model.rows)
    assert "\n".join(lines) + "\n" == snapshot_txt


HIDE_UNMODIFIED_7 = """\
drwx------         0:0      19 kB  ├── root
drwxr-xr-x         0:0      13 kB  │   ├── example
drwxr-xr-x         0:0        0 B  │   │   ├── really
drwxr-xr-x         0:0        0 B  │   │   │   └── nested
-r--r--r--         0:0     6.4 kB  │   │   ├── somefile1.txt
-rw-r--r--         0:0     6.4 kB  │   │   ├── somefile2.txt
-rw-r--r--         0:0     6.4 kB  │   │   └── somefile3.txt
-rw-r--r--         0:0     6.4 kB  │   └── saved.txt
-rw-rw-r--         0:0     6.4 kB  └── somefile.txt"""


def test_hide_unmodified(model: FileTreeModel) -> None:
    model.set_layer(7, aggregated=True)
    model.toggle_hidden(UNMODIFIED)
    assert "\n".join(window(model, 1000, attributes=True)) == HIDE_UNMODIFIED_7


def test_hide_type_with_filter(model: FileTreeModel) -> None:
    model.set_layer(7, aggregated=True)
    model.toggle_hidden(ADDED)
    model.set_filter("saved")
    assert window(model, 1000, attributes=True) == []


FILTER_NETWORK = """\
drwxr-xr-x         0:0        0 B  └── etc
drwxr-xr-x         0:0        0 B      └── network
drwxr-xr-x         0:0        0 B          ├── if-down.d
drwxr-xr-x         0:0        0 B          ├── if-post-down.d
drwxr-xr-x         0:0        0 B          ├── if-pre-up.d
drwxr-xr-x         0:0        0 B          └── if-up.d"""


def test_filter_tree(model: FileTreeModel) -> None:
    model.set_filter("network")
    assert "\n".join(window(model, 1000, attributes=True)) == FILTER_NETWORK


def test_page_down(model: FileTreeModel) -> None:
    for _ in range(3):
        model.page_down(9)  # a 10-line pane with the attribute header shows 9 rows
    lines = window(model, 10, attributes=True)
    assert len(lines) == 10
    assert lines[0].endswith("├── cat → bin/[") and lines[-1].endswith("├── chrt → bin/[")


def test_page_up(model: FileTreeModel) -> None:
    model.page_down(9)
    model.page_down(9)
    model.page_up(9)
    lines = window(model, 10, attributes=True)
    assert lines[0].endswith("├── arch → bin/[") and lines[-1].endswith("├── blkid → bin/[")


def test_invalid_filter_keeps_last_valid_filter(model: FileTreeModel) -> None:
    model.set_filter("network")
    model.set_filter("netw[")
    assert model.filter_error is not None and "invalid regex" in model.filter_error
    assert "\n".join(window(model, 1000, attributes=True)) == FILTER_NETWORK
