"""Golden text of the file viewer's view model: content, hex dumps, and what a layer changed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dive_py.core.model.image import Image
from dive_py.core.model.loader import load_image
from dive_py.errors import UsageError
from dive_py.fixtures.builder import ImageSpec, write_archive
from dive_py.fixtures.demo import DEMO_PATH
from dive_py.viewmodel import file_view
from dive_py.viewmodel.file_view import build_view, decode_text, hex_rows
from tests.helpers import loaded


@pytest.fixture(scope="module")
def demo() -> Iterator[Image]:
    img = load_image(str(DEMO_PATH), hash_files=False)
    yield img
    img.close()


def render(view: file_view.FileView) -> str:
    lines = [f"{view.path} @ {view.layer} [{view.mode}] {view.summary}"]
    for row in view.rows:
        number = f"{row.number:>3} " if row.number is not None else ""
        lines.append(f"{row.kind:<8}|{number}{row.text}")
    return "\n".join(lines)


def test_a_changed_text_file_shows_a_diff(demo: Image) -> None:
    assert (
        render(build_view(demo, "/app/config.yaml", 6, "changes"))
        == """\
/app/config.yaml @ 6 [changes] file, 24 B · changed by layer 6
change  |Written again by layer 6 (before: layer 5).
change  |  size: 23 B → 24 B
change  |  content: changed
context |
header  |--- /app/config.yaml (layer 5)
header  |+++ /app/config.yaml (layer 6)
hunk    |@@ -1,2 +1,2 @@
removed |-debug: true
added   |+debug: false
context | port: 8080"""
    )


def test_a_chown_copy_up_is_explained_as_the_same_bytes_again(demo: Image) -> None:
    assert (
        render(build_view(demo, "app/main.py", 5, "changes"))
        == """\
/app/main.py @ 5 [changes] file, 87 B · changed by layer 5
change  |Written again by layer 5 (before: layer 4).
change  |  mode: 0644 → 0664
change  |  owner: 0:0 → 1000:1000
change  |  content: identical; this layer stored the same bytes again."""
    )


def test_text_content_has_line_numbers(demo: Image) -> None:
    text = render(build_view(demo, "/app/main.py", 7))
    assert text.splitlines()[:3] == [
        "/app/main.py @ 7 [content] file, 87 B · from layer 5, not changed by layer 7",
        "text    |  1 from flask import Flask",
        "text    |  2 app = Flask(__name__)",
    ]
    assert (
        render(build_view(demo, "/app/main.py", 7, "changes")).splitlines()[1]
        == "change  |Unchanged by layer 7: last written by layer 5."
    )


def test_binary_content_is_a_hex_dump(demo: Image) -> None:
    view = build_view(demo, "/bin/busybox", 0)
    assert view.rows[0].text == "Binary content (not UTF-8 text), as a hex dump:"
    assert view.rows[1].kind == "hex" and view.rows[1].text.startswith("00000000  ")
    assert len(view.rows) == 1 + 96_000 // 16  # one row per 16 bytes, the last one partial


def test_removed_and_added_paths(demo: Image) -> None:
    removed = build_view(demo, "/app/static/logo.png", 7, "changes")
    assert removed.summary == "file, 30 kB · removed by layer 7; showing the version before it"
    assert [r.text for r in removed.rows] == ["Removed by layer 7; before it: file, 30 kB."]
    added = build_view(demo, "/app/static/logo.svg", 7, "changes")
    assert [r.text for r in added.rows] == ["Added by layer 7: file, 42 B."]
    assert not build_view(demo, "/etc/passwd", 0).can_show_changes


def test_links_dirs_and_missing_paths(demo: Image) -> None:
    assert render(build_view(demo, "/bin/sh", 0)) == (
        "/bin/sh @ 0 [content] symlink → /bin/busybox · added by layer 0\nnote    |A symbolic link to /bin/busybox."
    )
    assert build_view(demo, "/etc", 0).rows[0].text.startswith("A directory")
    with pytest.raises(UsageError, match="/nope does not exist at layer 3 or below it"):
        build_view(demo, "/nope", 3)


def test_hex_rows_format() -> None:
    rows = hex_rows(bytes(range(20)))
    assert [r.text for r in rows] == [
        "00000000  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  |................|",
        "00000010  10 11 12 13                                       |....|",
    ]


def test_decode_text() -> None:
    assert decode_text("héllo".encode(), truncated=False) == "héllo"
    assert decode_text(b"a\x00b", truncated=False) is None
    assert decode_text(b"\xff\xfe", truncated=False) is None
    cut = "ab€".encode()[:-1]  # a character split by the read limit
    assert decode_text(cut, truncated=True) == "ab"
    assert decode_text(cut, truncated=False) is None


def test_big_files_are_cut_and_say_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(file_view, "READ_LIMIT", 64)
    monkeypatch.setattr(file_view, "DIFF_LINE_LIMIT", 5)
    img = ImageSpec(tags=["big:latest"])
    img.layer("ADD").file("log.txt", "".join(f"line {i}\tx\x07\n" for i in range(40)))
    img.layer("RUN edit").file("log.txt", "".join(f"LINE {i}\tx\x07\n" for i in range(40)))
    path = write_archive(img, tmp_path / "big.tar", "oci", compression="gzip")
    with loaded(path) as image:
        content = build_view(image, "/log.txt", 0)
        assert content.rows[0].text == "line 0  x\\x07"  # tab expanded, control character escaped
        assert content.rows[-1].text.startswith("… the first 64 B of 430 B are shown.")
        changes = build_view(image, "/log.txt", 1, "changes")
        assert changes.rows[-2].text == "… the diff goes on; the first 5 lines are shown."
        assert changes.rows[-1].text == "… compared the first 64 B of each version only."


def test_hardlinks_to_things_without_bytes(tmp_path: Path) -> None:
    """Tar allows a hardlink to a symlink or a fifo: the viewer says what it is, and reads nothing."""
    img = ImageSpec()
    img.layer("base").symlink("s", "/etc/passwd").fifo("p").file("f", "bytes\n")
    img.layer("links").hardlink("hs", "s").hardlink("hp", "p").hardlink("hf", "f")
    with loaded(write_archive(img, tmp_path / "img.tar")) as image:

        def text(path: str) -> list[str]:
            return [r.text for r in build_view(image, path, 1).rows]

        assert text("/hs") == ["A hardlink to the symlink /s, which has no content."]
        assert text("/hp") == ["A hardlink to the fifo /p, which has no content."]
        assert text("/hf") == ["bytes"]
        assert not image.has_bytes(image.entry_at("/hs", 1) or -1)
