"""Write a file or directory of the merged filesystem to disk (Ctrl+E, ``--extract``).

dive binds Ctrl+E to "Extract File" but it never matches a layer, so users
copy files out with ``docker cp`` or by unpacking tars by hand.  Here a path
is written as the container sees it *after a chosen layer*: whiteouts,
opaque directories and hardlinks already resolved by the merged tree.

Writing only ever happens inside the destination the user named, which
must not exist yet:

* the destination is created fresh (``O_EXCL`` / ``mkdir``) from the name
  exactly as typed, nothing is overwritten, and a failure removes only what
  this run created (:mod:`dive_py.core.content.destination`);
* symlinks from the image are created last, so no file is ever written
  through a link the image supplied (a tar can hold ``lib -> /usr/lib`` and
  ``lib/x``);
* ownership and the setuid/setgid/sticky bits are not restored, and
  directories stay writable by the user, so the copy can be inspected and
  deleted without root.  Device nodes and fifos are skipped and listed.

Hardlinks become independent copies of their target's bytes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from dive_py.core.content.destination import DIRECTORY, FILE, SYMLINK, Destination, ExtractError, claim
from dive_py.core.content.reading import iter_contents
from dive_py.core.kinds import DIR
from dive_py.core.kinds import SYMLINK as SYMLINK_TYPE
from dive_py.core.model.entries import type_name
from dive_py.core.model.image import Image
from dive_py.errors import UsageError

#: ``progress(done_bytes, total_bytes)`` while file contents are written.
ExtractProgress = Callable[[int, int], None]


@dataclass(slots=True)
class ExtractResult:
    dest: str
    files: int = 0
    dirs: int = 0
    symlinks: int = 0
    bytes: int = 0
    #: Paths not written: device nodes, fifos, links whose place was taken.
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the user: ``3 files (1.2 kB), 1 dir`` ..."""
        from dive_py.core.units import humanize_bytes

        parts = [f"{self.files} file{'s' if self.files != 1 else ''} ({humanize_bytes(self.bytes)})"]
        if self.dirs:
            parts.append(f"{self.dirs} dir{'s' if self.dirs != 1 else ''}")
        if self.symlinks:
            parts.append(f"{self.symlinks} symlink{'s' if self.symlinks != 1 else ''}")
        if self.skipped:
            parts.append(
                f"{len(self.skipped)} skipped ({', '.join(self.skipped[:3])}{', ...' if len(self.skipped) > 3 else ''})"
            )
        return ", ".join(parts)


def default_destination(path: str) -> str:
    """``./NAME`` in the working directory; the whole filesystem goes to ``./rootfs``."""
    name = _normal(path).rsplit("/", 1)[-1]
    return "./" + (name or "rootfs")


def _normal(path: str) -> str:
    return "/".join(part for part in path.split("/") if part and part != ".")


def entries_under(image: Image, path: str, layer: int) -> list[int]:
    """The visible entries at ``path`` and below after ``layer``, parents first.

    ``path`` is absolute in the image (``/etc/os-release``; ``/`` is the whole
    filesystem).  Raises :class:`UsageError` if nothing is there.
    """
    if not 0 <= layer < len(image.layers):
        raise UsageError(f"layer {layer}: the image has layers 0..{len(image.layers) - 1}")
    want = _normal(path)
    names = image.paths.paths
    pids = image.entries.pid
    prefix = want + "/" if want else ""
    found = [g for g in image.visible_at(layer) if (p := names[pids[g]]) == want or p.startswith(prefix)]
    if not found:
        raise UsageError(f"/{want} does not exist in the filesystem after layer {layer}")
    found.sort(key=lambda g: names[pids[g]].replace("/", "\x00"))
    return found


def _top_kind(image: Image, entries: list[int], want: str) -> tuple[str, str]:
    """What the destination itself becomes: ``(kind, symlink target)``."""
    if not want:
        return DIRECTORY, ""
    g = entries[0]
    e = image.entries
    if e.tflag[g] == DIR:
        return DIRECTORY, ""
    if image.has_bytes(g):
        return FILE, ""
    link = _symlink_text(image, g)
    if link is not None:
        return SYMLINK, link
    raise ExtractError(f"/{want} is a {type_name(e.tflag[_resolved(image, g)])}: there is nothing to write")


def _resolved(image: Image, g: int) -> int:
    """A hardlink's target entry (itself for anything else)."""
    return image.timeline.hardlink_target.get(g, g)


def _symlink_text(image: Image, g: int) -> str | None:
    """The target text if ``g`` is a symlink (or a hardlink to one), else None."""
    t = _resolved(image, g)
    return image.entries.link[t] if image.entries.tflag[t] == SYMLINK_TYPE else None


