"""Steps shared by the Pilot tests and the snapshot tests."""

from __future__ import annotations

from textual.pilot import Pilot

from dive_py.ui.main_screen import MainScreen


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
