"""Where an extraction writes: decided once, created exclusively, removed only as created.

A file tool that cleans up after a failure must know exactly what it made.
Normalising the name first (``abspath``) is how tools lose data: ``-o ""``
becomes the working directory, ``-o nosuch/../keep`` becomes ``keep``,
``-o file.txt/`` becomes ``file.txt`` -- each passes a "does it exist?"
check, then the cleanup removes something that was there before.  So:

* the name is taken exactly as typed: its last component is the new entry,
  everything before it is the parent directory, opened by the kernel (which
  refuses ``nosuch/..``); empty names, ``.``, ``..`` and the root are refused,
  and so is a trailing slash on something that is not a directory;
* the entry is created with ``O_CREAT | O_EXCL | O_NOFOLLOW`` or ``mkdir``
  inside that opened parent, so an existing file, directory, fifo or (even
  dangling) symlink is never reused;
* every file, link and directory made inside is recorded, and
  :meth:`Destination.discard` removes those and nothing else, children
  first; a directory that holds something it did not make is left alone.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from dataclasses import dataclass, field

from dive_py.errors import InputError, UsageError


class ExtractError(InputError):
    """The extraction could not be done (destination exists, disk full...)."""


DIRECTORY = "directory"
FILE = "file"
SYMLINK = "symlink"


@dataclass(slots=True)
class Destination:
    """A new file or directory this run created, and everything created inside it."""

    shown: str  #: the name as the user typed it
    parent_fd: int  #: the directory that holds it
    name: str  #: its name inside that directory
    path: str  #: an absolute path to it, checked to be the entry created
    kind: str  #: DIRECTORY, FILE or SYMLINK
    ident: tuple[int, int]  #: (st_dev, st_ino) of what was created
    #: Paths created inside a directory destination, in creation order, with "is a directory".
    created: list[tuple[str, bool]] = field(default_factory=list)
    fd: int = -1  #: the open file of a file destination
    #: Held open for the destination's life, so its inode cannot be freed and reused
    #: by someone else's new file: ``ident`` then names this entry and no other.
    pin: int = -1

    def made(self, path: str, is_dir: bool) -> None:
        """Record that ``path`` (inside the destination) was just created by this run."""
        self.created.append((path, is_dir))

    def discard(self) -> None:
        """Remove what this run created, children first; leave everything else."""
        self.close_file()
        for path, is_dir in reversed(self.created):
            try:
                if is_dir:
                    os.chmod(path, 0o700, follow_symlinks=False)
                    os.rmdir(path)
                else:
                    os.unlink(path)
            except OSError:
                pass  # gone already, or something not ours was put inside: leave it
        self.created.clear()
        try:
            st = os.stat(self.name, dir_fd=self.parent_fd, follow_symlinks=False)
            if (st.st_dev, st.st_ino) == self.ident:
                if self.kind == DIRECTORY:
                    os.rmdir(self.name, dir_fd=self.parent_fd)
                else:
                    os.unlink(self.name, dir_fd=self.parent_fd)
        except OSError:
            pass
        self.close()

    def close_file(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def close(self) -> None:
        """Release the descriptors (the destination stays)."""
        self.close_file()
        if self.pin >= 0:
            os.close(self.pin)
            self.pin = -1
        if self.parent_fd >= 0:
            os.close(self.parent_fd)
            self.parent_fd = -1


def _pin(fd: int, name: str, kind: str, parent_fd: int) -> int:
    """A descriptor that holds the entry just created (-1 for a symlink where O_PATH is missing)."""
    if fd >= 0:
        return os.dup(fd)  # the very inode O_EXCL created
    if kind == DIRECTORY:
        return os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent_fd)
    if hasattr(os, "O_PATH"):  # Linux opens a symlink itself this way
        return os.open(name, os.O_PATH | os.O_NOFOLLOW, dir_fd=parent_fd)
    return -1


def _split(dest: str, kind: str, what: str) -> tuple[str, str]:
    """``(parent as typed, new name)``, refusing names that cannot be a new entry."""
    if dest == "":
        raise UsageError(f"{what}: the destination is empty; name a new file or directory")
    if "\x00" in dest:
        raise UsageError(f"{what}: the destination contains a NUL byte")
    if dest.endswith("/"):
        if kind != DIRECTORY:
            raise UsageError(f"{what} {dest}: a trailing '/' names a directory, but this is a {kind}")
        dest = dest.rstrip("/")
        if not dest:
            raise UsageError(f"{what} /: that is the root directory; name a new directory")
    parent, slash, name = dest.rpartition("/")
    if slash and not parent:
        parent = "/"
    if name in (".", ".."):
        raise UsageError(f"{what} {dest}: {name!r} names an existing directory; name a new one")
    return parent or ".", name


def claim(dest: str, *, kind: str, link: str = "", what: str = "--output") -> Destination:
    """Create ``dest`` -- a new directory, empty file, or symlink to ``link`` -- and return it.

    Anything that exists under that name, or a name that is not a plain new
    entry, is refused before anything is created.
    """
    parent, name = _split(dest, kind, what)
    try:
        parent_fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        why = {errno.ENOTDIR: "is not a directory", errno.ENOENT: "does not exist"}.get(
            exc.errno or 0, f"cannot be used ({exc.strerror})"
        )
        raise ExtractError(f"{dest}: the parent {parent} {why}") from None
    fd = pin = -1
    created = False
    try:
        try:
            if kind == DIRECTORY:
                os.mkdir(name, 0o700, dir_fd=parent_fd)
            elif kind == SYMLINK:
                os.symlink(link, name, dir_fd=parent_fd)
            else:
                fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=parent_fd)
        except FileExistsError:
            raise ExtractError(f"{dest} already exists; name a new file or directory") from None
        except OSError as exc:
            raise ExtractError(f"cannot create {dest}: {exc.strerror}") from None
        created = True
        pin = _pin(fd, name, kind, parent_fd)
        st = os.fstat(pin) if pin >= 0 else os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
        target = Destination(dest, parent_fd, name, "", kind, (st.st_dev, st.st_ino), fd=fd, pin=pin)
    except BaseException:
        for open_fd in (fd, pin):
            if open_fd >= 0:
                os.close(open_fd)
        if created:  # made a moment ago, exclusively: ours to remove
            with contextlib.suppress(OSError):
                (os.rmdir if kind == DIRECTORY else os.unlink)(name, dir_fd=parent_fd)
        os.close(parent_fd)
        raise
    # Writes inside go by path: resolve the parent the way the kernel did and
    # check that the path really is the entry just made.
    target.path = os.path.join(os.path.realpath(parent), name)
    try:
        st = os.lstat(target.path)
        same = (st.st_dev, st.st_ino) == target.ident and stat.S_ISDIR(st.st_mode) == (kind == DIRECTORY)
    except OSError:
        same = False
    if not same:
        target.discard()
        raise ExtractError(f"{dest}: the destination changed while it was being created")
    return target
