"""The explorer screen: layers and details on the left, the file tree on the right.

Data flows "attributes down, messages up": panes post messages
(``LayerListView.Selected``, ``ImageDetails.JumpToFile``, ``InputBar.Changed``
...) and this screen updates the session's models and tells the panes to
repaint.  Panes never talk to each other.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import DataTable, Static

from dive_py.core.compare import ADDED, MODIFIED, REMOVED, UNMODIFIED
from dive_py.core.text import printable
from dive_py.ui.bindings import bindings_for
from dive_py.ui.detail_screens import ImageDetailsScreen, ImageSummaryPane
from dive_py.ui.prompts import PromptsMixin
from dive_py.ui.widgets.bars import InputBar, KeyBar
from dive_py.ui.widgets.details import ImageDetails, LayerDetails
from dive_py.ui.widgets.file_tree import FileTreeView, title_for
from dive_py.ui.widgets.layer_list import LayerListView
from dive_py.viewmodel.bindings import GLOBAL, LAYERS, TREE
from dive_py.viewmodel.row_text import ATTRIBUTE_HEADER, PLAIN_HEADER
from dive_py.viewmodel.session import Session

#: Below this many terminal columns the layout is narrow: a thin layer column, details on demand.
NARROW_BELOW = 90
#: Width of the layer column in the narrow layout (index and size only).
NARROW_LAYER_COLUMN = 18


def _shown(widget: Widget) -> bool:
    """Displayed, and so are all its ancestors (a hidden pane hides its table)."""
    node: Widget | None = widget
    while node is not None:
        if not node.display:
            return False
        parent = node.parent
        node = parent if isinstance(parent, Widget) else None
    return True


class MainScreen(PromptsMixin):
    """Layers | file tree, with the filter, search and key bars underneath."""

    BINDINGS = bindings_for(GLOBAL)

    def __init__(self, session: Session, *, keymap: dict[str, str], show_attributes: bool = True,
                 pane_width: float = 0.5) -> None:
        super().__init__()
        self.session = session
        self.keymap = keymap
        self.show_attributes = show_attributes
        self.pane_width = pane_width
        self.last_search = ""
        self._filter_timer = None
        self._search = None

    def compose(self) -> ComposeResult:
        s = self.session
        with Horizontal(id="columns"):
            with Vertical(id="left"):
                with Vertical(id="layers-pane", classes="pane") as pane:
                    pane.border_title = "Layers"
                    yield Static("Cmp" + f"{'Size':>8}  Command", id="layers-header", classes="pane-header")
                    yield LayerListView(s.layers, id="layers")
                with Vertical(id="layer-details-pane", classes="pane") as pane:
                    pane.border_title = "Layer Details"
                    yield LayerDetails(s.image, id="layer-details")
                with Vertical(id="image-details-pane", classes="pane") as pane:
                    pane.border_title = "Image Details"
                    yield ImageDetails(s.image, s.efficiency, id="image-details")
                with Vertical(id="image-summary-pane", classes="pane") as pane:
                    pane.border_title = "Image"
                    yield ImageSummaryPane(s.image, s.efficiency, id="image-summary")
            with Vertical(id="right", classes="pane") as pane:
                pane.border_title = title_for(s.tree)
                yield Static("", id="tree-header", classes="pane-header")
                yield FileTreeView(s.tree, show_attributes=self.show_attributes, id="tree")
        yield InputBar("Path Filter:", "regex, searched in the full path", id="filter")
        yield InputBar("Search:", "regex; Enter jumps, n / N next / previous", id="search")
        yield KeyBar(self.keymap, id="keys")

    # -- wiring ----------------------------------------------------------------------
    @property
    def file_tree(self) -> FileTreeView:
        return self.query_one(FileTreeView)

    @property
    def layer_list(self) -> LayerListView:
        return self.query_one(LayerListView)

    def on_mount(self) -> None:
        self._apply_layout()
        self.query_one(LayerDetails).show_layer(self.session.layers.selected)
        self.layer_list.focus()
        self._update_tree_chrome()

    @property
    def narrow(self) -> bool:
        return self.app.size.width < NARROW_BELOW

    def _apply_layout(self) -> None:
        """filetree.pane-width on wide screens; a thin layer list on narrow ones.

        Decided from the terminal's size, at start-up as on every resize: the first
        frame at 80x24 is already the narrow layout.
        """
        narrow = self.narrow
        self.set_class(narrow, "-narrow")
        left = self.query_one("#left")
        right = self.query_one("#right")
        if narrow:
            left.styles.width = NARROW_LAYER_COLUMN
            right.styles.width = "1fr"
        else:
            left.styles.width = f"{round((1 - self.pane_width) * 100)}fr"
            right.styles.width = f"{round(self.pane_width * 100)}fr"
        self.layer_list.compact = narrow
        self.layer_list.refresh()

    def on_resize(self) -> None:
        self._apply_layout()
        self._update_tree_chrome()

    def _focused_scope(self) -> str:
        focused = self.focused
        if isinstance(focused, FileTreeView):
            return TREE
        if isinstance(focused, LayerListView):
            return LAYERS
        return GLOBAL

    def _toggle_state(self, name: str) -> bool | None:
        s = self.session
        hidden = s.tree.hidden
        return {
            "layer_changes": not s.layers.aggregated, "aggregated": s.layers.aggregated,
            "sort_by_size": s.tree.sort_by_size, "show_attributes": self.file_tree.show_attributes,
            "wrap": self.file_tree.wrap, "filter": bool(s.tree.filter_text),
            "show_added": ADDED not in hidden, "show_removed": REMOVED not in hidden,
            "show_modified": MODIFIED not in hidden, "show_unmodified": UNMODIFIED not in hidden,
        }.get(name)

    def _update_tree_chrome(self) -> None:
        tree = self.file_tree
        self.query_one("#right").border_title = Content(printable(title_for(self.session.tree)))
        header = ATTRIBUTE_HEADER if tree.attributes_shown else PLAIN_HEADER
        self.query_one("#tree-header", Static).update(header)
        self.query_one(KeyBar).show(self._focused_scope(), self._toggle_state)

    def on_descendant_focus(self, event: object) -> None:
        self._update_tree_chrome()

    def on_file_tree_view_changed(self, event: FileTreeView.Changed) -> None:
        self._update_tree_chrome()

    def on_file_tree_view_cursor_moved(self, event: FileTreeView.CursorMoved) -> None:
        pane = self.query_one("#right")
        # Plain content, not a str: a border title parses a str as markup, and a file may be named "[/]".
        path = "/" + self.session.image.paths.paths[event.pid] if event.pid is not None else ""
        pane.border_subtitle = Content(printable(path))

    def on_layer_list_view_selected(self, event: LayerListView.Selected) -> None:
        self.session.select_layer(event.layer, event.aggregated)
        self.query_one(LayerDetails).show_layer(event.layer)
        self.file_tree.rebuild()

    def on_image_details_jump_to_file(self, event: ImageDetails.JumpToFile) -> None:
        self.jump_to_file(event.path, event.layer)

    def jump_to_file(self, path: str, layer: int) -> None:
        """Select ``layer`` and show ``path`` in the tree (a row of the wasted-files table)."""
        self.session.select_layer(layer, aggregated=False)
        self.layer_list.refresh()
        self.layer_list.scroll_to_region_row(self.session.layers.cursor_row)
        self.query_one(LayerDetails).show_layer(layer)
        self.session.tree.show_path(path)
        self.query_one("#filter", InputBar).close()
        self.file_tree.rebuild()
        self.file_tree.focus()

    def action_image_details(self) -> None:
        """``i``: the wasted-files table -- in its pane when it is on screen, else over the screen."""
        if not self.narrow:
            self.query_one("#wasted-table", DataTable).focus()
            return

        def jump(result: tuple[str, int] | None) -> None:
            if result is not None:
                self.jump_to_file(*result)

        self.app.push_screen(ImageDetailsScreen(self.session.image, self.session.efficiency), jump)

    # -- viewing and extraction ----------------------------------------------------
    def action_view_file(self) -> None:
        """``v``: the content of the path under the cursor, or what this layer changed in it."""
        from dive_py.ui.viewer import ViewerScreen

        s = self.session
        pid = s.tree.selected
        if pid is None:
            return
        # A yellow or red row raises "what happened here?": open on the changes.
        changed = s.tree.diff_of(pid) in (MODIFIED, REMOVED) and s.layers.selected > 0
        self.app.push_screen(ViewerScreen(s.image, "/" + s.image.paths.paths[pid], s.layers.selected,
                                          "changes" if changed else "content", keymap=self.keymap))

    def action_extract_file(self) -> None:
        """Ctrl+E: write the path under the cursor, as it is after the selected layer."""
        from dive_py.core.extract import entries_under
        from dive_py.errors import DiveError
        from dive_py.ui.extract_dialog import ExtractDialog, describe
        from dive_py.viewmodel.file_view import last_layer_with

        s = self.session
        pid = s.tree.selected
        if pid is None:
            return
        path = "/" + s.image.paths.paths[pid]
        layer = s.layers.selected
        removed_by = None
        if s.tree.diff_of(pid) == REMOVED:
            # What the viewer shows for a removed path: the state before the removing layer.
            before = last_layer_with(s.image, path, layer)
            if before is None:
                return
            layer, removed_by = before, before + 1
        try:
            entries = entries_under(s.image, path, layer)
        except DiveError as exc:
            self.notify(printable(exc.message), severity="warning", timeout=4, markup=False)
            return
        dialog = ExtractDialog(s.image, path, layer, describe(s.image, entries, path), removed_by=removed_by)
        self.app.push_screen(dialog, self._extracted)

    def _extracted(self, result: object) -> None:
        from dive_py.core.extract import ExtractResult

        if isinstance(result, ExtractResult):
            self.notify(printable(f"Wrote {result.dest}: {result.summary()}"), title="Extracted", timeout=6,
                        markup=False)

    # -- focus ---------------------------------------------------------------------
    def _panes(self) -> list[Widget]:
        return [self.layer_list, self.file_tree, self.query_one("#wasted-table", DataTable)]

    def _cycle(self, step: int) -> None:
        panes = [p for p in self._panes() if _shown(p)]
        if not panes:
            return
        focused = self.focused
        index = panes.index(focused) if focused in panes else -1
        panes[(index + step) % len(panes)].focus()

    def action_focus_next_pane(self) -> None:
        self._cycle(1)

    def action_focus_previous_pane(self) -> None:
        self._cycle(-1)

    def action_help(self) -> None:
        from dive_py.ui.screens import HelpScreen

        self.app.push_screen(HelpScreen(self.keymap))
