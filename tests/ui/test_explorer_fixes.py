"""What a new user ran into in the first minutes (issue 7), each proven under Pilot.

Key bursts are posted to the app in one go, the way a terminal delivers a
paste or fast typing: Pilot's ``press`` waits for each key to be handled,
which is exactly what hid the bug.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual import events
from textual.app import App

from dive_py.core.analysis.compare import REMOVED
from dive_py.ui.main_screen import MainScreen
from dive_py.ui.widgets.bars import InputBar
from dive_py.ui.widgets.file_tree import FileTreeView
from dive_py.ui.widgets.layer_list import LayerListView
from tests.ui.helpers import MakeApp, screen_of, select_path, settled

SIZE = (160, 45)


def burst(app: App[int], keys: list[tuple[str, str | None]]) -> None:
    """Queue every key before any is handled, as a terminal does with a paste."""
    for key, char in keys:
        app.post_message(events.Key(key, char))


def typed(text: str) -> list[tuple[str, str | None]]:
    names = {"/": "slash", " ": "space", ".": "full_stop"}
    return [(names.get(c, c), c) for c in text]


# -- 1. keys right after / or Ctrl+F go into the prompt -------------------------------------


async def test_a_burst_after_slash_is_typed_into_the_search_not_run(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        burst(app, typed("/xq"))
        await pilot.pause()
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, MainScreen)  # q did not quit
        bar = app.screen.query_one("#search", InputBar)
        assert bar.is_open and bar.input.value == "xq"


async def test_a_burst_after_slash_does_not_open_the_viewer(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab")
        burst(app, typed("/saved"))
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)  # the v did not open the viewer
        assert app.screen.query_one("#search", InputBar).input.value == "saved"


async def test_a_burst_after_ctrl_f_becomes_the_filter(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        burst(app, [("ctrl+f", None), *typed("abc")])
        await pilot.pause()
        await pilot.pause()
        assert screen_of(app).session.tree.filter_text == "abc"


async def test_slash_and_ctrl_f_still_type_inside_a_prompt(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+f", *"/usr/", "slash")
        assert screen_of(app).session.tree.filter_text == "/usr//"
        await pilot.press("ctrl+f")  # Ctrl+F again closes the filter, keeping it
        assert not app.screen.query_one("#filter", InputBar).is_open
        assert screen_of(app).session.tree.filter_text == "/usr//"


# -- 2. Ctrl+Space as terminals send it -------------------------------------------------------


async def test_ctrl_space_as_a_terminal_sends_it_collapses_everything(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab")
        tree = screen_of(app).session.tree
        rows = len(tree.rows)
        await pilot.press("ctrl+@")  # xterm and tmux send NUL; Textual names it ctrl+@
        assert tree.all_collapsed and len(tree.rows) < rows
        await pilot.press("ctrl+space")  # the kitty keyboard protocol
        tree = screen_of(app).session.tree  # read again: mypy keeps what the assert above narrowed across the key press
        assert not tree.all_collapsed and len(tree.rows) == rows


# -- 3. the narrow layout from the first frame --------------------------------------------------


async def test_started_at_80_columns_the_layout_is_narrow_at_once(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = screen_of(app)
        assert screen.has_class("-narrow")
        assert screen.query_one("#left").size.width == 18
        assert screen.layer_list.compact
        assert screen.file_tree.attributes_shown  # the tree keeps its attribute columns


async def test_wide_again_after_growing(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.resize_terminal(160, 45)
        await pilot.pause()
        screen = screen_of(app)
        assert not screen.has_class("-narrow") and not screen.layer_list.compact
        assert screen.query_one("#left").size.width == 80


# -- 5. search like less / vim -------------------------------------------------------------------


async def test_a_search_without_match_leaves_the_tree_as_it_was(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*["down"] * 7, "tab", "ctrl+@")  # layer 7, everything collapsed
        tree = screen_of(app).session.tree
        before = (list(tree.rows), tree.selected, set(tree.collapsed))
        await pilot.press("slash", *"app/stat")  # partial matches expand /app
        assert list(tree.rows) != before[0]
        await pilot.press(*"icx")  # now nothing matches
        assert (list(tree.rows), tree.selected, set(tree.collapsed)) == before
        assert "no match" in str(app.screen.query_one("#search .error").render())


async def test_escape_restores_the_view_and_enter_keeps_it(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*["down"] * 7, "tab", "ctrl+@")
        tree = screen_of(app).session.tree
        before = (list(tree.rows), tree.selected)
        await pilot.press("slash", *"main.py", "escape")
        assert (list(tree.rows), tree.selected) == before
        assert isinstance(app.focused, FileTreeView)
        await pilot.press("slash", *"main.py", "enter")
        assert tree.selected is not None and tree.image.paths.paths[tree.selected] == "app/main.py"


async def test_enter_in_the_same_burst_searches_for_every_key_typed_before_it(make_app: MakeApp) -> None:
    """Enter is a priority binding: it runs before the prompt has handled the keys queued ahead of it."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab")
        burst(app, [*typed("/busybox"), ("enter", None)])
        await settled(pilot)
        tree = screen_of(app).session.tree
        assert not app.screen.query_one("#search", InputBar).is_open
        assert tree.selected is not None and tree.image.paths.paths[tree.selected] == "bin/busybox"
        assert screen_of(app).last_search == "busybox"  # n repeats it


