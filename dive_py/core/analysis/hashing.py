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

from dive_py.core.kinds import CONTIGUOUS, ENTRY, REGULAR
from dive_py.core.model.image import Image
from dive_py.core.progress import NullProgress, Progress
from dive_py.core.tar.layerread import EMPTY_HASH


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
    todo = [g for g in ids if e.hash[g] == 0]
    if not todo:
        return
    by_layer: dict[int, list[int]] = {}
    for g in todo:
        if e.size[g] == 0:
            e.hash[g] = EMPTY_HASH
            continue
        by_layer.setdefault(e.layer_of(g), []).append(g)
    total = sum(e.size[g] for gs in by_layer.values() for g in gs)
    prog.phase("Hashing files", total)
    done = 0
    for layer, gs in sorted(by_layer.items()):
        member = e.blob_of[layer]
        if e.offset[gs[0]] >= 0:
            gs.sort(key=lambda g: e.offset[g])
            for g in gs:
                e.hash[g] = image.archive.hash_range(member, e.offset[g], e.size[g])
                done += e.size[g]
                prog.advance(done)
        else:
            _rehash_layer(image, layer, gs)
            done += sum(e.size[g] for g in gs)
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
