"""The one-line messages divepy writes to stderr: ``divepy: error: …``, ``divepy: warning: …``.

Messages often quote the image (a tag, a digest, a file name).  An image can
put a newline, a carriage return or an escape sequence in any of those; printed
raw, a hostile image could write a second ``divepy:`` line into a CI log or
drive the terminal.  Every line goes through :func:`printable` here, so no
message, wherever it was built, can span two lines or carry a control character.
"""

from __future__ import annotations

import sys
from typing import TextIO

from dive_py.core.text import printable

PROG = "divepy"


def line(kind: str, message: str) -> str:
    """``divepy: <kind>: <message>`` with every control character escaped, plus a newline."""
    return f"{PROG}: {kind}: {printable(message)}\n"


def error(message: str, stream: TextIO | None = None) -> None:
    _write(line("error", message), stream)


def warning(message: str, stream: TextIO | None = None) -> None:
    _write(line("warning", message), stream)


def note(message: str, stream: TextIO | None = None) -> None:
    """A line without a kind: ``divepy: extracted …``."""
    _write(f"{PROG}: {printable(message)}\n", stream)


def _write(text: str, stream: TextIO | None) -> None:
    out = stream if stream is not None else sys.stderr
    try:
        out.write(text)
        out.flush()
    except (OSError, ValueError):  # stderr closed or full: nowhere left to say it
        pass
