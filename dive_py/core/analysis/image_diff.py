"""Two images compared: their layers matched by content, and the difference of their final filesystems.

"Did my change make the image bigger, and where?" has two answers that
both matter:

* **Layers.** Layers with equal diff_ids (the digest of the uncompressed
  tar) hold the same bytes.  The bottom run of equal layers is the shared
  base; above it the images diverge.  A layer of NEW whose diff_id OLD also
  has somewhere (a reordered build) is *reused*, not new.
* **Files.** The final filesystems (what a container of each image sees)
  are compared path by path: a path only in NEW is *added*, only in OLD
  *removed*, in both but different *modified*, with why — its type, its
  size, its content (compared by hash only when the sizes are equal: other
  sizes already differ), its link target, its mode or its owner.
  Directories are compared for their type, mode and owner; their size is
  their files'.

A path's bytes are its content size (a hardlink counts 0: its bytes are its
target's), the same bytes dive's image size adds up, so the file-level
total equals the difference of the two images' final contents.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dive_py.core.analysis.hashing import ensure_hashes
from dive_py.core.kinds import CONTIGUOUS, ENTRY, HARDLINK, IMPLICIT, REGULAR, SYMLINK
from dive_py.core.model.image import Image
from dive_py.core.tar.layerread import hardlink_path

ADDED = "added"
REMOVED = "removed"
MODIFIED = "modified"

#: Why a path present in both images differs, in the order they are reported.
TYPE, SIZE, CONTENT, LINK, MODE, OWNER = "type", "size", "content", "link", "mode", "owner"


@dataclass(slots=True, frozen=True)
class PathState:
    """One path of a final filesystem."""

    entry: int  #: the entry id in its image
    tflag: int
    size: int  #: content bytes (0 for directories, links and devices)
    mode: int
    uid: int
    gid: int
    link: str
    layer: int  #: the layer that stored it (for an implicit directory, the layer that needed it)


@dataclass(slots=True, frozen=True)
class PathChange:
    """A path whose final state differs between OLD and NEW."""

    path: str  #: absolute
    change: str  #: ADDED, REMOVED or MODIFIED
    old: PathState | None
    new: PathState | None
    reasons: tuple[str, ...] = ()  #: for MODIFIED: TYPE, SIZE, CONTENT, LINK, MODE, OWNER

    @property
    def delta(self) -> int:
        """NEW's bytes minus OLD's for this path."""
        return (self.new.size if self.new else 0) - (self.old.size if self.old else 0)


@dataclass(slots=True, frozen=True)
class LayerMatch:
    """How the two layer stacks relate."""

    shared: int  #: bottom layers equal in both (same diff_ids, same order): the shared base
    reused: tuple[tuple[int, int], ...]  #: (OLD index, NEW index) of equal layers above the shared base
    new_only: tuple[int, ...]  #: NEW's layers OLD has nowhere
    old_only: tuple[int, ...]  #: OLD's layers NEW has nowhere


@dataclass(slots=True, frozen=True)
class ImageDiff:
    layers: LayerMatch
    changes: tuple[PathChange, ...]  #: biggest |delta| first, then by path

    def count(self, change: str) -> int:
        return sum(1 for c in self.changes if c.change == change)

    def bytes_of(self, change: str) -> int:
        """The net byte change of the paths of one kind (added: positive, removed: negative)."""
        return sum(c.delta for c in self.changes if c.change == change)

    @property
    def file_delta(self) -> int:
        """NEW's final content bytes minus OLD's."""
        return sum(c.delta for c in self.changes)


def match_layers(old: Image, new: Image) -> LayerMatch:
    """Layers matched by diff_id; see the module docstring."""
    old_ids = [layer.digest for layer in old.layers]
    new_ids = [layer.digest for layer in new.layers]
    shared = 0
    while shared < min(len(old_ids), len(new_ids)) and old_ids[shared] == new_ids[shared] and old_ids[shared]:
        shared += 1
    unused_old: dict[str, list[int]] = {}
    for i in range(shared, len(old_ids)):
        if old_ids[i]:
            unused_old.setdefault(old_ids[i], []).append(i)
    reused: list[tuple[int, int]] = []
    new_only: list[int] = []
    for j in range(shared, len(new_ids)):
        candidates = unused_old.get(new_ids[j])
        if candidates:
            reused.append((candidates.pop(0), j))
        else:
            new_only.append(j)
    taken = {i for i, _ in reused}
    old_only = [i for i in range(shared, len(old_ids)) if i not in taken]
    return LayerMatch(shared, tuple(reused), tuple(new_only), tuple(old_only))


def final_paths(image: Image) -> dict[str, PathState]:
    """Every path of the final filesystem (absolute), with its state."""
    e = image.entries
    end = image.timeline.end
    top = len(image.layers)
    kinds = e.kind
    out: dict[str, PathState] = {}
    names = image.paths.paths
    for g in range(len(e)):
        kind = kinds[g]
        if end[g] != top or (kind != ENTRY and kind != IMPLICIT):
            continue
        tflag = e.tflag[g]
        regular = tflag == REGULAR or tflag == CONTIGUOUS
        layer = e.implicit_layer[g] if kind == IMPLICIT else e.layer_of(g)
        out["/" + names[e.pid[g]]] = PathState(
            g, tflag, e.size[g] if regular else 0, e.mode[g], e.uid[g], e.gid[g], e.link[g], layer
        )
    return out


def _type(tflag: int) -> int:
    return REGULAR if tflag == CONTIGUOUS else tflag


def _reasons(old: Image, a: PathState, new: Image, b: PathState) -> tuple[str, ...]:
    why: list[str] = []
    if _type(a.tflag) != _type(b.tflag):
        why.append(TYPE)
    if a.size != b.size:
        why.append(SIZE)
    elif (
        a.size
        and a.tflag in (REGULAR, CONTIGUOUS)
        and b.tflag in (REGULAR, CONTIGUOUS)
        and old.entries.hash[a.entry] != new.entries.hash[b.entry]
    ):
        why.append(CONTENT)
    if a.tflag == b.tflag == SYMLINK and a.link != b.link:
        why.append(LINK)  # a symlink's target is its text: "./a" and "a" are different links
    if a.tflag == b.tflag == HARDLINK and hardlink_path(a.link) != hardlink_path(b.link):
        why.append(LINK)  # a hardlink names a path: "./a", "/a" and "a" are the same one
    if (a.mode & 0o7777) != (b.mode & 0o7777):
        why.append(MODE)
    if (a.uid, a.gid) != (b.uid, b.gid):
        why.append(OWNER)
    return tuple(why)


def _hash_both(old: Image, new: Image, pairs: Iterable[tuple[PathState, PathState]]) -> None:
    """Content hashes for the regular files of equal size in both images, and nothing else."""
    want_old: list[int] = []
    want_new: list[int] = []
    for a, b in pairs:
        if a.size == b.size and a.size and a.tflag in (REGULAR, CONTIGUOUS) and b.tflag in (REGULAR, CONTIGUOUS):
            want_old.append(a.entry)
            want_new.append(b.entry)
    ensure_hashes(old, want_old)
    ensure_hashes(new, want_new)


def diff_images(old: Image, new: Image) -> ImageDiff:
    """Compare OLD's and NEW's layers and final filesystems."""
    before = final_paths(old)
    after = final_paths(new)
    both = [(before[p], after[p]) for p in after.keys() & before.keys()]
    _hash_both(old, new, both)
    changes: list[PathChange] = []
    for path, b in after.items():
        a = before.get(path)
        if a is None:
            changes.append(PathChange(path, ADDED, None, b))
            continue
        why = _reasons(old, a, new, b)
        if why:
            changes.append(PathChange(path, MODIFIED, a, b, why))
    for path, a in before.items():
        if path not in after:
            changes.append(PathChange(path, REMOVED, a, None))
    changes.sort(key=lambda c: (-abs(c.delta), c.path))
    return ImageDiff(match_layers(old, new), tuple(changes))


__all__ = [
    "ADDED",
    "CONTENT",
    "LINK",
    "MODE",
    "MODIFIED",
    "OWNER",
    "REMOVED",
    "SIZE",
    "TYPE",
    "ImageDiff",
    "LayerMatch",
    "PathChange",
    "PathState",
    "diff_images",
    "final_paths",
    "match_layers",
]
