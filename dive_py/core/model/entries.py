"""Interned paths and the image-wide table of layer entries.

Paths are interned once (``PathTable``), so a path that appears in five layers
is one string and one integer id; entries of all layers live in one
column-oriented ``EntryTable`` addressed by a global entry number.  Layer *i*
owns the contiguous range ``layer_start[i] : layer_start[i + 1]``.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from typing import cast

import numpy as np

from dive_py.core.kinds import (
    BLOCKDEV,
    CHAR,
    CONTIGUOUS,
    DIR,
    ENTRY,
    FIFO,
    HARDLINK,
    IMPLICIT,
    REGULAR,
    SHADOWED,
    SHADOWED_MARKER,
    SYMLINK,
)
from dive_py.core.limits import NAME_CHARS, check_count
from dive_py.core.tar.layerread import RawLayer

ROOT = 0  #: path id of the root directory ("")


def tree_key(path: str) -> str:
    """Sort key that orders paths depth-first with siblings byte-wise.

    Replacing ``/`` by NUL (which names cannot contain) makes a plain string
    sort equal to a component-wise sort: ``a/b`` before ``a-b`` because the
    component ``a`` sorts before ``a-b``.  UTF-8 byte order equals code point
    order, so this is also Go's byte-wise order, which dive uses.
    """
    return path.replace("/", "\x00")


class PathTable:
    """Every path any layer mentions, each with an integer id and its parent."""

    __slots__ = ("_children", "chars", "has_children", "index", "parent", "paths")

    def __init__(self) -> None:
        #: 1 for every path id that some other path lies under.
        self.has_children = bytearray(1)
        #: Characters of every interned path (parents included): see ``limits.NAME_CHARS``.
        self.chars = 0
        self.index: dict[str, int] = {"": ROOT}
        self.paths: list[str] = [""]
        self.parent: array[int] = array("i", [-1])
        self._children: list[list[int]] | None = None

    def __len__(self) -> int:
        return len(self.paths)

    def intern(self, path: str) -> int:
        """The id of ``path``, interning it and any parents not seen yet.

        A loop, not recursion: a path may have two thousand components.
        """
        pid = self.index.get(path)
        if pid is not None:
            return pid
        index = self.index
        missing = [path]
        parent = ROOT
        slash = path.rfind("/")
        while slash > 0:
            head = path[:slash]
            known = index.get(head)
            if known is not None:
                parent = known
                break
            missing.append(head)
            slash = path.rfind("/", 0, slash)
        paths = self.paths
        pid = ROOT
        for p in reversed(missing):  # parents first: ids come out as the recursive walk gave them
            pid = len(paths)
            paths.append(p)
            self.parent.append(parent)
            self.has_children.append(0)
            self.has_children[parent] = 1
            index[p] = pid
            self.chars += len(p)
            parent = pid
        self._children = None
        return pid

    def lookup(self, path: str) -> int | None:
        return self.index.get(path)

    def name(self, pid: int) -> str:
        path = self.paths[pid]
        return path[path.rfind("/") + 1 :]

    def depth(self, pid: int) -> int:
        return 0 if pid == ROOT else self.paths[pid].count("/") + 1

    def children(self) -> list[list[int]]:
        """Children of every path id, sorted the way dive sorts siblings."""
        if self._children is None:
            kids: list[list[int]] = [[] for _ in self.paths]
            parent = self.parent
            for pid in range(1, len(self.paths)):
                kids[parent[pid]].append(pid)
            paths = self.paths
            for lst in kids:
                if len(lst) > 1:
                    lst.sort(key=lambda p: paths[p])
            self._children = kids
        return self._children


class EntryTable:
    """All entries of all layers (plus implicit directories), column-wise."""

    __slots__ = (
        "blob_of",
        "gid",
        "hash",
        "implicit_layer",
        "kind",
        "layer_start",
        "link",
        "mode",
        "mtime",
        "offset",
        "pid",
        "size",
        "tflag",
        "uid",
    )

    def __init__(self) -> None:
        self.pid: array[int] = array("i")
        self.kind = bytearray()
        self.tflag = bytearray()
        self.mode: array[int] = array("q")
        self.uid: array[int] = array("q")
        self.gid: array[int] = array("q")
        self.size: array[int] = array("q")
        self.mtime: array[int] = array("q")
        self.link: list[str] = []
        self.offset: array[int] = array("q")
        #: xxh3-64 of file contents; 0 until computed (see ``hashing``).
        self.hash: array[int] = array("Q")
        self.layer_start: list[int] = [0]
        #: Per layer: the archive member its bytes come from (for lazy reads).
        self.blob_of: list[str] = []
        #: Layer in which each implicit directory appeared.
        self.implicit_layer: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self.pid)

    @property
    def layer_count(self) -> int:
        return len(self.layer_start) - 1

    def layer_range(self, layer: int) -> range:
        return range(self.layer_start[layer], self.layer_start[layer + 1])

    def layer_of(self, g: int) -> int:
        if g >= self.layer_start[-1]:
            return self.implicit_layer[g]
        return bisect_right(self.layer_start, g) - 1

    def add_layer(self, raw: RawLayer, paths: PathTable, blob: str) -> None:
        """Append a layer's entries, interning paths and shadowing duplicates."""
        start = len(self.pid)
        intern = paths.intern
        known = paths.index.get
        found = [known(p) for p in raw.paths]  # a copy-up layer's paths all exist already
        if None in found:  # intern the new ones, in order (ids come out as one by one would)
            pids = [intern(p) if pid is None else pid for p, pid in zip(raw.paths, found)]
        else:
            pids = cast(list[int], found)
        self.pid.extend(pids)
        check_count(paths.chars, NAME_CHARS, f"layer {self.layer_count}", "characters of interned paths")
        kinds = bytearray(raw.kinds)
        # A path written twice in one layer: the later entry wins (tar semantics).
        # (Distinct path ids imply distinct (path, kind) pairs: test the cheap set first.)
        if len(set(pids)) != len(pids) and len(set(zip(pids, kinds))) != len(pids):
            last: dict[tuple[int, int], int] = {}
            for i, key in enumerate(zip(pids, kinds)):
                prev = last.get(key)
                if prev is not None:
                    kinds[prev] = SHADOWED if key[1] == ENTRY else SHADOWED_MARKER
                last[key] = i
        _shadow_replaced(pids, np.frombuffer(self.pid, dtype=np.int32)[start:], kinds, raw, paths)
        self.kind.extend(kinds)
        self.tflag.extend(raw.tflags)
        self.mode.extend(raw.modes)
        self.uid.extend(raw.uids)
        self.gid.extend(raw.gids)
        self.size.extend(raw.sizes)
        self.mtime.extend(raw.mtimes)
        self.link.extend(raw.links)
        self.offset.extend(raw.offsets)
        if raw.hashes is not None:
            self.hash.extend(raw.hashes)
        else:
            self.hash.extend(array("Q", bytes(8 * len(pids))))
        self.layer_start.append(start + len(pids))
        self.blob_of.append(blob)

    def add_implicit_dir(self, pid: int, layer: int) -> int:
        """Append a directory that the merged tree needs but no layer declares."""
        g = len(self.pid)
        self.pid.append(pid)
        self.kind.append(IMPLICIT)
        self.tflag.append(DIR)
        self.mode.append(0o40755)
        self.uid.append(0)
        self.gid.append(0)
        self.size.append(0)
        self.mtime.append(0)
        self.link.append("")
        self.offset.append(-1)
        self.hash.append(0)
        self.implicit_layer[g] = layer
        return g

    def is_dir(self, g: int) -> bool:
        return self.tflag[g] == DIR

    def is_file(self, g: int) -> bool:
        t = self.tflag[g]
        return t == REGULAR or t == CONTIGUOUS


