"""The help screen and the loading screen."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, ProgressBar, Static

from dive_py.core.text import printable
from dive_py.core.units import humanize_bytes
from dive_py.viewmodel.bindings import APP, GLOBAL, INPUT, KEYS, LAYERS, NAV, TREE, VIEWER, display_key

_SCOPE_TITLES = (
    (APP, "Always"),
    (GLOBAL, "Everywhere"),
    (NAV, "Moving around (every pane)"),
    (LAYERS, "Layers pane"),
    (TREE, "File tree"),
    (INPUT, "Filter and search prompts"),
    (VIEWER, "File viewer"),
)


class HelpScreen(ModalScreen[None]):
    """Every key, grouped by where it works, with the user's remapping applied."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 76; height: 90%; border: round $accent; background: $surface;
                                  padding: 0 1; }
    """
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", show=False)]

    def __init__(self, keymap: dict[str, str]) -> None:
        super().__init__()
        self.keymap = keymap

    def compose(self) -> ComposeResult:
        text = Text()
        for scope, title in _SCOPE_TITLES:
            text.append(f"{title}\n", style="bold underline")
            for spec in KEYS:
                if spec.scope != scope:
                    continue
                shown = dict.fromkeys(display_key(k) for k in self.keymap.get(spec.id, spec.keys).split(","))
                keys = ", ".join(shown)  # ctrl+space and what terminals send for it are one key
                text.append(f"  {keys:<22}", style="bold")
                text.append(f"{spec.description}\n")
            text.append("\n")
        text.append("Colours: ", style="bold")
        text.append("added", style="green")
        text.append(", ")
        text.append("removed", style="red")
        text.append(", ")
        text.append("modified", style="yellow")
        text.append(", unmodified.  Remap keys in .dive.yaml (keybinding: ...).\n")
        text.append("Press Esc to close.", style="dim")
        with VerticalScroll() as scroll:
            scroll.border_title = "divepy keys"
            yield Static(text, markup=False)

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(None)


class LoadingScreen(Screen[None]):
    """Shown while a big image loads: phase, bytes, layers."""

    DEFAULT_CSS = """
    LoadingScreen { align: center middle; }
    LoadingScreen > Vertical { width: 72; height: auto; border: round $accent; padding: 1 2; }
    LoadingScreen Label { width: 100%; }
    LoadingScreen ProgressBar { width: 100%; }
    """
    BINDINGS = [Binding("q", "app.quit", "Quit")]

    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "divepy"
            yield Label(f"Opening {printable(self.source)}", id="loading-source", markup=False)
            yield Label("Reading archive…", id="loading-phase", markup=False)
            yield ProgressBar(total=None, show_eta=False, id="loading-bar")
            yield Label("", id="loading-detail", markup=False)

    def update_progress(self, phase: str, done: int, total: int, detail: str) -> None:
        """Show a phase ("Reading layers"), bytes done of total, and a step ("layer 3/7")."""
        self.query_one("#loading-phase", Label).update(phase)
        bar = self.query_one(ProgressBar)
        bar.update(total=total or None, progress=done)
        amount = f"{humanize_bytes(done)} of {humanize_bytes(total)}" if total else ""
        self.query_one("#loading-detail", Label).update("  ·  ".join(p for p in (detail, amount) if p))


__all__ = ["HelpScreen", "LoadingScreen"]
