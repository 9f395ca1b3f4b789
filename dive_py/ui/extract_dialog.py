"""Ctrl+E: write the file or directory under the cursor to disk.

dive binds Ctrl+E to "Extract File" but it never finds the layer, so
nothing is written.  Here the dialog says what will be written (the path
as it is after the selected layer, with its size), asks where, and runs
the extraction in a thread with a progress bar so a big directory does not
freeze the screen.  Esc cancels, also half-way: whatever was written is
removed again by the core (the destination is always new, so that removes
nothing of the user's).  An existing destination or an unwritable place is reported
in the dialog, which stays open for another name.
"""

from __future__ import annotations

import os
import threading
import time

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, ProgressBar
from textual.worker import get_current_worker

from dive_py.core.content.extract import ExtractResult, default_destination, extract
from dive_py.core.model.image import Image
from dive_py.core.text import printable
from dive_py.core.units import humanize_bytes
from dive_py.errors import DiveError
from dive_py.viewmodel.file_view import describe_entry

#: Seconds between progress bar updates from the writing thread.
PROGRESS_INTERVAL = 0.1


class ExtractCancelled(Exception):
    """Esc was pressed while files were being written."""


class ExtractDialog(ModalScreen[ExtractResult | None]):
    """Ask for a destination, then extract with a progress bar."""

    DEFAULT_CSS = """
    ExtractDialog { align: center middle; }
    ExtractDialog > Vertical { width: 76; height: auto; border: round $accent; background: $surface;
                               padding: 0 1; }
    ExtractDialog Label { width: 100%; }
    ExtractDialog #extract-what { text-style: bold; }
    ExtractDialog #extract-hint { color: $foreground-muted; }
    ExtractDialog #extract-error { color: $error; }
    ExtractDialog Input { margin: 1 0 0 0; }
    ExtractDialog ProgressBar { display: none; width: 100%; }
    ExtractDialog.-running ProgressBar { display: block; }
    ExtractDialog.-running Input { display: none; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, image: Image, path: str, layer: int, what: str, *, removed_by: int | None = None) -> None:
        super().__init__()
        self.removed_by = removed_by
        self.image = image
        self.image_path = path
        self.at_layer = layer
        self.what = what
        self._cancel = threading.Event()

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Extract"
            yield Label(self.what, id="extract-what", markup=False)
            when = f"as it is after layer {self.at_layer}"
            if self.removed_by is not None:
                when += f", before layer {self.removed_by} removed it"
            yield Label(when, id="extract-layer", markup=False)
            yield Input(default_destination(self.image_path), id="extract-dest", select_on_focus=False)
            yield Label("Enter writes a new file or directory there; Esc cancels.", id="extract-hint", markup=False)
            yield ProgressBar(total=None, show_eta=False, id="extract-bar")
            yield Label("", id="extract-error", markup=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @property
    def running(self) -> bool:
        return self.has_class("-running")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        dest = event.value.strip()
        if not dest or self.running:
            return
        if os.path.lexists(dest):
            self._error(f"{dest} already exists; name a new file or directory")
            return
        self._error("")
        self.add_class("-running")
        self.query_one("#extract-hint", Label).update(f"Writing {printable(dest)}…  Esc cancels.")
        self._cancel.clear()
        self._run(dest)

    @work(thread=True, exclusive=True, exit_on_error=False, name="extract")
    def _run(self, dest: str) -> None:
        worker = get_current_worker()
        shown = [0.0]

        def progress(done: int, total: int) -> None:
            if self._cancel.is_set() or worker.is_cancelled:
                raise ExtractCancelled
            now = time.monotonic()
            if now - shown[0] >= PROGRESS_INTERVAL or done == total:
                shown[0] = now
                self.app.call_from_thread(self._progress, done, total)

        try:
            result = extract(self.image, self.image_path, self.at_layer, dest, progress=progress)
        except ExtractCancelled:  # extract() removed what it had written
            self.app.call_from_thread(self.dismiss, None)
        except DiveError as exc:
            self.app.call_from_thread(self._failed, exc.message)
        else:
            self.app.call_from_thread(self.dismiss, result)

    def _progress(self, done: int, total: int) -> None:
        self.query_one(ProgressBar).update(total=total or None, progress=done)

    def _failed(self, message: str) -> None:
        self.remove_class("-running")
        self.query_one("#extract-hint", Label).update("Enter writes a new file or directory there; Esc cancels.")
        self._error(message)
        self.query_one(Input).focus()

    def _error(self, message: str) -> None:
        self.query_one("#extract-error", Label).update(printable(message))

    def action_cancel(self) -> None:
        if self.running:
            self._cancel.set()  # the worker removes what it wrote, then closes the dialog
        else:
            self.dismiss(None)


def describe(image: Image, entries: list[int], path: str) -> str:
    """``/app (directory: 4 entries, 7.2 kB)`` or ``/app/main.py (file, 87 B)``."""
    e = image.entries
    first = entries[0]
    if e.is_dir(first):
        files = [g for g in entries if not e.is_dir(g)]
        size = sum(image.content_size(g) for g in files)
        count = f"{len(files)} entr{'y' if len(files) == 1 else 'ies'}"
        return f"{printable(path)} (directory: {count}, {humanize_bytes(size)})"
    return f"{printable(path)} ({describe_entry(image, first)})"