def _shadow_replaced(pids: list[int], ids: np.ndarray, kinds: bytearray, raw: RawLayer, paths: PathTable) -> None:
    """Shadow entries that a later non-directory of the same layer replaced, with their subtree.

    Tar entries apply in archive order: ``etc/passwd`` then the symlink
    ``etc -> /elsewhere`` removes the directory ``etc`` and ``passwd`` with it
    (an unpacking runtime removes whatever is in the way of a non-directory).
    Only paths that have children anywhere in the image can do this, so the
    usual layer is cleared by one vectorised test.
    """
    if len(pids) < 2:
        return
    with_children = np.frombuffer(paths.has_children, dtype=np.uint8)[ids] != 0
    candidates = np.flatnonzero(
        with_children
        & (np.frombuffer(kinds, dtype=np.uint8) == ENTRY)
        & (np.frombuffer(raw.tflags, dtype=np.uint8) != DIR)
    )
    if candidates.size == 0:
        return
    last_nondir = {pids[i]: i for i in candidates.tolist()}  # the last non-directory at each path
    parent = paths.parent
    # latest[q]: the last index of a non-directory of this layer at q or above it.  Memoised per
    # directory, so the pass is linear in entries plus directories, whatever the depth.
    latest: dict[int, int] = {ROOT: last_nondir.get(ROOT, -1)}
    for j, pid in enumerate(pids):
        if kinds[j] != ENTRY:
            continue
        q = parent[pid]
        if q not in latest:
            chain = []
            while q not in latest:
                chain.append(q)
                q = parent[q]
            best = latest[q]
            for d in reversed(chain):
                best = max(best, last_nondir.get(d, -1))
                latest[d] = best
            q = parent[pid]
        if latest[q] > j:
            kinds[j] = SHADOWED


#: Short type names used by ``--list`` and the JSON extras.
TYPE_NAMES = {
    REGULAR: "file",
    CONTIGUOUS: "file",
    HARDLINK: "hardlink",
    SYMLINK: "symlink",
    CHAR: "char",
    BLOCKDEV: "block",
    DIR: "dir",
    FIFO: "fifo",
}


def type_name(tflag: int) -> str:
    return TYPE_NAMES.get(tflag, "file")


__all__ = ["ENTRY", "IMPLICIT", "ROOT", "SHADOWED", "EntryTable", "PathTable", "tree_key", "type_name"]
