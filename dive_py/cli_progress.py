"""Rich progress on stderr while a big image loads (nothing on stdout).

Shown only when stderr is a terminal, and only after the load has taken
half a second, so small images and CI logs stay quiet.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Rich is imported only once a bar is shown: 80 ms a quick run does not pay
    from rich.progress import Progress


class RichLoadProgress:
    """Implements :class:`dive_py.core.progress.Progress` with a Rich bar."""

    DELAY = 0.5

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self._start = time.monotonic()
        self._progress: Progress | None = None
        self._task: int | None = None
        self._phase = ""
        self._total = 0
        self._last = 0.0

    def __enter__(self) -> RichLoadProgress:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def _ensure(self) -> Progress | None:
        if not self.enabled:
            return None
        if self._progress is None:
            if time.monotonic() - self._start < self.DELAY:
                return None
            from rich.console import Console
            from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TextColumn("{task.fields[detail]}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(self._phase, total=self._total or None, detail="")
        return self._progress

    def phase(self, name: str, total: int) -> None:
        self._phase = name
        self._total = total
        prog = self._ensure()
        if prog is not None and self._task is not None:
            prog.update(self._task, description=name, total=total or None, completed=0, detail="")  # type: ignore[arg-type]

    def advance(self, done: int, detail: str = "") -> None:
        now = time.monotonic()
        if now - self._last < 0.05:
            return
        self._last = now
        prog = self._ensure()
        if prog is not None and self._task is not None:
            prog.update(self._task, completed=done, detail=detail)  # type: ignore[arg-type]
