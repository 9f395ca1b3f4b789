"""The image picker: ``divepy`` with no IMAGE on a terminal, when an engine answers.

A table of the engines' local images, like ``docker images`` with the
shared and unique sizes of ``docker system df -v`` (shared layers are
stored once).  Enter opens the highlighted image in the explorer; Esc or
``q`` leaves without opening anything.  It is an app of its own, run
before the explorer: the explorer then opens the choice like any
``docker://NAME``.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import DataTable, Static

from dive_py.viewmodel.engine_images import COLUMNS, PickerRow


class PickerApp(App[PickerRow | None]):
    """Pick one local image; the app's return value is the row (None: quit)."""

    CSS = """
    Screen { background: $surface; }
    #picker { border: round $accent; height: 1fr; padding: 0 1; }
    #picker-help { color: $foreground-muted; height: 1; }
    DataTable { height: 1fr; }
    """
    BINDINGS = [Binding("escape,q", "leave", "Quit", show=False), Binding("ctrl+c", "leave", "Quit", show=False)]
    ENABLE_COMMAND_PALETTE = False

    def __init__(self, rows: list[PickerRow], where: str) -> None:
        super().__init__()
        self.rows = rows
        self.where = where
        self._answered = False

    def compose(self) -> ComposeResult:
        with Vertical(id="picker") as box:
            # Plain content, not a str: a border title parses a str as markup (an address may hold "[").
            box.border_title = Content(f"Local images ({len(self.rows)}) · {self.where}")
            box.border_subtitle = "Enter opens an image · Esc quits"
            table: DataTable[Text] = DataTable(cursor_type="row", id="picker-table", zebra_stripes=True)
            for label in COLUMNS:
                table.add_column(label)
            for i, row in enumerate(self.rows):
                table.add_row(*(Text(cell) for cell in row.cells), key=str(i))  # Text: never markup
            yield table
            yield Static(
                "Shared: bytes in layers other images use too, stored once. Unique: this image's own.", id="picker-help"
            )

    def on_mount(self) -> None:
        self.set_focus(self.query_one(DataTable))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if self._answered:  # Enter twice in one burst: one answer
            return
        self._answered = True
        self.exit(self.rows[event.cursor_row])

    def action_leave(self) -> None:
        if not self._answered:
            self._answered = True
            self.exit(None)


def pick(rows: list[PickerRow], where: str) -> PickerRow | None:
    """Run the picker in this terminal; the chosen row, or None when the user left."""
    return PickerApp(rows, where).run()


__all__ = ["PickerApp", "pick"]
