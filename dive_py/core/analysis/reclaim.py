"""The bytes a squash would save, copy by copy, and why each copy is waste.

Every byte a layer stores is either the content of a regular file in the
final merged filesystem, or waste: a copy that nothing in the final image
can reach.  So

    reclaimable = Σ layer sizes − bytes of the final regular files

(hardlinked content once), which is exactly what a full squash saves,
uncompressed.  dive's own figure cannot give this: it visits only the leaves
of each layer's tree, so a directory removed by a later layer (one
``.wh.dir`` entry) never meets the files it hides, and it counts the copy
that stays as wasted too (docs/metrics.md has both definitions side by side).

Each waste copy gets one kind, decided by the layer that made it
unreachable (the layer that *hid* it), so that every copy has one cause:

* ``removed``: that layer stored no regular file in its place (a whiteout,
  an opaque directory, a directory or a link put there); also bytes that a
  header claims for an entry that holds none (a link, a marker);
* ``overwritten``: that layer stored the path again with other content;
* ``metadataOnly``: with the same content and another mode or owner
  (``chown -R``/``chmod -R`` copy-up);
* ``identicalCopy``: with the same content, mode and owner (a ``touch``, or
  the same file copied again; mtimes are not compared).

The replacing copy is the next entry stored at the same path, in layer
order, whiteouts skipped; a hardlink stands for its target's content.
Contents are compared by size, and by hash only where sizes match, so
hashing stays lazy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dive_py.core.analysis.hashing import ensure_hashes
from dive_py.core.kinds import CONTIGUOUS, ENTRY, HARDLINK, IMPLICIT, OPAQUE, REGULAR, SHADOWED_MARKER, WHITEOUT
from dive_py.core.model.image import Image
from dive_py.core.progress import Progress

REMOVED = 0
OVERWRITTEN = 1
METADATA_ONLY = 2
IDENTICAL_COPY = 3
#: JSON keys of the kinds, in kind order.
KIND_KEYS = ("removed", "overwritten", "metadataOnly", "identicalCopy")
#: The kinds in words, for a sentence ("154 kB removed by later layers"): shared by every output.
KIND_WORDS = {
    "removed": "removed by later layers",
    "overwritten": "overwritten with other content",
    "metadataOnly": "stored again for a mode or owner change",
    "identicalCopy": "stored again unchanged",
}

I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]


@dataclass(slots=True)
class Reclaim:
    """Every waste copy of an image, as parallel arrays, and the totals they partition."""

    stored_bytes: int  #: Σ of dive's layer sizes
    final_bytes: int  #: regular-file bytes of the final filesystem, hardlinked content once
    entry: I64  #: the entry holding the wasted bytes
    kind: U8  #: REMOVED / OVERWRITTEN / METADATA_ONLY / IDENTICAL_COPY
    stored_in: I64  #: the layer that stored them
    hidden_by: I64  #: the layer that made them unreachable (-1: a visible link's or device's claimed bytes)
    size: I64  #: bytes of each copy

    @property
    def reclaimable_bytes(self) -> int:
        return self.stored_bytes - self.final_bytes

    def by_kind(self) -> dict[str, int]:
        """Bytes per kind, keyed as in the JSON; the values sum to :attr:`reclaimable_bytes`."""
        totals = np.bincount(self.kind, weights=self.size, minlength=len(KIND_KEYS)) if len(self.kind) else None
        return {key: int(totals[i]) if totals is not None else 0 for i, key in enumerate(KIND_KEYS)}


def layer_column(image: Image) -> I64:
    """The layer of every entry, implicit directories included."""
    e = image.entries
    bounds = np.asarray(e.layer_start, dtype=np.int64)
    layer = np.repeat(np.arange(len(bounds) - 1, dtype=np.int64), np.diff(bounds))
    extra = len(e) - int(bounds[-1])
    if extra:
        tail = np.fromiter((e.implicit_layer[g] for g in range(int(bounds[-1]), len(e))), np.int64, extra)
        layer = np.concatenate([layer, tail])
    return layer


def find_waste(image: Image, progress: Progress | None = None, ignored: npt.NDArray[np.bool_] | None = None) -> Reclaim:
    """Classify every stored copy that the final filesystem cannot reach.

    ``ignored`` (per path id, from ``ignorePaths``) leaves those paths out of
    every figure: their bytes are neither stored, final nor waste.
    """
    e = image.entries
    tl = image.timeline
    n_layers = len(image.layers)
    kind = np.frombuffer(bytes(e.kind), dtype=np.uint8)
    tflag = np.frombuffer(bytes(e.tflag), dtype=np.uint8)
    size = np.asarray(e.size, dtype=np.int64)
    pid = np.asarray(e.pid, dtype=np.int64)
    end = np.asarray(tl.end, dtype=np.int64)
    layer = layer_column(image)
    is_regular = (tflag == REGULAR) | (tflag == CONTIGUOUS)
    is_entry = (kind == ENTRY) | (kind == IMPLICIT)
    final = is_entry & (end == n_layers)

    # What the final filesystem reaches: its regular files, and the contents its hardlinks end at.
    reached = np.zeros(len(e), dtype=bool)
    reached[final & is_regular] = True
    links = [g for g, target in tl.hardlink_target.items() if final[g] and tflag[g] == HARDLINK]
    content_of = tl.hardlink_target
    if links:
        targets = np.fromiter((content_of[g] for g in links), np.int64, len(links))
        reached[targets[is_regular[targets]]] = True
    counted = np.ones(len(e), dtype=bool) if ignored is None else ~ignored[pid]
    if ignored is None:
        stored_bytes = int(sum(lr.size for lr in image.layers))
    else:
        stored_bytes = int(size[counted].sum())
    final_bytes = int(size[reached & counted].sum())

    waste = np.flatnonzero((size > 0) & ~reached & counted).astype(np.int64)
    kinds = np.full(len(waste), REMOVED, dtype=np.uint8)
    hidden = np.where(end[waste] < n_layers, end[waste], -1)

    # The next copy after each waste copy: the next entry stored at its path, in layer order.
    content_ids = np.flatnonzero((kind != WHITEOUT) & (kind != OPAQUE) & (kind != SHADOWED_MARKER))
    order = content_ids[np.lexsort((content_ids, layer[content_ids], pid[content_ids]))]
    position = np.full(len(e), -1, dtype=np.int64)
    position[order] = np.arange(len(order))
    candidates = np.flatnonzero(is_regular[waste] & (position[waste] >= 0))
    nxt = np.full(len(waste), -1, dtype=np.int64)
    pos = position[waste[candidates]] + 1
    ok = pos < len(order)
    follower = np.full(len(candidates), -1, dtype=np.int64)
    follower[ok] = order[pos[ok]]
    same_path = follower >= 0
    same_path[same_path] = pid[follower[same_path]] == pid[waste[candidates][same_path]]
    nxt[candidates[same_path]] = follower[same_path]

    # A copy is replaced when the layer that hid it stored the path's next copy; anything else removed it.
    keep = nxt >= 0
    keep[keep] = layer[nxt[keep]] == end[waste[keep]]
    compare = np.flatnonzero(keep)
    _classify(image, waste, nxt, compare, kinds, is_regular, progress)
    return Reclaim(stored_bytes, final_bytes, waste, kinds, layer[waste], hidden, size[waste])


def _classify(
    image: Image,
    waste: I64,
    nxt: I64,
    compare: I64,
    kinds: U8,
    is_regular: npt.NDArray[np.bool_],
    progress: Progress | None,
) -> None:
    """Kinds of the copies that the hiding layer replaced with another entry at the same path."""
    if not len(compare):
        return
    e = image.entries
    copy = waste[compare]
    repl = nxt[compare]
    holder = repl.copy()
    content_of = image.timeline.hardlink_target
    tflag = np.frombuffer(bytes(e.tflag), dtype=np.uint8)
    links = np.flatnonzero(tflag[repl] == HARDLINK)
    if len(links):  # a hardlink stands for its target's content
        holder[links] = np.fromiter((content_of.get(h, h) for h in repl[links].tolist()), np.int64, len(links))
    replaced = is_regular[holder]  # a directory, a symlink or a device in its place: removed
    rows, copy, repl, holder = compare[replaced], copy[replaced], repl[replaced], holder[replaced]
    size = np.asarray(e.size, dtype=np.int64)
    same_size = size[copy] == size[holder]
    if same_size.any():
        ensure_hashes(image, np.concatenate([copy[same_size], holder[same_size]]).tolist(), progress)
    digest = np.frombuffer(e.hash, dtype=np.uint64)
    other_content = ~same_size | (digest[copy] != digest[holder])
    mode, uid, gid = (np.asarray(col, dtype=np.int64) for col in (e.mode, e.uid, e.gid))
    other_meta = (mode[copy] != mode[repl]) | (uid[copy] != uid[repl]) | (gid[copy] != gid[repl])
    kinds[rows] = np.where(other_content, OVERWRITTEN, np.where(other_meta, METADATA_ONLY, IDENTICAL_COPY))


__all__ = [
    "IDENTICAL_COPY",
    "KIND_KEYS",
    "KIND_WORDS",
    "METADATA_ONLY",
    "OVERWRITTEN",
    "REMOVED",
    "Reclaim",
    "find_waste",
    "layer_column",
]
