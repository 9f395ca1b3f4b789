"""Open whatever a path is -- a tar, a compressed tar, a layout directory -- as an :class:`Archive`.

The one door into this room: the kind is decided from the bytes, and only
the reader that kind needs is imported.
"""

from __future__ import annotations

import os
from typing import Protocol

from dive_py.core.archive.base import Archive, ProgressFn
from dive_py.core.archive.tarball import TarArchive
from dive_py.core.tar import blobio
from dive_py.errors import ArchiveError, InputError


class OpensArchive(Protocol):
    """A source that is not a path (an engine's export, a pulled image): it opens its own archive."""

    @property
    def label(self) -> str:
        """What the image is called in messages and ``source`` of the export."""
        ...

    def open_archive(self, *, hash_files: bool, progress: ProgressFn | None = None, scan: bool = True) -> Archive:
        """The archive; ``scan=False`` reads nothing yet (the metadata cache answers the rest)."""
        ...

    def identity(self) -> str | None:
        """A key for the metadata cache that names exactly this image (None: do not cache)."""
        ...


def reopen_archive(path: str, kind: str) -> Archive:
    """The archive at ``path`` again, for file contents only: a one-pass source is not read through."""
    if kind == "stream":
        from dive_py.core.archive.streamed import FileSource, StreamedArchive

        return StreamedArchive(FileSource(path), path, None, hash_files=False, scan=False)
    return open_archive(path, hash_files=False)


def open_archive(path: str, *, hash_files: bool, progress: ProgressFn | None = None) -> Archive:
    """Open whatever ``path`` is: a tar, a compressed tar, or a layout directory."""
    label = path
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file or directory") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot open ({exc.strerror})") from None
    if os.path.isdir(path):
        from dive_py.core.archive.layoutdir import DirectoryArchive

        return DirectoryArchive(path, label)
    if not os.path.isfile(path):
        raise InputError(f"{path} is not a regular file")
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    if not head or st.st_size == 0:
        raise ArchiveError(f"{path} is empty")
    kind = blobio.sniff(head)
    if kind == blobio.TAR:
        return TarArchive(path, label)
    if kind == blobio.UNKNOWN:
        raise ArchiveError(f"{path} is not a tar archive (nor a gzip/zstd/xz/bzip2-compressed one)")
    from dive_py.core.archive.streamed import FileSource, StreamedArchive  # only compressed archives need it

    return StreamedArchive(FileSource(path), label, kind, hash_files=hash_files, progress=progress)
