"""The bottom bars: the filter/search input and the key bar.

The key bar is generated from the same binding table the app binds
(``dive_py.viewmodel.bindings.KEYS``, with the user's keymap applied), in
dive's style (``▏^C Quit ▏Tab Switch view``); toggles that are on are
highlighted, hidden diff types are struck through.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from dive_py.ui.bindings import bindings_for
from dive_py.viewmodel.bindings import APP, GLOBAL, INPUT, KEYS, KeySpec, display_key


class InputBar(Horizontal):
    """A one-line prompt: the path filter (live) or the search (jump)."""

    BINDINGS = bindings_for(INPUT)

    DEFAULT_CSS = """
    InputBar { height: 1; display: none; }
    InputBar.-open { display: block; }
    InputBar > Label { padding: 0 1; background: $foreground; color: $background; }
    InputBar > Input, InputBar > Input:focus { border: none; height: 1; padding: 0 1; width: 1fr;
                                               background: $surface; }
    InputBar > .error { color: $error; width: auto; padding: 0 1; }
    """

    class Changed(Message):
        def __init__(self, bar: InputBar, value: str) -> None:
            super().__init__()
            self.bar = bar
            self.value = value

    class Closed(Message):
        def __init__(self, bar: InputBar, value: str, accepted: bool) -> None:
            super().__init__()
            self.bar = bar
            self.value = value
            self.accepted = accepted

    def __init__(self, label: str, placeholder: str, id: str | None = None) -> None:
        super().__init__(id=id)
        self.label = label
        self.placeholder = placeholder
        #: Where the focus goes the moment Enter or Esc closes the prompt.
        self.return_focus: Widget | None = None

    def compose(self) -> ComposeResult:
        yield Label(self.label, markup=False)
        yield Input(placeholder=self.placeholder, select_on_focus=False)
        yield Label("", classes="error", markup=False)

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    def on_mount(self) -> None:
        if self.app.is_headless:  # deterministic screenshots: no blinking cursor
            self.input.cursor_blink = False

    def open(self, value: str | None = None) -> None:
        self.add_class("-open")
        if value is not None:
            self.input.value = value
            self.input.cursor_position = len(value)
        # At once, not on the next idle (what focus() does): the keys already queued
        # behind the one that opened the prompt must reach the prompt.
        self.screen.set_focus(self.input)

    def close(self) -> None:
        self.remove_class("-open")
        self.set_error(None)

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def set_error(self, message: str | None) -> None:
        self.query_one(".error", Label).update(message or "")

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(self, event.value))

    def action_accept_input(self) -> None:
        self._finish(True)

    def action_close_input(self) -> None:
        self._finish(False)

    def _finish(self, accepted: bool) -> None:
        # The focus leaves the prompt now, for the pane the screen gave (the tree), so the
        # keys typed right after Enter reach it and not this closing prompt.
        self.screen.set_focus(self.return_focus)
        # Enter is a priority binding: it runs before the Input has handled the keys typed just
        # before it, which wait in the Input's queue.  The answer is read behind them.
        self.input.call_later(lambda: self.post_message(self.Closed(self, self.input.value, accepted)))


class KeyBar(Static):
    """The bindings of the focused pane plus the global ones, dive style, always whole.

    When every label does not fit the terminal's width, the bar first packs
    the items tighter, then leaves out keys from the end -- the focused
    pane's first, then the global ones, never Quit -- and says ``? more
    keys``; a label is never cut in the middle.  ``?`` lists every key.
    """

    COMPONENT_CLASSES = {"key-bar--key", "key-bar--on", "key-bar--off"}
    DEFAULT_CSS = """
    KeyBar { height: 1; background: $panel; color: $foreground; }
    KeyBar > .key-bar--key { text-style: bold; color: $accent; }
    KeyBar > .key-bar--on { background: $accent 40%; }
    KeyBar > .key-bar--off { text-style: strike; color: $foreground-muted; }
    """

    def __init__(self, keymap: dict[str, str], id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.keymap = keymap
        self._items: list[tuple[str, str, str, bool]] = []  # key, label, state style, droppable

    def keys_of(self, binding_id: str, default: str) -> str:
        return self.keymap.get(binding_id, default).split(",")[0]

    def show(self, scope: str, state: Callable[[str], bool | None], extra: Iterable[KeySpec] = ()) -> None:
        """Render the bar for ``scope``; ``state(toggle)`` says if a toggle is on/off/not applicable.

        ``extra`` adds keys that apply only now (``I`` for an archive of several images).
        """
        items = []
        for spec in [*(k for k in KEYS if k.show), *extra]:
            if spec.scope not in (APP, GLOBAL, scope):
                continue
            status = state(spec.toggle) if spec.toggle else None
            hides = spec.toggle is not None and spec.toggle.startswith("show_")
            style = "on" if status is True else "off" if status is False and hides else ""
            items.append(
                (display_key(self.keys_of(spec.id, spec.keys)), spec.label, style, spec.scope not in (APP, GLOBAL))
            )
        self._items = items
        self._render_items()

    def on_resize(self) -> None:
        self._render_items()

    def fitted(self, width: int) -> tuple[list[int], bool, bool]:
        """Which items fit in ``width`` cells: (indexes, tight spacing, some left out)."""
        items = self._items
        for tight in (False, True):
            if sum(self._item_cells(i, tight) for i in range(len(items))) <= width:
                return list(range(len(items))), tight, False
        shown = list(range(len(items)))
        more = len(_MORE) + 1
        # The focused pane's keys go first (last ones first), then the global ones; Quit stays.
        kept = {i for i in shown if items[i][1] == "Quit"}
        droppable = [i for i in shown if not items[i][3] and i not in kept] + [i for i in shown if items[i][3]]
        while droppable and sum(self._item_cells(i, True) for i in shown) + more > width:
            shown.remove(droppable.pop())
        return shown, True, True

    def _item_cells(self, i: int, tight: bool) -> int:
        key, label, _, _ = self._items[i]
        return 1 + len(key) + 1 + len(label) + (0 if tight else 1)

    def _render_items(self) -> None:
        width = self.size.width or self.app.size.width
        shown, tight, dropped = self.fitted(width)
        styles: dict[str, Style | str] = {
            "on": self.get_component_rich_style("key-bar--on", partial=True),
            "off": self.get_component_rich_style("key-bar--off", partial=True),
            "": "",
        }
        key_style = self.get_component_rich_style("key-bar--key", partial=True)
        text = Text(no_wrap=True, overflow="crop")
        for i in shown:
            key, label, state, _ = self._items[i]
            text.append("▏")
            text.append(key, key_style)
            text.append(" ")
            text.append(label, styles[state])
            if not tight:
                text.append(" ")
        if dropped:
            text.append("▏")
            text.append(_MORE, key_style)
        self.update(text)


#: Said at the end of the key bar when some keys did not fit: ``?`` lists them all.
_MORE = "? more keys"
