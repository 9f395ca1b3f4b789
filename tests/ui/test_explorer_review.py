"""What a review of the explorer found, each fixed and kept fixed: the exact image of a multi-platform
group, the images table's width, focus on closing a prompt.  Keys queued behind Enter in the modal
screens are tested in a real terminal (test_real_terminal.py)."""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual.app import App
from textual.widgets import DataTable

from dive_py.fixtures.builder import write_archive
from dive_py.ui.images_screen import ImagesScreen
from dive_py.ui.main_screen import MainScreen
from dive_py.ui.widgets.bars import InputBar
from tests.images import tiny_image
from tests.ui.helpers import MakeApp

SIZE = (160, 45)


def burst(app: App[int], keys: list[str]) -> None:
    for key in keys:
        app.post_message(events.Key(key, key if len(key) == 1 else None))


def family(tmp_path: Path) -> str:
    child = tiny_image("child:1")
    child.layer("RUN more").file("more.txt", "more")
    return write_archive([tiny_image("parent:1"), child], tmp_path / "family.tar")


async def test_the_images_table_fits_80_columns(make_app: MakeApp, tmp_path: Path) -> None:
    child = tiny_image("localhost/fixtures/a-rather-long-repository-name-for-the-child-image:latest")
    child.layer("RUN more").file("more.txt", "more")
    path = write_archive([tiny_image("localhost/fixtures/small:latest"), child], tmp_path / "long.tar")
    app = make_app(str(path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("I")
        screen = app.screen
        assert isinstance(screen, ImagesScreen)
        table = screen.query_one(DataTable)
        used = sum(col.get_render_width(table) for col in table.columns.values())
        assert used <= table.size.width
        assert str(table.get_row_at(1)[1]).endswith("…")
        assert screen.query_one("#images-total").region.bottom <= 24


def test_a_platform_variant_opens_exactly_the_row_chosen(tmp_path: Path) -> None:
    from dive_py.core.model.image_set import image_set
    from dive_py.core.model.loader import load_image

    path = write_archive(
        [
            tiny_image("multi:1", arch="arm64", marker="plain"),
            tiny_image("multi:1", arch="arm64", variant="v8", marker="v8"),
        ],
        tmp_path / "multi.tar",
        "oci",
        platforms=True,
    )
    first = load_image(str(path), platform="linux/arm64")
    try:
        rows = image_set(first).rows
    finally:
        first.close()
    assert [r.platform for r in rows] == ["linux/arm64", "linux/arm64/v8"]
    chosen = load_image(str(path), position=rows[1].position)
    try:
        assert chosen.ref.platform == "linux/arm64/v8"
        g = chosen.entry_at("/hello.txt", 1)
        assert g is not None
        from dive_py.core.content.reading import read_content

        assert read_content(chosen, g) == b"hello v8\n"
    finally:
        chosen.close()


async def test_keys_right_after_enter_in_the_filter_go_to_the_tree(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+f", *"etc")
        burst(app, ["enter", "slash", "h", "o", "s", "t"])
        await pilot.pause()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MainScreen)
        assert screen.session.tree.filter_text == "etc"
        assert screen.query_one("#search", InputBar).input.value == "host"


async def test_ctrl_f_switches_from_the_search_to_the_filter(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"bin", "ctrl+f")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        assert screen.query_one("#filter", InputBar).is_open and not screen.query_one("#search", InputBar).is_open
