"""The layers pane: compare bar, size and command per layer; history steps greyed."""

from __future__ import annotations

from rich.segment import Segment
from textual.events import Click, Resize
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from dive_py.ui.bindings import bindings_for
from dive_py.viewmodel.bindings import LAYERS, NAV
from dive_py.viewmodel.layers import BOTTOM, TOP, LayerListModel, size_bar


class LayerListView(ScrollView, can_focus=True):
    """One line per layer (and per empty-layer history step).

    | Class | What it styles |
    |---|---|
    | `layer-list--bottom` | compare bar of the layers stacked underneath |
    | `layer-list--top` | compare bar of the layers being compared |
    | `layer-list--history` | build steps that made no layer |
    | `layer-list--cursor` | the selected layer |
    """

    COMPONENT_CLASSES = {"layer-list--bottom", "layer-list--top", "layer-list--history", "layer-list--cursor"}
    DEFAULT_CSS = """
    LayerListView { scrollbar-size-vertical: 1; }
    LayerListView > .layer-list--bottom { background: $success; }
    LayerListView > .layer-list--top { background: $accent; }
    LayerListView > .layer-list--history { color: $foreground-muted; }
    LayerListView > .layer-list--cursor { background: $panel-lighten-2; color: $foreground; text-style: bold; }
    LayerListView:focus > .layer-list--cursor { background: $block-cursor-background;
                                                 color: $block-cursor-foreground; text-style: bold; }
    """
    BINDINGS = bindings_for(NAV) + bindings_for(LAYERS)

    class Selected(Message):
        """The user chose a layer or a compare mode."""

        def __init__(self, layer: int, aggregated: bool) -> None:
            super().__init__()
            self.layer = layer
            self.aggregated = aggregated

    def __init__(self, model: LayerListModel, *, compact: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model = model
        self.compact = compact
        self.bars = False  #: each layer's share of the image as a bar (``%``)

    def on_mount(self) -> None:
        self.virtual_size = Size(1, len(self.model.rows))

    def on_resize(self, event: Resize) -> None:
        self.refresh()

    def render_line(self, y: int) -> Strip:
        m = self.model
        row_index = y + int(self.scroll_y)
        width = self.scrollable_content_region.width
        if row_index >= len(m.rows):
            return Strip.blank(width, self.rich_style)
        row = m.rows[row_index]
        base = self.rich_style
        if row.layer is None:
            style = base + self.get_component_rich_style("layer-list--history", partial=True)
            text = f"    · {row.command}" if self.compact else f"   {'':>7}  {row.command}"
            return Strip([Segment(text, style)]).crop_extend(0, width, base)
        bar = m.bar(row.layer)
        bar_style = base
        if bar == TOP:
            bar_style = base + self.get_component_rich_style("layer-list--top", partial=True)
        elif bar == BOTTOM:
            bar_style = base + self.get_component_rich_style("layer-list--bottom", partial=True)
        if self.compact:
            text = (
                f"{row.layer:<3}{row.mark}{round(row.share * 100):>6}%"
                if self.bars
                else f"{row.layer:<3}{row.mark}{row.size:>7}"
            )
        elif self.bars:
            text = f"{row.mark}{row.size:>7} {size_bar(row.share)}  {row.command}"
        else:
            text = f"{row.mark}{row.size:>7}  {row.command}"
        line_style = base
        if row.layer == m.selected:
            line_style = base + self.get_component_rich_style("layer-list--cursor", partial=True)
        return Strip([Segment("  ", bar_style), Segment(text, line_style)]).crop_extend(0, width, line_style)

    def _select(self, layer: int, aggregated: bool | None = None) -> None:
        m = self.model
        changed = m.select(layer)
        if aggregated is not None and aggregated != m.aggregated:
            m.aggregated = aggregated
            changed = True
        if changed:
            self.scroll_to_region_row(m.cursor_row)
            self.refresh()
            self.post_message(self.Selected(m.selected, m.aggregated))

    def scroll_to_region_row(self, row: int) -> None:
        height = max(1, self.scrollable_content_region.height)
        top = int(self.scroll_y)
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False, immediate=True)

    def action_cursor_up(self) -> None:
        self._select(self.model.selected - 1)

    def action_cursor_down(self) -> None:
        self._select(self.model.selected + 1)

    def action_page_up(self) -> None:
        self._select(self.model.selected - max(1, self.scrollable_content_region.height - 1))

    def action_page_down(self) -> None:
        self._select(self.model.selected + max(1, self.scrollable_content_region.height - 1))

    def action_cursor_home(self) -> None:
        self._select(0)

    def action_cursor_end(self) -> None:
        self._select(self.model.count - 1)

    def action_compare_layer(self) -> None:
        self._select(self.model.selected, aggregated=False)

    def action_compare_all(self) -> None:
        self._select(self.model.selected, aggregated=True)

    def on_click(self, event: Click) -> None:
        row_index = event.y + int(self.scroll_y)
        if 0 <= row_index < len(self.model.rows):
            layer = self.model.rows[row_index].layer
            if layer is not None:
                self._select(layer)
