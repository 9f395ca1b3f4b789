"""Diff types between two states of the filesystem: added, modified, removed, unmodified.

"Unmodified" means same type, mode (incl. setuid/setgid/sticky), owner,
link target and content (dive ignores symlink retargets; we do not).
Content is compared by size and, when sizes match, by content hash.

Two views, as dive offers them:

* **layer changes** at layer *i*: the filesystem after *i-1* against the one
  after *i*; removed paths stay in the tree, marked removed;
* **aggregated changes** at layer *i*: everything that existed at any layer
  up to *i*, compared with the base layer (layer 0).

A directory whose own entry is unmodified becomes modified when anything
below it changed (dive's rule).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

from dive_py.core.entries import ENTRY, IMPLICIT, ROOT
from dive_py.core.hashing import ensure_hashes
from dive_py.core.image import Image
from dive_py.core.layerread import hardlink_path
from dive_py.core.tarscan import CONTIGUOUS, DIR, HARDLINK, REGULAR, SYMLINK

UNMODIFIED = 0
MODIFIED = 1
ADDED = 2
REMOVED = 3
DIFF_NAMES = ("unmodified", "modified", "added", "removed")

NO_NODE = -1


@dataclass(slots=True)
class CompareTree:
    """The tree shown for one (layer, mode): per path id, its entry and diff type.

    ``entry[pid]`` is the entry to display (``NO_NODE`` if the path is not
    in this tree); ``diff[pid]`` its diff type.  Removed paths show the last
    entry they had.
    """

    layer: int
    aggregated: bool
    entry: array[int]
    diff: bytearray
    count: int


def same_content(image: Image, a: int, b: int) -> bool:
    """True if entries ``a`` and ``b`` describe identical files."""
    if a == b:
        return True
    e = image.entries
    ta = e.tflag[a]
    tb = e.tflag[b]
    if ta == CONTIGUOUS:
        ta = REGULAR
    if tb == CONTIGUOUS:
        tb = REGULAR
    if ta != tb:
        return False
    if (e.mode[a] & 0o7777) != (e.mode[b] & 0o7777) or e.uid[a] != e.uid[b] or e.gid[a] != e.gid[b]:
        return False
    if ta == SYMLINK:
        return e.link[a] == e.link[b]
    if ta == HARDLINK:
        return hardlink_path(e.link[a]) == hardlink_path(e.link[b])
    if ta == REGULAR:
        if e.size[a] != e.size[b]:
            return False
        if e.hash[a] == 0 or e.hash[b] == 0:
            ensure_hashes(image, (a, b))
        return e.hash[a] == e.hash[b]
    return True


class Comparer:
    """Builds :class:`CompareTree` objects; keeps per-path history to do it fast."""

    def __init__(self, image: Image) -> None:
        self.image = image
        e = image.entries
        end = image.timeline.end
        self._start = array("i", (e.layer_of(g) if e.kind[g] in (ENTRY, IMPLICIT) else 0 for g in range(len(e))))
        self._visible_kinds = [g for g in range(len(e)) if e.kind[g] in (ENTRY, IMPLICIT)]
        self._end = end
        n_layers = len(image.layers)
        # Entries grouped by the layer in which they appear / disappear.
        self._born: list[list[int]] = [[] for _ in range(n_layers)]
        self._died: list[list[int]] = [[] for _ in range(n_layers + 1)]
        for g in self._visible_kinds:
            self._born[self._start[g]].append(g)
            self._died[end[g]].append(g)

    def visible_at(self, layer: int) -> list[int]:
        start = self._start
        end = self._end
        return [g for g in self._visible_kinds if start[g] <= layer < end[g]]

    def layer_changes(self, layer: int) -> CompareTree:
        """Filesystem after ``layer - 1`` against after ``layer`` (layer 0: all unmodified)."""
        image = self.image
        n_paths = len(image.paths)
        entry = array("i", [NO_NODE]) * n_paths
        diff = bytearray(n_paths)
        pids = image.entries.pid
        count = 0
        for g in self.visible_at(layer):
            entry[pids[g]] = g
            count += 1
        if layer == 0:
            return CompareTree(layer, False, entry, diff, count)
        changed: list[int] = []
        # Hidden at this layer: removed unless the path is still there (replaced).
        for g in self._died[layer]:
            p = pids[g]
            if entry[p] == NO_NODE:
                entry[p] = g
                diff[p] = REMOVED
                count += 1
                changed.append(p)
        lower: dict[int, int] = {pids[g]: g for g in self._died[layer]}
        for g in self._born[layer]:
            p = pids[g]
            if self._end[g] <= layer:
                continue
            old = lower.get(p)
            if old is None:
                diff[p] = ADDED
                changed.append(p)
            elif not same_content(image, old, g):
                diff[p] = MODIFIED
                changed.append(p)
        self._propagate(changed, diff)
        return CompareTree(layer, False, entry, diff, count)

    def aggregated_changes(self, layer: int) -> CompareTree:
        """Everything seen in layers 0..``layer``, compared with layer 0."""
        image = self.image
        n_paths = len(image.paths)
        entry = array("i", [NO_NODE]) * n_paths
        diff = bytearray(n_paths)
        pids = image.entries.pid
        start = self._start
        end = self._end
        base: dict[int, int] = {}
        count = 0
        changed: list[int] = []
        # Visit entries in birth order so a path ends up showing its latest entry.
        for born in range(layer + 1):
            for g in self._born[born]:
                p = pids[g]
                if entry[p] == NO_NODE:
                    count += 1
                entry[p] = g
                if born == 0 and end[g] > 0:
                    base[p] = g
        if layer == 0:
            return CompareTree(layer, True, entry, diff, count)
        for p in range(n_paths):
            g = entry[p]
            if g == NO_NODE:
                continue
            if not (start[g] <= layer < end[g]):
                diff[p] = REMOVED
                changed.append(p)
                continue
            b = base.get(p)
            if b is None:
                diff[p] = ADDED
                changed.append(p)
            elif b != g and not same_content(image, b, g):
                diff[p] = MODIFIED
                changed.append(p)
        self._propagate(changed, diff)
        return CompareTree(layer, True, entry, diff, count)

    def _propagate(self, changed: list[int], diff: bytearray) -> None:
        """Unmodified directories above a change become modified (dive's derivation)."""
        parent = self.image.paths.parent
        for p in changed:
            q = parent[p]
            while q > ROOT and diff[q] == UNMODIFIED:
                diff[q] = MODIFIED
                q = parent[q]

    def tree(self, layer: int, aggregated: bool) -> CompareTree:
        return self.aggregated_changes(layer) if aggregated else self.layer_changes(layer)


def is_dir_entry(image: Image, g: int) -> bool:
    return image.entries.tflag[g] == DIR
