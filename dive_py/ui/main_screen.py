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
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Static

from dive_py.core.analysis.compare import ADDED, MODIFIED, REMOVED, UNMODIFIED
from dive_py.core.model.image_set import ImageSetRow
from dive_py.core.text import printable
from dive_py.ui.bindings import bindings_for
from dive_py.ui.detail_screens import ImageSummaryPane
from dive_py.ui.file_actions import FileActionsMixin
from dive_py.ui.insights_screen import InsightsScreen, JumpTarget
from dive_py.ui.prompts import PromptsMixin
from dive_py.ui.widgets.bars import InputBar, KeyBar
from dive_py.ui.widgets.details import ImageDetails, LayerDetails
from dive_py.ui.widgets.file_tree import FileTreeView
from dive_py.ui.widgets.layer_list import LayerListView
from dive_py.viewmodel.bindings import BY_ID, GLOBAL, LAYERS, TREE
from dive_py.viewmodel.row_text import ATTRIBUTE_HEADER, PLAIN_HEADER, title_for
from dive_py.viewmodel.session import Session

#: Below this many terminal columns the layout is narrow: a thin layer column, details on demand.
NARROW_BELOW = 90
#: Width of the layer column in the narrow layout (index and size only).
NARROW_LAYER_COLUMN = 18
#: Seconds between the first frame and the start of the insights' thread.
INSIGHTS_DELAY = 0.3


def _shown(widget: Widget) -> bool:
    """Displayed, and so are all its ancestors (a hidden pane hides its table)."""
    node: Widget | None = widget
    while node is not None:
        if not node.display:
            return False
        parent = node.parent
        node = parent if isinstance(parent, Widget) else None
    return True


class InsightsReady(Message):
    """The insights' thread finished (posted from that thread: ``post_message`` is thread-safe)."""


