"""The images of a multi-image archive (``docker save a b``), and switching between them.

``I`` opens a table like ``docker system df -v``: per image its layers,
stored size, the bytes it shares with the archive's other images and its
own; underneath, what the archive stores against the sum of the image
sizes.  Enter on a row opens that image in place of this one, without
restarting divepy.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from dive_py.core.model.image import Image
from dive_py.core.model.image_set import ImageSetRow, image_set
from dive_py.core.text import printable
from dive_py.core.units import humanize_bytes


def _cut(text: str, cells: int) -> str:
    return text if cell_len(text) <= cells else text[: max(1, cells - 1)] + "…"


class ImagesScreen(ModalScreen[ImageSetRow | None]):
    """Every image of the archive; Enter returns the one to open."""

    DEFAULT_CSS = """
    ImagesScreen { align: center middle; }
    ImagesScreen > Vertical { width: 90%; max-width: 120; height: auto; max-height: 90%;
                              border: round $accent; background: $surface; padding: 0 1; }
    ImagesScreen DataTable { height: auto; scrollbar-size-horizontal: 0; }
    ImagesScreen #images-total { color: $foreground-muted; margin-top: 1; }
    """
    BINDINGS = [Binding("escape,q,I", "close", "Close", show=False)]

    def __init__(self, image: Image) -> None:
        super().__init__()
        self.found = image_set(image)
        self._answered = False

    def compose(self) -> ComposeResult:
        found = self.found
        with Vertical() as box:
            box.border_title = f"Images in this archive ({len(found.rows)})"
            box.border_subtitle = "Enter opens an image · Esc closes"
            table: DataTable[str | Text] = DataTable(cursor_type="row", id="images-table")
            for label in ("", "Image", "Platform", "Layers", "Size", "Shared", "Unique"):
                table.add_column(label)
            name_cells = self._name_cells()
            # Room for the totals underneath, however many images there are.
            table.styles.max_height = max(3, int(self.app.size.height * 0.9) - 9)
            for i, row in enumerate(found.rows):
                table.add_row(
                    "*" if row.selected else "",
                    Text(_cut(printable(row.display_name), name_cells)),
                    Text(printable(row.platform or "-")),
                    str(row.layers),
                    humanize_bytes(row.size),
                    humanize_bytes(row.shared),
                    humanize_bytes(row.unique),
                    key=str(i),
                )
            yield table
            total = (
                f"Stored: {humanize_bytes(found.stored)} of layers for images adding up to "
                f"{humanize_bytes(found.sum_of_sizes)}; shared layers are stored once."
            )
            if found.archive_bytes is not None:
                total += f" The archive takes {humanize_bytes(found.archive_bytes)} on disk."
            total += " Sizes are layer blobs as stored (compressed if compressed). * = shown now."
            yield Static(total, id="images-total", markup=False)

    def _name_cells(self) -> int:
        """Cells left for the image name once every figure column has its room (names are cut, not figures)."""
        box = min(120, int(self.app.size.width * 0.9)) - 4  # border and padding
        platform = max([len("Platform"), *(len(printable(r.platform or "-")) for r in self.found.rows)])
        figures = 1 + platform + len("Layers") + 3 * 9 + 7 * 2  # mark, platform, layers, sizes, cell padding
        return max(8, box - figures)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.focus()
        current = next((i for i, r in enumerate(self.found.rows) if r.selected), 0)
        table.move_cursor(row=current)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            row = self.found.rows[int(event.row_key.value)]
            self._close(None if row.selected else row)

    def action_close(self) -> None:
        self._close(None)

    def _close(self, result: ImageSetRow | None) -> None:
        # Once: a second Enter (or Enter then Esc) queued behind the first must not
        # dismiss again -- that would pop the explorer itself.
        if self._answered:
            return
        self._answered = True
        self.dismiss(result)


__all__ = ["ImagesScreen"]