def extract(image: Image, path: str, layer: int, dest: str, progress: ExtractProgress | None = None) -> ExtractResult:
    """Write ``path`` (a file, link or directory tree) as it is after ``layer`` to ``dest``.

    ``dest`` must not exist (see :mod:`dive_py.core.content.destination`); on any
    failure or cancel, what this call created is removed again, and only that.
    """
    entries = entries_under(image, path, layer)
    want = _normal(path)
    kind, link = _top_kind(image, entries, want)
    target = claim(dest, kind=kind, link=link)
    try:
        result = _write(image, entries, want, target, progress)
    except OSError as exc:
        target.discard()
        raise ExtractError(f"cannot write {exc.filename or dest}: {exc.strerror}") from None
    except BaseException:  # a cancel from the progress callback, an unreadable layer, Ctrl+C
        target.discard()
        raise
    target.close()
    result.dest = dest
    return result


def _write(
    image: Image, entries: list[int], root: str, dest: Destination, progress: ExtractProgress | None
) -> ExtractResult:
    e = image.entries
    names = image.paths.paths
    result = ExtractResult(dest.shown)
    strip = len(root) + 1 if root else 0
    top = dest.path

    def target(g: int) -> str:
        rel = names[e.pid[g]][strip:]
        return os.path.join(top, *rel.split("/")) if rel else top

    if dest.kind == SYMLINK:  # claim() made it already
        result.symlinks = 1
        os.utime(top, (e.mtime[entries[0]], e.mtime[entries[0]]), follow_symlinks=False)
        return result

    files: list[int] = []
    links: list[tuple[int, str]] = []
    dirs: list[int] = []
    for g in entries:
        t = e.tflag[g]
        if t == DIR:
            out = target(g)
            if out != top:  # parents come first (entries are in tree order), so one mkdir each
                os.mkdir(out, 0o700)
                dest.made(out, True)
            dirs.append(g)
        elif image.has_bytes(g):
            files.append(g)
        elif (text := _symlink_text(image, g)) is not None:
            links.append((g, text))
        else:
            result.skipped.append("/" + names[e.pid[g]])

    total = sum(image.content_size(g) for g in files)
    done = 0
    for same, chunks in iter_contents(image, files):
        g = same[0]
        out = target(g)
        if out == top:
            fd, dest.fd = dest.fd, -1
        else:
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            dest.made(out, False)
        try:
            for chunk in chunks:
                _write_all(fd, chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
            os.fchmod(fd, e.mode[g] & 0o777)
        finally:
            os.close(fd)
        os.utime(out, (e.mtime[g], e.mtime[g]), follow_symlinks=False)
        for other in same[1:]:  # hardlinks to the same bytes: copies of the file just written
            copy = target(other)
            _copy_new(out, copy, dest)
            os.chmod(copy, e.mode[other] & 0o777)
            os.utime(copy, (e.mtime[other], e.mtime[other]))
            done += image.content_size(other)
            if progress is not None:
                progress(done, total)
        result.files += len(same)
        result.bytes += image.content_size(g) * len(same)

    for g, text in links:  # last: nothing is written after a link from the image exists
        out = target(g)
        os.symlink(text, out)
        dest.made(out, False)
        os.utime(out, (e.mtime[g], e.mtime[g]), follow_symlinks=False)
        result.symlinks += 1

    for g in reversed(dirs):  # children first, so setting a parent's mtime sticks
        out = target(g)
        os.chmod(out, (e.mode[g] & 0o777) | 0o700)
        os.utime(out, (e.mtime[g], e.mtime[g]))
        result.dirs += 1
    return result


def _copy_new(src: str, dest: str, into: Destination) -> None:
    """Copy ``src`` to a new file ``dest`` (never through a link, never over a file)."""
    out = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    into.made(dest, False)
    try:
        with open(src, "rb") as fh:
            while chunk := fh.read(1 << 20):
                _write_all(out, chunk)
    finally:
        os.close(out)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def write_file(image: Image, path: str, layer: int, out: BinaryIO) -> int:
    """Copy one regular file's bytes to ``out`` (``--extract PATH --output -``); returns the byte count."""
    entries = entries_under(image, path, layer)
    g = entries[0]
    if len(entries) != 1 or not image.has_bytes(g):
        raise UsageError(f"/{_normal(path)} is not a regular file; only files can be written to stdout")
    count = 0
    for _same, chunks in iter_contents(image, [g]):
        for chunk in chunks:
            out.write(chunk)
            count += len(chunk)
    return count
