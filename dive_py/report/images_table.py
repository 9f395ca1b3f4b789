"""The images of a multi-image archive as a table, for the summary and the CI report.

::

    images: 2 (analysed: child:1)
      Image       Platform  Layers    Size  Shared  Unique
    * child:1     -              3  4.6 kB  3.1 kB  1.5 kB
      parent:1    -              2  3.1 kB  3.1 kB     0 B
    stored: 4.6 kB of layers for images adding up to 7.7 kB (shared layers are stored once); archive file 12 kB

Sizes are stored bytes of layer blobs (see :mod:`dive_py.core.model.image_set`).
"""

from __future__ import annotations

from dive_py.core.model.image import Image
from dive_py.core.model.image_set import image_set
from dive_py.core.text import printable
from dive_py.core.units import humanize_bytes

#: Image names longer than this are cut with an ellipsis in the table.
NAME_WIDTH = 40


def _name(text: str) -> str:
    text = printable(text)
    return text if len(text) <= NAME_WIDTH else text[: NAME_WIDTH - 1] + "…"


def images_table(image: Image) -> list[str]:
    """Lines of the table: a heading, one row per image (``*`` = analysed), the totals."""
    found = image_set(image)
    names = [_name(r.display_name) for r in found.rows]
    plats = [printable(r.platform or "-") for r in found.rows]
    wn = max([len("Image"), *map(len, names)])
    wp = max([len("Platform"), *map(len, plats)])
    lines = [
        f"images: {len(found.rows)} (analysed: {printable(image.display_name)})",
        f"  {'Image':<{wn}}  {'Platform':<{wp}}  {'Layers':>6}  {'Size':>9}  {'Shared':>9}  {'Unique':>9}",
    ]
    for row, name, plat in zip(found.rows, names, plats, strict=True):
        mark = "*" if row.selected else " "
        lines.append(
            f"{mark} {name:<{wn}}  {plat:<{wp}}  {row.layers:>6}  {humanize_bytes(row.size):>9}  "
            f"{humanize_bytes(row.shared):>9}  {humanize_bytes(row.unique):>9}"
        )
    total = (
        f"stored: {humanize_bytes(found.stored)} of layers for images adding up to "
        f"{humanize_bytes(found.sum_of_sizes)} (shared layers are stored once)"
    )
    if found.archive_bytes is not None:
        total += f"; archive on disk {humanize_bytes(found.archive_bytes)}"
    lines.append(total)
    return lines
