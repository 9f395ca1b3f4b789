"""Read one layer's tar stream into compact parallel arrays.

A layer of a node_modules-sized image holds hundreds of thousands of
entries, so entries are not objects: each attribute is one ``array`` (or a
list for strings) indexed by entry number.  That keeps the per-entry cost to
a few dozen bytes and lets later passes run tight loops.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass, field

from dive_py.core.kinds import CONTIGUOUS, ENTRY, HARDLINK, KNOWN_TYPES, OPAQUE, REGULAR, VOLUME_LABEL, WHITEOUT
from dive_py.core.limits import PATH_CHARS, Budget, check_count
from dive_py.core.tar.tarscan import Window, iter_headers
from dive_py.errors import LayerError

WHITEOUT_PREFIX = ".wh."
OPAQUE_NAME = ".wh..wh..opq"

EMPTY_HASH = 0x2D06800538D394C2  # xxh3_64(b"")

# Entry types a layer may hold (kinds.KNOWN_TYPES).  Anything else (GNU volume labels aside) is
# refused, as Docker's layer applier refuses it: no runtime could unpack it.

#: Entries between two charges of the load's :class:`Budget`.
_CHARGE_EVERY = 8192


@dataclass(slots=True)
class RawLayer:
    """The entries of one layer, in archive order.

    For a whiteout, ``paths[i]`` is the path it deletes; for an opaque
    marker, the directory it makes opaque ("" for the root).
    """

    paths: list[str] = field(default_factory=list)
    kinds: bytearray = field(default_factory=bytearray)
    tflags: bytearray = field(default_factory=bytearray)
    modes: array[int] = field(default_factory=lambda: array("q"))
    uids: array[int] = field(default_factory=lambda: array("q"))
    gids: array[int] = field(default_factory=lambda: array("q"))
    sizes: array[int] = field(default_factory=lambda: array("q"))
    mtimes: array[int] = field(default_factory=lambda: array("q"))
    #: The raw link name from the header (hardlinks: see ``hardlink_path``).
    links: list[str] = field(default_factory=list)
    #: Absolute file offset of each regular file's data, or -1 when the layer
    #: is compressed (its bytes can only be re-read by decompressing again).
    offsets: array[int] = field(default_factory=lambda: array("q"))
    #: xxh3-64 of regular files when hashed while streaming, else 0.
    hashes: array[int] | None = None
    #: Bytes of the uncompressed tar stream up to its end-of-archive marker.
    tar_bytes: int = 0

    def __len__(self) -> int:
        return len(self.paths)


def clean_path(name: str, what: str) -> str | None:
    """Normalise a member name to ``a/b/c``; ``None`` for the root itself.

    Refuses absolute names and ``..`` components: a layer must not write
    outside the root, and an analyzer that quietly "fixes" such names would
    show a filesystem no runtime produces.
    """
    if "\x00" in name:
        raise LayerError(f"{what}: entry name contains a NUL byte: {name!r}")
    if name.startswith("/"):
        if not name.strip("/"):
            return None  # kaniko writes the root directory as "/"
        raise LayerError(f"{what}: absolute entry name {name!r} (layers must use relative names)")
    s = name
    while s.startswith("./"):
        s = s[2:]
    s = s.rstrip("/")
    if not s or s == ".":
        return None
    if "//" in s or "/./" in s or s.endswith("/.") or ".." in s or s.startswith("."):
        parts = []
        for comp in s.split("/"):
            if comp == "..":
                raise LayerError(f"{what}: entry name {name!r} climbs out of the root with '..'")
            if comp and comp != ".":
                parts.append(comp)
        s = "/".join(parts)
        if not s:
            return None
    return s


def _check_name(name: str, what: str, field: str) -> None:
    """Refuse a path or link target no runtime could create (longer than PATH_MAX)."""
    check_count(len(name), PATH_CHARS, what, f"characters in one {field} ({name[:60]!r}...)")


def read_layer(
    win: Window, *, hash_files: bool, progress: Callable[[int], None] | None = None, budget: Budget | None = None
) -> RawLayer:
    """Parse every entry of the layer in ``win``.

    ``hash_files`` hashes regular-file contents on the way past; it is only
    worth it for streams that cannot be re-read cheaply (compressed layers).
    Seekable layers record data offsets and are hashed later, on demand.
    ``progress(offset)`` is told how far into the stream the reader is, every
    8,192 entries (so a single multi-GB layer still shows movement).
    ``budget`` is charged for the entries and name characters held (a fresh
    one per layer when not given).
    """
    what = win.what
    layer = RawLayer()
    if hash_files:
        layer.hashes = array("Q")
    paths = layer.paths
    kinds = layer.kinds
    tflags = layer.tflags
    modes = layer.modes
    uids = layer.uids
    gids = layer.gids
    sizes = layer.sizes
    mtimes = layer.mtimes
    links = layer.links
    offsets = layer.offsets
    hashes = layer.hashes
    # A seekable window maps stream offsets to file offsets by a constant shift.
    origin = win.absolute(0) if win.seekable else -1
    if budget is None:
        budget = Budget()
    charged = 0
    end = 0
    count = 0
    for name, tflag, mode, uid, gid, size, mtime, link, data_off in iter_headers(win):
        count += 1
        if not count & (_CHARGE_EVERY - 1):
            charged = _charge(layer, charged, budget, what)
            if progress is not None:
                progress(data_off)
        if tflag not in KNOWN_TYPES:
            if tflag == VOLUME_LABEL:
                continue
            raise LayerError(f"{what}: entry {name[:200]!r} has type {chr(tflag)!r}, which no runtime unpacks")
        if len(name) > PATH_CHARS:
            _check_name(clean_path(name, what) or "", what, "path")
        if len(link) > PATH_CHARS:
            _check_name(link, what, "link target")
        is_file = tflag == REGULAR or tflag == CONTIGUOUS
        end = data_off + ((size + 511) & ~511 if is_file else 0)
        # Fast path for the usual "a/b/c" or "a/b/" (same result as clean_path):
        # no leading "/" or ".", no "//", no "/." (so no "." or ".." part), no NUL.
        if name and name[0] != "/" and name[0] != "." and "//" not in name and "/." not in name and "\x00" not in name:
            path = name[:-1] if name[-1] == "/" else name
        else:
            cleaned = clean_path(name, what)
            if cleaned is None:
                continue
            path = cleaned
        kind = ENTRY
        if WHITEOUT_PREFIX in path and path[path.rfind("/") + 1 :].startswith(WHITEOUT_PREFIX):
            slash = path.rfind("/")
            base = path[slash + 1 :]
            parent = path[:slash] if slash >= 0 else ""
            if base == OPAQUE_NAME:
                kind = OPAQUE
                path = parent
            elif base.startswith(".wh..wh."):
                continue  # aufs bookkeeping (.wh..wh.plnk etc.), not part of the filesystem
            else:
                kind = WHITEOUT
                target = base[4:]
                if not target or target in (".", ".."):
                    raise LayerError(f"{what}: malformed whiteout entry {name!r}")
                path = f"{parent}/{target}" if parent else target
            # Overlay whiteouts may carry a stale link name; it is kept (dive
            # exports it) but means nothing.
        elif tflag == HARDLINK and (not link or clean_path(link.lstrip("/"), what) is None):
            raise LayerError(f"{what}: hardlink {path!r} has no target")
        paths.append(path)
        kinds.append(kind)
        tflags.append(tflag)
        modes.append(mode)
        uids.append(uid)
        gids.append(gid)
        sizes.append(size)
        mtimes.append(mtime)
        links.append(link)
        if is_file and kind == ENTRY:
            offsets.append(origin + data_off if origin >= 0 else -1)
            if hashes is not None:
                hashes.append(win.hash(data_off, size) if size else EMPTY_HASH)
        else:
            offsets.append(-1)
            if hashes is not None:
                hashes.append(0)
    _charge(layer, charged, budget, what)
    layer.tar_bytes = end
    return layer


def _charge(layer: RawLayer, charged: int, budget: Budget, what: str) -> int:
    """Charge the entries read since the last charge; returns the new mark."""
    n = len(layer.paths)
    chars = sum(map(len, layer.paths[charged:])) + sum(map(len, layer.links[charged:]))
    budget.spend(n - charged, chars, what)
    return n


def charge_layer(layer: RawLayer, budget: Budget, what: str) -> None:
    """Charge a layer parsed elsewhere (with a budget of its own) to this load's ``budget``.

    In the reader's steps, so that when an image crosses both limits the one named is the one
    reading the layer here would have named.
    """
    n = len(layer.paths)
    charged = 0
    for mark in range(_CHARGE_EVERY, n, _CHARGE_EVERY):
        chars = sum(map(len, layer.paths[charged:mark])) + sum(map(len, layer.links[charged:mark]))
        budget.spend(mark - charged, chars, what)
        charged = mark
    _charge(layer, charged, budget, what)


def hardlink_path(link: str) -> str:
    """The path a hardlink's raw link name refers to (``./a/b`` -> ``a/b``)."""
    return clean_path(link.lstrip("/"), "hardlink") or ""
