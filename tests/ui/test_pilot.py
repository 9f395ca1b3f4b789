"""Behaviour of the explorer under Pilot: keys do what the key bar says, mouse, filter, search.

Assertions are on the view models' state (rows, cursor, hidden types,
selected layer), not on pixels; screens are covered by test_snapshots.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App
from textual.screen import Screen
from textual.widget import Widget

from dive_py.core.analysis.compare import ADDED, MODIFIED, UNMODIFIED
from dive_py.ui.main_screen import MainScreen
from dive_py.ui.widgets.file_tree import FileTreeView
from dive_py.ui.widgets.layer_list import LayerListView
from dive_py.ui_settings import UiSettings
from dive_py.viewmodel.session import Session
from tests.ui.helpers import MakeApp, select_path, settled

SIZE = (160, 45)


def screen_of(app: App[int]) -> MainScreen:
    screen = app.screen
    assert isinstance(screen, MainScreen)
    return screen


def selected_path(s: Session) -> str:
    """The path under the tree's cursor."""
    selected = s.tree.selected
    assert selected is not None
    return s.image.paths.paths[selected]


async def test_layer_keys_switch_layer_and_compare_mode(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        s = screen_of(app).session
        assert isinstance(app.focused, LayerListView)
        await pilot.press("down", "down", "j")
        assert s.layers.selected == 3 and s.tree.layer == 3 and not s.tree.aggregated
        await pilot.press("ctrl+a")
        s = screen_of(app).session  # read again: mypy keeps what the assert above narrowed across the key press
        assert s.layers.aggregated and s.tree.aggregated and s.layers.compare_range() == (0, 0, 1, 3)
        await pilot.press("ctrl+l")
        s = screen_of(app).session  # again
        assert not s.tree.aggregated and s.layers.compare_range() == (0, 2, 3, 3)
        await pilot.press("k")
        assert s.tree.layer == 2


async def test_no_crash_at_list_ends(make_app: MakeApp) -> None:
    """dive #295: Down past the last layer panicked."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        s = screen_of(app).session
        await pilot.press(*(["down"] * 12), "pagedown", "end", "down")
        assert s.layers.selected == len(s.image.layers) - 1
        await pilot.press(*(["up"] * 12), "pageup", "home", "up")
        assert s.layers.selected == 0
        await pilot.press("tab", *(["down"] * 40), "pagedown", "pagedown", "end", "down")
        assert s.tree.cursor == len(s.tree.rows) - 1


async def test_tree_toggles_follow_the_key_bar(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        s = screen_of(app).session
        await pilot.press("down", "down", "down", "down", "tab")  # the chown layer
        assert isinstance(app.focused, FileTreeView)
        rows_before = len(s.tree.rows)
        await pilot.press("ctrl+u")
        assert s.tree.hidden == {UNMODIFIED} and len(s.tree.rows) < rows_before
        assert all(s.tree.diff_of(int(p)) != UNMODIFIED for p in s.tree.rows)
        await pilot.press("ctrl+n")
        assert s.tree.hidden == {UNMODIFIED, MODIFIED}
        await pilot.press("ctrl+u", "ctrl+n", "ctrl+a")
        assert s.tree.hidden == {ADDED}
        await pilot.press("ctrl+a")
        tree = app.screen.query_one(FileTreeView)
        await pilot.press("ctrl+b")
        assert not tree.show_attributes
        await pilot.press("ctrl+o")
        assert s.tree.sort_by_size and s.tree.cursor == 0


async def test_enter_never_hides_modified_files(make_app: MakeApp) -> None:
    """dive binds Ctrl+M, which terminals send as Enter; we must not."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        s = screen_of(app).session
        await pilot.press("tab", "down", "enter", "enter")
        assert s.tree.hidden == set()


async def test_space_collapses_and_ctrl_space_collapses_all(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        s = screen_of(app).session
        await pilot.press("tab")
        bin_pid = s.image.paths.lookup("bin")
        assert bin_pid is not None and s.tree.selected == bin_pid
        full = len(s.tree.rows)
        await pilot.press("space")
        assert s.tree.is_collapsed(bin_pid) and len(s.tree.rows) < full
        await pilot.press("l")  # right: expand and step in
        assert not s.tree.is_collapsed(bin_pid) and s.tree.selected == s.image.paths.lookup("bin/busybox")
        await pilot.press("h")
        assert s.tree.selected == bin_pid
        await pilot.press("ctrl+space")
        top_level = [int(p) for p in s.tree.rows]
        assert all(s.image.paths.depth(p) == 1 for p in top_level)
        await pilot.press("ctrl+space")
        assert len(s.tree.rows) == full


async def test_filter_is_live_and_escape_clears_it(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        s = screen_of(app).session
        await pilot.press("end", "ctrl+f", *"bin/busy")
        paths = [s.image.paths.paths[int(p)] for p in s.tree.rows]
        assert paths == ["bin", "bin/busybox"]
        await pilot.press("(")
        assert s.tree.filter_error is not None
        assert [s.image.paths.paths[int(p)] for p in s.tree.rows] == paths  # last valid filter kept
        await pilot.press("escape")
        assert s.tree.filter_text == "" and len(s.tree.rows) > 2
        assert isinstance(app.focused, FileTreeView)


async def test_search_jumps_without_hiding_rows(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        s = screen_of(app).session
        await pilot.press("end")  # last layer: everything present
        full = len(s.tree.rows)
        await pilot.press("tab", "ctrl+space", "slash", *"\\.py$", "enter")
        assert len(s.tree.rows) > 1
        first = selected_path(s)
        assert first.endswith(".py")
        await pilot.press("n")
        second = selected_path(s)
        assert second.endswith(".py") and second != first
        await pilot.press("N")
        assert selected_path(s) == first
        await pilot.press("ctrl+space")
        assert len(s.tree.rows) == full


async def test_wasted_file_row_jumps_to_the_file(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        s = screen_of(app).session
        await pilot.press("tab", "tab")
        await pilot.press("enter")  # first row: the biggest waste
        waste = s.efficiency.inefficient[0]
        assert selected_path(s) == waste.path.lstrip("/")
        assert s.layers.selected == waste.layers[-1]
        assert isinstance(app.focused, FileTreeView)
        tree = app.screen.query_one(FileTreeView)
        assert tree.scroll_y <= s.tree.cursor < tree.scroll_y + tree.page_height


async def test_mouse_selects_layers_and_toggles_dirs(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        s = screen_of(app).session
        layers: Widget = app.screen.query_one(LayerListView)  # a Widget, so mypy lets the two be compared
        row = s.layers.row_of_layer[3]
        await pilot.click(LayerListView, offset=(5, row))
        assert s.layers.selected == 3
        tree = app.screen.query_one(FileTreeView)
        first = int(s.tree.rows[0])
        marker_x = 35 + 2  # after the attribute columns and the branch
        await pilot.click(FileTreeView, offset=(marker_x, 0))
        assert s.tree.is_collapsed(first)
        await pilot.click(FileTreeView, offset=(marker_x, 0))
        assert not s.tree.is_collapsed(first)
        await pilot.click(FileTreeView, offset=(2, 3))
        assert s.tree.cursor == 3
        assert layers is not tree


async def test_help_screen_lists_every_key_and_closes(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_quit_keys(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
    assert app.return_code == 0


async def test_keymap_from_settings_remaps_keys(make_app: MakeApp) -> None:
    settings = UiSettings(keymap={"toggle-added-files": "x", "compare-all": "ctrl+g"})
    app = make_app(settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        s = screen_of(app).session
        await pilot.press("ctrl+g")
        assert s.layers.aggregated
        await pilot.press("tab", "x")
        assert s.tree.hidden == {ADDED}


async def test_settings_hide_types_and_collapse_at_start(make_app: MakeApp) -> None:
    app = make_app(settings=UiSettings(hidden={UNMODIFIED}, collapse_dir=True, show_attributes=False))
    async with app.run_test(size=SIZE):
        s = screen_of(app).session
        assert s.tree.hidden == {UNMODIFIED}
        assert not app.screen.query_one(FileTreeView).show_attributes


async def test_loader_runs_in_a_worker_then_shows_the_explorer() -> None:
    from dive_py.core.model.loader import load_image
    from dive_py.fixtures.demo import DEMO_PATH
    from dive_py.ui.app import DiveApp, ImageChoice, LoadProgress
    from dive_py.viewmodel.session import Session

    phases: list[str] = []

    def loader(progress: LoadProgress, choice: ImageChoice | None) -> Session:
        image = load_image(str(DEMO_PATH), hash_files=True, progress=progress)
        phases.append("loaded")
        return Session.build(image, progress=progress)

    app = DiveApp(loader=loader, source="demo.tar")
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(100):
            await pilot.pause(0.05)
            if isinstance(app.screen, MainScreen):
                break
        assert isinstance(app.screen, MainScreen) and phases == ["loaded"]
        assert app.session is not None
        await pilot.pause()
        app.session.close()


async def test_load_error_ends_the_app_with_status_2() -> None:
    from dive_py.errors import InputError
    from dive_py.ui.app import DiveApp, ImageChoice, LoadProgress

    def loader(progress: LoadProgress, choice: ImageChoice | None) -> Session:
        raise InputError("broken.tar is not a tar archive")

    app = DiveApp(loader=loader, source="broken.tar")
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(100):
            await pilot.pause(0.05)
            if app.error:
                break
    assert app.error == "broken.tar is not a tar archive"
    assert app.return_code == 2


# -- v: the file viewer --------------------------------------------------------------------


async def test_v_on_a_modified_file_opens_its_changes_and_tab_shows_content(make_app: MakeApp) -> None:
    from dive_py.ui.viewer import ContentView, ViewerScreen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await select_path(pilot, 6, "app/config.yaml")
        await pilot.press("v")
        await settled(pilot)
        viewer = app.screen
        assert isinstance(viewer, ViewerScreen)
        assert viewer.view.mode == "changes"
        rows = [r.text for r in viewer.query_one(ContentView).rows]
        assert "-debug: true" in rows and "+debug: false" in rows
        await pilot.press("tab")
        await settled(pilot)
        assert viewer.view.mode == "content"
        assert [r.text for r in viewer.query_one(ContentView).rows] == ["debug: false", "port: 8080"]
        await pilot.press("c")
        await settled(pilot)
        assert viewer.view.mode == "changes"
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_v_on_an_unchanged_file_opens_its_content_and_scrolls(make_app: MakeApp) -> None:
    from dive_py.ui.viewer import ContentView, ViewerScreen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await select_path(pilot, 1, "bin/busybox")
        await pilot.press("v")
        await settled(pilot)
        viewer = app.screen
        assert isinstance(viewer, ViewerScreen) and viewer.view.mode == "content"
        content = viewer.query_one(ContentView)
        assert content.rows[1].kind == "hex"
        await pilot.press("pagedown")
        assert content.scroll_y > 0
        await pilot.press("end")
        assert content.scroll_y == content.max_scroll_y > 5000
        await pilot.press("q")
        assert isinstance(app.screen, MainScreen)


async def test_v_is_remappable(make_app: MakeApp) -> None:
    from dive_py.ui.viewer import ViewerScreen

    app = make_app(settings=UiSettings(keymap={"view-file": "o", "close-viewer": "x"}))
    async with app.run_test(size=SIZE) as pilot:
        await select_path(pilot, 0, "etc/passwd")
        await pilot.press("v")
        await settled(pilot)
        assert isinstance(app.screen, MainScreen)
        await pilot.press("o")
        await settled(pilot)
        assert isinstance(app.screen, ViewerScreen)
        assert "x Close" in str(app.screen.query_one("#viewer-keys").render())
        await pilot.press("x")
        assert isinstance(app.screen, MainScreen)


async def test_names_that_look_like_markup_are_shown_as_text(
    make_app: MakeApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file named ``[/]`` (a directory ``[`` holding ``]``) in the tree, the wasted list and the Ctrl+E dialog."""
    from textual.containers import Vertical

    from dive_py.fixtures.builder import ImageSpec, write_archive
    from dive_py.ui.extract_dialog import ExtractDialog
    from dive_py.ui.viewer import ViewerScreen

    img = ImageSpec(tags=["markup:1"])
    img.layer("base").dir("[").file("[/]", "first").file("[b]x", "1")
    img.layer("again").file("[/]", "second").file("[b]x", "2")
    monkeypatch.chdir(tmp_path)
    app = make_app(write_archive(img, tmp_path / "img.tar"))
    async with app.run_test(size=SIZE) as pilot:
        await select_path(pilot, 1, "[/]")
        await pilot.press("ctrl+e")
        await settled(pilot)
        assert isinstance(app.screen, ExtractDialog)
        assert "/[/] (file, 6 B)" in str(app.screen.query_one("#extract-what").render())
        await pilot.press("escape", "v")
        await settled(pilot)
        assert isinstance(app.screen, ViewerScreen)
        # The getters return markup, with the image's "[" escaped: it is shown as text.
        assert "/\\[/] · Changes made by layer 1" in str(app.screen.query_one(Vertical).border_title)
        await pilot.press("escape")
        assert str(app.screen.query_one("#right").border_subtitle) == "/\\[/]"


async def test_the_loading_screen_shows_a_markup_like_source(tmp_path: Path) -> None:
    from dive_py.ui.screens import LoadingScreen

    screen = LoadingScreen("in/[/]evil.tar")
    app = DiveAppWithScreen(screen)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "Opening in/[/]evil.tar" in str(screen.query_one("#loading-source").render())


class DiveAppWithScreen(App[None]):
    """A bare app that shows one screen (the loading screen needs no session)."""

    def __init__(self, screen: Screen[None]) -> None:
        super().__init__()
        self._first = screen

    def on_mount(self) -> None:
        self.push_screen(self._first)