async def test_enter_in_the_same_burst_keeps_the_whole_filter(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        burst(app, [("ctrl+f", None), *typed("busybox"), ("enter", None)])
        await settled(pilot)
        assert screen_of(app).session.tree.filter_text == "busybox"
        assert not app.screen.query_one("#filter", InputBar).is_open


async def test_each_search_starts_empty_and_n_repeats_the_last(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab", "slash", *"busybox", "enter")
        bar = app.screen.query_one("#search", InputBar)
        await pilot.press("slash")
        assert bar.is_open and bar.input.value == ""
        await pilot.press("escape", "n")
        tree = screen_of(app).session.tree
        assert tree.selected is not None and "busybox" in tree.image.paths.paths[tree.selected]


# -- 6. v and Ctrl+E agree on a removed file ------------------------------------------------------


async def test_ctrl_e_on_a_removed_file_writes_the_version_v_shows(
    make_app: MakeApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dive_py.ui.extract_dialog import ExtractDialog
    from dive_py.ui.viewer import ViewerScreen

    monkeypatch.chdir(tmp_path)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await select_path(pilot, 7, "app/static/logo.png")  # removed by layer 7's rm -rf
        selected = screen_of(app).session.tree.selected
        assert selected is not None and screen_of(app).session.tree.diff_of(selected) == REMOVED
        await pilot.press("v")
        await settled(pilot)
        assert isinstance(app.screen, ViewerScreen)
        assert "removed by layer 7" in app.screen.view.summary
        await pilot.press("escape", "ctrl+e")
        dialog = app.screen
        assert isinstance(dialog, ExtractDialog)
        assert "after layer 6, before layer 7 removed it" in str(dialog.query_one("#extract-layer").render())
        await pilot.press("enter")
        await settled(pilot)
        image = screen_of(app).session.image
    assert (tmp_path / "logo.png").stat().st_size == 30_000
    g = image.entry_at("/app/static/logo.png", 6)
    assert g is not None and image.entries.uid[g] == 1000  # layer 5's chown copy, the one before removal


async def test_removed_in_an_earlier_layer_in_the_aggregated_view(
    make_app: MakeApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dive_py.ui.extract_dialog import ExtractDialog

    monkeypatch.chdir(tmp_path)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*(["down"] * 7), "ctrl+a", "tab")
        screen = screen_of(app)
        assert screen.session.tree.aggregated and screen.session.tree.show_path("app/static/logo.png")
        screen.file_tree.rebuild()
        await pilot.press("ctrl+e")
        assert isinstance(app.screen, ExtractDialog)
        assert "before layer 7 removed it" in str(app.screen.query_one("#extract-layer").render())


async def test_focus_starts_on_layers(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE):
        assert isinstance(app.focused, LayerListView)
