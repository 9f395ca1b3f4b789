"""Interned paths and the image-wide table of layer entries.

Paths are interned once (``PathTable``), so a path that appears in five layers
is one string and one integer id; entries of all layers live in one
column-oriented ``EntryTable`` addressed by a global entry number.  Layer *i*
owns the contiguous range ``layer_start[i] : layer_start[i + 1]``.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterable
from typing import cast

from dive_py.core.layerread import ENTRY, RawLayer
from dive_py.core.tarscan import BLOCKDEV, CHAR, CONTIGUOUS, DIR, FIFO, HARDLINK, REGULAR, SYMLINK

#: Entry kinds beyond the layer reader's ENTRY / WHITEOUT / OPAQUE.
SHADOWED = 3  #: an earlier duplicate of a path within the same layer (the later one wins)
IMPLICIT = 4  #: a directory the merged tree needs but no layer declares

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

    __slots__ = ("_children", "index", "parent", "paths")

    def __init__(self) -> None:
        self.index: dict[str, int] = {"": ROOT}
        self.paths: list[str] = [""]
        self.parent: array[int] = array("i", [-1])
        self._children: list[list[int]] | None = None

    def __len__(self) -> int:
        return len(self.paths)

    def intern(self, path: str) -> int:
        pid = self.index.get(path)
        if pid is not None:
            return pid
        slash = path.rfind("/")
        parent = self.intern(path[:slash]) if slash > 0 else ROOT
        pid = len(self.paths)
        self.paths.append(path)
        self.parent.append(parent)
        self.index[path] = pid
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

    def sorted_ids(self, ids: Iterable[int]) -> list[int]:
        """Sort path ids into depth-first tree order."""
        paths = self.paths
        return sorted(ids, key=lambda p: tree_key(paths[p]))


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
        kinds = bytearray(raw.kinds)
        # A path written twice in one layer: the later entry wins (tar semantics).
        # (Distinct path ids imply distinct (path, kind) pairs: test the cheap set first.)
        if len(set(pids)) != len(pids) and len(set(zip(pids, kinds))) != len(pids):
            last: dict[tuple[int, int], int] = {}
            for i, key in enumerate(zip(pids, kinds)):
                prev = last.get(key)
                if prev is not None:
                    kinds[prev] = SHADOWED
                last[key] = i
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

    def has_bytes(self, g: int) -> bool:
        """A regular file or a hardlink to one: something whose content can be read."""
        t = self.tflag[g]
        return t == REGULAR or t == CONTIGUOUS or t == HARDLINK


#: Short type names used by ``--list`` and the JSON extras.
TYPE_NAMES = {
    REGULAR: "file", CONTIGUOUS: "file", HARDLINK: "hardlink", SYMLINK: "symlink",
    CHAR: "char", BLOCKDEV: "block", DIR: "dir", FIFO: "fifo",
}


def type_name(tflag: int) -> str:
    return TYPE_NAMES.get(tflag, "file")


__all__ = ["ENTRY", "IMPLICIT", "ROOT", "SHADOWED", "EntryTable", "PathTable", "tree_key", "type_name"]