class MainScreen(FileActionsMixin, PromptsMixin):
    """Layers | file tree, with the filter, search and key bars underneath."""

    BINDINGS = bindings_for(GLOBAL)

    def __init__(
        self, session: Session, *, keymap: dict[str, str], show_attributes: bool = True, pane_width: float = 0.5
    ) -> None:
        super().__init__()
        self.session = session
        self.keymap = keymap
        self.show_attributes = show_attributes
        self.pane_width = pane_width
        self.last_search = ""
        self._filter_timer = None
        self._search = None
        self._note: tuple[int, str] | None = None  #: (path id, what its bytes are), from the Insights screen

    def compose(self) -> ComposeResult:
        s = self.session
        with Horizontal(id="columns"):
            with Vertical(id="left"):
                with Vertical(id="layers-pane", classes="pane") as pane:
                    pane.border_title = "Layers"
                    if self.many_images:
                        pane.border_subtitle = Content(self._images_subtitle())
                    yield Static("Cmp" + f"{'Size':>8}  Command", id="layers-header", classes="pane-header")
                    yield LayerListView(s.layers, id="layers")
                with Vertical(id="layer-details-pane", classes="pane") as pane:
                    pane.border_title = "Layer Details"
                    yield LayerDetails(s.image, id="layer-details")
                with Vertical(id="image-details-pane", classes="pane") as pane:
                    pane.border_title = "Image Details"
                    yield ImageDetails(s.image, s.efficiency, s.insights, id="image-details")
                with Vertical(id="image-summary-pane", classes="pane") as pane:
                    pane.border_title = "Image"
                    yield ImageSummaryPane(s.image, s.efficiency, s.insights, id="image-summary")
            with Vertical(id="right", classes="pane") as pane:
                pane.border_title = title_for(s.tree)
                yield Static("", id="tree-header", classes="pane-header")
                yield FileTreeView(s.tree, show_attributes=self.show_attributes, id="tree")
        yield InputBar("Path Filter:", "regex, searched in the full path", id="filter")
        yield InputBar("Search:", "regex; Enter jumps, n / N next / previous", id="search")
        yield KeyBar(self.keymap, id="keys")

    # -- images of the archive -------------------------------------------------------
    @property
    def many_images(self) -> bool:
        return len(self.session.image.index.images) > 1

    def _images_subtitle(self) -> str:
        images = self.session.image.index.images
        here = next((i for i, ref in enumerate(images) if ref is self.session.image.ref), 0)
        shared = " · ◆ shared" if self.session.layers.shared else ""
        return f"image {here + 1}/{len(images)}{shared} · I"

    def action_images(self) -> None:
        """``I``: the images of the archive; Enter on one opens it here."""
        from dive_py.ui.app import DiveApp, ImageChoice
        from dive_py.ui.images_screen import ImagesScreen

        if not self.many_images:
            self.notify("This archive holds one image.", timeout=3, markup=False)
            return

        def chosen(row: ImageSetRow | None) -> None:
            if row is not None and isinstance(self.app, DiveApp):
                self.app.switch_image(ImageChoice(row.position), row.display_name)

        self.app.push_screen(ImagesScreen(self.session.image), chosen)

    # -- wiring ----------------------------------------------------------------------
    @property
    def file_tree(self) -> FileTreeView:
        return self.query_one(FileTreeView)

    @property
    def layer_list(self) -> LayerListView:
        return self.query_one(LayerListView)

    def on_mount(self) -> None:
        if not self.query(LayerListView):  # the app quit while this screen was switched in: it is being torn down
            return
        for bar in self.query(InputBar):
            bar.return_focus = self.file_tree
        self._apply_layout()
        self.query_one(LayerDetails).show_layer(self.session.layers.selected)
        # At once: focus() waits for the next idle, and a key arriving before it (a fast
        # first Down) would go to whatever Textual focused by itself.
        self.set_focus(self.layer_list)
        self._update_tree_chrome()
        # The tree is on screen first; the insights' hashing and grouping follow on their own thread,
        # a moment after the first frame, so they do not compete with it for the GIL.
        self.call_after_refresh(self.set_timer, INSIGHTS_DELAY, self._start_insights)

    def _start_insights(self) -> None:
        self.session.insights.start(self._post_insights_ready)

    def _post_insights_ready(self) -> None:
        self.post_message(InsightsReady())

    def on_insights_ready(self, event: InsightsReady) -> None:
        self.query_one(ImageDetails).show_insights()
        self.query_one(ImageSummaryPane).show_insights()
        for screen in self.app.screen_stack:
            if isinstance(screen, InsightsScreen):
                screen.insights_arrived()

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
            "layer_changes": not s.layers.aggregated,
            "aggregated": s.layers.aggregated,
            "sort_by_size": s.tree.sort_by_size,
            "show_attributes": self.file_tree.show_attributes,
            "wrap": self.file_tree.wrap,
            "filter": bool(s.tree.filter_text),
            "bars": self.file_tree.bars,
            "show_added": ADDED not in hidden,
            "show_removed": REMOVED not in hidden,
            "show_modified": MODIFIED not in hidden,
            "show_unmodified": UNMODIFIED not in hidden,
        }.get(name)

    def _update_tree_chrome(self) -> None:
        tree = self.file_tree
        self.query_one("#right").border_title = Content(printable(title_for(self.session.tree)))
        header = ATTRIBUTE_HEADER if tree.attributes_shown else PLAIN_HEADER
        self.query_one("#tree-header", Static).update(header)
        extra = [BY_ID["images"]] if self.many_images else []
        self.query_one(KeyBar).show(self._focused_scope(), self._toggle_state, extra)

    def on_descendant_focus(self, event: object) -> None:
        self._update_tree_chrome()

    def on_file_tree_view_changed(self, event: FileTreeView.Changed) -> None:
        self._update_tree_chrome()

    def on_file_tree_view_cursor_moved(self, event: FileTreeView.CursorMoved) -> None:
        pane = self.query_one("#right")
        # Plain content, not a str: a border title parses a str as markup, and a file may be named "[/]".
        path = "/" + self.session.image.paths.paths[event.pid] if event.pid is not None else ""
        if self._note is not None and self._note[0] == event.pid:
            path += " · " + self._note[1]  # what the Insights row said these bytes are, while the cursor stays
        pane.border_subtitle = Content(printable(path))

    def on_layer_list_view_selected(self, event: LayerListView.Selected) -> None:
        self._note = None  # it spoke of the layer the Insights row opened
        self.session.select_layer(event.layer, event.aggregated)
        self.query_one(LayerDetails).show_layer(event.layer)
        self.file_tree.rebuild()

    def on_image_details_jump_to_file(self, event: ImageDetails.JumpToFile) -> None:
        self.jump_to_file(event.path, event.layer)

    def jump_to_file(self, path: str, layer: int, note: str = "") -> None:
        """Select ``layer`` and show ``path`` in the tree (a row of the wasted-files table)."""
        self.session.select_layer(layer, aggregated=False)
        self.layer_list.refresh()
        self.layer_list.scroll_to_region_row(self.session.layers.cursor_row)
        self.query_one(LayerDetails).show_layer(layer)
        self.session.tree.show_path(path)
        pid = self.session.image.paths.lookup(path.strip("/"))
        self._note = (pid, note) if note and pid is not None else None
        self.query_one("#filter", InputBar).close()
        self.file_tree.rebuild()
        self.set_focus(self.file_tree)

    def action_toggle_bars(self) -> None:
        """``%``: size bars in both panes -- a layer's share of the image, a path's of the tree shown."""
        bars = not self.file_tree.bars
        self.file_tree.bars = bars
        self.layer_list.bars = bars
        self.layer_list.refresh()
        self.file_tree.rebuild()
        self._update_tree_chrome()

    def action_insights(self) -> None:
        """``i``: the Insights screen; Enter on a row shows its path in the tree, at the layer that stored it."""

        def jump(result: JumpTarget | None) -> None:
            # After this screen is back and laid out: scrolling a suspended screen's tree goes nowhere.
            if result is not None:
                self.call_after_refresh(self.jump_to_file, result.path, result.layer, result.note)

        self.app.push_screen(InsightsScreen(self.session), jump)

    # -- focus ---------------------------------------------------------------------
    def _panes(self) -> list[Widget]:
        return [self.layer_list, self.file_tree, self.query_one("#wasted-table", DataTable)]

    def _cycle(self, step: int) -> None:
        panes = [p for p in self._panes() if _shown(p)]
        if not panes:
            return
        focused = self.focused
        index = panes.index(focused) if focused in panes else -1
        # At once, not on the next idle (what focus() does): a "/" queued right behind Tab opens
        # the prompt, and a deferred focus landing after it would pull its keys back into the tree.
        self.set_focus(panes[(index + step) % len(panes)])

    def action_focus_next_pane(self) -> None:
        self._cycle(1)

    def action_focus_previous_pane(self) -> None:
        self._cycle(-1)

    def action_help(self) -> None:
        from dive_py.ui.screens import HelpScreen

        self.app.push_screen(HelpScreen(self.keymap))
