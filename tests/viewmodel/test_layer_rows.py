"""The layers pane's rows, selection and compare bar (what tests/viewmodel/test_layers.py leaves out)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dive_py.core.model.image import Image
from dive_py.fixtures.builder import ImageSpec, write_archive
from dive_py.viewmodel.layers import BOTTOM, TOP, LayerListModel, LayerRow
from tests.helpers import loaded


def spec() -> ImageSpec:
    img = ImageSpec()
    img.empty("ARG V=1")  # before any layer
    img.layer("ADD base").file("a", "a" * 1500)
    img.empty("/bin/sh -c #(nop)  ENV A=1")
    img.empty('CMD ["sh"]')
    img.layer("RUN make").file("b", "bb")
    img.layer("|1 X=1 /bin/sh -c apt-get install").file("c", "c" * 2_000_000)
    img.empty("EXPOSE 80")  # after the last layer
    return img


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Image]:
    with loaded(write_archive(spec(), tmp_path_factory.mktemp("layers") / "img.tar")) as img:
        yield img


@pytest.fixture
def model(image: Image) -> LayerListModel:
    return LayerListModel(image)


def test_rows_hold_layers_and_the_steps_that_made_none_in_history_order(model: LayerListModel, image: Image) -> None:
    first = "FROM " + image.layers[0].id[:15]
    assert [(r.layer, r.size, r.command) for r in model.rows] == [
        (None, "", "ARG V=1"),
        (0, "1.5 kB", first),
        (None, "", "ENV A=1"),
        (None, "", 'CMD ["sh"]'),
        (1, "2 B", "RUN make"),
        (2, "2.0 MB", "apt-get install"),
        (None, "", "EXPOSE 80"),
    ]
    assert len(first) == 20
    assert model.row_of_layer == {0: 1, 1: 4, 2: 5}
    assert (model.count, model.selected, model.cursor_row) == (3, 0, 1)


def test_selection_is_clamped_and_says_whether_it_changed(model: LayerListModel) -> None:
    assert model.select(0) is False
    assert model.select(2) is True
    assert (model.selected, model.cursor_row) == (2, 5)
    assert model.select(2) is False
    assert model.select(99) is False  # clamped to the last layer, already selected
    assert model.select(-5) is True
    assert model.selected == 0
    assert model.select(7) is True
    assert model.selected == 2


@pytest.mark.parametrize(
    ("aggregated", "expected"),
    [
        (False, [(0, 0, 0, 0), (0, 0, 1, 1), (0, 1, 2, 2)]),  # the layer against the one below
        (True, [(0, 0, 0, 0), (0, 0, 1, 1), (0, 0, 1, 2)]),  # every layer above the base against the base
    ],
)
def test_compare_ranges(image: Image, aggregated: bool, expected: list[tuple[int, int, int, int]]) -> None:
    model = LayerListModel(image, aggregated=aggregated)
    got = []
    for layer in range(3):
        model.select(layer)
        got.append(model.compare_range())
    assert got == expected


def test_the_compare_bar_of_each_layer(image: Image) -> None:
    model = LayerListModel(image)
    bars = []
    for layer in range(3):
        model.select(layer)
        bars.append([model.bar(i) for i in range(3)])
    assert bars == [
        [BOTTOM, None, None],  # layer 0 selected: nothing is compared, the base is underneath
        [BOTTOM, TOP, None],
        [BOTTOM, BOTTOM, TOP],
    ]
    model.aggregated = True
    assert [model.bar(i) for i in range(3)] == [BOTTOM, TOP, TOP]


def test_rendered_text_marks_the_compared_layers(image: Image) -> None:
    model = LayerListModel(image)
    first = "FROM " + image.layers[0].id[:15]
    model.select(2)
    assert model.render_text() == [
        "Cmp   Size  Command",
        "            ARG V=1",
        f"▒▒  1.5 kB  {first}",
        "            ENV A=1",
        '            CMD ["sh"]',
        "▒▒     2 B  RUN make",
        "██  2.0 MB  apt-get install",
        "            EXPOSE 80",
    ]
    model.select(0)
    assert [line[:2] for line in model.render_text()[1:]] == ["  ", "▒▒", "  ", "  ", "  ", "  ", "  "]
    model.select(1)
    model.aggregated = True
    assert [line[:2] for line in model.render_text()[1:]] == ["  ", "▒▒", "  ", "  ", "██", "  ", "  "]


def test_the_shared_mark_cell() -> None:
    assert LayerRow(0, "1 B", "x", shared=True).mark == "◆"
    assert LayerRow(0, "1 B", "x").mark == " "
    assert LayerRow(None, "", "ENV A=1").mark == " "


def test_an_image_without_empty_steps(tmp_path: Path) -> None:
    img = ImageSpec()
    img.layer("ADD one").file("one", "1")
    with loaded(write_archive(img, tmp_path / "one.tar")) as image:
        model = LayerListModel(image)
        assert [(r.layer, r.size) for r in model.rows] == [(0, "1 B")]
        assert model.select(1) is False and model.select(-1) is False
        assert model.compare_range() == (0, 0, 0, 0)
