"""Byte access to blobs: bounded regions of a file and transparent decompression.

Compression is always decided from the first bytes of the data, never from a
file name or a media type: real archives lie (skopeo labels uncompressed blobs
``tar+gzip``; kaniko names gzip layers ``.tar.gz`` but crane does not).
"""

from __future__ import annotations

import bz2
import contextlib
import lzma
import os
import zlib
from typing import Any, Protocol, cast

import zstandard

from dive_py.core.tar.tarscan import header_checksum_ok
from dive_py.core.tar.zstdframes import ZstdFrameWalker
from dive_py.errors import ArchiveError

_igzip_threaded: Any
_isal_errors: tuple[type[BaseException], ...]
try:  # ISA-L inflates gzip 2-3x faster than zlib; fall back if it is missing.
    from isal import igzip_threaded as _igzip_threaded
    from isal.igzip_lib import IsalError

    _isal_errors = (cast("type[BaseException]", IsalError),)
except ImportError:  # pragma: no cover - exercised only without the wheel
    _igzip_threaded = None
    _isal_errors = ()

#: Every exception a decompressor raises on bad data, in one place: ISA-L's
#: IsalError derives from nothing but Exception, gzip's BadGzipFile from
#: OSError, zstandard's and lzma's from their own bases.
DECOMPRESS_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    zlib.error,
    ValueError,
    zstandard.ZstdError,
    lzma.LZMAError,
    *_isal_errors,
)

GZIP = "gzip"
ZSTD = "zstd"
XZ = "xz"
BZIP2 = "bzip2"
TAR = "tar"
UNKNOWN = "unknown"

#: Which compressions a stream may carry, in the order we test the magic bytes.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", GZIP),
    (b"\x28\xb5\x2f\xfd", ZSTD),
    (b"\xfd7zXZ\x00", XZ),
    (b"BZh", BZIP2),
)


class Readable(Protocol):
    """The one method the tar reader needs from a stream."""

    def read(self, n: int = -1, /) -> bytes: ...


def looks_like_tar(block: bytes) -> bool:
    """True if ``block`` (the first 512 bytes) is a plausible tar header.

    A valid header checksum is required; an all-zero block (an empty archive,
    e.g. BuildKit's 1024-byte empty layers) also counts.
    """
    if len(block) < 512:
        return len(block) == 0
    if block.count(0) == 512:
        return True
    return header_checksum_ok(block[:512])


