"""Waste copies grouped into units a person can act on: one removed directory, one ``chown -R``.

A ``rm -rf /root/.cache`` leaves ten thousand waste copies; listing them
tells nobody anything.  Copies are first grouped by (kind, the layer that
stored them, the layer that made them unreachable).  Inside a group, a
directory is *covered* when every byte-holding entry its layer stored under
it is in the group: everything that step put there was wasted the same
way.  Each maximal covered node is one finding, its path moved down to the
deepest directory that still holds all of the group's files below it (so a
layer that stored only ``/app/**`` gives ``/app``, not ``/``).

A group whose copies are scattered (``find -name '*.pyc' -delete``) could
still give thousands of findings: the biggest :data:`MAX_PER_GROUP` are kept
and the rest become one finding at their common directory, marked
``partial``.  Findings of one kind and path hidden by the same layer merge
across the layers that stored them.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from dive_py.core.analysis.reclaim import REMOVED, Reclaim, layer_column
from dive_py.core.kinds import ENTRY, IMPLICIT
from dive_py.core.model.entries import ROOT
from dive_py.core.model.image import Image

#: Findings kept explicitly per (kind, stored, hidden) group before the rest are folded into one.
MAX_PER_GROUP = 12

I64 = npt.NDArray[np.int64]


@dataclass(slots=True)
class Finding:
    """Bytes wasted one way under one path."""

    kind: int  #: a kind of :mod:`dive_py.core.analysis.reclaim`
    path: str  #: with a leading "/"; "/" for the whole filesystem
    bytes: int
    files: int
    stored_in: list[int] = field(default_factory=list)
    hidden_by: int | None = None
    partial: bool = False  #: the scattered rest of a group, folded into their common directory
    example: str = ""  #: the biggest file among the copies (what a cache hint recognises)


def _counts(pids: I64, parent: I64, weights: I64) -> tuple[I64, I64, I64]:
    """Per node on the paths of ``pids`` up to the root: ``(nodes, files, bytes)`` under it, nodes sorted."""
    levels = [pids]
    wlevels = [weights]
    cur, w = pids, weights
    while len(cur):
        keep = cur != ROOT
        cur = parent[cur[keep]]
        w = w[keep]
        levels.append(cur)
        wlevels.append(w)
    every = np.concatenate(levels)
    wall = np.concatenate(wlevels)
    if len(every) * 4 >= len(parent):  # dense: count over all path ids (linear) instead of sorting
        files = np.bincount(every, minlength=len(parent))
        nodes = np.flatnonzero(files).astype(np.int64)
        total = np.bincount(every, weights=wall, minlength=len(parent))[nodes].astype(np.int64)
        return nodes, files[nodes].astype(np.int64), total
    nodes, inverse = np.unique(every, return_inverse=True)
    files = np.bincount(inverse, minlength=len(nodes)).astype(np.int64)
    total = np.bincount(inverse, weights=wall, minlength=len(nodes)).astype(np.int64)
    return nodes, files, total


def _lookup(nodes: I64, values: I64, keys: I64) -> I64:
    """``values`` at ``keys`` (0 where a key is not among ``nodes``)."""
    at = np.searchsorted(nodes, keys)
    at = np.minimum(at, len(nodes) - 1)
    found = nodes[at] == keys
    return np.where(found, values[at], 0)


def _group_roots(
    pids: I64, sizes: I64, layer_counts: tuple[I64, I64, I64], parent: I64, gone: npt.NDArray[np.bool_] | None
) -> tuple[I64, I64, I64]:
    """``(root path ids, files, bytes)`` of the maximal covered nodes of one group.

    ``gone`` (removed copies only) marks the paths absent after the hiding
    layer: the walk down stops at the first of them, the directory the
    whiteout or the replacement named, rather than at the one file below it.
    """
    nodes, files, total = _counts(pids, parent, sizes)
    # Covered is counted in paths, not copies: a path stored twice in one layer, whose earlier copy
    # alone is waste, is still wholly the group's.
    paths = np.unique(pids)
    path_files = files if len(paths) == len(pids) else _counts(paths, parent, np.zeros(len(paths), np.int64))[1]
    lnodes, lfiles, _lbytes = layer_counts
    covered = path_files == _lookup(lnodes, lfiles, nodes)
    node_parent = np.where(nodes == ROOT, ROOT, parent[nodes])
    parent_covered = _lookup(nodes, covered.astype(np.int64), node_parent).astype(bool)
    top = covered & ((nodes == ROOT) | ~parent_covered)
    roots, root_files, root_bytes = nodes[top], files[top], total[top]
    # Follow single chains down from covered directories: a child holding all of its parent's
    # group files is the deeper root (same files, same bytes).  Group files are roots as they are.
    walk = np.flatnonzero(~np.isin(roots, pids))
    if len(walk):
        parent_files = _lookup(nodes, files, node_parent)
        full = (nodes != ROOT) & (files == parent_files)
        full_child = dict(zip(node_parent[full].tolist(), nodes[full].tolist(), strict=True))
        own = set(pids.tolist())
        for i in walk.tolist():
            node = int(roots[i])
            while node not in own and node in full_child and not (gone is not None and gone[node]):
                node = full_child[node]
            roots[i] = node
    return roots, root_files, root_bytes


class _Visibility:
    """Which paths are in the merged filesystem after a layer: the columns taken once per image, not per layer."""

    def __init__(self, image: Image) -> None:
        e = image.entries
        kind = np.frombuffer(bytes(e.kind), dtype=np.uint8)
        self.shown = (kind == ENTRY) | (kind == IMPLICIT)
        self.born = layer_column(image)
        self.end = np.asarray(image.timeline.end, dtype=np.int64)
        self.pid = np.asarray(e.pid, dtype=np.int64)
        self.n_paths = len(image.paths)

    def after(self, layer: int) -> npt.NDArray[np.bool_]:
        """Per path id: is something at that path after ``layer``?"""
        out = np.zeros(self.n_paths, dtype=bool)
        out[self.pid[self.shown & (self.born <= layer) & (self.end > layer)]] = True
        out[ROOT] = True
        return out


def group_findings(image: Image, waste: Reclaim) -> list[Finding]:
    """The findings of an image, biggest first (ties by path)."""
    names = image.paths.paths
    parent = np.asarray(image.paths.parent, dtype=np.int64)
    pid_all = np.asarray(image.entries.pid, dtype=np.int64)
    size_all = np.asarray(image.entries.size, dtype=np.int64)
    layer_cache: dict[int, tuple[I64, I64, I64]] = {}
    layer_bounds = image.entries.layer_start

    def layer_counts(layer: int) -> tuple[I64, I64, I64]:
        if layer not in layer_cache:
            ids = np.arange(layer_bounds[layer], layer_bounds[layer + 1], dtype=np.int64)
            held = np.unique(pid_all[ids[size_all[ids] > 0]])  # paths holding bytes (see _group_roots)
            layer_cache[layer] = _counts(held, parent, np.zeros(len(held), np.int64))
        return layer_cache[layer]

    gone_cache: dict[int, npt.NDArray[np.bool_]] = {}
    visibility: list[_Visibility] = []  # built on the first removed group, then shared

    def gone_after(layer: int) -> npt.NDArray[np.bool_]:
        """Paths with nothing visible after ``layer``."""
        if layer not in gone_cache:
            if not visibility:
                visibility.append(_Visibility(image))
            gone_cache[layer] = ~visibility[0].after(layer)
        return gone_cache[layer]

    merged: dict[tuple[int, str, int], Finding] = {}
    if len(waste.entry):
        n = len(image.layers) + 1
        keys = (waste.kind.astype(np.int64) * n + waste.stored_in) * n + (waste.hidden_by + 1)
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        starts = np.flatnonzero(np.diff(ordered, prepend=-1))
        bounds = [*starts.tolist(), len(order)]
        for gi, key in enumerate(ordered[starts].tolist()):
            kind, rest = divmod(key, n * n)
            stored, hidden = divmod(rest, n)
            hidden -= 1
            rows = order[bounds[gi] : bounds[gi + 1]]
            pids = pid_all[waste.entry[rows]]
            gone = gone_after(hidden) if kind == REMOVED and hidden >= 0 else None
            roots = _group_roots(pids, waste.size[rows], layer_counts(stored), parent, gone)
            examples = _by_size(pids, waste.size[rows], names) if kind == REMOVED else []
            for finding in _fold(roots, names, kind, stored, hidden):
                finding.example = _example(finding.path, examples)
                key = (finding.kind, finding.path, hidden)
                have = merged.get(key)
                if have is None:
                    merged[key] = finding
                else:
                    have.bytes += finding.bytes
                    have.files += finding.files
                    have.stored_in = sorted({*have.stored_in, stored})
                    have.partial = have.partial or finding.partial
    return sorted(merged.values(), key=lambda f: (-f.bytes, f.path, f.kind))


#: Copies looked at to find a finding's example file (the biggest first); beyond, the root stands for itself.
EXAMPLE_SCAN = 10_000


def _by_size(pids: I64, sizes: I64, names: list[str]) -> list[str]:
    """Paths of a group's copies, the biggest first (at most :data:`EXAMPLE_SCAN`)."""
    if len(sizes) > EXAMPLE_SCAN:
        top = np.argpartition(-sizes, EXAMPLE_SCAN - 1)[:EXAMPLE_SCAN]
        order = top[np.argsort(-sizes[top], kind="stable")]
    else:
        order = np.argsort(-sizes, kind="stable")
    return ["/" + names[p] for p in pids[order].tolist()]


