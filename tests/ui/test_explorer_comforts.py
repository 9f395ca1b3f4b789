"""Issue 7's display fixes and comforts under Pilot: Image details when narrow, images of an archive,
size bars, copying the path, the key bar, wrapped rows, toasts and the filter in the title."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widget import Widget
from textual.widgets import DataTable

from dive_py.fixtures.builder import write_archive
from dive_py.ui.insights_screen import InsightsScreen
from dive_py.ui.main_screen import MainScreen
from dive_py.ui.widgets.bars import KeyBar
from dive_py.ui.widgets.file_tree import FileTreeView
from tests.images import tiny_image
from tests.ui.helpers import MakeApp, screen_of, select_path, settled

SIZE = (160, 45)


def family(tmp_path: Path) -> str:
    child = tiny_image("child:1")
    child.layer("RUN more").file("more.txt", "more")
    return write_archive([tiny_image("parent:1"), child], tmp_path / "family.tar")


def line_text(widget: Widget, y: int) -> str:
    return "".join(seg.text for seg in widget.render_line(y))


# -- 4. the score and the wasted files below 90 columns ---------------------------------------------


async def test_narrow_layout_shows_the_score_and_i_opens_the_insights(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        screen = screen_of(app)
        summary = screen.query_one("#image-summary-pane")
        assert summary.display and summary.region.height == 6
        pane = str(screen.query_one("#image-summary").render())
        assert "Efficiency 77 %" in pane and "Reclaim 214 kB" in pane
        await pilot.press("i")
        assert isinstance(app.screen, InsightsScreen)
        assert isinstance(app.focused, DataTable) and app.focused.id == "findings-table" and app.focused.row_count == 6
        await pilot.press("enter")  # the biggest finding: /root/.cache, stored by layer 3, removed by layer 6
        await pilot.pause()
        screen = screen_of(app)
        tree = screen.session.tree
        assert screen.session.layers.selected == 3 and isinstance(app.focused, FileTreeView)
        assert tree.selected is not None and tree.image.paths.paths[tree.selected] == "root/.cache"
        subtitle = str(screen.query_one("#right").border_subtitle)
        assert subtitle == "/root/.cache · 64 kB stored here, removed by layer 6"
        await pilot.press("i", "tab", "tab", "tab")  # the last tab: dive's Image Details
        assert isinstance(app.focused, DataTable) and app.focused.id == "wasted-table" and app.focused.row_count == 8
        await pilot.press("enter")  # dive's biggest: logo.png, last stored by layer 7
        await pilot.pause()
        screen = screen_of(app)
        tree = screen.session.tree
        assert screen.session.layers.selected == 7 and isinstance(app.focused, FileTreeView)
        assert tree.selected is not None and tree.image.paths.paths[tree.selected] == "app/static/logo.png"


async def test_wide_layout_i_opens_the_insights_and_tab_reaches_the_wasted_files(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert not screen_of(app).query_one("#image-summary-pane").display
        await pilot.press("tab", "tab")
        assert app.focused is screen_of(app).query_one("#wasted-table")
        await pilot.press("i")
        assert isinstance(app.screen, InsightsScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_the_wasted_files_say_why(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE):
        table = screen_of(app).query_one("#wasted-table", DataTable)
        assert [str(table.get_row_at(i)[2]) for i in range(3)] == [
            "deleted by layer 7",
            "deleted by layer 6",
            "chown/chmod copy, layer 5",
        ]


# -- the images of an archive ------------------------------------------------------------------------


async def test_images_table_switches_image_without_restarting(
    make_app: MakeApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dive_py.core.model.image import Image
    from dive_py.ui.images_screen import ImagesScreen

    closed: list[Image] = []
    real_close = Image.close

    def close(self: Image) -> None:
        closed.append(self)
        real_close(self)

    monkeypatch.setattr(Image, "close", close)
    app = make_app(str(family(tmp_path)))
    async with app.run_test(size=SIZE) as pilot:
        first = screen_of(app)
        assert first.session.image.names == ["parent:1"]
        assert str(first.query_one("#layers-pane").border_subtitle) == "image 1/2 · ◆ shared · I"
        await pilot.press("I")
        assert isinstance(app.screen, ImagesScreen)
        table = app.screen.query_one(DataTable)
        assert [str(c) for c in table.get_row_at(1)] == ["", "child:1", "-", "3", "31 kB", "20 kB", "10 kB"]
        await pilot.press("down", "enter")
        await settled(pilot)
        await pilot.pause()
        second = screen_of(app)
        assert second is not first and second.session.image.names == ["child:1"]
        assert [r.shared for r in second.session.layers.rows if r.layer is not None] == [True, True, False]
        assert str(second.query_one("#layers-pane").border_subtitle) == "image 2/2 · ◆ shared · I"
        assert closed == [first.session.image]  # the image left behind is closed


async def test_one_image_has_no_images_key(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert "Images" not in str(screen_of(app).query_one(KeyBar).render())
        await pilot.press("I")
        assert isinstance(app.screen, MainScreen)


# -- size bars, copy ----------------------------------------------------------------------------------


async def test_percent_shows_size_bars_in_both_panes(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await pilot.press("percent_sign")
        assert screen.file_tree.bars and screen.layer_list.bars
        assert line_text(screen.layer_list, 1).startswith("    151 kB ██        25%  FROM")  # 151 of 596 kB
        tree_row = line_text(screen.file_tree, 0)
        assert "108 kB  █████▊    71%  ├── bin" in tree_row  # 108 kB of layer 0's 151 kB
        await pilot.press("percent_sign")
        screen = screen_of(app)  # read again: mypy keeps what the assert above narrowed across the key press
        assert not screen.file_tree.bars and "%" not in line_text(screen.file_tree, 0)


async def test_y_copies_the_selected_path(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await select_path(pilot, 4, "app/main.py")
        await pilot.press("y")
        assert app.clipboard == "/app/main.py"


# -- 7. display ----------------------------------------------------------------------------------------


async def test_the_key_bar_never_cuts_a_label(make_app: MakeApp) -> None:
    app = make_app()
    for size in (SIZE, (100, 30), (80, 24), (50, 20)):
        async with app.run_test(size=size) as pilot:
            await pilot.press("tab")  # the tree's keys: the longest bar
            bar = screen_of(app).query_one(KeyBar)
            text = str(bar.render())
            assert len(text) <= size[0], size
            shown, _tight, dropped = bar.fitted(size[0])
            assert text.endswith("? more keys") == dropped
            for i in shown:
                key, label, _, _ = bar._items[i]
                assert f"{key} {label}" in text
        app = type(app)(session=None, loader=app.loader, settings=app.settings)


async def test_key_bar_at_160_columns_on_the_layers_pane_is_complete(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE):
        bar = screen_of(app).query_one(KeyBar)
        text = str(bar.render())
        assert "? more keys" not in text and "^A Aggregated" in text and "% Bars" in text
        shown, _tight, dropped = bar.fitted(15)  # no room: Quit is the one key that stays
        assert dropped and [bar._items[i][1] for i in shown] == ["Quit"]


async def test_no_horizontal_scrollbar_rows(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("tab")
        tree = screen_of(app).file_tree
        assert tree.virtual_size.width > tree.size.width  # rows are wider than the pane ...
        assert tree.scrollable_content_region.height == tree.size.height  # ... and no row is a scrollbar


async def test_wrapped_rows_keep_the_tree_guides(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(60, 30)) as pilot:
        await pilot.press("tab", "ctrl+b", "ctrl+p")  # no attributes, wrap on
        tree = screen_of(app).file_tree
        lines = [line_text(tree, y).rstrip() for y in range(tree.size.height)]
        i = next(n for n, line in enumerate(lines) if "libc.musl" in line)
        assert lines[i].startswith("│   └── libc.musl-x86_64.so.1 → ")
        # the name goes on under itself (column 8), below the guide of the directory it is in
        assert lines[i + 1].startswith("│       ") and lines[i + 1][8] != " " and "─" not in lines[i + 1]


async def test_toasts_stay_off_the_path_line(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await select_path(pilot, 4, "app/main.py")
        await pilot.press("y")
        await pilot.pause(0.3)
        toast = app.screen.query_one("Toast")
        path_row = screen_of(app).query_one("#right").region.bottom - 1
        assert toast.region.height and not toast.region.y <= path_row < toast.region.bottom


async def test_the_filter_stays_in_the_tree_title(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+f", *"busybox", "enter")
        title = str(screen_of(app).query_one("#right").border_title)
        assert title == "Current Layer Contents · filter: busybox"
        await pilot.press("ctrl+f", "escape")
        assert str(screen_of(app).query_one("#right").border_title) == "Current Layer Contents"


async def test_an_image_that_fails_to_open_leaves_the_current_one(tmp_path: Path) -> None:
    from dive_py.core.content.reading import read_content
    from dive_py.core.model.loader import load_image
    from dive_py.errors import InputError
    from dive_py.ui.app import DiveApp, ImageChoice, LoadProgress
    from dive_py.viewmodel.session import Session

    path = family(tmp_path)
    image = load_image(str(path), hash_files=True)

    def loader(progress: LoadProgress, choice: ImageChoice | None) -> Session:
        raise InputError("layer 2 (abc/layer.tar): unexpected end of data\x1b[2J")

    app = DiveApp(session=Session.build(image), loader=loader)
    try:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            first = screen_of(app)
            app.switch_image(ImageChoice(1), "child:1")
            await settled(pilot)
            await pilot.pause()
            assert app.is_running and app.session is first.session
            assert screen_of(app).session.image is image
            g = image.entry_at("/hello.txt", 1)
            assert g is not None and read_content(image, g) == b"hello x\n"  # still open
            messages = [str(n.message) for n in app._notifications]
            assert messages == ["layer 2 (abc/layer.tar): unexpected end of data\\x1b[2J"]
    finally:
        image.close()


# -- p and e ---------------------------------------------------------------------------------------------


async def test_p_refuses_a_directory_and_a_missing_pager(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await select_path(pilot, 4, "app")
        await pilot.press("p")
        screen = screen_of(app)
        assert screen.session.tree.show_path("etc/group")
        screen.file_tree.rebuild()
        monkeypatch.setenv("PAGER", "no-such-pager-here --flag")
        await pilot.press("p")
        monkeypatch.setenv("EDITOR", "vi 'unbalanced")
        await pilot.press("e")
        messages = [str(n.message) for n in app._notifications]
    assert messages == [
        "$PAGER opens files; /app is a directory",
        "$PAGER: no-such-pager-here not found",
        "$EDITOR: No closing quotation",
    ]
    assert list(tmp_path.iterdir()) == []


async def test_e_runs_the_editor_on_a_read_only_copy_of_the_removed_version(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from contextlib import nullcontext

    seen = tmp_path / "seen"
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setenv("EDITOR", f'sh -c \'stat -c %a "$1" > {seen}; wc -c < "$1" >> {seen}\' sh')
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        monkeypatch.setattr(app, "suspend", nullcontext)  # the headless driver cannot suspend
        await select_path(pilot, 7, "app/static/logo.png")  # removed by layer 7: the version before it
        await pilot.press("e")
    assert seen.read_text().split() == ["400", "30000"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seen"]  # the private copy is gone
