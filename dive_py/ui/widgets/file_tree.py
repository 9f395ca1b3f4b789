"""The file tree: one ``ScrollView`` drawing only the rows on screen (Line API).

There is no widget per row and no Textual ``Tree``: rows come from
:class:`~dive_py.viewmodel.file_tree.FileTreeModel` (a flat array of path
ids), each visible line is rendered on demand into a cached ``Strip``, and
a cursor move repaints two lines.  Colours come from component classes, so
the theme and ``dive.tcss`` decide them.
"""

from __future__ import annotations

import numpy as np
from rich.segment import Segment
from textual.cache import LRUCache
from textual.events import Click, Resize
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from dive_py.core.analysis.compare import ADDED, MODIFIED, REMOVED, UNMODIFIED
from dive_py.ui.bindings import bindings_for
from dive_py.ui.widgets.tree_widths import static_widths
from dive_py.viewmodel.bindings import NAV, TREE
from dive_py.viewmodel.file_tree import FileTreeModel
from dive_py.viewmodel.row_text import BAR_WIDTH, RowParts, continuation_guides, empty_reason, row_parts

ATTRIBUTE_WIDTH = 35  #: "drwxr-xr-x" + uid:gid (11) + size (10) + spacing
#: Wrapped names keep the tree guides when this many cells are left for the name.
MIN_WRAP_ROOM = 12
_DIFF_CLASS = {
    ADDED: "file-tree--added",
    REMOVED: "file-tree--removed",
    MODIFIED: "file-tree--modified",
    UNMODIFIED: "file-tree--unmodified",
}


