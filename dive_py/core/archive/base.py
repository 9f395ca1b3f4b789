"""What every archive kind shares: members, links between them, bounded JSON, layer blobs by offset.

The kinds themselves (the rest of this docstring) live beside it:

Every source answers the same questions: which members exist, what a small
member (a manifest, a config) contains, and what the entries of a layer blob
are.  How it gets there differs:

* :class:`TarArchive` (a plain tar file) indexes the members once, reading
  only headers, then reads each layer in place with ``pread``.
* :class:`~dive_py.core.archive.streamed.StreamedArchive` (``docker save | gzip``)
  cannot seek, so it makes a single decompressing pass (see that module).
* :class:`~dive_py.core.archive.layoutdir.DirectoryArchive` reads an unpacked OCI
  layout (or docker save).

Members can be symlinks or hardlinks to other members (containers/image
writes ``<id>/layer.tar -> ../<digest>.tar``); a link that leads out of the
archive is *refused* with that reason, not reported as missing.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

import orjson

from dive_py.core.kinds import CONTIGUOUS, DIR, HARDLINK, REGULAR, SYMLINK
from dive_py.core.limits import (
    ARCHIVE_MEMBERS,
    JSON_DOCUMENT_BYTES,
    JSON_DOCUMENTS,
    JSON_TOTAL_BYTES,
    MEMBER_LINK_HOPS,
    Budget,
    check_count,
    check_size,
)
from dive_py.core.tar import blobio
from dive_py.core.tar.layerread import RawLayer, read_layer
from dive_py.core.tar.tarscan import Window
from dive_py.core.tar.tarwindow import FileWindow, StreamWindow
from dive_py.errors import ArchiveError, LayerError, ManifestError

#: ``progress(done_bytes, total_bytes)`` as layers are read.
ProgressFn = Callable[[int, int], None]

OUTSIDE = "is a link that points outside the archive: refused"


@dataclass(slots=True)
class Member:
    """One member of the outer archive."""

    name: str
    is_file: bool
    offset: int  # data offset in the archive file (-1 when streamed)
    size: int
    link: str = ""  # symlink/hardlink target, already resolved to a member name
    #: Why the member cannot be used ("is a link that points outside ..."), or "".
    refused: str = ""


@dataclass(slots=True)
class LayerBlob:
    """A parsed layer plus what we learned about its stored form."""

    raw: RawLayer
    compression: str  # blobio.TAR / GZIP / ZSTD / ...
    stored_size: int  # bytes the blob occupies in the archive


def normalise_member(name: str) -> str:
    """Member names without ``./`` or leading/trailing slashes."""
    name = name.lstrip("/")
    while name.startswith("./"):
        name = name[2:]
    return name.rstrip("/")


def _link_member(norm: str, target: str) -> Member:
    """A link member to ``target`` (already joined, not yet normalised)."""
    resolved = posixpath.normpath(target)
    if resolved == ".." or resolved.startswith("../"):
        return Member(norm, False, -1, 0, "", OUTSIDE)
    return Member(norm, False, -1, 0, normalise_member(resolved))


def member_of(name: str, tflag: int, size: int, link: str, offset: int) -> Member | None:
    """A regular file or link of the outer archive as a :class:`Member` (None for others).

    Symlink targets are resolved relative to the link's directory, so
    ``<id>/layer.tar -> ../<digest>.tar`` points at ``<digest>.tar``; a
    hardlink's target is named from the archive's root, as tar names it.
    """
    norm = normalise_member(name)
    if not norm or tflag == DIR:
        return None
    if tflag == SYMLINK:
        return _link_member(norm, posixpath.join(posixpath.dirname(norm), link))
    if tflag == HARDLINK:
        return _link_member(norm, link.lstrip("/"))
    if tflag in (REGULAR, CONTIGUOUS):
        return Member(norm, True, offset, size)
    return None


class Archive:
    """Common behaviour: member lookup, link resolution, bounded JSON reading."""

    label: str
    path: str
    #: How file contents are read again: "tar" (a plain tar file), "dir" (a layout), "stream" (one pass).
    source_kind = "tar"

    def __init__(self) -> None:
        self.members: dict[str, Member] = {}
        #: Layers parsed or hashed after the load: the metadata cache stores the archive again at close.
        self.grown = False
        #: Entries and name characters the layers read so far hold.
        self.budget = Budget()
        self._json: dict[str, Any] = {}
        self._json_bytes = 0

    def add_member(self, member: Member) -> None:
        """Record a member; a second member of the same name replaces the first (tar semantics)."""
        self.members[member.name] = member
        check_count(len(self.members), ARCHIVE_MEMBERS, self.label, "members")

    # -- lookup ---------------------------------------------------------
    def lookup(self, name: str) -> Member | None:
        """The member called ``name`` (normalised), links not followed."""
        return self.members.get(name)

    def resolve(self, name: str) -> Member | None:
        """Find a member, following links inside the archive.

        containers/image archives store each layer once as ``<digest>.tar``
        and add ``<id>/layer.tar`` symlinks to it; dive parses those symlinks
        as empty layers, we follow them.  ``None`` means missing; a refused
        member raises with its reason.
        """
        lookup = self.lookup
        name = normalise_member(name)
        for _hop in range(MEMBER_LINK_HOPS + 1):
            found = lookup(name)
            if found is None:
                return None
            if found.refused:
                raise ArchiveError(f"{self.label}: member {name!r} {found.refused}")
            if found.is_file:
                return found
            name = found.link
        raise ArchiveError(
            f"{self.label}: member {name!r} is a loop of links (or more than {MEMBER_LINK_HOPS} in a row)"
        )

    def has(self, name: str) -> bool:
        return self.resolve(name) is not None

    def has_layer_tar_links(self) -> bool:
        """Does any ``<dir>/layer.tar`` link to a blob (containers/image's docker-archive)?"""
        return any(not m.is_file and name.endswith("/layer.tar") for name, m in self.members.items())

    def read_bytes(self, name: str) -> bytes:
        """The bytes of a small member (callers check its size first)."""
        raise NotImplementedError

    def read_json(self, name: str, what: str | None = None) -> Any:
        """Parse a member as JSON, once; errors name the member, sizes are bounded."""
        what = what or name
        member = self.resolve(name)
        if member is None:
            raise ManifestError(f"{what} is missing from the archive")
        if member.name in self._json:
            return self._json[member.name]
        check_size(member.size, JSON_DOCUMENT_BYTES, what, "a JSON document")
        self._json_bytes += member.size
        check_size(self._json_bytes, JSON_TOTAL_BYTES, self.label, "the JSON documents read")
        check_count(len(self._json) + 1, JSON_DOCUMENTS, self.label, "JSON documents")
        data = self.read_bytes(member.name)
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise ManifestError(f"{what} is not valid JSON ({exc})") from None
        self._json[member.name] = doc
        return doc

    def read_layer(
        self,
        name: str,
        *,
        hash_files: bool,
        what: str,
        progress: Callable[[int], None] | None = None,
        budget: Budget | None = None,
    ) -> LayerBlob:
        """Parse a layer blob; ``progress`` gets its (uncompressed) read offset now and then.

        ``budget`` defaults to the archive's own (a second read of the same
        layer, for hashing, passes a fresh one).
        """
        raise NotImplementedError

    def layer_window(self, name: str, what: str) -> AbstractContextManager[Window]:
        """The uncompressed tar stream of a layer blob, to read file contents from.

        Extraction needs bytes the index never kept; this reopens the blob
        (decompressing it again if it is compressed).
        """
        raise ArchiveError(f"{self.label}: content of {name!r} cannot be re-read")

    def close(self) -> None:
        """Release file descriptors."""

    def parsed_layers(self) -> dict[str, LayerBlob]:
        """Every layer a one-pass reader parsed on its way (the metadata cache keeps them all)."""
        return {}

    def held_json(self) -> dict[str, Any]:
        """Every small member a one-pass reader kept that is a JSON document, parsed."""
        return {}

    def pread(self, layer_name: str, offset: int, size: int) -> bytes:
        """Bytes of a seekable layer's file at an absolute offset."""
        raise ArchiveError(f"{self.label}: content of {layer_name!r} cannot be re-read")

    def hash_range(self, layer_name: str, offset: int, size: int) -> int:
        """xxh3-64 of ``size`` bytes at ``offset`` of a seekable layer."""
        raise ArchiveError(f"{self.label}: content of {layer_name!r} cannot be re-read")

    def hash_ranges(self, layer_name: str, offsets: list[int], sizes: list[int]) -> list[int]:
        """:meth:`hash_range` for many regions of one layer (archives on a file do it in one loop)."""
        return [self.hash_range(layer_name, off, n) for off, n in zip(offsets, sizes, strict=True)]


def _blob_kind(fd: int, start: int, size: int, what: str) -> str:
    head = os.pread(fd, 512, start) if size else b""
    kind = blobio.sniff(head) if head else blobio.TAR
    if kind == blobio.UNKNOWN:
        raise LayerError(f"{what} is not a tar archive (nor a gzip/zstd-compressed one)")
    return kind


@contextmanager
def fd_layer_window(fd: int, start: int, size: int, what: str) -> Iterator[Window]:
    """A window on the blob at ``[start, start+size)`` of a file: seekable if it is a plain tar."""
    kind = _blob_kind(fd, start, size, what)
    if kind == blobio.TAR:
        yield FileWindow(fd, start, size, what)
        return
    stream, head = blobio.open_tar_stream(blobio.RegionReader(fd, start, size), kind, what)
    try:
        yield StreamWindow(stream, what, head)
    finally:
        blobio.close_quietly(stream)


def read_fd_layer(
    fd: int,
    start: int,
    size: int,
    *,
    hash_files: bool,
    what: str,
    progress: Callable[[int], None] | None,
    budget: Budget,
) -> LayerBlob:
    """Parse a layer blob stored at ``[start, start+size)`` of a file."""
    kind = _blob_kind(fd, start, size, what)
    with fd_layer_window(fd, start, size, what) as win:
        raw = read_layer(win, hash_files=hash_files and kind != blobio.TAR, progress=progress, budget=budget)
    return LayerBlob(raw, kind, size)
