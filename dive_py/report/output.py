"""Write a report to the file the user named, so a failure leaves their old file alone.

``--json report.json`` replaces ``report.json`` -- but only once the new
report is complete.  The bytes go to a new temporary file beside it (created
exclusively, so nothing is overwritten), which is renamed over the target at
the end; an error or Ctrl+C removes the temporary file and nothing else.
Targets that are not regular files (``/dev/stdout``, a fifo, ``/dev/full``)
are written directly, as a shell redirection would.  Write errors become one
:class:`UsageError` line naming the target.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from typing import BinaryIO

from dive_py.errors import UsageError

Writer = Callable[[BinaryIO], object]  # what it returns (a byte count) is ignored


def check_target(path: str, flag: str) -> None:
    """Refuse before the (possibly long) analysis if ``path`` obviously cannot be written."""
    if path == "-":
        return
    if path == "":
        raise UsageError(f"{flag}: the file name is empty")
    if "\x00" in path:
        raise UsageError(f"{flag}: the file name contains a NUL byte")
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        raise UsageError(f"{flag} {path}: directory {directory} does not exist")
    if os.path.isdir(path) or path.endswith("/"):
        raise UsageError(f"{flag} {path}: is a directory")


def write_to(path: str, flag: str, write: Writer) -> None:
    """Run ``write`` on a binary stream that ends up as ``path`` only if it succeeds."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise UsageError(f"{flag} {path}: cannot write ({exc.strerror})") from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        _write_direct(path, flag, write)
        return
    target = os.path.realpath(path)  # a symlink to a report stays a symlink to the new one
    try:
        with _temporary_beside(target, st) as (fh, temp):
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
            fh.close()
            os.replace(temp, target)
    except PermissionError:
        if st is None:
            raise UsageError(f"{flag} {path}: cannot write (permission denied)") from None
        _write_direct(path, flag, write)  # a writable file in a read-only directory
    except OSError as exc:
        raise UsageError(f"{flag} {path}: cannot write ({exc.strerror})") from None


@contextlib.contextmanager
def _temporary_beside(target: str, st: os.stat_result | None) -> Iterator[tuple[BinaryIO, str]]:
    """A new file in ``target``'s directory; removed again unless it was renamed away."""
    directory, name = os.path.split(target)
    fd, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".divepy-tmp", dir=directory or ".")
    made = os.fstat(fd)
    try:
        mode = stat.S_IMODE(st.st_mode) if st is not None else 0o666 & ~_umask()
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            yield fh, temp
    finally:
        with contextlib.suppress(OSError):  # still there: the write failed; remove only our own file
            now = os.lstat(temp)
            if (now.st_dev, now.st_ino) == (made.st_dev, made.st_ino):
                os.unlink(temp)


def _write_direct(path: str, flag: str, write: Writer) -> None:
    """Write into an existing non-regular file; a fifo nobody reads is refused, not waited on."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise UsageError(f"{flag} {path}: it is a fifo and nothing is reading it") from None
        raise UsageError(f"{flag} {path}: cannot write ({exc.strerror})") from None
    try:
        os.set_blocking(fd, True)
        with os.fdopen(fd, "wb") as fh:
            write(fh)
    except OSError as exc:
        raise UsageError(f"{flag} {path}: cannot write ({exc.strerror})") from None


def _umask() -> int:
    mask = os.umask(0o22)
    os.umask(mask)
    return mask
