"""``--list``: the merged filesystem as text or JSON lines, sorted by path.

One line per entry: type, octal mode (with setuid/setgid/sticky), uid:gid,
size, path, and ``-> target`` for links.  Sizes are what ``lstat`` reports
once the image is unpacked: a hardlink has its target's size, a symlink the
length of its target, so the listing compares directly with an unpacked root
filesystem (``umoci unpack``).
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson

from dive_py.core.kinds import HARDLINK, SYMLINK
from dive_py.core.model.entries import type_name
from dive_py.core.model.image import Image
from dive_py.core.modes import octal_mode
from dive_py.core.tar.layerread import hardlink_path


def _escape(text: str) -> str:
    """Keep one entry per line: escape control characters and backslashes."""
    if text.isprintable() and "\\" not in text:
        return text
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape").decode("ascii"))
    return "".join(out)


def iter_listing(image: Image, layer: int, fmt: str) -> Iterator[str]:
    """Yield the lines of the listing of the merged tree after ``layer``."""
    e = image.entries
    names = image.paths.paths
    for g in image.tree_at(layer):
        tflag = e.tflag[g]
        path = "/" + names[e.pid[g]]
        link: str | None = None
        size = image.content_size(g)
        if tflag == SYMLINK:
            link = e.link[g]
            size = len(link.encode())  # what lstat reports for a symlink
        elif tflag == HARDLINK:
            link = "/" + hardlink_path(e.link[g])
        if fmt == "jsonl":
            yield orjson.dumps(
                {
                    "path": path,
                    "type": type_name(tflag),
                    "mode": octal_mode(e.mode[g]),
                    "uid": e.uid[g],
                    "gid": e.gid[g],
                    "size": size,
                    "link": link,
                }
            ).decode()
        else:
            owner = f"{e.uid[g]:>5}:{e.gid[g]:<5}"
            line = f"{type_name(tflag):<8} {octal_mode(e.mode[g])} {owner} {size:>12} {_escape(path)}"
            if link is not None:
                line += f" -> {_escape(link)}"
            yield line
