"""Uniform access to what holds an image: a tar file, a compressed tar, a directory.

Every source answers the same questions: which members exist, what a small
member (a manifest, a config) contains, and what the entries of a layer blob
are.  How it gets there differs:

* :class:`TarArchive` (a plain tar file) indexes the members once, reading
  only headers, then reads each layer in place with ``pread``.
* :class:`~dive_py.core.streamed.StreamedArchive` (``docker save | gzip``)
  cannot seek, so it makes a single decompressing pass (see that module).
* :class:`DirectoryArchive` reads an unpacked OCI layout (or docker save).
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

import orjson

from dive_py.core import blobio
from dive_py.core.layerread import RawLayer, read_layer
from dive_py.core.tarscan import DIR, SYMLINK, Window, iter_headers
from dive_py.core.tarwindow import FileWindow, StreamWindow
from dive_py.errors import ArchiveError, InputError, LayerError, ManifestError

#: Largest non-layer member kept in memory by a streamed archive (configs,
#: manifests and attestations are a few kB; this bounds a hostile archive).
SMALL_MEMBER_LIMIT = 64 << 20

#: ``progress(done_bytes, total_bytes)`` as layers are read.
ProgressFn = Callable[[int, int], None]


@dataclass(slots=True)
class Member:
    """One member of the outer archive."""

    name: str
    is_file: bool
    offset: int  # data offset in the archive file (-1 when streamed)
    size: int
    link: str = ""  # symlink target, already resolved to a member name


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


def member_of(name: str, tflag: int, size: int, link: str, offset: int) -> Member | None:
    """A regular file or symlink of the outer archive as a :class:`Member` (None for others).

    Symlink targets are resolved relative to the link's directory, so
    ``<id>/layer.tar -> ../<digest>.tar`` points at ``<digest>.tar``.
    """
    norm = normalise_member(name)
    if not norm or tflag == DIR:
        return None
    if tflag == SYMLINK:
        target = posixpath.normpath(posixpath.join(posixpath.dirname(norm), link))
        return Member(norm, False, -1, 0, normalise_member(target))
    if tflag in (0x30, 0x37):
        return Member(norm, True, offset, size)
    return None


class Archive:
    """Common behaviour: member lookup, symlink resolution, JSON reading."""

    label: str
    path: str

    def __init__(self) -> None:
        self.members: dict[str, Member] = {}

    # -- lookup ---------------------------------------------------------
    def resolve(self, name: str) -> Member | None:
        """Find a member, following symlinks inside the archive.

        containers/image archives store each layer once as ``<digest>.tar``
        and add ``<id>/layer.tar`` symlinks to it; dive parses those symlinks
        as empty layers, we follow them.
        """
        seen = 0
        name = normalise_member(name)
        while True:
            member = self.members.get(name)
            if member is None or member.is_file:
                return member
            seen += 1
            if seen > 16:
                raise ArchiveError(f"{self.label}: symlink loop at member {name!r}")
            name = member.link

    def has(self, name: str) -> bool:
        return self.resolve(name) is not None

    def read_bytes(self, name: str) -> bytes:
        raise NotImplementedError

    def read_json(self, name: str, what: str | None = None) -> Any:
        """Parse a member as JSON; errors name the member."""
        what = what or name
        member = self.resolve(name)
        if member is None:
            raise ManifestError(f"{what} is missing from the archive")
        data = self.read_bytes(member.name)
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise ManifestError(f"{what} is not valid JSON ({exc})") from None

    def read_layer(self, name: str, *, hash_files: bool, what: str,
                   progress: Callable[[int], None] | None = None) -> LayerBlob:
        """Parse a layer blob; ``progress`` gets its (uncompressed) read offset now and then."""
        raise NotImplementedError

    def layer_window(self, name: str, what: str) -> AbstractContextManager[Window]:
        """The uncompressed tar stream of a layer blob, to read file contents from.

        Extraction needs bytes the index never kept; this reopens the blob
        (decompressing it again if it is compressed).
        """
        raise ArchiveError(f"{self.label}: content of {name!r} cannot be re-read")

    def close(self) -> None:
        """Release file descriptors."""

    def pread(self, layer_name: str, offset: int, size: int) -> bytes:
        """Bytes of a seekable layer's file at an absolute offset."""
        raise ArchiveError(f"{self.label}: content of {layer_name!r} cannot be re-read")

    def hash_range(self, layer_name: str, offset: int, size: int) -> int:
        """xxh3-64 of ``size`` bytes at ``offset`` of a seekable layer."""
        raise ArchiveError(f"{self.label}: content of {layer_name!r} cannot be re-read")


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
    stream = blobio.open_decompressed(blobio.RegionReader(fd, start, size), kind, what)
    try:
        yield StreamWindow(stream, what)
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()


def _read_fd_layer(fd: int, start: int, size: int, *, hash_files: bool, what: str,
                   progress: Callable[[int], None] | None = None) -> LayerBlob:
    """Parse a layer blob stored at ``[start, start+size)`` of a file."""
    kind = _blob_kind(fd, start, size, what)
    with fd_layer_window(fd, start, size, what) as win:
        raw = read_layer(win, hash_files=hash_files and kind != blobio.TAR, progress=progress)
    return LayerBlob(raw, kind, size)


