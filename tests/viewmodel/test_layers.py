"""The layers pane's rows: one line each, whatever the build step's command holds."""

from __future__ import annotations

from pathlib import Path

from dive_py.fixtures.builder import ImageSpec, write_archive
from dive_py.viewmodel.layers import LayerListModel, one_line, step_text
from tests.helpers import loaded


def test_commands_stay_on_one_row_and_carry_no_control_characters() -> None:
    assert one_line("apt-get update &&\\\n  apt-get install x\tz") == "apt-get update &&\\↵  apt-get install x z"
    assert one_line("echo \x1b]0;title\x07 \r done") == "echo \\x1b]0;title\\x07 \\r done"
    assert step_text('/bin/sh -c #(nop)  CMD ["sh"]') == 'CMD ["sh"]'


def test_rows_of_an_image_with_a_hostile_history(tmp_path: Path) -> None:
    img = ImageSpec()
    img.layer("ADD base").file("a", "a")
    img.empty("/bin/sh -c #(nop)  ENV X=\x1b[2J")
    img.layer("/bin/sh -c printf '\x1b]0;owned\x07'\nrm -rf /").file("b", "b")
    with loaded(write_archive(img, tmp_path / "img.tar")) as image:
        rows = LayerListModel(image).render_text()
    assert rows[2:] == ["   " + " " * 7 + "  ENV X=\\x1b[2J",
                        "       1 B  printf '\\x1b]0;owned\\x07'↵rm -rf /"]
    assert all(ch.isprintable() for row in rows for ch in row)
