"""Content hashes, computed only where they decide something.

"Unmodified" needs equal content, but content only has to be compared when
the same path appears in two layers with the same type and size: anything
else is already known to differ.  In an uncompressed archive those files
are hashed lazily by reading just their bytes (``pread``); compressed
layers are hashed while they stream past at load time (see ``hash_files``)
or, failing that, by reading the layer again.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from dive_py.core.kinds import CONTIGUOUS, ENTRY, REGULAR
from dive_py.core.model.image import Image
from dive_py.core.progress import NullProgress, Progress
from dive_py.core.tar.layerread import EMPTY_HASH

#: Files hashed between two progress updates.
_BATCH = 4096


def hash_candidates(image: Image) -> list[int]:
    """Regular-file entries whose path holds another regular file of equal size."""
    e = image.entries
    kinds = e.kind
    tflags = e.tflag
    pids = e.pid
    sizes = e.size
    first: dict[tuple[int, int], int] = {}
    wanted: list[int] = []
    marked: set[int] = set()
    for g in range(e.layer_start[-1]):
        if kinds[g] != ENTRY or (tflags[g] != REGULAR and tflags[g] != CONTIGUOUS):
            continue
        key = (pids[g], sizes[g])
        other = first.get(key)
        if other is None:
            first[key] = g
            continue
        if other not in marked:
            marked.add(other)
            wanted.append(other)
        wanted.append(g)
    return wanted


def ensure_hashes(image: Image, ids: Iterable[int], progress: Progress | None = None) -> None:
    """Fill ``image.entries.hash`` for ``ids`` that have none yet."""
    e = image.entries
    prog = progress or NullProgress()
    want = np.unique(np.fromiter(ids, dtype=np.int64))
    if not len(want):
        return
    hashes = np.frombuffer(e.hash, dtype=np.uint64)
    sizes = np.asarray(e.size, dtype=np.int64)
    todo = want[hashes[want] == 0]
    if not len(todo):
        return
    empty = todo[sizes[todo] == 0]
    for g in empty.tolist():
        e.hash[g] = EMPTY_HASH
    todo = todo[sizes[todo] != 0]
    if not len(todo):
        return
    bounds = np.asarray(e.layer_start, dtype=np.int64)
    layer_of = np.searchsorted(bounds, todo, side="right") - 1
    total = int(sizes[todo].sum())
    prog.phase("Hashing files", total)
    done = 0
    offsets = np.asarray(e.offset, dtype=np.int64)
    for layer in np.unique(layer_of).tolist():
        gs = todo[layer_of == layer]
        member = e.blob_of[layer]
        if offsets[gs[0]] >= 0:
            gs = gs[np.argsort(offsets[gs], kind="stable")]  # in file order
            for start in range(0, len(gs), _BATCH):
                batch = gs[start : start + _BATCH]
                digests = image.archive.hash_ranges(member, offsets[batch].tolist(), sizes[batch].tolist())
                for g, digest in zip(batch.tolist(), digests, strict=True):
                    e.hash[g] = digest
                done += int(sizes[batch].sum())
                prog.advance(done)
        else:
            _rehash_layer(image, layer, gs.tolist())
            done += int(sizes[gs].sum())
            prog.advance(done)


def _rehash_layer(image: Image, layer: int, gs: list[int]) -> None:
    """Hash a compressed layer by reading it again (rare: load with hash_files)."""
    e = image.entries
    blob = image.archive.read_layer(e.blob_of[layer], hash_files=True, what=f"layer {layer}")
    hashes = blob.raw.hashes
    start = e.layer_start[layer]
    if hashes is None or len(blob.raw) != e.layer_start[layer + 1] - start:
        return
    for g in gs:
        e.hash[g] = hashes[g - start]
