"""The rows of the image picker: an engine's local images as ``docker images`` and ``docker system df -v`` show them.

One row per tag (an untagged image is one ``<none>`` row), newest first,
with the image's size, the bytes it shares with the engine's other images
(stored once) and its own.  Everything the engine sent is escaped before it
becomes a cell.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from dive_py.core.sources.engine import ImageSummary
from dive_py.core.text import printable
from dive_py.core.units import humanize_bytes

#: Column titles, in order.
COLUMNS = ("Repository", "Tag", "Image ID", "Created", "Size", "Shared", "Unique", "Engine")


@dataclass(slots=True, frozen=True)
class PickerRow:
    """One row, and what opening it means: this engine's image by id (tags can move)."""

    cells: tuple[str, ...]
    engine: int  #: index of the engine in the picker's list
    image_id: str
    name: str  #: what the user would type: ``repo:tag``, or the short id of an untagged image


def ago(created: int, now: float) -> str:
    """docker's "Created" column (go-units' HumanDuration): ``3 days ago``, ``About an hour ago``."""
    if created <= 0:
        return "N/A"
    secs = max(0.0, now - created)
    minutes, hours = int(secs / 60), int(secs / 3600 + 0.5)
    if secs < 1:
        text = "Less than a second"
    elif int(secs) == 1:
        text = "1 second"
    elif secs < 60:
        text = f"{int(secs)} seconds"
    elif minutes == 1:
        text = "About a minute"
    elif minutes < 60:
        text = f"{minutes} minutes"
    elif hours == 1:
        text = "About an hour"
    elif hours < 48:
        text = f"{hours} hours"
    elif hours < 24 * 7 * 2:
        text = f"{hours // 24} days"
    elif hours < 24 * 30 * 2:
        text = f"{hours // 24 // 7} weeks"
    elif hours < 24 * 365 * 2:
        text = f"{hours // 24 // 30} months"
    else:
        text = f"{hours // 24 // 365} years"
    return text + " ago"


def _split(tag: str) -> tuple[str, str]:
    repo, sep, name = tag.rpartition(":")
    if not sep or "/" in name:
        return tag, "<none>"
    return repo, name


def picker_rows(engines: list[tuple[str, list[ImageSummary]]], now: float | None = None) -> list[PickerRow]:
    """``engines``: (engine name, its images) each; the rows of all of them, newest first."""
    now = time.time() if now is None else now
    rows: list[tuple[int, PickerRow]] = []
    for index, (engine, images) in enumerate(engines):
        for img in images:
            short = img.id.removeprefix("sha256:")[:12]
            shared = img.shared_size
            sizes = (
                humanize_bytes(img.size),
                humanize_bytes(shared) if shared >= 0 else "—",
                humanize_bytes(max(0, img.size - shared)) if shared >= 0 else "—",
            )
            tags = [t for t in img.repo_tags if t and t != "<none>:<none>"] or [""]
            for tag in tags:
                repo, name = _split(tag) if tag else ("<none>", "<none>")
                cells = (printable(repo), printable(name), printable(short), ago(img.created, now), *sizes, engine)
                rows.append((img.created, PickerRow(cells, index, img.id, tag or short)))
    rows.sort(key=lambda r: -r[0])
    return [row for _, row in rows]


__all__ = ["COLUMNS", "PickerRow", "ago", "picker_rows"]