class TarArchive(Archive):
    """A plain (uncompressed) tar file: indexed once, read in place."""

    def __init__(self, path: str, label: str) -> None:
        super().__init__()
        self.path = path
        self.label = label
        self.fd = os.open(path, os.O_RDONLY)
        try:
            self.size = os.fstat(self.fd).st_size
            self._index()
        except BaseException:
            os.close(self.fd)
            raise

    def _index(self) -> None:
        win = FileWindow(self.fd, 0, self.size, self.label)
        try:
            headers = list(iter_headers(win))
        except LayerError as exc:
            raise ArchiveError(str(exc)) from None
        for name, tflag, _m, _u, _g, size, _t, link, data_off in headers:
            member = member_of(name, tflag, size, link, data_off)
            if member is None:
                continue
            if member.is_file and data_off + size > self.size:
                raise ArchiveError(f"{self.label} is truncated: member {member.name!r} runs past the end of the file")
            self.members[member.name] = member

    def read_bytes(self, name: str) -> bytes:
        member = self.resolve(name)
        if member is None:
            raise ArchiveError(f"{self.label}: member {name!r} is missing")
        return os.pread(self.fd, member.size, member.offset)

    def read_layer(self, name: str, *, hash_files: bool, what: str,
                   progress: Callable[[int], None] | None = None) -> LayerBlob:
        member = self.resolve(name)
        if member is None:
            raise ManifestError(f"{what}: blob {name!r} is missing from the archive")
        return _read_fd_layer(self.fd, member.offset, member.size, hash_files=hash_files, what=what,
                              progress=progress)

    def pread(self, layer_name: str, offset: int, size: int) -> bytes:
        return os.pread(self.fd, size, offset)

    @contextmanager
    def layer_window(self, name: str, what: str) -> Iterator[Window]:
        member = self.resolve(name)
        if member is None:
            raise ArchiveError(f"{self.label}: member {name!r} is missing")
        with fd_layer_window(self.fd, member.offset, member.size, what) as win:
            yield win

    def hash_range(self, layer_name: str, offset: int, size: int) -> int:
        return FileWindow(self.fd, 0, self.size, self.label).hash(offset, size)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class DirectoryArchive(Archive):
    """An unpacked image: an OCI layout directory or an extracted docker save."""

    def __init__(self, path: str, label: str) -> None:
        super().__init__()
        self.path = path
        self.label = label
        self._fds: dict[str, int] = {}
        root = os.path.realpath(path)
        for dirpath, _dirs, files in os.walk(root):
            for fname in files:
                full = os.path.join(dirpath, fname)
                rel = os.path.relpath(full, root).replace(os.sep, "/")
                st = os.lstat(full)
                if stat.S_ISLNK(st.st_mode):
                    target = os.path.realpath(full)
                    if not target.startswith(root + os.sep):
                        continue  # never follow links out of the layout
                    link = os.path.relpath(target, root).replace(os.sep, "/")
                    self.members[rel] = Member(rel, False, -1, 0, link)
                elif stat.S_ISREG(st.st_mode):
                    self.members[rel] = Member(rel, True, 0, st.st_size)

    def _fd(self, rel: str) -> int:
        fd = self._fds.get(rel)
        if fd is None:
            fd = os.open(os.path.join(self.path, rel), os.O_RDONLY)
            self._fds[rel] = fd
        return fd

    def read_bytes(self, name: str) -> bytes:
        member = self.resolve(name)
        if member is None:
            raise ArchiveError(f"{self.label}: file {name!r} is missing")
        with open(os.path.join(self.path, member.name), "rb") as fh:
            return fh.read()

    def read_layer(self, name: str, *, hash_files: bool, what: str,
                   progress: Callable[[int], None] | None = None) -> LayerBlob:
        member = self.resolve(name)
        if member is None:
            raise ManifestError(f"{what}: blob {name!r} is missing from the layout")
        return _read_fd_layer(self._fd(member.name), 0, member.size, hash_files=hash_files, what=what,
                              progress=progress)

    def pread(self, layer_name: str, offset: int, size: int) -> bytes:
        member = self.resolve(layer_name)
        if member is None:
            raise ArchiveError(f"{self.label}: blob {layer_name!r} is missing")
        return os.pread(self._fd(member.name), size, offset)

    def hash_range(self, layer_name: str, offset: int, size: int) -> int:
        member = self.resolve(layer_name)
        if member is None:
            raise ArchiveError(f"{self.label}: blob {layer_name!r} is missing")
        return FileWindow(self._fd(member.name), 0, member.size, self.label).hash(offset, size)

    @contextmanager
    def layer_window(self, name: str, what: str) -> Iterator[Window]:
        member = self.resolve(name)
        if member is None:
            raise ArchiveError(f"{self.label}: blob {name!r} is missing")
        with fd_layer_window(self._fd(member.name), 0, member.size, what) as win:
            yield win

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()


def open_archive(path: str, *, hash_files: bool, progress: ProgressFn | None = None) -> Archive:
    """Open whatever ``path`` is: a tar, a compressed tar, or a layout directory."""
    label = path
    if not os.path.exists(path):
        raise InputError(f"{path}: no such file or directory")
    if os.path.isdir(path):
        if not any(os.path.isfile(os.path.join(path, f)) for f in ("index.json", "manifest.json")):
            raise InputError(f"{path} is a directory but not an image layout (no index.json or manifest.json)")
        return DirectoryArchive(path, label)
    if not os.path.isfile(path):
        raise InputError(f"{path} is not a regular file")
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    if not head:
        raise ArchiveError(f"{path} is empty")
    kind = blobio.sniff(head)
    if kind == blobio.TAR:
        return TarArchive(path, label)
    if kind == blobio.UNKNOWN:
        raise ArchiveError(f"{path} is not a tar archive (nor a gzip/zstd/xz/bzip2-compressed one)")
    from dive_py.core.streamed import StreamedArchive  # only compressed archives need it

    return StreamedArchive(path, label, kind, hash_files=hash_files, progress=progress)
