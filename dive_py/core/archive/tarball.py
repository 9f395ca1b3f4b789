"""A plain (uncompressed) tar file as an archive: indexed once by its headers, layers read in place."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from dive_py.core.archive.base import Archive, LayerBlob, fd_layer_window, member_of, read_fd_layer
from dive_py.core.limits import Budget
from dive_py.core.tar.tarscan import Window, iter_headers
from dive_py.core.tar.tarwindow import FileWindow, hash_fd_ranges
from dive_py.errors import ArchiveError, LayerError, ManifestError


class TarArchive(Archive):
    """A plain (uncompressed) tar file: indexed once, read in place."""

    source_kind = "tar"

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
            for name, tflag, _m, _u, _g, size, _t, link, data_off in iter_headers(win):
                member = member_of(name, tflag, size, link, data_off)
                if member is None:
                    continue
                if member.is_file and data_off + size > self.size:
                    raise ArchiveError(
                        f"{self.label} is truncated: member {member.name!r} runs past the end of the file"
                    )
                self.add_member(member)
        except LayerError as exc:
            raise ArchiveError(str(exc)) from None

    def read_bytes(self, name: str) -> bytes:
        member = self.resolve(name)
        if member is None:
            raise ArchiveError(f"{self.label}: member {name!r} is missing")
        return os.pread(self.fd, member.size, member.offset)

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
        return read_fd_layer(
            self.fd,
            member.offset,
            member.size,
            hash_files=hash_files,
            what=what,
            progress=progress,
            budget=budget or self.budget,
        )

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

    def hash_ranges(self, layer_name: str, offsets: list[int], sizes: list[int]) -> list[int]:
        return hash_fd_ranges(self.fd, offsets, sizes, self.size, self.label)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
