"""A compressed outer archive (``docker save img | gzip``), read in one pass.

It cannot seek, so it makes a single decompressing pass: small members
(manifests, configs) are kept in memory, and every member that looks like a
layer is parsed on the way past, keyed by name until the manifest (which
comes last in every real archive) says what is what.  Unreferenced blobs are
parsed too; parse errors are kept and raised only if the manifest uses the
blob.

The bytes come from a :class:`ByteSource`: a file (``FileSource``), or an
engine's export stream (``docker save`` over the Engine API), so the
analysis runs while the engine is still sending.  Reading a file's content
later (the viewer, extraction) opens the source again from its first byte.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import orjson

from dive_py.core.archive.base import Archive, LayerBlob, ProgressFn, member_of
from dive_py.core.limits import HELD_MEMBER_BYTES, JSON_DOCUMENT_BYTES, Budget, binary_size
from dive_py.core.tar import blobio
from dive_py.core.tar.layerread import read_layer
from dive_py.core.tar.tarscan import Window, iter_headers
from dive_py.core.tar.tarwindow import StreamWindow
from dive_py.errors import ArchiveError, InputError, LayerError, LimitError, ManifestError

_JSON_START = frozenset(b"{[")
_BLANK = b" \t\r\n"


class _SubStream(blobio.ReadOnlyStream):
    """The data of one member of a streamed outer archive, as a stream."""

    def __init__(self, win: StreamWindow, start: int, size: int) -> None:
        self.win = win
        self.pos = start
        self.end = start + size

    def read(self, n: int = -1, /) -> bytes:
        left = self.end - self.pos
        if n < 0 or n > left:
            n = left
        if n <= 0:
            return b""
        n = min(n, 1 << 20)
        data = self.win.read(self.pos, n)
        self.pos += n
        return data


class ByteSource(Protocol):
    """Where a streamed archive's bytes come from."""

    def open(self) -> blobio.Readable:
        """A fresh stream from the first byte (closed by the caller with ``close()``)."""
        ...

    def size(self) -> int:
        """Bytes the stream holds, or 0 when nobody knows in advance (an engine's export)."""
        ...


class FileSource:
    """A compressed archive on disk."""

    def __init__(self, path: str) -> None:
        self.path = path

    def open(self) -> blobio.Readable:
        return open(self.path, "rb")

    def size(self) -> int:
        return os.stat(self.path).st_size


class _Prefixed(blobio.ReadOnlyStream):
    """A stream whose first bytes were already read (to sniff them), handed out again first."""

    def __init__(self, head: bytes, rest: Any) -> None:
        self.head = head
        self.rest = rest

    def read(self, n: int = -1, /) -> bytes:
        if self.head:
            if n < 0 or n >= len(self.head):
                out, self.head = self.head, b""
                return out if n < 0 else out + (self.rest.read(n - len(out)) if n > len(out) else b"")
            out, self.head = self.head[:n], self.head[n:]
            return out
        data: bytes = self.rest.read(n)
        return data


class _CountingReader(blobio.ReadOnlyStream):
    """Counts compressed bytes consumed, for progress on streamed archives."""

    def __init__(self, fh: Any, progress: ProgressFn | None, total: int) -> None:
        self.fh = fh
        self.done = 0
        self.progress = progress
        self.total = total

    def read(self, n: int = -1, /) -> bytes:
        data: bytes = self.fh.read(n)
        self.done += len(data)
        if self.progress is not None:
            self.progress(self.done, self.total)
        return data

    def close(self) -> None:
        self.fh.close()

    @property
    def closed(self) -> bool:
        return bool(self.fh.closed)


