"""Screens opened over the explorer: Image details on demand (narrow terminals).

Below 90 columns the left column is only wide enough for the layer list,
so Image Details cannot stay on screen.  The score and the wasted bytes
stay visible in a small pane under the layers, and ``i`` opens the whole
Image Details -- figures and the wasted-files table -- over the screen;
choosing a row closes it and shows that file in the tree, as in the wide
layout.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from dive_py.core.analysis.efficiency import Efficiency
from dive_py.core.model.image import Image
from dive_py.ui.widgets.details import ImageDetails
from dive_py.viewmodel.details import image_summary


def short_summary(image: Image, eff: Efficiency) -> Text:
    """Three short lines for the narrow layout's Image pane (16 cells wide)."""
    s = image_summary(image, eff)
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("Efficiency ", style="bold")
    text.append(s.efficiency + "\n")
    text.append("Wasted ", style="bold")
    text.append(s.wasted + "\n")
    text.append("i", style="bold")
    text.append(" all details", style="dim")
    return text


class ImageSummaryPane(Static):
    """The score, the wasted bytes and the key to the rest (narrow layout only)."""

    def __init__(self, image: Image, eff: Efficiency, id: str | None = None) -> None:
        super().__init__(short_summary(image, eff), id=id, markup=False)


class ImageDetailsScreen(ModalScreen[tuple[str, int] | None]):
    """Image Details over the whole screen; a row returns (path, layer) to jump to."""

    DEFAULT_CSS = """
    ImageDetailsScreen { align: center middle; }
    ImageDetailsScreen > Vertical { width: 100%; height: 100%; border: round $accent; background: $surface; }
    """
    BINDINGS = [Binding("escape,q,i", "close", "Close", show=False)]

    def __init__(self, image: Image, eff: Efficiency) -> None:
        super().__init__()
        self.image = image
        self.eff = eff
        self._answered = False

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Image Details"
            box.border_subtitle = "Enter shows the file · Esc closes"
            yield ImageDetails(self.image, self.eff, id="image-details-full")

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()

    def on_image_details_jump_to_file(self, event: ImageDetails.JumpToFile) -> None:
        event.stop()
        self._close((event.path, event.layer))

    def action_close(self) -> None:
        self._close(None)

    def _close(self, result: tuple[str, int] | None) -> None:
        # Once: keys queued behind the first Enter must not dismiss the explorer too.
        if self._answered:
            return
        self._answered = True
        self.dismiss(result)


__all__ = ["ImageDetailsScreen", "ImageSummaryPane", "short_summary"]
