"""Cell widths of every name and link target of an image, computed once per image.

The file tree needs each row's width to size its scroll area and to decide where
wrapped names break; measuring 400k names per redraw would cost ~100 ms, so the
widths are one vectorised pass per image, kept for the image on screen.
Rich's ``cell_len`` counts wide characters; the view model may not import Rich.
"""

from __future__ import annotations

import numpy as np
from rich.cells import cell_len

from dive_py.core.kinds import HARDLINK, SYMLINK
from dive_py.core.text import printable
from dive_py.viewmodel.file_tree import FileTreeModel
from dive_py.viewmodel.row_text import LINK_ARROW

_WIDTH_CACHE: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def static_widths(model: FileTreeModel) -> tuple[np.ndarray, np.ndarray]:
    """Cells taken by every path's name and every entry's ``→ target`` (once per image)."""
    key = id(model.index)
    cached = _WIDTH_CACHE.get(key)
    if cached is None:
        paths = model.image.paths.paths
        # As drawn: a name's control characters are shown escaped (``\x1b``), four cells each.
        names = np.fromiter((_cells(printable(p[p.rfind("/") + 1 :])) for p in paths), dtype=np.int64, count=len(paths))
        e = model.image.entries
        links = np.fromiter(
            (
                len(LINK_ARROW) + _cells(printable(link)) if link and tflag in (HARDLINK, SYMLINK) else 0
                for link, tflag in zip(e.link, e.tflag, strict=False)
            ),
            dtype=np.int64,
            count=len(e),
        )
        cached = (names, links)
        _WIDTH_CACHE.clear()
        _WIDTH_CACHE[key] = cached
    return cached


def _cells(text: str) -> int:
    return len(text) if text.isascii() else cell_len(text)


__all__ = ["static_widths"]
