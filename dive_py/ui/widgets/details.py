"""The Layer details and Image details panes (text, plus the wasted-files table)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Static

from dive_py.core.analysis.efficiency import Efficiency
from dive_py.core.model.image import Image
from dive_py.core.text import printable
from dive_py.core.units import humanize_bytes
from dive_py.viewmodel.details import command_lines, image_summary, layer_fields
from dive_py.viewmodel.insights import InsightsJob, reclaim_line
from dive_py.viewmodel.layers import step_text
from dive_py.viewmodel.waste_reasons import waste_reasons


class LayerDetails(VerticalScroll, can_focus=False):
    """Facts about the selected layer, with its full command split into lines."""

    DEFAULT_CSS = """
    LayerDetails { height: 1fr; }
    LayerDetails > Static { width: 100%; }
    """

    def __init__(self, image: Image, id: str | None = None) -> None:
        super().__init__(id=id)
        self.image = image
        self._body = Static("", markup=False)

    def compose(self) -> ComposeResult:
        yield self._body

    def show_layer(self, index: int) -> None:
        layer = self.image.layers[index]
        text = Text()
        for field in layer_fields(self.image, layer):
            text.append(f"{field.label + ':':<9}", style="bold")
            text.append(field.value + "\n")
        text.append("Command:\n", style="bold")
        for line in command_lines(layer.command):
            text.append(line + "\n")
        empty = [h for h in self.image.config.history if h.layer_index is None and h.after_layer == index]
        if empty:
            text.append("Then (no layer):\n", style="bold")
            for h in empty:
                text.append(step_text(h.created_by) + "\n", style="dim")
        self._body.update(text)
        self.scroll_home(animate=False)


TABLE_LIMIT = 1000


class ImageDetails(Vertical):
    """Image totals and the inefficient-files table; a row jumps to its file."""

    DEFAULT_CSS = """
    ImageDetails { height: 1fr; }
    ImageDetails > Static { height: auto; }
    ImageDetails > DataTable { height: 1fr; scrollbar-size-horizontal: 0; }
    """

    class JumpToFile(Message):
        """Show this path in the file tree (at the last layer it appears in)."""

        def __init__(self, path: str, layer: int) -> None:
            super().__init__()
            self.path = path
            self.layer = layer

    def __init__(self, image: Image, eff: Efficiency, insights: InsightsJob, id: str | None = None) -> None:
        super().__init__(id=id)
        self.image = image
        self.eff = eff
        self.insights = insights
        self._figures = Static("", markup=False, classes="image-figures")

    def _figures_text(self) -> Text:
        s = image_summary(self.image, self.eff)
        text = Text()
        for label, value in (
            ("Image name", s.name),
            ("Total Image size", s.total_size),
            ("Potential wasted space", s.wasted),
        ):
            text.append(f"{label}: ", style="bold")
            text.append(value + "\n")
        text.append("Image efficiency score: ", style="bold")
        text.append(f"{s.efficiency}   ")
        text.append("User wasted: ", style="bold")
        text.append(s.user_wasted + "\n")
        # The true figure (what a squash saves) beside dive's; docs/metrics.md says why they differ.
        text.append("Reclaimable: ", style="bold")
        text.append(reclaim_line(self.image, self.insights))
        return text

    def show_insights(self) -> None:
        """The insights arrived (or failed): redraw the reclaimable line."""
        self._figures.update(self._figures_text())

    def compose(self) -> ComposeResult:
        self._figures.update(self._figures_text())
        yield self._figures
        table: DataTable[str | Text] = DataTable(cursor_type="row", zebra_stripes=False, id="wasted-table")
        table.add_column("Count", width=5)
        table.add_column("Total Space", width=11)
        table.add_column("Why")
        table.add_column("Path")
        # A chown -R layer can make every file "inefficient": list the biggest ones;
        # --json has them all.
        shown = self.eff.inefficient[:TABLE_LIMIT]
        reasons = waste_reasons(self.image, [w.path for w in shown])
        for i, (w, why) in enumerate(zip(shown, reasons, strict=True)):
            # A Text, not a str: DataTable parses str cells as markup, and a file may be named "[/]".
            table.add_row(
                str(w.count), humanize_bytes(w.cumulative), Text(why, style="dim"), Text(printable(w.path)), key=str(i)
            )
        rest = len(self.eff.inefficient) - len(shown)
        if rest > 0:
            table.add_row("", "", "", f"… and {rest:,} more (smaller; all are in --json)", key="more")
        yield table

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is None or event.row_key.value == "more":
            return
        waste = self.eff.inefficient[int(event.row_key.value)]
        self.post_message(self.JumpToFile(waste.path, waste.layers[-1]))
