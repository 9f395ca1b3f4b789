"""The bottom bars: the filter/search input and the key bar.

The key bar is generated from the same binding table the app binds
(``dive_py.viewmodel.bindings.KEYS``, with the user's keymap applied), in
dive's style (``▏^C Quit ▏Tab Switch view``); toggles that are on are
highlighted, hidden diff types are struck through.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Label, Static

from dive_py.ui.bindings import bindings_for
from dive_py.viewmodel.bindings import APP, GLOBAL, INPUT, KEYS, display_key


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

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Closed(self, event.value, True))

    def action_close_input(self) -> None:
        self.post_message(self.Closed(self, self.input.value, False))


class KeyBar(Static):
    """The bindings of the focused pane plus the global ones, dive style."""

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

    def keys_of(self, binding_id: str, default: str) -> str:
        return self.keymap.get(binding_id, default).split(",")[0]

    def show(self, scope: str, state: Callable[[str], bool | None]) -> None:
        """Render the bar for ``scope``; ``state(toggle)`` says if a toggle is on/off/not applicable."""
        key_style = self.get_component_rich_style("key-bar--key", partial=True)
        on_style = self.get_component_rich_style("key-bar--on", partial=True)
        off_style = self.get_component_rich_style("key-bar--off", partial=True)
        text = Text(no_wrap=True, overflow="ellipsis")
        for spec in KEYS:
            if not spec.show or spec.scope not in (APP, GLOBAL, scope):
                continue
            status = state(spec.toggle) if spec.toggle else None
            text.append("▏")
            text.append(display_key(self.keys_of(spec.id, spec.keys)), key_style)
            text.append(" ")
            hides = spec.toggle is not None and spec.toggle.startswith("show_")
            style = on_style if status is True else off_style if status is False and hides else ""
            text.append(spec.label, style)
            text.append(" ")
        self.update(text)
