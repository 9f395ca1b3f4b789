"""dive's efficiency score and wasted-bytes list, reproduced to the last digit.

The definition (dive ``filetree/efficiency.go``): walk every layer's *own*
tree (not the merged one), visit only its leaves, and for each leaf record
an occurrence of its path: its size, or for a whiteout the bytes of what it
deletes (a directory's whole subtree, 0 for anything else).  Per path keep
the cumulative and the minimum size.

* score = Σ min / Σ cumulative over every path (1.0 if nothing at all);
* a path with two or more occurrences is "inefficient"; wasted bytes are the
  sum of their cumulative sizes (every copy, including the one that
  survives; that is dive's definition and we keep it for compatibility);
* the list is sorted with Go's unstable ``sort.Sort`` by cumulative size
  and then reversed, so ties come out exactly as dive prints them.

Where dive is wrong we are right, and the difference only shows on images
that trigger it (see docs/metrics.md): opaque directories and type changes
hide lower files just like whiteouts do, so they add implied whiteout
occurrences; a whiteout of a path that does not exist counts 0 instead of
silently aborting the rest of the layer; user-wasted percent of an image
with no user bytes is 0, not NaN.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dive_py.core.entries import tree_key
from dive_py.core.gosort import go_sort
from dive_py.core.image import Image
from dive_py.core.layertree import NO_ENTRY, layer_leaves, whiteout_node_path


@dataclass(slots=True)
class WastedPath:
    """One path that occurs in more than one layer."""

    path: str  #: with a leading "/" as dive prints it
    count: int
    cumulative: int  #: dive's "wasted" figure: all copies
    minimum: int
    layers: list[int] = field(default_factory=list)

    @property
    def reclaimable(self) -> int:
        """Bytes that would disappear if only the smallest copy were kept."""
        return self.cumulative - self.minimum


@dataclass(slots=True)
class Efficiency:
    """Every figure dive's analysis reports, plus a few of our own."""

    score: float
    wasted_bytes: int
    size_bytes: int
    user_size_bytes: int
    user_wasted_percent: float
    inefficient: list[WastedPath]
    min_total: int
    cumulative_total: int

    @property
    def reclaimable_bytes(self) -> int:
        return sum(w.reclaimable for w in self.inefficient)


def _layer_leaves(image: Image, layer: int) -> list[tuple[str, int, int]]:
    """Leaf occurrences of one layer as ``(sort key, path id, size)``.

    Entries count their size, whiteouts what they removed; implied whiteouts
    (opaque directories, type changes) are added where dive would have seen
    the equivalent explicit whiteout.
    """
    sizes = image.entries.size
    wsize = image.timeline.whiteout_size
    out: list[tuple[str, int, int]] = []
    for node in layer_leaves(image.entries, image.paths, layer):
        if node.whiteout:
            size = wsize.get(node.entry, 0)
        else:
            size = sizes[node.entry] if node.entry != NO_ENTRY else 0
        out.append((tree_key(node.path), node.target, size))
    implied = image.timeline.implied_whiteouts[layer]
    if implied:
        names = image.paths.paths
        out.extend((tree_key(whiteout_node_path(names[p])), p, size) for p, size in implied)
        out.sort()
    return out


def analyse(image: Image) -> Efficiency:
    """Compute dive's figures for ``image``."""
    stats: dict[int, list[int]] = {}  # path id -> [count, cumulative, min, *layers]
    discovered: list[int] = []
    for layer in range(len(image.layers)):
        for _key, pid, size in _layer_leaves(image, layer):
            st = stats.get(pid)
            if st is None:
                stats[pid] = [1, size, size, layer]
                continue
            st[0] += 1
            st[1] += size
            if size < st[2]:
                st[2] = size
            st.append(layer)
            if st[0] == 2:
                discovered.append(pid)
    min_total = 0
    cum_total = 0
    for st in stats.values():
        min_total += st[2]
        cum_total += st[1]
    score = 1.0 if cum_total == 0 else min_total / cum_total

    names = image.paths.paths
    matches = [WastedPath("/" + names[p], stats[p][0], stats[p][1], stats[p][2], stats[p][3:])
               for p in discovered]
    go_sort(matches, lambda a, b: a.cumulative < b.cumulative)
    matches.reverse()
    wasted = sum(m.cumulative for m in matches)
    size_bytes = sum(layer.size for layer in image.layers)
    user_size = sum(layer.size for layer in image.layers[1:])
    if user_size:
        user_pct = wasted / user_size
    else:  # dive: 0/0 = NaN; with no user bytes there is nothing user-made to waste
        user_pct = 0.0
    return Efficiency(score, wasted, size_bytes, user_size, user_pct, matches, min_total, cum_total)