class StreamedArchive(Archive):
    """A compressed outer archive, read in one decompressing pass."""

    source_kind = "stream"

    def __init__(
        self,
        source: ByteSource,
        label: str,
        compression: str | None,
        *,
        hash_files: bool,
        progress: ProgressFn | None = None,
        scan: bool = True,
    ) -> None:
        """``compression=None`` sniffs it from the stream's first bytes (an engine's export is a plain tar).

        ``scan=False`` makes no pass: the metadata cache knows the members and
        layers already, and only asks for file contents (``layer_window``).
        """
        super().__init__()
        self.source = source
        self.path = label
        self.label = label
        self._small: dict[str, bytes] = {}
        self._held = 0
        #: Members not held, and why (too large, not JSON, over the total).
        self._dropped: dict[str, str] = {}
        self._layers: dict[str, LayerBlob] = {}
        self._errors: dict[str, InputError] = {}
        self.compression: str | None = compression
        if not scan:
            return
        fh = source.open()
        try:
            counting = _CountingReader(fh, progress, source.size())
            stream, head = self._outer(counting, compression)
            try:
                self._scan(StreamWindow(stream, label, head), hash_files)
            finally:
                blobio.close_quietly(stream)
        finally:
            blobio.close_quietly(fh)

    def _outer(self, raw: blobio.Readable, compression: str | None) -> tuple[blobio.Readable, bytes]:
        """The outer archive's tar stream and its first 512 bytes; the compression is found once."""
        if compression is None:
            head = blobio.read_head(raw)
            compression = blobio.sniff(head) if head else blobio.UNKNOWN
            if compression == blobio.UNKNOWN:
                raise ArchiveError(f"{self.label} did not send a tar archive")
            raw = _Prefixed(head, raw)
        self.compression = compression
        if compression == blobio.TAR:
            head = blobio.read_head(raw)
            return raw, head
        return blobio.open_tar_stream(raw, compression, self.label)

    def _scan(self, win: StreamWindow, hash_files: bool) -> None:
        for name, tflag, _m, _u, _g, size, _t, link, data_off in iter_headers(win):
            member = member_of(name, tflag, size, link, -1)
            if member is None:
                continue
            self.add_member(member)
            norm = member.name
            for held in (self._small, self._layers, self._errors, self._dropped):
                held.pop(norm, None)  # a later member of the same name replaces the earlier one
            if not member.is_file:
                continue
            head = win.read(data_off, min(size, 512)) if size else b""
            kind = blobio.sniff(head) if head else blobio.TAR
            if kind != blobio.UNKNOWN and size > 0:
                what = f"{self.label}: member {norm!r}"
                try:
                    stream, inner_head = blobio.open_tar_stream(_SubStream(win, data_off, size), kind, what)
                    try:
                        raw = read_layer(
                            StreamWindow(stream, what, inner_head), hash_files=hash_files, budget=self.budget
                        )
                    finally:
                        blobio.close_quietly(stream)
                    self._layers[norm] = LayerBlob(raw, kind, size)
                except LimitError:
                    raise  # memory is at stake: stop now, whichever blob it is
                except InputError as exc:
                    self._errors[norm] = exc.with_traceback(None)  # no frames (and no cycle) kept alive
                # Whatever the layer parse left unread is skipped by the next get().
            else:
                self._hold(norm, win, data_off, size, head)

    def _hold(self, norm: str, win: StreamWindow, data_off: int, size: int, head: bytes) -> None:
        """Keep a member that may be a manifest or config, within the limits."""
        start = head.lstrip(_BLANK)[:1]
        if size and (not start or start[0] not in _JSON_START):
            self._dropped[norm] = "is not a JSON document"
        elif size > JSON_DOCUMENT_BYTES:
            self._dropped[norm] = (
                f"is {size:,} bytes, over divepy's limit of {binary_size(JSON_DOCUMENT_BYTES)} for a JSON document"
            )
        elif self._held + size > HELD_MEMBER_BYTES:
            self._dropped[norm] = (
                f"was not kept: the archive's metadata members exceed divepy's limit of "
                f"{binary_size(HELD_MEMBER_BYTES)} in total"
            )
        else:
            self._small[norm] = win.read(data_off, size) if size else b""
            self._held += size

    def parsed_layers(self) -> dict[str, LayerBlob]:
        return dict(self._layers)

    def held_json(self) -> dict[str, Any]:
        docs: dict[str, Any] = {}
        for name, data in self._small.items():
            try:
                docs[name] = orjson.loads(data)
            except orjson.JSONDecodeError:
                continue  # not JSON: a read_json of it fails the same way without the cache
        return docs

    def read_bytes(self, name: str) -> bytes:
        member = self.resolve(name)
        if member is None:
            raise ArchiveError(f"{self.label}: member {name!r} is missing")
        if member.name in self._small:
            return self._small[member.name]
        if member.name in self._layers or member.name in self._errors:
            raise ManifestError(f"{self.label}: member {name!r} is a tar stream, not a JSON document")
        why = self._dropped.get(member.name, "cannot be read")
        if "limit" in why:
            raise LimitError(f"{self.label}: member {name!r} {why}")
        raise ManifestError(f"{self.label}: member {name!r} {why}")

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
        if member is None:
            raise ManifestError(f"{what}: blob {name!r} is missing from the archive")
        if member.name in self._errors:
            err = self._errors[member.name]
            raise type(err)(str(err).replace(f"{self.label}: member {member.name!r}", what))
        blob = self._layers.get(member.name)
        if blob is None:
            raise LayerError(f"{what} is not a tar archive (nor a gzip/zstd-compressed one)")
        if hash_files and blob.raw.hashes is None:
            # Loaded without hashes, asked for them now: decompress again up to this blob (the
            # comparer would otherwise take two unknown hashes for equal content).
            with self.layer_window(name, what) as win:
                raw = read_layer(win, hash_files=True, budget=Budget())
            blob = LayerBlob(raw, blob.compression, blob.stored_size)
            self._layers[member.name] = blob
            self.grown = True
        return blob

    @contextmanager
    def layer_window(self, name: str, what: str) -> Iterator[Window]:
        """Decompress the outer archive again up to the blob: slow, but only for extraction."""
        member = self.resolve(name)
        if member is None or not member.is_file:
            raise ArchiveError(f"{self.label}: member {name!r} is missing")
        fh = self.source.open()
        try:
            outer, outer_head = self._outer(fh, self.compression)
            try:
                win = StreamWindow(outer, self.label, outer_head)
                for raw_name, tflag, _m, _u, _g, size, _t, link, data_off in iter_headers(win):
                    found = member_of(raw_name, tflag, size, link, -1)
                    if found is None or found.name != member.name or not found.is_file:
                        continue
                    head = win.read(data_off, min(size, 512)) if size else b""
                    kind = blobio.sniff(head) if head else blobio.TAR
                    if kind == blobio.UNKNOWN:
                        raise LayerError(f"{what} is not a tar archive (nor a gzip/zstd-compressed one)")
                    inner, inner_head = blobio.open_tar_stream(_SubStream(win, data_off, size), kind, what)
                    try:
                        yield StreamWindow(inner, what, inner_head)
                    finally:
                        blobio.close_quietly(inner)
                    return
                raise ArchiveError(f"{self.label}: member {name!r} is missing")
            finally:
                blobio.close_quietly(outer)
        finally:
            blobio.close_quietly(fh)
