"""The text of file-tree rows, column by column, exactly as dive lays them out.

``drwxr-xr-x         0:0     1.2 MB  ├─⊕ bin``: permissions, ``uid:gid``
right-aligned in 11, the size right-aligned in 10, two spaces, the tree
guides and the name (``name → target`` for links).  The widget styles each
part by diff type; golden tests compare the plain text with dive's.
"""

from __future__ import annotations

from dataclasses import dataclass

from dive_py.core.kinds import HARDLINK, SYMLINK
from dive_py.core.model.entries import ROOT
from dive_py.core.modes import perm_string
from dive_py.core.text import printable
from dive_py.core.units import humanize_bytes
from dive_py.viewmodel.file_tree import FileTreeModel
from dive_py.viewmodel.layers import BAR_CELLS, size_bar

ATTRIBUTE_HEADER = "Permission     UID:GID       Size  Filetree"
PLAIN_HEADER = "Filetree"
LINK_ARROW = " → "
#: Cells the size bar takes before the guides: the bar, `` 42%`` and two spaces.
BAR_WIDTH = BAR_CELLS + 5 + 2


@dataclass(slots=True, frozen=True)
class RowParts:
    """One row split into the pieces the widget styles differently."""

    pid: int
    attributes: str  #: "drwxr-xr-x         0:0     1.2 MB  " ("" when hidden)
    guides: str  #: "│   ├─" style tree guides
    marker: str  #: "─ " or "⊕ " (collapsed directory)
    name: str  #: basename, "name → target" for links
    diff: int
    is_dir: bool

    @property
    def text(self) -> str:
        return self.attributes + self.guides + self.marker + self.name


def row_parts(model: FileTreeModel, row: int, *, attributes: bool = True, bars: bool = False) -> RowParts:
    """Everything needed to draw row ``row`` of ``model``.

    ``bars`` adds the path's share of the tree shown (the layer's files, or the
    image's in the aggregated view) as a bar before the guides.
    """
    pid = int(model.rows[row])
    image = model.image
    e = image.entries
    g = model.entry_of(pid)
    tflag = e.tflag[g]
    attrs = ""
    if attributes:
        owner = f"{e.uid[g]}:{e.gid[g]}"
        attrs = f"{perm_string(tflag, e.mode[g])} {owner:>11} {humanize_bytes(int(model.sizes[pid])):>10}  "
    if bars:
        total = int(model.sizes[ROOT])
        attrs += size_bar(int(model.sizes[pid]) / total if total else 0.0) + "  "
    parent = model.index.parent
    chain = []
    q = int(parent[pid])
    while q > ROOT:
        chain.append(q)
        q = int(parent[q])
    guides = "".join("    " if model.is_last_child(a) else "│   " for a in reversed(chain))
    guides += "└─" if model.is_last_child(pid) else "├─"
    marker = "⊕ " if model.is_collapsed(pid) else "─ "
    name = printable(image.paths.name(pid))
    if tflag in (SYMLINK, HARDLINK):
        name += LINK_ARROW + printable(e.link[g])
    return RowParts(pid, attrs, guides, marker, name, model.diff_of(pid), bool(model.is_dir[pid]))


def render_rows(
    model: FileTreeModel, start: int = 0, count: int | None = None, *, attributes: bool = True, width: int | None = None
) -> list[str]:
    """Plain text of rows ``start .. start+count`` (for golden tests and ``--list``-like views)."""
    stop = len(model.rows) if count is None else min(len(model.rows), start + count)
    lines = []
    for row in range(start, stop):
        text = row_parts(model, row, attributes=attributes).text
        lines.append(text[:width] if width is not None else text)
    return lines


def continuation_guides(guides: str) -> str:
    """The guides of a wrapped row's next lines: ``│   ├─`` -> ``│   │ `` (``└─`` -> two spaces)."""
    return guides[:-2] + ("│ " if guides.endswith("├─") else "  ")


def empty_reason(model: FileTreeModel) -> str:
    """Why the tree shows nothing, so an empty pane is never a mystery."""
    if model.filter_text:
        return f" No path in this layer matches the filter {model.filter_text!r}."
    if model.hidden:
        return " Every file of this view has a hidden diff type (see the key bar)."
    return " This layer's filesystem is empty."


def title_for(model: FileTreeModel) -> str:
    """The tree pane's title; an active filter stays in it after its prompt closes."""
    title = "Aggregated Layer Contents" if model.aggregated else "Current Layer Contents"
    return f"{title} · filter: {model.filter_text}" if model.filter_text else title
