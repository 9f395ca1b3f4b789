"""The divepy Textual application.

``DiveApp`` is built either from an already loaded :class:`Session` (tests,
snapshots) or from a loader function that runs in a worker thread while a
progress screen is shown (the CLI).  Load errors end the app and are
reported by the caller as one line on stderr.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from textual.app import App
from textual.worker import Worker, WorkerState

from dive_py.core.text import printable
from dive_py.errors import DiveError
from dive_py.ui.bindings import bindings_for
from dive_py.ui.main_screen import MainScreen
from dive_py.ui.screens import LoadingScreen
from dive_py.ui_settings import UiSettings
from dive_py.viewmodel.bindings import APP
from dive_py.viewmodel.session import Session


class LoadProgress:
    """Forwards core progress from the worker thread to the loading screen (throttled)."""

    def __init__(self, app: DiveApp) -> None:
        self.app = app
        self._phase = ""
        self._total = 0
        self._last = 0.0
        self._detail = ""

    def phase(self, name: str, total: int) -> None:
        self._phase = name
        self._total = total
        self._send(0, "", force=True)

    def advance(self, done: int, detail: str = "") -> None:
        self._send(done, detail)

    def _send(self, done: int, detail: str, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < 0.05 and detail == self._detail:
            return  # throttle byte counts, but never drop a change of step ("layer 3/7")
        self._last = now
        self._detail = detail
        screen = self.app.loading_screen
        if screen is not None:
            self.app.call_from_thread(screen.update_progress, self._phase, done, self._total, detail)


@dataclass(slots=True, frozen=True)
class ImageChoice:
    """Which image of the archive to open: its position among the archive's images.

    A position, not ``--image``/``--platform``: a platform string alone can match two variants.
    """

    position: int


#: Loads a session; given a choice, that image of the archive instead of the one asked for.
Loader = Callable[[LoadProgress, ImageChoice | None], Session]


class DiveApp(App[int]):
    """Layers on the left, the merged file tree on the right."""

    CSS_PATH = "dive.tcss"
    TITLE = "divepy"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = bindings_for(APP)

    def __init__(
        self,
        *,
        session: Session | None = None,
        loader: Loader | None = None,
        source: str = "",
        settings: UiSettings | None = None,
    ) -> None:
        super().__init__()
        if session is None and loader is None:
            raise ValueError("DiveApp needs a session or a loader")
        self.session = session
        self.loader = loader
        self.source = source
        self.settings = settings or UiSettings()
        self.error: str | None = None
        self.loading_screen: LoadingScreen | None = None
        self._choice: ImageChoice | None = None
        self._previous: Session | None = None  #: shown again if opening another image fails

    def on_mount(self) -> None:
        self.theme = "textual-dark"
        if self.settings.keymap:
            self.set_keymap(self.settings.keymap)
        if self.session is not None:
            self._show(self.session)
            return
        self.loading_screen = LoadingScreen(self.source)
        self.push_screen(self.loading_screen)
        self.run_worker(self._load, thread=True, exclusive=True, name="load", exit_on_error=False)

    def _load(self) -> Session:
        assert self.loader is not None
        return self.loader(LoadProgress(self), self._choice)

    def switch_image(self, choice: ImageChoice, name: str) -> None:
        """Open another image of the archive in place of this one (the images table's Enter)."""
        if self.loader is None or self.session is None:
            return
        self._choice = choice
        self._previous = self.session
        self.call_later(self._begin_switch, name)

    async def _begin_switch(self, name: str) -> None:
        # The loading screen must be in place before the worker can finish (and replace it).
        self.loading_screen = LoadingScreen(name)
        await self.switch_screen(self.loading_screen)
        self.run_worker(self._load, thread=True, exclusive=True, name="load", exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name != "load":
            return
        if event.state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return  # pending, running: the image on screen stays the one to fall back to
        previous, self._previous = self._previous, None
        if event.state == WorkerState.SUCCESS:
            session = event.worker.result
            assert isinstance(session, Session)
            self.session = session
            self._show(session)
            if previous is not None:
                previous.close()
        elif event.state == WorkerState.ERROR:
            err = event.worker.error
            message = str(err) if isinstance(err, DiveError) else f"{type(err).__name__}: {err}"
            if previous is not None:  # the image on screen stays: say why the other did not open
                self.session = previous
                self._show(previous)
                self.notify(
                    printable(message), title="Could not open that image", severity="error", timeout=8, markup=False
                )
                return
            self.error = message
            self.exit(2, return_code=2)

    def _show(self, session: Session) -> None:
        screen = MainScreen(
            session,
            keymap=self.settings.keymap,
            show_attributes=self.settings.show_attributes,
            pane_width=self.settings.pane_width,
        )
        if self.loading_screen is not None:
            self.switch_screen(screen)
            self.loading_screen = None
        else:
            self.push_screen(screen)