def _example(root: str, paths: list[str]) -> str:
    """The biggest path under ``root`` among ``paths``, else ``root``."""
    prefix = root.rstrip("/") + "/"
    return next((p for p in paths if p == root or p.startswith(prefix)), root)


def common_dir(paths: list[str]) -> str:
    """The deepest directory holding every path: that of the lexically first and last (two compares per path)."""
    return posixpath.commonpath([min(paths), max(paths)])


#: Above this many tied candidates for the kept findings, ties go by path id (archive order), not by name.
NAME_TIES = 4096


def _fold(roots: tuple[I64, I64, I64], names: list[str], kind: int, stored: int, hidden: int) -> list[Finding]:
    """One finding per root; beyond :data:`MAX_PER_GROUP`, the smallest fold into their common directory."""
    ids, files, total = roots
    hidden_by = hidden if hidden >= 0 else None
    if len(ids) > MAX_PER_GROUP:
        threshold = np.partition(total, len(total) - MAX_PER_GROUP)[len(total) - MAX_PER_GROUP]
        candidates = np.flatnonzero(total >= threshold)
    else:
        candidates = np.arange(len(ids))
    if len(candidates) <= NAME_TIES:
        order = sorted(candidates.tolist(), key=lambda i: (-int(total[i]), names[ids[i]]))
    else:
        order = candidates[np.lexsort((ids[candidates], -total[candidates]))].tolist()
    kept = order[:MAX_PER_GROUP]
    out = [Finding(kind, "/" + names[ids[i]], int(total[i]), int(files[i]), [stored], hidden_by) for i in kept]
    if len(ids) > len(kept):
        rest = np.ones(len(ids), dtype=bool)
        rest[kept] = False
        common = common_dir(["/" + names[p] for p in ids[rest].tolist()])
        out.append(Finding(kind, common, int(total[rest].sum()), int(files[rest].sum()), [stored], hidden_by, True))
    return out


__all__ = ["MAX_PER_GROUP", "Finding", "common_dir", "group_findings"]
