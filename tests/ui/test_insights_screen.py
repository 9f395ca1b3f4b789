"""The Insights screen (``i``): its lists, the detail under them, Enter into the tree, and the background job."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static, Tab, TabbedContent

from dive_py.fixtures.builder import ImageSpec, write_archive
from dive_py.ui.insights_screen import InsightsScreen
from dive_py.ui.main_screen import InsightsReady, MainScreen
from dive_py.ui.widgets.file_tree import FileTreeView
from dive_py.viewmodel.insights import InsightsJob
from tests.ui.helpers import MakeApp, screen_of

SIZE = (160, 45)


def detail(screen: InsightsScreen) -> str:
    return str(screen.query_one("#insight-detail", Static).render())


async def open_insights(pilot: Pilot[int]) -> InsightsScreen:
    await pilot.press("i")
    screen = pilot.app.screen
    assert isinstance(screen, InsightsScreen)
    return screen


def cells(table: DataTable[object], row: int) -> list[str]:
    return [str(c) for c in table.get_row_at(row)]


async def test_tabs_cycle_and_the_detail_follows_the_cursor(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_insights(pilot)
        assert "This image can lose 214 kB (36% of 596 kB)" in str(screen.query_one("#insights-summary").render())
        table = screen.query_one("#findings-table", DataTable)
        assert app.focused is table
        assert cells(table, 0) == ["64 kB", "removed", "1", "3 → 6", "/root/.cache"]
        assert "fix: `pip install --no-cache-dir`" in detail(screen)
        await pilot.press("down")
        assert detail(screen).startswith("/app: 60 kB in 7 files\nstored by layer 4: COPY . /app")
        await pilot.press("j", "j", "k")  # the explorer's vi keys too
        assert table.cursor_row == 2
        labels = [str(t.label) for t in screen.query_one(TabbedContent).query(Tab)]
        assert labels == ["Findings (6)", "Junk (4)", "Duplicates (1)", "Image Details (dive)"]
        await pilot.press("tab")
        assert app.focused is screen.query_one("#junk-table")
        assert detail(screen).startswith("/app/.git: 18 kB in 2 files (junk: vcs)")
        await pilot.press("right")
        assert app.focused is screen.query_one("#duplicates-table")
        assert "  /tmp/build/app.min.js  (layer 7)" in detail(screen)
        await pilot.press("tab")
        assert app.focused is screen.query_one("#wasted-table")
        assert not screen.query_one("#insight-detail").display  # dive's table explains itself
        await pilot.press("tab")
        assert app.focused is table  # round again
        await pilot.press("shift+tab", "left")
        assert app.focused is screen.query_one("#duplicates-table")


async def test_enter_on_junk_opens_the_tree_at_the_layer_that_added_it(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("i", "tab", "down", "enter")  # pycache, added by layer 3
        await pilot.pause()
        main = screen_of(app)
        assert isinstance(app.screen, MainScreen) and isinstance(app.focused, FileTreeView)
        s = main.session
        assert (s.layers.selected, s.layers.aggregated) == (3, False)
        assert s.tree.selected is not None
        assert s.image.paths.paths[s.tree.selected] == "usr/lib/python3.12/site-packages/flask/__pycache__"
        subtitle = str(main.query_one("#right").border_subtitle)
        assert subtitle == "/usr/lib/python3.12/site-packages/flask/__pycache__ · 14 kB (junk: pycache) added here"
        await pilot.press("down")  # the note is about that path only
        assert " · " not in str(main.query_one("#right").border_subtitle)
        await pilot.press("up")
        assert str(main.query_one("#right").border_subtitle).endswith(" · 14 kB (junk: pycache) added here")
        await pilot.press("shift+tab", "down")  # and about that layer only
        await pilot.pause()
        assert " · " not in str(main.query_one("#right").border_subtitle)
        row = main.file_tree.model.rows.tolist().index(s.tree.selected)
        assert main.file_tree.scroll_offset.y <= row < main.file_tree.scroll_offset.y + main.file_tree.size.height


async def test_enter_on_a_duplicate_and_closing_keys(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        for key in ("escape", "q", "i"):
            await pilot.press("i")
            assert isinstance(app.screen, InsightsScreen)
            await pilot.press(key)
            assert isinstance(app.screen, MainScreen)
        await pilot.press("i", "tab", "tab", "enter", "enter")  # a second Enter must not reach the explorer
        await pilot.pause()
        s = screen_of(app).session
        assert isinstance(app.screen, MainScreen)
        assert s.tree.selected is not None and s.image.paths.paths[s.tree.selected] == "app/static/app.min.js"
        assert s.layers.selected == 7


async def test_the_thread_starts_with_the_explorer_and_updates_image_details(make_app: MakeApp) -> None:
    app = make_app(insights_now=False)
    async with app.run_test(size=SIZE) as pilot:
        main = screen_of(app)
        job = main.session.insights
        for _ in range(600):
            if job.done:
                break
            await pilot.pause(0.05)
        assert job.done and job.result is not None
        await pilot.pause()
        figures = str(main.query_one("#image-details .image-figures").render())
        assert figures.endswith("Reclaimable: 214 kB (36%), most removed by later layers (154 kB) · i explains")
        assert "Reclaim 214 kB" in str(main.query_one("#image-summary").render())


async def test_an_open_screen_fills_in_when_the_insights_arrive(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(insights_now=False)
    monkeypatch.setattr(InsightsJob, "start", lambda self, on_done: None)  # the thread never starts
    async with app.run_test(size=SIZE) as pilot:
        main = screen_of(app)
        figures = str(main.query_one("#image-details .image-figures").render())
        assert figures.endswith("Reclaimable: measuring…")
        screen = await open_insights(pilot)
        assert str(screen.query_one("#insights-summary").render()) == "Working out the insights…"
        assert cells(screen.query_one("#junk-table", DataTable), 0) == ["measuring…"]
        await pilot.press("enter")  # nothing to jump to yet
        assert app.screen is screen
        main.session.insights.run_now()
        main._post_insights_ready()
        await pilot.pause()
        assert cells(screen.query_one("#findings-table", DataTable), 0) == [
            "64 kB",
            "removed",
            "1",
            "3 → 6",
            "/root/.cache",
        ]
        assert cells(screen.query_one("#junk-table", DataTable), 0)[1] == "vcs"
        assert isinstance(screen, InsightsScreen)
        assert "fix: `pip install --no-cache-dir`" in detail(screen)
        await pilot.press("enter")
        await pilot.pause()
        assert screen_of(app).session.layers.selected == 3


async def test_a_failed_analysis_is_said_on_the_screen(make_app: MakeApp, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(insights_now=False)
    monkeypatch.setattr(InsightsJob, "start", lambda self, on_done: None)
    async with app.run_test(size=SIZE) as pilot:
        main = screen_of(app)
        screen = await open_insights(pilot)
        job = main.session.insights
        job.error = "layer 3: unexpected end of data"
        job._done.set()
        main._post_insights_ready()
        await pilot.pause()
        assert str(screen.query_one("#insights-summary").render()) == (
            "The insights could not be worked out: layer 3: unexpected end of data"
        )
        assert cells(screen.query_one("#findings-table", DataTable), 0) == ["unavailable"]
        await pilot.press("escape")
        figures = str(main.query_one("#image-details .image-figures").render())
        assert figures.endswith("Reclaimable: unavailable (layer 3: unexpected end of data)")


async def test_an_image_without_waste_says_so(make_app: MakeApp, tmp_path: Path) -> None:
    img = ImageSpec(tags=["clean:1"])
    img.layer("ADD").file("a", "only once")
    app = make_app(str(write_archive(img, tmp_path / "clean.tar")))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_insights(pilot)
        assert cells(screen.query_one("#findings-table", DataTable), 0)[-1] == "no waste found"
        assert detail(screen) == "no waste found"
        await pilot.press("enter")
        assert app.screen is screen


async def test_two_answers_in_one_tick_dismiss_once(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_insights(pilot)
        screen.action_close()
        screen.action_close()  # a second Esc queued behind the first must not pop the explorer
        await pilot.pause()
        assert isinstance(app.screen, MainScreen) and app.is_running


async def test_insights_landing_while_the_screen_closes_or_opens_are_ignored(make_app: MakeApp) -> None:
    """The job's answer may land behind a queued Esc, or between the push and the mount (CI saw it)."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        main = screen_of(app)
        screen = await open_insights(pilot)
        screen.action_close()
        main.on_insights_ready(InsightsReady())  # the screen's widgets are going: no NoMatches
        await pilot.pause()
        assert isinstance(app.screen, MainScreen) and app.is_running
        fresh = InsightsScreen(main.session)
        mounted = app.push_screen(fresh)
        main.on_insights_ready(InsightsReady())  # pushed, its tabs not mounted yet
        await mounted
        await pilot.pause()
        top: object = app.screen  # (mypy keeps the MainScreen narrowed above)
        assert top is fresh and fresh.tabs  # on_mount filled it