class FileTreeView(ScrollView, can_focus=True):
    """The file tree pane.

    | Class | What it styles |
    |---|---|
    | `file-tree--added` / `--removed` / `--modified` / `--unmodified` | rows by diff type |
    | `file-tree--cursor` | the selected row |
    | `file-tree--guides` | the tree guide lines |
    """

    COMPONENT_CLASSES = {
        "file-tree--added",
        "file-tree--removed",
        "file-tree--modified",
        "file-tree--unmodified",
        "file-tree--cursor",
        "file-tree--guides",
        "file-tree--dir",
    }
    DEFAULT_CSS = """
    FileTreeView { scrollbar-size-vertical: 1; scrollbar-size-horizontal: 0; }
    FileTreeView > .file-tree--added { color: $success; }
    FileTreeView > .file-tree--removed { color: $error; }
    FileTreeView > .file-tree--modified { color: $warning; }
    FileTreeView > .file-tree--unmodified { color: $foreground; }
    FileTreeView > .file-tree--guides { color: $foreground-muted; }
    FileTreeView > .file-tree--dir { text-style: bold; }
    FileTreeView > .file-tree--cursor { background: $panel-lighten-2; color: $foreground; text-style: bold; }
    FileTreeView:focus > .file-tree--cursor { background: $block-cursor-background; color: $block-cursor-foreground;
                                               text-style: bold; }
    """
    BINDINGS = bindings_for(NAV) + bindings_for(TREE)

    class Changed(Message):
        """The tree's rows or view options changed (the key bar and title follow)."""

    class CursorMoved(Message):
        """The cursor moved to another path."""

        def __init__(self, pid: int | None) -> None:
            super().__init__()
            self.pid = pid

    def __init__(self, model: FileTreeModel, *, show_attributes: bool = True, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model = model
        self.show_attributes = show_attributes
        self.wrap = False
        self.bars = False  #: each path's share of the tree as a bar (``%``)
        self.auto_attributes = True  #: attributes hide themselves when the pane is narrow (dive: < 60)
        self._cache: LRUCache[tuple[int, int, bool, int], Strip] = LRUCache(2048)
        self._generation = 0
        self._widths: np.ndarray | None = None
        self._wrap_offsets: np.ndarray | None = None

    # -- geometry ---------------------------------------------------------------------
    @property
    def attributes_shown(self) -> bool:
        return self.show_attributes and (not self.auto_attributes or self.size.width >= 60 or self.size.width == 0)

    @property
    def page_height(self) -> int:
        return max(1, self.scrollable_content_region.height)

    def _row_widths(self) -> np.ndarray:
        """Cell width of every current row: vectorised over arrays computed once per image."""
        if self._widths is None:
            m = self.model
            name_cells, link_cells = static_widths(m)
            entry = m.tree.entry[m.rows]
            depth = m.index.depth[m.rows].astype(np.int64)
            self._widths = self._lead() + 4 * depth + name_cells[m.rows] + link_cells[entry]
        return self._widths

    def _prefix_widths(self) -> np.ndarray:
        """Cells before each row's name: attributes and tree guides (kept on wrapped lines)."""
        m = self.model
        return self._lead() + 4 * m.index.depth[m.rows].astype(np.int64)

    def _lead(self) -> int:
        """Cells before the guides: attribute columns and the size bar, when shown."""
        return (ATTRIBUTE_WIDTH if self.attributes_shown else 0) + (BAR_WIDTH if self.bars else 0)

    def _wrap_room(self, prefix: int, width: int) -> int:
        """Cells for the name on each wrapped line; 0 when the guides leave too little (plain wrap)."""
        room = width - prefix
        return room if room >= MIN_WRAP_ROOM else 0

    def _update_virtual_size(self) -> None:
        width = max(1, self.scrollable_content_region.width)
        n = len(self.model.rows)
        if self.wrap and n:
            prefix = self._prefix_widths()
            room = width - prefix
            guided = room >= MIN_WRAP_ROOM
            name = np.maximum(1, self._row_widths() - prefix)
            lines = np.where(guided, np.ceil(name / np.maximum(room, 1)), np.ceil(self._row_widths() / width))
            lines = np.maximum(1, lines).astype(np.int64)
            self._wrap_offsets = np.concatenate(([0], np.cumsum(lines)))
            self.virtual_size = Size(width, int(self._wrap_offsets[-1]))
        else:
            self._wrap_offsets = None
            widest = int(self._row_widths().max()) if n else 0
            self.virtual_size = Size(max(widest, width), n)

    def rebuild(self, top: int | None = None) -> None:
        """The model changed: drop cached lines, resize, keep the cursor in view.

        ``top`` puts a given row back at the top of the window (a cancelled search).
        """
        self._generation += 1
        self._cache.clear()
        self._widths = None
        self._update_virtual_size()
        if top is not None and len(self.model.rows):
            self.scroll_to(y=self._line_of_row(min(top, len(self.model.rows) - 1)), animate=False, immediate=True)
        self._scroll_cursor_into_view()
        # The new virtual size only takes effect after the next layout: scroll again then.
        self.call_after_refresh(self._scroll_cursor_into_view)
        self.refresh()
        self.post_message(self.Changed())
        self.post_message(self.CursorMoved(self.model.selected))

    def on_resize(self, event: Resize) -> None:
        self.rebuild()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    def _line_of_row(self, row: int) -> int:
        return int(self._wrap_offsets[row]) if self._wrap_offsets is not None else row

    def _row_of_line(self, y: int) -> tuple[int, int]:
        if self._wrap_offsets is None:
            return y, 0
        row = int(np.searchsorted(self._wrap_offsets, y, side="right")) - 1
        return row, y - int(self._wrap_offsets[row])

    def _scroll_cursor_into_view(self) -> None:
        m = self.model
        if not len(m.rows):
            return
        height = self.page_height
        m.top = self._row_of_line(int(self.scroll_y))[0]
        m.scroll_into_view(height if self._wrap_offsets is None else 1)
        target = self._line_of_row(m.top)
        if self._wrap_offsets is not None:
            first = self._line_of_row(m.cursor)
            last = self._line_of_row(m.cursor + 1) - 1 if m.cursor + 1 < len(m.rows) else first
            top = int(self.scroll_y)
            target = top if first >= top and last < top + height else max(0, first)
        if target != int(self.scroll_y):
            self.scroll_to(y=target, animate=False, immediate=True)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self.model.top = self._row_of_line(int(new))[0] if len(self.model.rows) else 0

    # -- painting ---------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        line = y + scroll_y
        width = self.scrollable_content_region.width
        row, sub = self._row_of_line(line)
        m = self.model
        if not len(m.rows) and line == 0:
            muted = self.rich_style + self.get_component_rich_style("file-tree--guides", partial=True)
            return Strip([Segment(empty_reason(m), muted)]).crop_extend(0, width, self.rich_style)
        if row < 0 or row >= len(m.rows):
            return Strip.blank(width, self.rich_style)
        cursor = row == m.cursor
        key = (self._generation, row, cursor, sub)
        strip = self._cache.get(key)
        if strip is None:
            parts = row_parts(m, row, attributes=self.attributes_shown, bars=self.bars)
            strip = self._render_row(parts, cursor)
            if self.wrap:
                strip = self._wrapped_line(parts, strip, sub, width, cursor)
            self._cache[key] = strip
        if self.wrap:
            return strip.extend_cell_length(width, self.rich_style)
        return strip.crop_extend(scroll_x, scroll_x + width, self.rich_style)

    def _wrapped_line(self, parts: RowParts, strip: Strip, sub: int, width: int, cursor: bool) -> Strip:
        """Line ``sub`` of a wrapped row: continuation lines keep the guides, the name goes on under itself."""
        prefix = len(parts.attributes) + len(parts.guides) + len(parts.marker)
        room = self._wrap_room(prefix, width)
        if not room:
            return strip.crop(sub * width, (sub + 1) * width)
        if sub == 0:
            return strip.crop(0, prefix + room)
        style = self.rich_style + self.get_component_rich_style(
            "file-tree--cursor" if cursor else "file-tree--guides", partial=True
        )
        continued = " " * len(parts.attributes) + continuation_guides(parts.guides) + "  "
        start = prefix + sub * room
        return Strip([Segment(continued, style), *strip.crop(start, start + room)])

    def _render_row(self, parts: RowParts, cursor: bool) -> Strip:
        base = self.rich_style
        diff_style = self.get_component_rich_style(_DIFF_CLASS[parts.diff], partial=True)
        name_style = base + diff_style
        if parts.is_dir:
            name_style += self.get_component_rich_style("file-tree--dir", partial=True)
        guide_style = base + self.get_component_rich_style("file-tree--guides", partial=True)
        segments = []
        if parts.attributes:
            segments.append(Segment(parts.attributes, base + diff_style))
        segments.append(Segment(parts.guides + parts.marker, guide_style))
        segments.append(Segment(parts.name, name_style))
        if cursor:
            cur = self.get_component_rich_style("file-tree--cursor", partial=True)
            # Like dive, the selected line drops the diff colour for readability.
            segments = [Segment(s.text, base + cur) for s in segments]
        return Strip(segments)

    # -- cursor helpers -----------------------------------------------------------------
    def _moved(self, old_row: int) -> None:
        m = self.model
        if old_row == m.cursor:
            return
        self._scroll_cursor_into_view()
        for row in (old_row, m.cursor):
            if 0 <= row < len(m.rows):
                start = self._line_of_row(row)
                count = self._line_of_row(row + 1) - start if self._wrap_offsets is not None else 1
                self.refresh_lines(start, count)
        self.post_message(self.CursorMoved(m.selected))

    def move(self, delta: int) -> None:
        old = self.model.cursor
        self.model.move(delta)
        self._moved(old)

    def action_cursor_up(self) -> None:
        self.move(-1)

    def action_cursor_down(self) -> None:
        self.move(1)

    def action_page_down(self) -> None:
        old = self.model.cursor
        self.model.page_down(self.page_height)
        self.scroll_to(y=self._line_of_row(self.model.top), animate=False, immediate=True)
        self._moved(old)
        self.refresh()

    def action_page_up(self) -> None:
        old = self.model.cursor
        self.model.page_up(self.page_height)
        self.scroll_to(y=self._line_of_row(self.model.top), animate=False, immediate=True)
        self._moved(old)
        self.refresh()

    def action_cursor_home(self) -> None:
        self.move(-self.model.cursor)

    def action_cursor_end(self) -> None:
        self.move(len(self.model.rows))

    def action_cursor_left(self) -> None:
        old = self.model.cursor
        self.model.cursor_left()
        self._moved(old)

    def action_cursor_right(self) -> None:
        before = len(self.model.rows)
        old = self.model.cursor
        self.model.cursor_right()
        if len(self.model.rows) != before:
            self.rebuild()
        else:
            self._moved(old)

    def action_toggle_collapse(self) -> None:
        if self.model.toggle_collapse():
            self.rebuild()

    def action_toggle_collapse_all(self) -> None:
        self.model.toggle_collapse_all()
        self.rebuild()

    def action_toggle_sort(self) -> None:
        self.model.toggle_sort()
        self.scroll_to(y=0, animate=False, immediate=True)
        self.rebuild()

    def _toggle_hidden(self, diff_type: int) -> None:
        self.model.toggle_hidden(diff_type)
        self.rebuild()

    def action_toggle_added(self) -> None:
        self._toggle_hidden(ADDED)

    def action_toggle_removed(self) -> None:
        self._toggle_hidden(REMOVED)

    def action_toggle_modified(self) -> None:
        self._toggle_hidden(MODIFIED)

    def action_toggle_unmodified(self) -> None:
        self._toggle_hidden(UNMODIFIED)

    def action_toggle_attributes(self) -> None:
        self.show_attributes = not self.show_attributes
        self.rebuild()

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap
        self.scroll_to(x=0, animate=False, immediate=True)
        self.rebuild()

    # -- mouse ------------------------------------------------------------------------
    def on_click(self, event: Click) -> None:
        line = event.y + int(self.scroll_y)
        row, _ = self._row_of_line(line)
        m = self.model
        if not 0 <= row < len(m.rows):
            return
        old = m.cursor
        m.move_to(row)
        parts = row_parts(m, row, attributes=self.attributes_shown, bars=self.bars)
        x = event.x + int(self.scroll_x)
        branch = len(parts.attributes) + len(parts.guides) - 2
        on_branch = x >= branch and (old == row or x < branch + 4 or event.chain >= 2)
        if parts.is_dir and on_branch and m.toggle_collapse():
            self.rebuild()
            return
        self._moved(old)

    def on_focus(self) -> None:
        self._cache.clear()
        self.refresh()

    def on_blur(self) -> None:
        self._cache.clear()
        self.refresh()


__all__ = ["FileTreeView"]
