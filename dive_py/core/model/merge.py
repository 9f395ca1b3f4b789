"""Stack the layers once and remember, for every entry, when it stops being visible.

One pass over the layers applies the OCI rules in order and records
``end[g]``: the first layer index at which entry ``g`` is no longer part of
the merged filesystem (``layer_count`` if it survives to the top).  The
merged tree at layer *i* is then simply every entry with
``layer(g) <= i < end[g]``; no layer is ever restacked (dive restacks all
lower layers for every whiteout, which is quadratic).

Rules, per layer, in this order (whiteouts and opaque markers only ever
apply to *lower* layers):

1. ``.wh.<name>`` removes ``<name>`` and everything below it.
2. ``.wh..wh..opq`` in directory *d* hides everything lower inside *d*.
3. Entries are added parents first.  A directory over a directory keeps the
   lower children (copy-on-write metadata change); a non-directory over a
   directory hides the lower children; a path under a lower non-directory
   replaces it with a directory.

While hiding, the pass also records what dive's efficiency metric needs:
the bytes an explicit whiteout removes, and the *implied* whiteouts of
opaque directories and type changes (dive ignores those; see docs).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

from dive_py.core.kinds import DIR, ENTRY, HARDLINK, OPAQUE, SHADOWED, WHITEOUT
from dive_py.core.model.entries import ROOT, EntryTable, PathTable, tree_key
from dive_py.core.model.hardlinks import bind, bind_earlier

NONE = -1


@dataclass(slots=True)
class Timeline:
    """Visibility of every entry across the layer stack."""

    #: First layer at which each entry is hidden (``layer_count`` = survives).
    end: array[int]
    #: Explicit whiteout entry -> bytes it removed (dive: subtree size of a
    #: directory, 0 for anything else, 0 when the path did not exist).
    whiteout_size: dict[int, int] = field(default_factory=dict)
    #: Whiteout entries that named a path absent from the lower layers.
    dangling_whiteouts: list[int] = field(default_factory=list)
    #: Per layer: (path id, bytes) of whiteouts implied by opaque dirs and
    #: type changes, in the order they were found.
    implied_whiteouts: list[list[tuple[int, int]]] = field(default_factory=list)
    #: Hardlink entry -> the entry holding its content.
    hardlink_target: dict[int, int] = field(default_factory=dict)
    layer_count: int = 0


def build_timeline(
    entries: EntryTable, paths: PathTable, *, strict: bool = True, warn: list[str] | None = None
) -> Timeline:
    """Stack all layers once; see the module docstring for the rules.

    ``strict`` makes a hardlink to a missing target an error; otherwise it is
    reported through ``warn`` and the link is kept unresolved.
    """
    n_layers = entries.layer_count
    end = array("i", [n_layers]) * len(entries)
    tl = Timeline(end=end, layer_count=n_layers)
    parent = paths.parent
    names = paths.paths
    kinds = entries.kind
    tflags = entries.tflag
    sizes = entries.size
    epid = entries.pid
    vis = array("i", [NONE]) * len(paths)  # path id -> visible entry
    kids: dict[int, set[int]] = {}  # path id -> visible child path ids

    def by_name(ids: set[int] | None) -> list[int]:
        return sorted(ids, key=lambda p: tree_key(names[p])) if ids else []

    def hide(pid: int, layer: int) -> int:
        """Hide ``pid`` and its visible subtree at ``layer``; return their bytes."""
        total = 0
        stack = [pid]
        while stack:
            p = stack.pop()
            g = vis[p]
            if g == NONE:
                continue
            total += sizes[g]
            end[g] = layer
            vis[p] = NONE
            sub = kids.pop(p, None)
            if sub:
                stack.extend(sub)
        siblings = kids.get(parent[pid])
        if siblings is not None:
            siblings.discard(pid)
        return total

    def measure(pid: int) -> int:
        """Bytes of ``pid``'s visible subtree, changing nothing."""
        total = 0
        stack = [pid]
        while stack:
            p = stack.pop()
            g = vis[p]
            if g == NONE:
                continue
            total += sizes[g]
            sub = kids.get(p)
            if sub:
                stack.extend(sub)
        return total

    def show(pid: int, g: int) -> None:
        vis[pid] = g
        kids.setdefault(parent[pid], set()).add(pid)

    def hide_under_opaque(c: int, layer: int, here: dict[int, int], implied: list[tuple[int, int]]) -> None:
        """Hide lower child ``c`` of an opaque directory, recording implied whiteouts.

        A child the same layer re-creates is a replacement, not a deletion:
        only what the replacement itself hides is recorded (recursing for a
        directory over a directory, whose lower children are hidden too).
        """
        lower_dir = tflags[vis[c]] == DIR
        new = here.get(c)
        if new is None:
            removed = hide(c, layer)
            implied.append((c, removed if lower_dir else 0))
            return
        new_dir = tflags[new] == DIR
        if lower_dir and new_dir:
            for cc in by_name(kids.get(c)):
                hide_under_opaque(cc, layer, here, implied)
            hide(c, layer)
        elif lower_dir:
            implied.append((c, hide(c, layer)))
        else:
            if new_dir:
                implied.append((c, 0))
            hide(c, layer)

    def make_dirs(q: int, layer: int, implied: list[tuple[int, int]]) -> None:
        """Give ``q`` (and missing ancestors) an implicit directory entry."""
        chain = []
        while q != ROOT and (vis[q] == NONE or tflags[vis[q]] != DIR):
            chain.append(q)
            q = parent[q]
        for p in reversed(chain):
            if vis[p] != NONE:  # a lower non-directory is in the way: it is replaced
                implied.append((p, 0))
                hide(p, layer)
            show(p, entries.add_implicit_dir(p, layer))
            end.append(n_layers)

    for layer in range(n_layers):
        implied: list[tuple[int, int]] = []
        tl.implied_whiteouts.append(implied)
        whiteouts: list[int] = []
        opaques: list[int] = []
        adds: list[int] = []
        links: list[int] = []  # hardlinks, visible or shadowed, in archive order
        for g in entries.layer_range(layer):
            k = kinds[g]
            if k == ENTRY:
                adds.append(g)
                if tflags[g] == HARDLINK:
                    links.append(g)
                continue
            if k == SHADOWED and tflags[g] == HARDLINK:
                links.append(g)
            if k == WHITEOUT:
                whiteouts.append(g)
            elif k == OPAQUE:
                opaques.append(g)
            end[g] = layer  # markers and shadowed duplicates are never visible

        # 1. explicit whiteouts, each measured against the lower layers (dive restacks them for
        #    every whiteout, so `.wh.a` and `a/.wh.b` in one layer both count what lay below),
        #    then all applied
        hidden_here: list[int] = []
        for g in whiteouts:
            p = epid[g]
            old = vis[p]
            if old == NONE:
                tl.whiteout_size[g] = 0
                tl.dangling_whiteouts.append(g)
                continue
            tl.whiteout_size[g] = measure(p) if tflags[old] == DIR else 0
            hidden_here.append(p)
        for p in hidden_here:
            hide(p, layer)

        # 2. opaque directories
        if opaques:
            here = {epid[g]: g for g in adds}
            for g in opaques:
                d = epid[g]
                if d != ROOT and (vis[d] == NONE or tflags[vis[d]] != DIR):
                    continue  # nothing lower to hide (a new dir, or a file becoming a dir)
                for c in by_name(kids.get(d)):
                    hide_under_opaque(c, layer, here, implied)

        early = bind_earlier(links, layer, entries, paths, vis) if links else {}

        # 3. additions, parents before children
        if len(adds) > 1:
            adds.sort(key=lambda g: tree_key(names[epid[g]]))
        for g in adds:
            p = epid[g]
            q = parent[p]
            if q != ROOT and (vis[q] == NONE or tflags[vis[q]] != DIR):
                make_dirs(q, layer, implied)
            old = vis[p]
            if old == NONE:
                show(p, g)
                continue
            old_dir = tflags[old] == DIR
            new_dir = tflags[g] == DIR
            if old_dir and not new_dir:
                removed = 0
                for c in list(kids.get(p, ())):
                    removed += hide(c, layer)
                implied.append((p, removed))
            elif new_dir and not old_dir:
                implied.append((p, 0))
            end[old] = layer
            vis[p] = g
        if links:
            bind(links, early, entries, paths, vis, tl.hardlink_target, strict=strict, warn=warn)
    return tl
