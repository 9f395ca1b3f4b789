"""Parse a pull's compressed layers while they download, so the analysis does not wait for a second pass.

A pull is bound by the network and a load by decompression and header
parsing; done one after the other they add up.  Each compressed layer blob
gets a parser thread the moment its download starts: it reads the blob's
temporary file as it grows (:mod:`dive_py.core.sources.spool`), inflates
it, parses its headers and hashes its files, exactly as the layout reader
would.  The result is handed to the loader only if the download completed
and its digest matched; a parse that failed for any reason (a hostile layer,
a limit, a decompressor's complaint) is dropped silently, and the loader
reads that layer from disk as if nothing had happened: the error message,
``--ignore-errors`` and every figure stay exactly what they would be.

Uncompressed blobs are not parsed early: the layout reader scans their
headers in place with ``pread`` and records file offsets for lazy hashing,
which a stream cannot give.  The parsers share one :class:`Budget`, so
layers parsed at once cannot together hold more entries than one image
may.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor

from dive_py.core.archive.base import LayerBlob
from dive_py.core.limits import Budget
from dive_py.core.sources.spool import Spool, SpoolReader
from dive_py.core.tar import blobio
from dive_py.core.tar.layerread import read_layer
from dive_py.core.tar.tarwindow import StreamWindow

#: Layers parsed at once: each is one core's work (the inflater runs on a helper thread beside it).
PARSERS = 2


class SharedBudget(Budget):
    """One load's :class:`Budget`, charged by several parser threads."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def spend(self, entries: int, chars: int, what: str) -> None:
        with self._lock:
            super().spend(entries, chars, what)


class EarlyParser:
    """Parser threads for the layer blobs of one pull, keyed by digest."""

    def __init__(self, layer_digests: set[str], workers: int = PARSERS) -> None:
        self.layer_digests = layer_digests
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="divepy-parse")
        self._budget = SharedBudget()
        self._jobs: dict[str, tuple[Spool, Future[LayerBlob | None]]] = {}
        self._lock = threading.Lock()

    def watch(self, digest: str, path: str, final: str, size: int) -> Spool | None:
        """A spool for the download of ``digest`` into ``path`` (renamed to ``final``), read by a parser.

        None when ``digest`` is not a layer.  The parser opens the file only when it starts: a pull
        of a thousand layers holds two descriptors for them, not a thousand.
        """
        if digest not in self.layer_digests:
            return None
        spool = Spool(path, size)
        with self._lock:
            self._jobs[digest] = (spool, self._pool.submit(self._parse, spool, final, digest, size))
        return spool

    def _parse(self, spool: Spool, final: str, digest: str, size: int) -> LayerBlob | None:
        what = f"layer {digest[:19]}…"
        stream: blobio.Readable | None = None
        reader: SpoolReader | None = None
        try:
            reader = SpoolReader(spool, final)
            kind = blobio.sniff(blobio.read_head(reader))
            if kind in (blobio.TAR, blobio.UNKNOWN):
                return None  # read in place by the layout reader (or refused there, with its message)
            reader.rewind()
            stream, head = blobio.open_tar_stream(reader, kind, what)
            raw = read_layer(StreamWindow(stream, what, head), hash_files=True, budget=self._budget)
            return LayerBlob(raw, kind, size)
        except Exception:  # any failure: the loader reads the layer again and reports it properly
            return None
        finally:
            if stream is not None:
                blobio.close_quietly(stream)
            if reader is not None:
                reader.close()

    def results(self) -> dict[str, LayerBlob]:
        """Wait for every parser; the layers whose download was verified and whose parse succeeded."""
        with self._lock:
            jobs = dict(self._jobs)
        out: dict[str, LayerBlob] = {}
        for digest, (spool, future) in jobs.items():
            blob = future.result()
            if blob is not None and spool.verified:
                out[digest] = blob
        return out

    def close(self) -> None:
        """Stop every parser still reading, at its next read, and wait for the threads.

        After :meth:`results` nothing is still reading; after a failure (or Ctrl+C) a parser of a
        layer that downloaded whole would otherwise go on inflating it for nothing.
        """
        with self._lock:
            jobs = list(self._jobs.values())
        for spool, _future in jobs:
            spool.abort()
        self._pool.shutdown(wait=True, cancel_futures=True)


__all__ = ["EarlyParser", "SharedBudget"]
