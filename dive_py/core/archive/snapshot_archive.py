"""An archive answered from a metadata-cache snapshot; the source is opened only when contents are needed.

A plain tar or a layout answers a question the snapshot cannot (another
image's config, a layer not read before) cheaply, so those go to the
source.  A one-pass source (an engine's export, a compressed archive)
cannot, so such a miss raises :class:`SnapshotMiss` and the loader reads
the source whole again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from dive_py.core.archive.base import Archive, LayerBlob, Member
from dive_py.core.archive.metacache import DIRECTORY, STREAM, Snapshot
from dive_py.core.limits import Budget
from dive_py.core.tar import blobio
from dive_py.core.tar.layerread import read_layer
from dive_py.core.tar.tarscan import Window


class SnapshotMiss(Exception):
    """A one-pass source's snapshot lacks what this load asks for: read the source again, whole."""


def snapshot_of(archive: Archive, layers: dict[str, LayerBlob]) -> Snapshot:
    """What to store after ``archive`` loaded: its members, the JSON it parsed and the layers read.

    A one-pass source cannot answer a later question cheaply, so its snapshot
    keeps every layer and JSON member the pass met, not just this image's.
    """
    kind = archive.source_kind
    docs = dict(archive._json)
    every = dict(layers)
    if kind == STREAM:
        docs = {**archive.held_json(), **docs}
        every = {**every, **archive.parsed_layers()}  # the pass's own, hashed since the load if asked
    return Snapshot(
        kind=kind,
        members=dict(archive.members),
        complete=kind != DIRECTORY,
        tar_links=archive.has_layer_tar_links(),
        json=docs,
        layers=every,
    )


class SnapshotArchive(Archive):
    """An archive answered from a snapshot; the source itself is opened only for file contents."""

    def __init__(
        self, snapshot: Snapshot, label: str, reopen: Callable[[], Archive], live: Archive | None = None
    ) -> None:
        """``live``: the archive the snapshot was just taken of, still open (it answers every miss)."""
        super().__init__()
        self.label = label
        self.path = label
        self.snapshot = snapshot
        self.members = dict(snapshot.members)
        self._json = dict(snapshot.json)
        self._reopen = reopen
        self._live: Archive | None = live
        self._full = live is not None
        #: Layers parsed or hashed since the load: what the cache adds to its snapshot at close.
        self.grown_layers: dict[str, LayerBlob] = {}
        #: Each layer's stored form, once :meth:`release` dropped its entries.
        self._forms: dict[str, tuple[str, int]] = {}

    @property
    def from_cache(self) -> bool:
        """Answered by a stored snapshot (not wrapped around an archive just read)."""
        return not self._full

    def live(self) -> Archive:
        if self._live is None:
            self._live = self._reopen()
            for key, member in self.members.items():
                self._live.members.setdefault(key, member)
        return self._live

    def lookup(self, name: str) -> Member | None:
        found = self.members.get(name)
        if found is None and not self.snapshot.complete:
            found = self.live().lookup(name)
            if found is not None:
                self.members[name] = found
        return found

    def has_layer_tar_links(self) -> bool:
        return self.snapshot.tar_links

    def read_bytes(self, name: str) -> bytes:
        if self.snapshot.kind == STREAM and not self._full:
            raise SnapshotMiss(name)
        return self.live().read_bytes(name)

    def read_layer(
        self,
        name: str,
        *,
        hash_files: bool,
        what: str,
        progress: Callable[[int], None] | None = None,
        budget: Budget | None = None,
    ) -> LayerBlob:
        member = self.resolve(name)
        key = member.name if member is not None else name
        blob = self.grown_layers.get(key) or self.snapshot.layers.get(key)
        stream = self.snapshot.kind == STREAM
        if blob is None and key in self._forms:  # released: parse it again from the source
            compression, stored = self._forms[key]
            if stream:
                with self.live().layer_window(name, what) as win:
                    blob = LayerBlob(read_layer(win, hash_files=hash_files, budget=Budget()), compression, stored)
            else:
                blob = self.live().read_layer(name, hash_files=hash_files, what=what, progress=progress, budget=budget)
        elif blob is None:
            if stream and not self._full:
                raise SnapshotMiss(name)
            blob = self.live().read_layer(name, hash_files=hash_files, what=what, progress=progress, budget=budget)
            self._grow(key, blob)
        seekable = not stream and blob.compression == blobio.TAR
        if hash_files and blob.raw.hashes is None and not seekable:
            with self.live().layer_window(name, what) as win:
                raw = read_layer(win, hash_files=True, budget=Budget())
            blob = LayerBlob(raw, blob.compression, blob.stored_size)
            self._grow(key, blob)
        elif hash_files and blob.raw.hashes is not None and key not in self.snapshot.layers:
            self._grow(key, blob)  # hashed while parsed again after the release
        return blob

    def _grow(self, key: str, blob: LayerBlob) -> None:
        self.grown_layers[key] = blob
        self.grown = True

    def release(self) -> None:
        """After the load the entry table holds every column: keep each layer's stored form, not its entries.

        Holding both doubled the memory of a big image for the whole run.
        """
        self._forms = {k: (b.compression, b.stored_size) for k, b in self.snapshot.layers.items()}
        self.snapshot.layers = {}

    def layer_window(self, name: str, what: str) -> AbstractContextManager[Window]:
        return self._window(name, what)

    @contextmanager
    def _window(self, name: str, what: str) -> Iterator[Window]:
        with self.live().layer_window(name, what) as win:
            yield win

    def pread(self, layer_name: str, offset: int, size: int) -> bytes:
        return self.live().pread(layer_name, offset, size)

    def hash_range(self, layer_name: str, offset: int, size: int) -> int:
        return self.live().hash_range(layer_name, offset, size)

    def hash_ranges(self, layer_name: str, offsets: list[int], sizes: list[int]) -> list[int]:
        return self.live().hash_ranges(layer_name, offsets, sizes)

    def close(self) -> None:
        if self._live is not None:
            self._live.close()
            self._live = None


__all__ = ["SnapshotArchive", "SnapshotMiss", "snapshot_of"]
