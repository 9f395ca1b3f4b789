"""File contents, read back out of the layer blobs on demand.

Loading keeps only headers (and, for plain tar layers, where each file's
bytes start), so nothing is held in memory for content.  Extraction asks
for a set of entries and gets their bytes in the cheapest order:

* a plain tar layer is read in place with ``pread``, in offset order;
* a compressed layer is decompressed once, however many of its files are
  wanted, and each wanted file is recognised by its path and by how many
  regular files of that path came before it in the same layer (a tar may
  hold one path twice; the later copy wins, as the loader decided).

Hardlinks are read through to the entry that holds their bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from dive_py.core.kinds import CONTIGUOUS, ENTRY, REGULAR, SHADOWED
from dive_py.core.model.image import Image
from dive_py.core.tar.layerread import clean_path
from dive_py.core.tar.tarscan import Window, iter_headers
from dive_py.errors import ArchiveError

#: Bytes per read: bounded memory whatever the file size.
CHUNK = 1 << 20


def content_entry(image: Image, g: int) -> int:
    """The entry whose bytes ``g`` has: itself, or a hardlink's target."""
    return image.timeline.hardlink_target.get(g, g)


def _is_regular(image: Image, g: int) -> bool:
    """A regular file's own entry (a shadowed one too: a hardlink may hold on to it)."""
    t = image.entries.tflag[g]
    return image.entries.kind[g] in (ENTRY, SHADOWED) and (t == REGULAR or t == CONTIGUOUS)


def _occurrences(image: Image, layer: int, contents: list[int]) -> dict[int, int]:
    """For each entry of ``contents``: how many regular files of its path precede it in the layer."""
    e = image.entries
    pids = {e.pid[c] for c in contents}
    targets = set(contents)
    counts: dict[int, int] = {}
    out: dict[int, int] = {}
    kinds = e.kind
    tflags = e.tflag
    for h in e.layer_range(layer):
        p = e.pid[h]
        # Earlier duplicates (SHADOWED) are in the stream too and count; whiteouts
        # (also shadowed ones, SHADOWED_MARKER) are named .wh.* there and do not.
        if p in pids and kinds[h] in (ENTRY, SHADOWED) and tflags[h] in (REGULAR, CONTIGUOUS):
            k = counts.get(p, 0)
            if h in targets:
                out[h] = k
            counts[p] = k + 1
    return out


def iter_contents(image: Image, ids: Iterable[int]) -> Iterator[tuple[list[int], Iterator[bytes]]]:
    """``(entries, chunks)``: the bytes of each regular file (or hardlink) in ``ids``.

    ``entries`` are the requested entries that share those bytes (a file and
    hardlinks to it), so the bytes are read once.  Files of plain tar layers
    come first, in the order given (``pread`` does not care, and writing in
    path order is kinder to the filesystem); then each compressed layer in
    one pass, in stream order.  Each ``chunks`` iterator must be consumed (or
    dropped) before the next pair is taken: they share one reader.
    """
    e = image.entries
    wanted: dict[int, list[int]] = {}  # content entry -> requested entries, in the order given
    for g in ids:
        wanted.setdefault(content_entry(image, g), []).append(g)
    streamed: dict[int, list[int]] = {}
    for c in wanted:
        if not _is_regular(image, c):
            raise ValueError(f"entry {c} is not a regular file")
        if e.offset[c] >= 0:
            yield wanted[c], _pread_chunks(image, e.blob_of[e.layer_of(c)], e.offset[c], e.size[c])
        else:
            streamed.setdefault(e.layer_of(c), []).append(c)
    for layer in sorted(streamed):
        for c, chunks in _stream_layer(image, layer, streamed[layer]):
            yield wanted[c], chunks


def read_content(image: Image, g: int, limit: int | None = None) -> bytes:
    """The bytes of one file (up to ``limit``), for showing it rather than writing it."""
    out = bytearray()
    for _same, chunks in iter_contents(image, [g]):
        for chunk in chunks:
            out += chunk
            if limit is not None and len(out) >= limit:
                return bytes(out[:limit])
    return bytes(out)


def _pread_chunks(image: Image, member: str, offset: int, size: int) -> Iterator[bytes]:
    pos = offset
    end = offset + size
    while pos < end:
        data = image.archive.pread(member, pos, min(CHUNK, end - pos))
        if not data:
            raise ArchiveError(f"{image.source}: the archive ends inside a file's data")
        pos += len(data)
        yield data


def _window_chunks(win: Window, offset: int, size: int) -> Iterator[bytes]:
    pos = offset
    end = offset + size
    while pos < end:
        n = min(CHUNK, end - pos)
        yield win.read(pos, n)
        pos += n


def _stream_layer(image: Image, layer: int, contents: list[int]) -> Iterator[tuple[int, Iterator[bytes]]]:
    """One decompressing pass over a layer, handing out the wanted files as they pass."""
    e = image.entries
    names = image.paths.paths
    occurrence = _occurrences(image, layer, contents)
    want = {(names[e.pid[c]], occurrence[c]): c for c in contents}
    paths_wanted = {path for path, _k in want}
    seen: dict[str, int] = {}
    what = f"layer {layer}"
    with image.archive.layer_window(e.blob_of[layer], what) as win:
        for name, tflag, _m, _u, _g, size, _t, _link, data_off in iter_headers(win):
            if tflag != REGULAR and tflag != CONTIGUOUS:
                continue
            path = clean_path(name, what)
            if path is None or path not in paths_wanted:
                continue
            k = seen.get(path, 0)
            seen[path] = k + 1
            c = want.pop((path, k), None)
            if c is None:
                continue
            yield c, _window_chunks(win, data_off, size)
            if not want:
                return
    if want:
        missing = ", ".join(f"/{path}" for path, _k in sorted(want))
        raise ArchiveError(f"layer {layer} no longer holds {missing}: was the archive changed since it was opened?")
