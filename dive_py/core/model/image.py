"""The loaded image: layers, their entries, and the merged-tree timeline.

:class:`Image` is what every front end reads (TUI, CI report, JSON export,
``--list``).  It is built once by :mod:`dive_py.core.model.loader` and not
modified afterwards, except for content hashes filled in on demand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from dive_py.core.archive import Archive
from dive_py.core.kinds import ENTRY, IMPLICIT
from dive_py.core.model.entries import EntryTable, PathTable
from dive_py.core.model.hardlinks import has_bytes
from dive_py.core.model.merge import Timeline
from dive_py.core.oci.imageconfig import HistoryEntry, ImageConfig
from dive_py.core.oci.manifest import ArchiveIndex, ImageRef


@dataclass(slots=True)
class Layer:
    """One filesystem layer and the build step that made it."""

    index: int
    #: Stable, unique id: the legacy layer directory, the kaniko blob name, or
    #: the blob digest's hex for OCI layouts (dive shows the literal "blobs").
    id: str
    #: The diff_id from the config (digest of the uncompressed tar).
    digest: str
    member: str
    blob_digest: str | None
    media_type: str | None
    compression: str
    #: Bytes the blob occupies in the archive (compressed size if compressed).
    stored_size: int
    #: dive's layer size: the sum of the entries' sizes (content bytes).
    size: int
    #: Length of the uncompressed tar stream.
    tar_size: int
    entry_count: int
    history: HistoryEntry | None
    command: str

    @property
    def created_by(self) -> str:
        return self.history.created_by if self.history else ""


@dataclass(slots=True)
class OtherImage:
    """Another image in the same archive (``docker save a b``)."""

    names: list[str]
    platform: str | None
    layer_members: list[str]


@dataclass(slots=True)
class Image:
    """An analysable image: model plus a handle to re-read file contents."""

    source: str
    archive_format: str
    names: list[str]
    ref: ImageRef
    config: ImageConfig
    layers: list[Layer]
    paths: PathTable
    entries: EntryTable
    timeline: Timeline
    archive: Archive
    index: ArchiveIndex
    #: Bytes of every distinct blob all images of the archive reference.
    archive_layer_bytes: int = 0
    warnings: list[str] = field(default_factory=list)
    #: Run after the archive is closed (the metadata cache stores what was hashed since the load).
    closers: list[Callable[[], object]] = field(default_factory=list)

    @property
    def display_name(self) -> str:
        return self.names[0] if self.names else self.source

    @property
    def size_bytes(self) -> int:
        return sum(layer.size for layer in self.layers)

    def close(self) -> None:
        self.archive.close()
        closers, self.closers = self.closers, []
        for closer in closers:
            closer()

    # -- merged tree --------------------------------------------------------
    def visible_at(self, layer: int) -> list[int]:
        """Entry ids of the merged filesystem after ``layer`` (unsorted).

        Includes implicit directories; whiteouts never appear.
        """
        e = self.entries
        end = self.timeline.end
        kind = e.kind
        stop = e.layer_start[layer + 1]
        out = [g for g in range(stop) if end[g] > layer and kind[g] == ENTRY]
        for g, born in e.implicit_layer.items():
            if born <= layer < end[g]:
                out.append(g)
        return out

    def entry_at(self, path: str, layer: int) -> int | None:
        """The entry at ``path`` (absolute or not) in the merged filesystem after ``layer``.

        One vectorised scan for the path's entries instead of :meth:`visible_at`
        over the whole table: the viewer asks this for one file at a time.
        """
        pid = self.paths.lookup(path.strip("/"))
        if pid is None:
            return None
        e = self.entries
        end = self.timeline.end
        for g in np.flatnonzero(np.frombuffer(e.pid, dtype=np.int32) == pid)[::-1].tolist():
            if e.kind[g] in (ENTRY, IMPLICIT) and e.layer_of(g) <= layer < end[g]:
                return int(g)
        return None

    def tree_at(self, layer: int) -> list[int]:
        """:meth:`visible_at`, sorted into depth-first path order."""
        e = self.entries
        names = self.paths.paths
        ids = self.visible_at(layer)
        ids.sort(key=lambda g: names[e.pid[g]].replace("/", "\x00"))
        return ids

    def has_bytes(self, g: int) -> bool:
        """A regular file, or a hardlink that ends at one: something whose content can be read."""
        return has_bytes(self.entries, self.timeline.hardlink_target, g)

    def content_size(self, g: int) -> int:
        """Bytes of content an entry stands for (a hardlink: its target's)."""
        return self.entries.size[self.timeline.hardlink_target.get(g, g)]

    def other_images(self) -> list[OtherImage]:
        return [
            OtherImage(img.names, img.platform, [lr.member for lr in img.layers])
            for img in self.index.images
            if img is not self.ref
        ]
