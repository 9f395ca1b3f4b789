"""A blob file that one thread downloads while another reads it: the pipe between a pull and its parse.

The download writes each chunk to the blob's private temporary file and
says how far it got; a reader opened on the same file reads up to that
point with ``pread`` and waits when it has caught up, until the download
finishes or fails.  The bytes go through the page cache, not through a
queue in memory, so a parser that falls behind never holds the download
back and never makes it buffer: the file is the buffer, and it is being
written anyway.
"""

from __future__ import annotations

import os
import threading

from dive_py.core.tar.blobio import ReadOnlyStream
from dive_py.errors import ArchiveError

#: The most one read returns (the decompressors ask for about this much).
READ_CHUNK = 1 << 20


class Spool:
    """The writer's side: how many bytes of the file are written, and whether the download ended."""

    def __init__(self, path: str, size: int) -> None:
        self.path = path
        self.size = size
        self._cond = threading.Condition()
        self._written = 0
        self._finished = False
        self._failure: str | None = None
        #: The pull is over (failed, or Ctrl+C): readers stop even when the file is whole.
        self.aborted = False
        #: Set once the download completed and its digest matched: only then may the parse be used.
        self.verified = False

    def grew(self, n: int) -> None:
        with self._cond:
            self._written += n
            self._cond.notify_all()

    def finish(self) -> None:
        """The blob is whole and its digest checked."""
        with self._cond:
            self._finished = True
            self.verified = True
            self._cond.notify_all()

    def fail(self, why: str) -> None:
        """The download stopped (an error, a bad digest, Ctrl+C): the reader stops too."""
        with self._cond:
            if not self._finished:
                self._failure = why
            self._cond.notify_all()

    def abort(self) -> None:
        """Stop every reader at its next read, finished download or not (a parse nobody will use)."""
        with self._cond:
            self.aborted = True
            self._cond.notify_all()

    def available(self, pos: int) -> int:
        """Bytes readable at ``pos``: waits while the download is behind; 0 at the end."""
        with self._cond:
            while True:
                if self.aborted:
                    raise ArchiveError(f"{self.path}: the pull stopped")
                if self._failure is not None:
                    raise ArchiveError(f"{self.path}: the download stopped ({self._failure})")
                if self._written > pos:
                    return self._written - pos
                if self._finished:
                    return 0
                self._cond.wait()


class SpoolReader(ReadOnlyStream):
    """The reader's side: a file object whose ``read`` follows the download.

    Opened when its parse starts, which may be after the download ended: the
    temporary file is then already renamed to ``final`` (atomically, and only
    once verified), so that is opened instead.  A download that failed left
    neither: :class:`FileNotFoundError`.
    """

    def __init__(self, spool: Spool, final: str) -> None:
        self.spool = spool
        flags = os.O_RDONLY | os.O_NOFOLLOW
        try:
            self._fd = os.open(spool.path, flags)
        except FileNotFoundError:
            self._fd = os.open(final, flags)
        self._pos = 0

    def read(self, n: int = -1) -> bytes:
        want = READ_CHUNK if n is None or n < 0 else n
        if want == 0:
            return b""
        avail = self.spool.available(self._pos)
        if not avail:
            return b""
        data = os.pread(self._fd, min(want, avail), self._pos)
        if not data:  # written but not readable: the file was cut behind our back
            raise ArchiveError(f"{self.spool.path}: the file shrank while it was read")
        self._pos += len(data)
        return data

    def rewind(self) -> None:
        """Back to the first byte (after sniffing the compression from the head)."""
        self._pos = 0

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    @property
    def closed(self) -> bool:
        return self._fd < 0


__all__ = ["Spool", "SpoolReader"]
