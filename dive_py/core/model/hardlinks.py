"""Bind each hardlink to the entry whose bytes it shares, in tar's archive order.

A hardlink names a path; which *file* that is depends on when the link
appears.  Unpacking ``[f (v1), h -> f, f (v2)]`` links ``h`` to v1's inode and
then replaces ``f``: ``h`` keeps v1's content.  So a link binds to the latest
entry at its target path that comes *before* it in the same layer, else to
what the lower layers left at that path.  (A target that only appears later
in the same layer cannot be unpacked by a runtime; it is bound to that later
entry rather than refused.)

Tar allows a hardlink to anything but a directory: to a symlink, a fifo or
a device too.  The link then *is* one of those; only links that end at a
regular file have bytes (:func:`has_bytes`).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left

import numpy as np

from dive_py.core.kinds import CONTIGUOUS, DIR, ENTRY, HARDLINK, IMPLICIT, REGULAR, SHADOWED
from dive_py.core.model.entries import EntryTable, PathTable
from dive_py.core.tar.layerread import hardlink_path
from dive_py.errors import LayerError

NONE = -1


def bind_earlier(
    links: list[int], layer: int, entries: EntryTable, paths: PathTable, vis: array[int]
) -> dict[int, int]:
    """Targets known before the layer's additions: an earlier entry of the layer, or a lower one.

    Call after the layer's whiteouts and opaque markers, before its additions
    (``vis`` then holds what the lower layers left).
    """
    targets: dict[int, int] = {}
    for g in links:
        t = paths.lookup(hardlink_path(entries.link[g]))
        if t is not None:
            targets[g] = t
    if not targets:
        return {}
    rng = entries.layer_range(layer)
    ids = np.frombuffer(entries.pid, dtype=np.int32)[rng.start : rng.stop]
    hits = np.flatnonzero(np.isin(ids, np.fromiter(set(targets.values()), dtype=np.int32))) + rng.start
    kinds = entries.kind
    epid = entries.pid
    same_layer: dict[int, list[int]] = {}
    for h in hits.tolist():
        if kinds[h] == ENTRY or kinds[h] == SHADOWED:
            same_layer.setdefault(epid[h], []).append(h)
    out: dict[int, int] = {}
    for g, t in targets.items():
        earlier = same_layer.get(t, ())
        i = bisect_left(earlier, g)
        if i:
            out[g] = earlier[i - 1]
        elif vis[t] != NONE:
            out[g] = vis[t]
    return out


def bind(
    links: list[int],
    early: dict[int, int],
    entries: EntryTable,
    paths: PathTable,
    vis: array[int],
    hardlink_target: dict[int, int],
    *,
    strict: bool,
    warn: list[str] | None,
) -> None:
    """Record ``hardlink_target`` for ``links`` (archive order), after the layer's additions.

    A link with no earlier target takes what its path holds now (the lenient
    case above).  A link to a link takes that link's target, which is never a
    link itself (every recorded target is resolved this way, a later link of
    the same layer first), so one step ends every chain; loops are refused.
    Visible links whose target is missing or a directory are errors
    (warnings with ``strict=False``); shadowed links just stay unbound.
    """
    batch = set(links)
    done: set[int] = set()
    problems: dict[int, str] = {}
    for first in links:
        if first in done:
            continue
        # A link to a link that comes later in this layer binds that one first (a chain, walked
        # without recursion); a loop ends where it meets itself and its links are refused.
        chain = [first]
        on_chain = {first}
        while True:
            t = _direct_target(chain[-1], early, entries, paths, vis)
            if t == NONE or t in done or t not in batch or t in on_chain or entries.tflag[t] != HARDLINK:
                break
            chain.append(t)
            on_chain.add(t)
        for g in reversed(chain):
            if g not in done:
                done.add(g)
                problem = _bind_one(g, early, entries, paths, vis, hardlink_target)
                if problem is not None and entries.kind[g] == ENTRY:
                    problems[g] = problem
    for g in links:  # refused in archive order, whatever order the chains were bound in
        if g in problems:
            _refuse(g, entries, paths, problems[g], strict, warn)


def _direct_target(g: int, early: dict[int, int], entries: EntryTable, paths: PathTable, vis: array[int]) -> int:
    """The entry ``g`` names: its earlier target, else what its path holds now."""
    t = early.get(g, NONE)
    if t == NONE:
        target = paths.lookup(hardlink_path(entries.link[g]))
        t = vis[target] if target is not None and vis[target] != g else NONE
    return t


def _bind_one(
    g: int,
    early: dict[int, int],
    entries: EntryTable,
    paths: PathTable,
    vis: array[int],
    hardlink_target: dict[int, int],
) -> str | None:
    """Bind one link whose link-target, if any, is already bound; else say what is wrong."""
    tflags = entries.tflag
    t = _direct_target(g, early, entries, paths, vis)
    if t != NONE and tflags[t] == HARDLINK:  # a bound link's target is never a link itself
        t = hardlink_target.get(t, NONE)
    problem = None
    if t == NONE:
        problem = f"points to /{hardlink_path(entries.link[g])}, which does not exist"
    elif tflags[t] == DIR or entries.kind[t] == IMPLICIT:
        problem = (
            f"points to /{hardlink_path(entries.link[g])}, which is a directory "
            "(hardlinks to directories are not allowed)"
        )
    if problem is None:
        hardlink_target[g] = t
    return problem


def _refuse(g: int, entries: EntryTable, paths: PathTable, problem: str, strict: bool, warn: list[str] | None) -> None:
    msg = f"layer {entries.layer_of(g)}: hardlink /{paths.paths[entries.pid[g]]} {problem}"
    if strict:
        raise LayerError(msg)
    if warn is not None:
        warn.append(msg)


def has_bytes(entries: EntryTable, hardlink_target: dict[int, int], g: int) -> bool:
    """A regular file, or a hardlink that ends at one: something whose content can be read."""
    t = hardlink_target.get(g, g) if entries.tflag[g] == HARDLINK else g
    return entries.tflag[t] == REGULAR or entries.tflag[t] == CONTIGUOUS
