"""The file viewer (``v`` in the file tree): a file's content, or what the layer changed in it.

Rows come from :mod:`dive_py.viewmodel.file_view`; this module only draws
them.  Like the file tree, :class:`ContentView` is one ``ScrollView`` with
the Line API, so a 1 MiB file (tens of thousands of rows, or a minified
script on one enormous line) scrolls as fast as a short one: only the lines
on screen are turned into strips.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.geometry import Size
from textual.screen import ModalScreen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from dive_py.core.model.image import Image
from dive_py.core.text import printable
from dive_py.errors import DiveError
from dive_py.ui.bindings import bindings_for
from dive_py.viewmodel.bindings import VIEWER, display_key, keys_for
from dive_py.viewmodel.file_view import (
    ADDED,
    CHANGE,
    CONTEXT,
    HEADER,
    HEX,
    HUNK,
    NOTE,
    REMOVED,
    TEXT,
    FileView,
    Row,
    build_view,
)

_KIND_CLASS = {
    NOTE: "content-view--note",
    ADDED: "content-view--added",
    REMOVED: "content-view--removed",
    HUNK: "content-view--hunk",
    HEADER: "content-view--header",
    CHANGE: "content-view--change",
    HEX: "content-view--hex",
    TEXT: "",
    CONTEXT: "",
}


class ContentView(ScrollView, can_focus=True):
    """Rows of text with an optional line-number gutter, scrolled in both directions."""

    COMPONENT_CLASSES = {"content-view--gutter", *(c for c in _KIND_CLASS.values() if c)}
    DEFAULT_CSS = """
    ContentView { scrollbar-size-vertical: 1; scrollbar-size-horizontal: 1; }
    ContentView > .content-view--gutter { color: $foreground-muted; }
    ContentView > .content-view--note { color: $foreground-muted; text-style: italic; }
    ContentView > .content-view--added { color: $success; }
    ContentView > .content-view--removed { color: $error; }
    ContentView > .content-view--hunk { color: $accent; }
    ContentView > .content-view--header { text-style: bold; }
    ContentView > .content-view--change { color: $warning; }
    ContentView > .content-view--hex { color: $foreground; }
    """
    BINDINGS = [
        Binding("up,k", "scroll_up", "Up", show=False),
        Binding("down,j", "scroll_down", "Down", show=False),
        Binding("left,h", "scroll_left", "Left", show=False),
        Binding("right,l", "scroll_right", "Right", show=False),
        Binding("pageup,u", "page_up", "Page up", show=False),
        Binding("pagedown,d,space", "page_down", "Page down", show=False),
        Binding("home,g", "scroll_home", "Top", show=False),
        Binding("end,G", "scroll_end", "Bottom", show=False),
    ]

    def __init__(self, rows: list[Row], id: str | None = None) -> None:
        super().__init__(id=id)
        self.set_rows(rows)

    def set_rows(self, rows: list[Row]) -> None:
        self.rows = rows
        numbers = [r.number for r in rows if r.number is not None]
        self.gutter_width = len(str(max(numbers))) + 3 if numbers else 0  # "  12 │ " minus one space
        widest = max((cell_len(r.text) if not r.text.isascii() else len(r.text) for r in rows), default=0)
        self.virtual_size = Size(widest + self.gutter_width + 1, len(rows))
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        index = y + scroll_y
        base = self.rich_style
        if index >= len(self.rows):
            return Strip.blank(width, base)
        row = self.rows[index]
        style = base
        if _KIND_CLASS[row.kind]:
            style = base + self.get_component_rich_style(_KIND_CLASS[row.kind], partial=True)
        segments: list[Segment] = []
        if self.gutter_width:
            number = "" if row.number is None else str(row.number)
            gutter_style = base + self.get_component_rich_style("content-view--gutter", partial=True)
            segments.append(Segment(f"{number:>{self.gutter_width - 3}} │ ", gutter_style))
        text_width = max(1, width - self.gutter_width)
        text = row.text
        if text.isascii():  # cut before building the strip: a minified file may be one 1 MB line
            segments.append(Segment(text[scroll_x : scroll_x + text_width], style))
            return Strip(segments).extend_cell_length(width, base)
        body = Strip([Segment(text, style)]).crop(scroll_x, scroll_x + text_width)
        return Strip(segments + list(body)).extend_cell_length(width, base)


class ViewerScreen(ModalScreen[None]):
    """A file's content or its changes, over the explorer; Esc goes back."""

    DEFAULT_CSS = """
    ViewerScreen { align: center middle; }
    ViewerScreen > Vertical { width: 94%; height: 92%; border: round $accent; background: $surface; }
    ViewerScreen #viewer-summary { height: 1; color: $foreground-muted; padding: 0 1; }
    ViewerScreen #viewer-keys { height: 1; background: $panel; padding: 0 1; }
    ViewerScreen ContentView { height: 1fr; padding: 0 0 0 1; }
    """
    BINDINGS = bindings_for(VIEWER)

    def __init__(self, image: Image, path: str, layer: int, mode: str, keymap: dict[str, str] | None = None) -> None:
        super().__init__()
        self.image = image
        self.keymap = keymap or {}
        # Shown until the worker has read the file (a file deep in a big compressed layer takes a while).
        self.view = FileView(path, layer, mode, f"Reading {path}…", can_show_changes=False)

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self._title()
            yield Static(self.view.summary, id="viewer-summary", markup=False)
            yield ContentView([], id="viewer-content")
            yield Static(self._keys(), id="viewer-keys", markup=False)

    def on_mount(self) -> None:
        self.query_one(ContentView).focus()
        self._load(self.view.mode)

    @work(thread=True, exclusive=True, exit_on_error=False, name="view")
    def _load(self, mode: str) -> None:
        view = self.view
        try:
            built = build_view(self.image, view.path, view.layer, mode)
        except DiveError as exc:
            built = FileView(view.path, view.layer, mode, exc.message, [Row(exc.message, NOTE)])
        self.app.call_from_thread(self._show, built)

    def _show(self, view: FileView) -> None:
        self.view = view
        self.query_one(Vertical).border_title = self._title()
        self.query_one("#viewer-summary", Static).update(view.summary)
        self.query_one(ContentView).set_rows(view.rows)
        self.query_one("#viewer-keys", Static).update(self._keys())

    def _title(self) -> Content:
        """Plain content, not a str: a border title parses a str as markup, and a file may be named "[/]"."""
        what = "Content" if self.view.mode == "content" else f"Changes made by layer {self.view.layer}"
        return Content(f"{printable(self.view.path)} · {what}")

    def _keys(self) -> str:
        close = display_key(keys_for("close-viewer", self.keymap)[0])
        toggle = display_key(keys_for("toggle-viewer-mode", self.keymap)[0])
        other = "changes" if self.view.mode == "content" else "content"
        parts = [f"{close} Close"]
        if self.view.can_show_changes:
            parts.append(f"{toggle} Show {other}")
        parts.append("↑↓ PgUp PgDn Home End ←→ Scroll")
        return "  ▏".join(parts)

    def action_toggle_mode(self) -> None:
        if not self.view.can_show_changes:
            return
        self._load("changes" if self.view.mode == "content" else "content")

    def action_close(self) -> None:
        self.dismiss(None)


__all__ = ["ContentView", "ViewerScreen"]
