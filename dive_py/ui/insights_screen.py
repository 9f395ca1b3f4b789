"""The Insights screen (``i``): the waste explained, junk and duplicates, each row a way into the tree.

Four lists in tabs -- findings (the true reclaimable bytes, grouped into
causes), junk in the final image, duplicate files, and dive's Image Details
with its inefficient-files table -- under the headline.  The highlighted
row's story (the step that stored the bytes, the step that hid them, the
fix) shows underneath; Enter closes the screen and opens the tree on the
path at the layer that stored it.  The insights are worked out on a thread
after the explorer is up; until they are ready the screen says so and
fills in when they arrive.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from dive_py.core.text import printable
from dive_py.ui.widgets.details import ImageDetails
from dive_py.viewmodel.insights import (
    InsightTab,
    duplicates_tab,
    findings_tab,
    junk_tab,
    short_summary,
    summary_lines,
)
from dive_py.viewmodel.session import Session

#: The lists, in tab order; the fourth tab is dive's Image Details.
LISTS = ("findings", "junk", "duplicates")
DETAILS_TAB = "dive"
#: Below this many rows or columns the screen is compact: a one-line summary, a shorter detail.
COMPACT_ROWS = 32
COMPACT_COLUMNS = 100


@dataclass(slots=True, frozen=True)
class JumpTarget:
    """Where Enter goes: ``path`` in the tree at ``layer``, with ``note`` saying what the bytes are."""

    path: str
    layer: int
    note: str = ""


class InsightsScreen(ModalScreen[JumpTarget | None]):
    """The insights over the whole screen; a row returns the place to show in the tree."""

    DEFAULT_CSS = """
    InsightsScreen { align: center middle; }
    InsightsScreen > Vertical { width: 100%; height: 100%; border: round $accent; background: $surface; }
    InsightsScreen #insights-summary { height: auto; padding: 0 1; }
    InsightsScreen TabbedContent { height: 1fr; }
    InsightsScreen TabPane { padding: 0; height: 1fr; }
    InsightsScreen DataTable { height: 1fr; scrollbar-size-horizontal: 0; }
    InsightsScreen #insight-detail { height: auto; max-height: 9; padding: 0 1; border-top: solid $foreground 30%; }
    InsightsScreen.-compact #insights-summary { height: 1; }
    InsightsScreen.-compact #insight-detail { max-height: 5; }
    """
    BINDINGS = [
        Binding("escape,q,i", "close", "Close", show=False),
        Binding("tab,right", "next_tab", "Next list", show=False, priority=True),
        Binding("shift+tab,left", "previous_tab", "Previous list", show=False, priority=True),
        # The explorer's vi keys move in these lists too (DataTable binds only the arrows).
        Binding("j", "move(1)", "Down", show=False),
        Binding("k", "move(-1)", "Up", show=False),
    ]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.tabs: dict[str, InsightTab] = {}
        self._answered = False
        self._filled = False
        self._mounted = False

    def compose(self) -> ComposeResult:
        image = self.session.image
        with Vertical() as box:
            box.border_title = f"Insights · {printable(image.display_name)}"
            box.border_subtitle = "Enter shows it in the tree · Tab next list · Esc closes"
            yield Static("", id="insights-summary", markup=False)
            with TabbedContent(id="insight-tabs"):
                for tab_id in LISTS:
                    with TabPane(tab_id.capitalize(), id=f"tab-{tab_id}"):
                        yield DataTable(cursor_type="row", zebra_stripes=False, id=f"{tab_id}-table")
                with TabPane("Image Details (dive)", id=f"tab-{DETAILS_TAB}"):
                    yield ImageDetails(
                        image, self.session.efficiency, self.session.insights, id="insights-image-details"
                    )
            yield Static("", id="insight-detail", markup=False)

    def on_mount(self) -> None:
        self._mounted = True
        self._apply_size()
        self.fill()
        self._focus_active()

    def insights_arrived(self) -> None:
        """The explorer's job finished: fill the lists, unless they are not there to fill.

        The answer can land between the push and the mount (on_mount fills then) or behind a
        queued Esc, while the screen's widgets are being removed.
        """
        if self._mounted and not self._answered:
            self.fill()

    def on_resize(self) -> None:
        self._apply_size()
        self._show_summary()

    @property
    def compact(self) -> bool:
        size = self.app.size
        return size.height < COMPACT_ROWS or size.width < COMPACT_COLUMNS

    def _apply_size(self) -> None:
        """A small terminal keeps the list readable: the summary takes one line, the detail five."""
        self.set_class(self.compact, "-compact")

    def _show_summary(self) -> None:
        job = self.session.insights
        summary = self.query_one("#insights-summary", Static)
        if job.result is None:
            what = f"The insights could not be worked out: {job.error}" if job.error else "Working out the insights…"
            summary.update(Text(what, style="bold"))
            return
        image, ins = self.session.image, job.result
        if self.compact:
            summary.update(Text(short_summary(image, ins), style="bold", no_wrap=True, overflow="ellipsis"))
            return
        head, squash = summary_lines(image, ins)
        text = Text(head, style="bold")
        text.append("\n" + squash, style="dim")
        summary.update(text)

    # -- content ----------------------------------------------------------------------
    def fill(self) -> None:
        """Show the insights, or say they are still being worked out (called again when they arrive)."""
        job = self.session.insights
        self._show_summary()
        if job.result is None:
            for tab_id in LISTS:
                table = self._table(tab_id)
                table.clear(columns=True)
                table.add_column("")
                table.add_row("unavailable" if job.error else "measuring…", key="none")
            return
        if self._filled:
            return
        self._filled = True
        image, ins = self.session.image, job.result
        self.tabs = {"findings": findings_tab(image, ins), "junk": junk_tab(image, ins)}
        self.tabs["duplicates"] = duplicates_tab(image, ins)
        tabbed = self.query_one(TabbedContent)
        for tab_id, tab in self.tabs.items():
            tabbed.get_tab(f"tab-{tab_id}").label = f"{tab.title} ({len(tab.rows)})"
            table = self._table(tab_id)
            table.clear(columns=True)
            for column in tab.columns:
                table.add_column(column)
            # Text cells, not str: DataTable parses str as markup, and a path may be named "[/]".
            for i, row in enumerate(tab.rows):
                table.add_row(*(Text(cell) for cell in row.cells), key=str(i))
            last = tab.more if tab.rows else tab.empty
            if last:  # in the last column, the widest
                table.add_row(
                    *(Text(last if n == len(tab.columns) - 1 else "", style="dim") for n in range(len(tab.columns))),
                    key="none",
                )
        self._show_detail()

    def _table(self, tab_id: str) -> DataTable[Text | str]:
        return self.query_one(f"#{tab_id}-table", DataTable)

    def _active(self) -> str:
        return self.query_one(TabbedContent).active.removeprefix("tab-")

    def _show_detail(self) -> None:
        detail = self.query_one("#insight-detail", Static)
        active = self._active()
        tab = self.tabs.get(active)
        if tab is None:
            detail.update("")
            detail.display = False
            return
        detail.display = True
        table = self._table(active)
        row = tab.rows[table.cursor_row] if 0 <= table.cursor_row < len(tab.rows) else None
        if row is None:
            detail.update(Text(tab.empty if not tab.rows else "", style="dim"))
            return
        lines = list(row.detail)
        if self.compact:  # the fix first, where a short detail pane cannot cut it off
            fixes = [line for line in lines if line.startswith("fix: ")]
            lines = lines[:1] + fixes + [line for line in lines[1:] if not line.startswith("fix: ")]
        text = Text()
        for n, line in enumerate(lines):
            if n:
                text.append("\n")
            text.append(line, style="bold" if n == 0 else ("green" if line.startswith("fix: ") else ""))
        detail.update(text)

    # -- keys and events -----------------------------------------------------------
    def _focus_active(self) -> None:
        active = self._active()
        if active == DETAILS_TAB:
            self.query_one("#wasted-table", DataTable).focus()
        else:
            self._table(active).focus()

    def _switch(self, step: int) -> None:
        order = [f"tab-{t}" for t in (*LISTS, DETAILS_TAB)]
        tabbed = self.query_one(TabbedContent)
        tabbed.active = order[(order.index(tabbed.active) + step) % len(order)]

    def action_move(self, step: int) -> None:
        table = self.focused
        if isinstance(table, DataTable):
            table.move_cursor(row=max(0, table.cursor_row + step))

    def action_next_tab(self) -> None:
        self._switch(1)

    def action_previous_tab(self) -> None:
        self._switch(-1)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        event.stop()
        self._focus_active()
        self._show_detail()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id != "wasted-table":
            self._show_detail()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "wasted-table":
            return  # ImageDetails turns it into a JumpToFile
        event.stop()
        tab = self.tabs.get(self._active())
        key = event.row_key.value
        if tab is None or key is None or key == "none":
            return
        row = tab.rows[int(key)]
        self._close(JumpTarget(row.path, row.layer, row.note))

    def on_image_details_jump_to_file(self, event: ImageDetails.JumpToFile) -> None:
        event.stop()
        self._close(JumpTarget(event.path, event.layer))

    def action_close(self) -> None:
        self._close(None)

    def _close(self, result: JumpTarget | None) -> None:
        # Once: keys queued behind the first Enter must not dismiss the explorer too.
        if self._answered:
            return
        self._answered = True
        self.dismiss(result)


__all__ = ["InsightsScreen", "JumpTarget"]
