"""Screens of every pane, mode and dialog, compared with SVGs under snapshots/ui/.

Review changes with the report pytest writes (snapshot_report.html) before
running ``pytest --snapshot-update``.  The demo image shipped in the package
is the subject, at a fixed terminal size, with the theme fixed by the app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.app import App
from textual.pilot import Pilot

from dive_py.ui.screens import LoadingScreen
from tests.snapshot_support import SNAPSHOT_ROOT
from tests.ui.helpers import MakeApp, SnapCompare, select_path, settled

WIDE = (160, 45)
NARROW = (80, 24)


def test_snapshots_live_in_top_level_folder() -> None:
    """Guards the conftest patch: a rename in the plugin would silently move the files."""
    assert (SNAPSHOT_ROOT / "ui" / "test_snapshots" / "test_initial_screen.svg").is_file()


def test_initial_screen(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    assert snap_compare(make_app(), terminal_size=WIDE)


def test_layer_changes_mode(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    # the chown -R layer: every app file copied again, shown as modified
    assert snap_compare(make_app(), terminal_size=WIDE, press=["down"] * 5 + ["tab"])


def test_aggregated_mode(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    assert snap_compare(make_app(), terminal_size=WIDE, press=["down"] * 7 + ["ctrl+a"])


def test_filter_active(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    assert snap_compare(make_app(), terminal_size=WIDE, press=["down"] * 7, run_before=_type_filter("static"))


def test_invalid_filter_shows_error(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    assert snap_compare(make_app(), terminal_size=WIDE, run_before=_type_filter("static/(["))


def test_hidden_diff_types(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    assert snap_compare(make_app(), terminal_size=WIDE, press=["down"] * 6 + ["tab", "ctrl+u"])


def test_attributes_off(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    assert snap_compare(make_app(), terminal_size=WIDE, press=["tab", "ctrl+b"])


def test_sorted_by_size(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    assert snap_compare(make_app(), terminal_size=WIDE, press=["down"] * 7 + ["tab", "ctrl+o"])


def test_collapse_all_then_search(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await pilot.press(*(["down"] * 7), "tab", "ctrl+space", "slash")
        await pilot.press(*"logo")
        await pilot.press("enter")

    assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)


def test_wrap_long_names(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    assert snap_compare(make_app(), terminal_size=(100, 30), press=["tab", "ctrl+p", "end"])


def test_narrow_terminal(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    assert snap_compare(make_app(), terminal_size=NARROW, press=["down", "down"])


def test_narrow_layout_at_start(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    """Started at 80x24, nothing pressed: the narrow layout, with the Image pane, from the first frame."""
    assert snap_compare(make_app(), terminal_size=NARROW)


def test_fifty_columns_at_start(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    assert snap_compare(make_app(), terminal_size=(50, 20))


def test_insights_over_a_narrow_screen(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    assert snap_compare(make_app(), terminal_size=NARROW, press=["i"])


def test_insights_screen(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    """The findings of the demo, one of each kind, with the first one's story and fix underneath."""
    assert snap_compare(make_app(), terminal_size=WIDE, press=["i"])


def test_insights_junk_tab(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    assert snap_compare(make_app(), terminal_size=WIDE, press=["i", "tab", "down"])


def test_insights_image_details_tab_narrow(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    assert snap_compare(make_app(), terminal_size=NARROW, press=["i", "shift+tab"])


def test_insights_at_fifty_columns(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    assert snap_compare(make_app(), terminal_size=(50, 20), press=["i"])


def test_jump_from_insights(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    """Enter on the chown finding: the tree at the COPY layer that stored the bytes, and what they are."""
    assert snap_compare(make_app(), terminal_size=WIDE, press=["i", "down", "enter"])


def test_size_bars(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    assert snap_compare(make_app(), terminal_size=WIDE, press=["down"] * 4 + ["percent_sign", "tab"])


def test_images_of_an_archive(snap_compare: SnapCompare, make_app: MakeApp, tmp_path: Path) -> None:
    from dive_py.fixtures.builder import write_archive
    from tests.images import tiny_image

    child = tiny_image("child:1")
    child.layer("RUN more").file("more.txt", "more")
    path = write_archive(
        [tiny_image("parent:1"), child, tiny_image("other:2", marker="o")], tmp_path / "family.tar", "oci"
    )
    assert snap_compare(make_app(str(path), select="child:1"), terminal_size=WIDE, press=["I"])


def test_help_screen(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    assert snap_compare(make_app(), terminal_size=WIDE, press=["question_mark"])


def test_jump_from_wasted_files(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    assert snap_compare(make_app(), terminal_size=WIDE, press=["tab", "tab", "down", "enter"])


def test_extract_dialog(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await select_path(pilot, 5, "app/config.yaml")
        await pilot.press("ctrl+e")

    assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)


def test_extract_refused_in_the_dialog(
    snap_compare: SnapCompare, make_app: MakeApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "main.py").write_text("taken")

    async def run_before(pilot: Pilot[int]) -> None:
        await select_path(pilot, 7, "app/main.py")
        await pilot.press("ctrl+e", "enter")

    assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)


def _viewer_at(layer: int, path: str, *keys: str) -> Callable[[Pilot[int]], Awaitable[None]]:
    async def run_before(pilot: Pilot[int]) -> None:
        await select_path(pilot, layer, path)
        await pilot.press("v")
        await settled(pilot)
        if keys:
            await pilot.press(*keys)
            await settled(pilot)

    return run_before


def test_viewer_changes(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    assert snap_compare(make_app(), terminal_size=WIDE, run_before=_viewer_at(6, "app/config.yaml"))


def test_viewer_content(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    assert snap_compare(make_app(), terminal_size=WIDE, run_before=_viewer_at(5, "app/main.py", "tab"))


def test_viewer_hex_dump_narrow(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    assert snap_compare(make_app(), terminal_size=NARROW, run_before=_viewer_at(0, "bin/su"))


class _LoadingApp(App[None]):
    """Shows the loading screen at a fixed point of progress (no worker, no timing)."""

    TITLE = "divepy"

    def on_mount(self) -> None:
        self.theme = "textual-dark"
        screen = LoadingScreen("demo.tar")
        self.push_screen(screen)
        self.call_after_refresh(screen.update_progress, "Reading layers", 400_000, 1_000_000, "layer 3/7")


def test_loading_screen(snap_compare: SnapCompare) -> None:
    assert snap_compare(_LoadingApp(), terminal_size=(100, 20))


def _type_filter(text: str) -> Callable[[Pilot[int]], Awaitable[None]]:
    async def run_before(pilot: Pilot[int]) -> None:
        await pilot.press("ctrl+f")
        await pilot.press(*text)

    return run_before
