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

import gc
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import attrgetter

from dive_py.core.analysis.gosort import go_sort_by_key
from dive_py.core.analysis.layertree import NO_ENTRY, leaf_columns, whiteout_node_path
from dive_py.core.model.entries import tree_key
from dive_py.core.model.image import Image


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


def _layer_leaves(image: Image, layer: int) -> tuple[list[int], list[int]]:
    """Leaf occurrences of one layer, in dive's visiting order: ``(path ids, sizes)``.

    Entries count their size, whiteouts what they removed; implied whiteouts
    (opaque directories, type changes) are added where dive would have seen
    the equivalent explicit whiteout.
    """
    sizes = image.entries.size
    wsize = image.timeline.whiteout_size
    keys, ents, targets, n = leaf_columns(image.entries, image.paths, layer)
    leaf_sizes = [sizes[g] if g != NO_ENTRY else 0 for g in ents[:n]]
    leaf_sizes.extend(wsize.get(g, 0) for g in ents[n:])
    implied = image.timeline.implied_whiteouts[layer]
    if implied:  # rare: sort (key, path id, size) triples, ties broken by id then size
        names = image.paths.paths
        triples = list(zip(keys, targets, leaf_sizes))
        triples.extend((tree_key(whiteout_node_path(names[p])), p, size) for p, size in implied)
        triples.sort()
        return [t[1] for t in triples], [t[2] for t in triples]
    order = sorted(range(len(keys)), key=keys.__getitem__)
    return [targets[i] for i in order], [leaf_sizes[i] for i in order]


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cycle collector: the pass allocates only acyclic objects.

    On a 400k-file image the pass creates ~800k long-lived lists and
    records, and every full collection triggered on the way re-scans them
    all (measured: 1.7 s of 5 s).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def analyse(image: Image) -> Efficiency:
    """Compute dive's figures for ``image``."""
    with _gc_paused():
        return _analyse(image)


def _analyse(image: Image) -> Efficiency:
    # Per path id, in flat arrays (a dict of lists costs ~200 bytes a path):
    # occurrences, cumulative and minimum size, and the layer of the first
    # occurrence; the layer list only for paths seen twice or more.
    n_paths = len(image.paths)
    count = array("i", bytes(4 * n_paths))
    cumulative = array("q", bytes(8 * n_paths))
    minimum = array("q", bytes(8 * n_paths))
    first_layer = array("i", bytes(4 * n_paths))
    layers_of: dict[int, list[int]] = {}
    discovered: list[int] = []
    for layer in range(len(image.layers)):
        pids, sizes = _layer_leaves(image, layer)
        for pid, size in zip(pids, sizes):
            c = count[pid]
            count[pid] = c + 1
            if c == 0:
                cumulative[pid] = size
                minimum[pid] = size
                first_layer[pid] = layer
                continue
            cumulative[pid] += size
            if size < minimum[pid]:
                minimum[pid] = size
            if c == 1:
                layers_of[pid] = [first_layer[pid], layer]
                discovered.append(pid)
            else:
                layers_of[pid].append(layer)
    min_total = sum(minimum)
    cum_total = sum(cumulative)
    score = 1.0 if cum_total == 0 else min_total / cum_total

    names = image.paths.paths
    matches = [WastedPath("/" + names[p], count[p], cumulative[p], minimum[p], layers_of[p]) for p in discovered]
    go_sort_by_key(matches, attrgetter("cumulative"))
    matches.reverse()
    wasted = sum(m.cumulative for m in matches)
    size_bytes = sum(layer.size for layer in image.layers)
    user_size = sum(layer.size for layer in image.layers[1:])
    if user_size:
        user_pct = wasted / user_size
    else:  # dive: 0/0 = NaN; with no user bytes there is nothing user-made to waste
        user_pct = 0.0
    return Efficiency(score, wasted, size_bytes, user_size, user_pct, matches, min_total, cum_total)
