"""An unpacked image on disk: an OCI layout directory or an extracted ``docker save``.

Names are resolved when asked for, by the filesystem, instead of walking
the whole tree up front: a layout may sit in a big directory, and a
symlink may lead anywhere.  Every name is resolved with ``realpath`` and
must stay inside the layout; a symlink that leads out of it is refused
with that reason (not reported as missing), and only regular files are
opened, so a fifo planted in ``blobs/`` cannot block the read.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from dive_py.core.archive.base import Archive, LayerBlob, Member, fd_layer_window, read_fd_layer
from dive_py.core.limits import Budget
from dive_py.core.tar.layerread import charge_layer
from dive_py.core.tar.tarscan import Window
from dive_py.core.tar.tarwindow import FileWindow, hash_fd_ranges
from dive_py.errors import ArchiveError, InputError, ManifestError

OUTSIDE_LAYOUT = "is a symlink that points outside the layout: refused"


class DirectoryArchive(Archive):
    """An image layout directory, read in place."""

    source_kind = "dir"

    def __init__(self, path: str, label: str, preparsed: dict[str, LayerBlob] | None = None) -> None:
        super().__init__()
        self.path = path
        self.label = label
        self.root = os.path.realpath(path)
        self._fds: dict[str, int] = {}
        #: Layers already parsed from these very blobs (a pull parses them while they download),
        #: by member name; each is handed out once.
        self._preparsed = preparsed or {}
        if not any(os.path.lexists(os.path.join(path, f)) for f in ("index.json", "manifest.json")):
            raise InputError(f"{path} is a directory but not an image layout (no index.json or manifest.json)")

    def lookup(self, name: str) -> Member | None:
        """Resolve ``name`` through the filesystem (cached); links are already followed."""
        member = self.members.get(name)
        if member is None:
            member = self._resolve_on_disk(name)
            if member is None:
                return None
            self.add_member(member)
            self.members[name] = member  # the name asked for, too: links are resolved already
        return member

    def _resolve_on_disk(self, name: str) -> Member | None:
        parts = name.split("/")
        if not name or ".." in parts:
            return Member(name, False, -1, 0, "", "climbs out of the layout with '..': refused")
        full = os.path.join(self.root, *parts)
        if not os.path.lexists(full):
            return None
        real = os.path.realpath(full)
        if real != self.root and not real.startswith(self.root + os.sep):
            return Member(name, False, -1, 0, "", OUTSIDE_LAYOUT)
        try:
            st = os.stat(real)
        except OSError as exc:  # a dangling link, a loop
            if not os.path.lexists(real):
                return None
            return Member(name, False, -1, 0, "", f"cannot be opened ({exc.strerror})")
        if not stat.S_ISREG(st.st_mode):
            what = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
            return Member(name, False, -1, 0, "", f"is {what}: refused")
        rel = os.path.relpath(real, self.root).replace(os.sep, "/")
        return Member(rel, True, 0, st.st_size)

    def has_layer_tar_links(self) -> bool:
        try:
            with os.scandir(self.root) as top:
                for entry in top:
                    if entry.is_dir(follow_symlinks=False) and os.path.islink(os.path.join(entry.path, "layer.tar")):
                        return True
        except OSError:
            return False
        return False

    def _fd(self, rel: str) -> int:
        fd = self._fds.get(rel)
        if fd is None:
            try:
                fd = os.open(os.path.join(self.root, rel), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            except OSError as exc:
                raise ArchiveError(f"{self.label}: cannot open {rel!r} ({exc.strerror})") from None
            if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped since it was resolved
                os.close(fd)
                raise ArchiveError(f"{self.label}: {rel!r} is not a regular file")
            self._fds[rel] = fd
        return fd

    def _member(self, name: str, what: str) -> Member:
        member = self.resolve(name)
        if member is None:
            raise ManifestError(f"{what}: blob {name!r} is missing from the layout")
        return member

    def read_bytes(self, name: str) -> bytes:
        member = self._member(name, self.label)
        return os.pread(self._fd(member.name), member.size, 0)

    def read_layer(
        self,
        name: str,
        *,
        hash_files: bool,
        what: str,
        progress: Callable[[int], None] | None = None,
        budget: Budget | None = None,
    ) -> LayerBlob:
        member = self._member(name, what)
        early = self._preparsed.pop(member.name, None)
        if early is not None and (early.raw.hashes is not None or not hash_files):
            charge_layer(early.raw, budget or self.budget, what)
            if progress is not None:
                progress(member.size)
            return early
        return read_fd_layer(
            self._fd(member.name),
            0,
            member.size,
            hash_files=hash_files,
            what=what,
            progress=progress,
            budget=budget or self.budget,
        )

    def pread(self, layer_name: str, offset: int, size: int) -> bytes:
        member = self._member(layer_name, self.label)
        return os.pread(self._fd(member.name), size, offset)

    def hash_range(self, layer_name: str, offset: int, size: int) -> int:
        member = self._member(layer_name, self.label)
        return FileWindow(self._fd(member.name), 0, member.size, self.label).hash(offset, size)

    def hash_ranges(self, layer_name: str, offsets: list[int], sizes: list[int]) -> list[int]:
        member = self._member(layer_name, self.label)
        return hash_fd_ranges(self._fd(member.name), offsets, sizes, member.size, self.label)

    @contextmanager
    def layer_window(self, name: str, what: str) -> Iterator[Window]:
        member = self._member(name, what)
        with fd_layer_window(self._fd(member.name), 0, member.size, what) as win:
            yield win

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()
