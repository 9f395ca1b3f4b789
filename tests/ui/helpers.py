"""Steps shared by the Pilot tests and the snapshot tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

from textual.app import App
from textual.pilot import Pilot

from dive_py.ui.app import DiveApp
from dive_py.ui.main_screen import MainScreen
from dive_py.ui_settings import UiSettings


class MakeApp(Protocol):
    """The ``make_app`` fixture (tests/ui/conftest.py): an app on an already loaded image."""

    def __call__(
        self, path: str = ..., settings: UiSettings | None = None, select: str | None = None, insights_now: bool = ...
    ) -> DiveApp: ...


class SnapCompare(Protocol):
    """The ``snap_compare`` fixture of pytest-textual-snapshot, which ships no type information."""

    def __call__(
        self,
        app: App[Any],
        press: Iterable[str] = (),
        terminal_size: tuple[int, int] = (80, 24),
        run_before: Callable[[Pilot[Any]], Awaitable[None] | None] | None = None,
    ) -> bool: ...


def screen_of(app: App[int]) -> MainScreen:
    """The explorer's screen (asserting that no other screen is on top)."""
    screen = app.screen
    assert isinstance(screen, MainScreen)
    return screen


async def select_path(pilot: Pilot[int], layer: int, path: str) -> None:
    """Select ``layer`` in the layers pane, focus the tree and put the cursor on ``path``."""
    await pilot.press(*(["down"] * layer), "tab")
    screen = pilot.app.screen
    assert isinstance(screen, MainScreen)
    assert screen.session.layers.selected == layer
    assert screen.session.tree.show_path(path)
    screen.file_tree.rebuild()
    await pilot.pause()


async def settled(pilot: Pilot[int]) -> None:
    """Wait for the workers (the viewer reads, the extract dialog writes), then for the repaint."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
