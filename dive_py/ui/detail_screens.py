"""The narrow layout's Image pane: the score, the wasted bytes, and the key to the rest.

Below 90 columns the left column is only wide enough for the layer list,
so Image Details cannot stay on screen.  The score, dive's wasted bytes and
the true reclaimable bytes stay visible in a small pane under the layers,
and ``i`` opens the Insights screen, whose last tab is the whole Image
Details with the wasted-files table.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from dive_py.core.analysis.efficiency import Efficiency
from dive_py.core.model.image import Image
from dive_py.core.units import humanize_bytes
from dive_py.viewmodel.details import image_summary
from dive_py.viewmodel.insights import InsightsJob


def short_summary(image: Image, eff: Efficiency, insights: InsightsJob) -> Text:
    """Three short lines for the narrow layout's Image pane (16 cells wide)."""
    s = image_summary(image, eff)
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("Efficiency ", style="bold")
    text.append(s.efficiency + "\n")
    text.append("Wasted ", style="bold")
    text.append(s.wasted + "\n")
    text.append("Reclaim ", style="bold")
    ins = insights.result
    text.append(humanize_bytes(ins.reclaimable_bytes) if ins is not None else "…")
    text.append("\n")
    text.append("i", style="bold")
    text.append(" insights", style="dim")
    return text


class ImageSummaryPane(Static):
    """The score, the wasted and reclaimable bytes, and the key to the rest (narrow layout only)."""

    def __init__(self, image: Image, eff: Efficiency, insights: InsightsJob, id: str | None = None) -> None:
        super().__init__(short_summary(image, eff, insights), id=id, markup=False)
        self.image = image
        self.eff = eff
        self.insights = insights

    def show_insights(self) -> None:
        self.update(short_summary(self.image, self.eff, self.insights))


__all__ = ["ImageSummaryPane", "short_summary"]
