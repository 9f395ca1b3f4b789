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
    assert rows[2:] == ["   " + " " * 7 + "  ENV X=\\x1b[2J", "       1 B  printf '\\x1b]0;owned\\x07'↵rm -rf /"]
    assert all(ch.isprintable() for row in rows for ch in row)


# -- commands as the user wrote them ------------------------------------------------------


def test_build_argument_prefixes_are_dropped_from_the_pane() -> None:
    from dive_py.viewmodel.layers import as_written

    # classic builder with build args, BuildKit with and without them
    assert as_written("|1 DEBIAN_FRONTEND=noninteractive /bin/sh -c apt-get update") == "apt-get update"
    assert as_written("RUN |2 A=1 B= /bin/sh -c make all # buildkit") == "RUN make all # buildkit"
    assert as_written("RUN /bin/sh -c echo hi # buildkit") == "RUN echo hi # buildkit"
    assert as_written("#(nop) COPY dir:058691fd in /app ") == "COPY dir:058691fd in /app "
    # what does not parse as that prefix stays as it is
    for raw in (
        "COPY . /app # buildkit",
        "|1 A=b echo",
        "|2 A=1 /bin/sh -c x",
        "|x A=1 /bin/sh -c x",
        "RUN apk add",
        "|1 A=b /bin/bash -c x",
        "apt-get |1 A=b /bin/sh -c x",
    ):
        assert as_written(raw) == raw, raw


def test_the_pane_shows_the_command_and_details_keep_the_raw_text(tmp_path: Path) -> None:
    img = ImageSpec()
    img.layer("ADD base").file("a", "a")
    img.layer("|1 DEBIAN_FRONTEND=noninteractive /bin/sh -c apt-get update").file("b", "b")
    with loaded(write_archive(img, tmp_path / "img.tar")) as image:
        rows = LayerListModel(image).render_text()
        assert image.layers[1].command == "|1 DEBIAN_FRONTEND=noninteractive /bin/sh -c apt-get update"
    assert rows[-1] == "       1 B  apt-get update"


# -- size bars and shared layers -------------------------------------------------------------


def test_size_bar_cells_and_percent() -> None:
    from dive_py.viewmodel.layers import size_bar

    assert size_bar(0.0) == " " * 8 + "   0%"
    assert size_bar(1.0) == "█" * 8 + " 100%"
    assert size_bar(0.5) == "████    " + "  50%"
    assert size_bar(0.28) == "██▎     " + "  28%"  # 0.28 * 64 eighths = 17.9 -> 18: two cells and a quarter
    assert size_bar(2.0) == size_bar(1.0) and size_bar(-1.0).startswith(" " * 8)


def test_layer_shares_add_up_and_shared_layers_are_marked(tmp_path: Path) -> None:
    from tests.images import tiny_image

    child = tiny_image("child:1")
    child.layer("RUN more").file("more.txt", "more" * 100)
    path = write_archive([tiny_image("parent:1"), child], tmp_path / "family.tar")
    with loaded(path, image="child:1") as image:
        model = LayerListModel(image)
        text = model.render_text()
    layers = [r for r in model.rows if r.layer is not None]
    assert [r.shared for r in layers] == [True, True, False]
    assert abs(sum(r.share for r in layers) - 1.0) < 1e-9
    assert layers[2].share == 400 / (7 + 8 + 400)
    assert [line[2] for line in text[1:]] == ["◆", "◆", " "]
