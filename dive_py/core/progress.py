"""How the core reports progress without knowing who listens.

The CLI renders it with Rich on stderr, the TUI with a progress bar, tests
ignore it.  Calls are cheap and frequent; listeners throttle themselves.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Receives the phases of loading an image."""

    def phase(self, name: str, total: int) -> None:
        """A new phase starts; ``total`` is in bytes or items (0 if unknown)."""

    def advance(self, done: int, detail: str = "") -> None:
        """``done`` units of the current phase are finished."""


class NullProgress:
    """A listener that ignores everything."""

    def phase(self, name: str, total: int) -> None:
        return None

    def advance(self, done: int, detail: str = "") -> None:
        return None