def sniff(head: bytes) -> str:
    """Name the compression (or ``tar``) of data that starts with ``head``."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if looks_like_tar(head[:512]):
        return TAR
    return UNKNOWN


class ReadOnlyStream:
    """The file-object surface the decompressors need, around one ``read``.

    Subclasses implement :meth:`read`; closing is a no-op unless overridden
    (the bytes belong to an outer file or stream).
    """

    def read(self, n: int = -1, /) -> bytes:
        raise NotImplementedError

    def readinto(self, b: bytearray | memoryview) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        """The bytes belong to someone else; nothing to release."""

    @property
    def closed(self) -> bool:
        return False

    def flush(self) -> None:
        """Read-only: nothing to flush."""


class RegionReader(ReadOnlyStream):
    """A read-only stream over ``[offset, offset + size)`` of an open file.

    Uses ``os.pread`` so several readers can share one descriptor and so the
    page cache, not our heap, holds the bytes (an ``mmap`` would count every
    touched page in our RSS).
    """

    def __init__(self, fd: int, offset: int, size: int) -> None:
        self.fd = fd
        self.start = offset
        self.size = size
        self._pos = 0

    def read(self, n: int = -1, /) -> bytes:
        left = self.size - self._pos
        if n < 0 or n > left:
            n = left
        if n <= 0:
            return b""
        data = os.pread(self.fd, n, self.start + self._pos)
        if not data:
            raise ArchiveError("archive is truncated: a blob ends past the end of the file")
        self._pos += len(data)
        return data


class _ZstdTap(ReadOnlyStream):
    """Passes compressed bytes to the decompressor and walks their frames on the way."""

    def __init__(self, raw: Readable) -> None:
        self.raw = raw
        self.walker = ZstdFrameWalker()
        self.ended = False

    def read(self, n: int = -1, /) -> bytes:
        data = self.raw.read(n)
        if data:
            self.walker.feed(data)
        else:
            self.ended = True
        return data


class _ErrorMappingReader:
    """Wraps a decompressor so its many exception types become ArchiveError."""

    def __init__(self, inner: Any, kind: str, what: str, tap: _ZstdTap | None = None) -> None:
        self._inner = inner
        self._kind = kind
        self._what = what
        self._tap = tap

    def read(self, n: int = -1, /) -> bytes:
        try:
            data: bytes = self._inner.read(n)
        except ArchiveError:
            raise
        except DECOMPRESS_ERRORS as exc:
            detail = str(exc) or type(exc).__name__
            if isinstance(exc, EOFError) or "end-of-stream" in detail or "truncated" in detail:
                raise self.truncated() from None
            raise ArchiveError(f"{self._what} is not valid {self._kind} data: {detail}") from None
        tap = self._tap
        if not data and n != 0 and tap is not None and tap.ended and not tap.walker.at_frame_end:
            raise self.truncated()
        return data

    def truncated(self) -> ArchiveError:
        return ArchiveError(f"{self._what} is truncated ({self._kind} stream ends early)")

    def close(self) -> None:
        # Closing a broken stream must not mask the error that broke it.
        with contextlib.suppress(Exception):
            self._inner.close()


def open_decompressed(raw: Readable, kind: str, what: str) -> Readable:
    """Return a stream of the decompressed bytes of ``raw``.

    ``kind`` comes from :func:`sniff`.  ``what`` names the data in errors
    ("layer 3", "the archive").  Multi-member gzip (estargz) and multi-frame
    zstd are read to the end.
    """
    if kind == TAR:
        return raw
    inner: Any
    source: Any = raw  # the decompressors accept any object with read()
    tap = None
    if kind == GZIP:
        if _igzip_threaded is not None:
            # A helper thread inflates while we parse: both cores stay busy.
            inner = _igzip_threaded.open(source, "rb", threads=1)
        else:  # pragma: no cover
            import gzip

            inner = gzip.GzipFile(fileobj=source)
    elif kind == ZSTD:
        tap = _ZstdTap(raw)
        tapped: Any = tap  # the decompressor accepts any object with read()
        inner = zstandard.ZstdDecompressor().stream_reader(
            tapped, read_size=1 << 20, read_across_frames=True, closefd=False
        )
    elif kind == XZ:
        inner = lzma.LZMAFile(source)  # noqa: SIM115 - closed by the wrapper
    elif kind == BZIP2:
        inner = bz2.BZ2File(source)
    else:
        raise ArchiveError(f"{what} is neither a tar archive nor gzip/zstd/xz/bzip2-compressed")
    return _ErrorMappingReader(inner, kind, what, tap)


def read_head(stream: Readable, n: int = 512) -> bytes:
    """Read up to ``n`` bytes, looping over short reads."""
    parts: list[bytes] = []
    got = 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def open_tar_stream(raw: Readable, kind: str, what: str) -> tuple[Readable, bytes]:
    """Decompress ``raw`` and return ``(stream, first 512 bytes)``, refusing a second compression.

    ``docker save | gzip | gzip`` or a gzip layer gzipped again decompress to
    compressed bytes, not a tar; saying so beats "not a tar archive".
    """
    stream = open_decompressed(raw, kind, what)
    try:
        head = read_head(stream)
        inner = sniff(head) if head else TAR
    except BaseException:
        close_quietly(stream)
        raise
    if inner not in (TAR, UNKNOWN):
        close_quietly(stream)
        raise ArchiveError(f"{what} is compressed twice ({inner} data inside the {kind} stream)")
    return stream, head


def close_quietly(stream: object) -> None:
    """Close a stream if it can be closed; a broken one must not mask the error at hand."""
    close = getattr(stream, "close", None)
    if close is not None:
        with contextlib.suppress(Exception):
            close()
