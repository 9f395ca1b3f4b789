"""A layer's *own* tree, the way dive builds it (not the merged filesystem).

dive gives every layer a tree of its entries plus the parent directories
they imply; whiteouts are nodes named ``.wh.<name>``; opaque markers are not
nodes, but their directory is.  Two things depend on that tree: the
efficiency metric walks its leaves, and the JSON export lists all its nodes
children-first (post-order) with siblings sorted by name.
"""

from __future__ import annotations

from typing import NamedTuple

from dive_py.core.kinds import ENTRY, OPAQUE, WHITEOUT
from dive_py.core.model.entries import ROOT, EntryTable, PathTable, tree_key

NO_ENTRY = -1


class LayerNode(NamedTuple):
    """One node of a layer tree."""

    path: str  #: node path; a whiteout's is ``dir/.wh.name``
    entry: int  #: entry id, or NO_ENTRY for an implied parent directory
    target: int  #: path id the node stands for (a whiteout: the deleted path)
    whiteout: bool
    leaf: bool


def whiteout_node_path(path: str) -> str:
    """``a/b`` -> ``a/.wh.b``: where dive's tree keeps the whiteout for ``a/b``."""
    slash = path.rfind("/")
    return f"{path[:slash]}/.wh.{path[slash + 1 :]}" if slash >= 0 else f".wh.{path}"


def _collect(entries: EntryTable, paths: PathTable, layer: int) -> tuple[dict[int, int], list[int], set[int]]:
    """Entry/opaque-dir nodes by path id, whiteout entries, and inner path ids."""
    parent = paths.parent
    kinds = entries.kind
    pids = entries.pid
    nodes: dict[int, int] = {}
    whiteouts: list[int] = []
    for g in entries.layer_range(layer):
        k = kinds[g]
        if k == ENTRY:
            nodes[pids[g]] = g
        elif k == WHITEOUT:
            whiteouts.append(g)
        elif k == OPAQUE and pids[g] != ROOT:
            nodes.setdefault(pids[g], NO_ENTRY)
    inner: set[int] = set()
    starts = list(nodes)
    starts.extend(pids[g] for g in whiteouts)
    for start in starts:
        q = parent[start]
        while q > ROOT and q not in inner:
            inner.add(q)
            q = parent[q]
    return nodes, whiteouts, inner


def leaf_columns(entries: EntryTable, paths: PathTable, layer: int) -> tuple[list[str], list[int], list[int], int]:
    """The leaves of a layer tree as columns, unsorted: ``(keys, entries, targets, n)``.

    ``keys[i]`` is the :func:`tree_key` of the node path; the first ``n``
    leaves are entries (or opaque-only directories, entry ``NO_ENTRY``), the
    rest are whiteouts.  A stable sort by key gives :func:`layer_leaves`'
    order.  Columns instead of :class:`LayerNode` objects: the efficiency
    pass over a 400k-file layer needs no per-leaf object.
    """
    names = paths.paths
    pids = entries.pid
    nodes, whiteouts, inner = _collect(entries, paths, layer)
    leaf_pids = [p for p in nodes if p not in inner]
    keys = [names[p].replace("/", "\x00") for p in leaf_pids]
    ents = [nodes[p] for p in leaf_pids]
    n = len(leaf_pids)
    for g in whiteouts:
        p = pids[g]
        keys.append(tree_key(whiteout_node_path(names[p])))
        ents.append(g)
        leaf_pids.append(p)
    return keys, ents, leaf_pids, n


def layer_leaves(entries: EntryTable, paths: PathTable, layer: int) -> list[LayerNode]:
    """The leaves of a layer tree, in dive's visiting order."""
    names = paths.paths
    pids = entries.pid
    nodes, whiteouts, inner = _collect(entries, paths, layer)
    out = [LayerNode(names[p], g, p, False, True) for p, g in nodes.items() if p not in inner]
    out.extend(LayerNode(whiteout_node_path(names[pids[g]]), g, pids[g], True, True) for g in whiteouts)
    out.sort(key=lambda n: tree_key(n.path))
    return out


def layer_nodes(entries: EntryTable, paths: PathTable, layer: int) -> list[LayerNode]:
    """Every node of a layer tree, children first, siblings by name."""
    names = paths.paths
    pids = entries.pid
    nodes, whiteouts, inner = _collect(entries, paths, layer)
    pre: list[LayerNode] = []
    for p, g in nodes.items():
        pre.append(LayerNode(names[p], g, p, False, p not in inner))
    for p in inner:
        if p not in nodes:
            pre.append(LayerNode(names[p], NO_ENTRY, p, False, False))
    pre.extend(LayerNode(whiteout_node_path(names[pids[g]]), g, pids[g], True, True) for g in whiteouts)
    pre.sort(key=lambda n: tree_key(n.path))
    # Pre-order -> post-order: emit a node once the walk leaves its subtree.
    post: list[LayerNode] = []
    stack: list[LayerNode] = []
    for node in pre:
        while stack and not node.path.startswith(stack[-1].path + "/"):
            post.append(stack.pop())
        stack.append(node)
    while stack:
        post.append(stack.pop())
    return post
