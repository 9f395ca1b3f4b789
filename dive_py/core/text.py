"""Showing names from an image safely on one line.

File names may hold newlines, tabs or escape sequences; printed raw they
would break a report line or a tree row (or drive the terminal).  Control
characters are shown as Python escapes (``\\n``, ``\\x1b``) instead.
"""

from __future__ import annotations


def printable(text: str) -> str:
    """``text`` with every non-printable character escaped; unchanged if none."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
