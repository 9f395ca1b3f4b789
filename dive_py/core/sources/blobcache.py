"""Keeping the registry cache in bounds: what it holds, and removing the least recently used images.

The cache (see :mod:`dive_py.core.sources.pull`) is blobs by digest plus
one OCI layout per pulled image, whose blobs are hard links to the shared
ones.  A blob's link count therefore says whether any image still uses it:
1 means only the store holds it.  Pruning removes whole images, oldest use
first (the mtime of their directory, touched on every open), then the
blobs no image uses, and only files of the shapes the pull itself writes,
so a mistaken ``--cache-dir`` pointing at someone's directory loses nothing
that divepy did not put there.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from dataclasses import dataclass

#: A pulled image's name in the cache and a blob's: 64 hex digits.
_HEX = re.compile(r"[0-9a-f]{64}\Z")
#: Left-over temporary files of interrupted runs older than this are removed by a prune.
STALE_SECONDS = 24 * 3600
#: The cache is pruned back to this after each pull.
DEFAULT_MAX_BYTES = 20 * 1000**3
#: A blob no image uses is kept this long: another run may be about to link it into its layout.
GRACE_SECONDS = 600


@dataclass(slots=True, frozen=True)
class CachedImage:
    digest: str  #: the manifest's, ``sha256:…``
    name: str  #: the image name it was pulled as
    size: int  #: bytes of its blobs (shared ones counted in every image that uses them)
    last_used: float  #: seconds since the epoch


def _images_dir(root: str) -> str:
    return os.path.join(root, "images")


def _blob_dir(root: str) -> str:
    return os.path.join(root, "blobs", "sha256")


def touch(layout: str) -> None:
    """Mark a cached image as used now (the LRU order): its directory's mtime.

    Not a file's: the layer metadata cache keys a layout on its files' times, and a touched
    ``index.json`` would make every open of the image a new key.
    """
    with contextlib.suppress(OSError):
        os.utime(layout)


def cached_images(root: str) -> list[CachedImage]:
    """The pulled images, most recently used first."""
    found: list[CachedImage] = []
    try:
        names = os.listdir(_images_dir(root))
    except OSError:
        return []
    for hexdigest in names:
        if not _HEX.match(hexdigest):
            continue
        layout = os.path.join(_images_dir(root), hexdigest)
        index = os.path.join(layout, "index.json")
        try:
            st = os.stat(layout)
            with open(index, "rb") as fh:
                doc = json.loads(fh.read(1 << 20))
            ann = doc["manifests"][0].get("annotations", {})
            name = str(ann.get("io.containerd.image.name", "")) or "(unnamed)"
        except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError):
            continue
        size = 0
        with contextlib.suppress(OSError):
            for blob in os.scandir(os.path.join(layout, "blobs", "sha256")):
                if _HEX.match(blob.name):
                    size += blob.stat(follow_symlinks=False).st_size
        found.append(CachedImage("sha256:" + hexdigest, name, size, st.st_mtime))
    found.sort(key=lambda c: -c.last_used)
    return found


def stored_bytes(root: str) -> int:
    """Bytes the cache takes: every blob once."""
    total = 0
    with contextlib.suppress(OSError):
        for blob in os.scandir(_blob_dir(root)):
            if _HEX.match(blob.name):
                total += blob.stat(follow_symlinks=False).st_size
    return total


def _remove_layout(path: str) -> list[str]:
    """Remove one layout (a pulled image, or a half-built ``tmp/layout-*``): only the files a pull writes
    there -- blob links named by their digest, ``index.json``, ``oci-layout`` -- and the directories
    that are then empty.  Returns the removed blobs' names."""
    blobs = os.path.join(path, "blobs", "sha256")
    names: list[str] = []
    with contextlib.suppress(OSError):
        for blob in os.scandir(blobs):
            if _HEX.match(blob.name) and blob.is_file(follow_symlinks=False):
                os.unlink(blob.path)
                names.append(blob.name)
    for name in ("index.json", "oci-layout"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(path, name))
    for directory in (blobs, os.path.dirname(blobs), path):
        with contextlib.suppress(OSError):  # not empty: something else is in there, and it stays
            os.rmdir(directory)
    return names


def _drop_unused_blobs(root: str, now: float) -> None:
    with contextlib.suppress(OSError):
        for blob in os.scandir(_blob_dir(root)):
            if _HEX.match(blob.name) and blob.is_file(follow_symlinks=False):
                st = blob.stat(follow_symlinks=False)
                if st.st_nlink == 1 and now - st.st_mtime > GRACE_SECONDS:
                    os.unlink(blob.path)


def _drop_stale_temporaries(root: str, now: float) -> None:
    tmp = os.path.join(root, "tmp")
    with contextlib.suppress(OSError):
        for entry in os.scandir(tmp):
            if not entry.name.startswith(("blob-", "layout-")):
                continue
            with contextlib.suppress(OSError):
                if now - entry.stat(follow_symlinks=False).st_mtime > STALE_SECONDS:
                    if entry.is_dir(follow_symlinks=False):
                        _remove_layout(entry.path)
                    else:
                        os.unlink(entry.path)


def prune(root: str, max_bytes: int, *, keep: str | None = None) -> list[CachedImage]:
    """Remove least recently used images until the cache holds at most ``max_bytes``; returns them.

    ``keep`` (a manifest digest) is never removed: the image this run opens.
    """
    now = time.time()
    _drop_stale_temporaries(root, now)
    _drop_unused_blobs(root, now)
    removed: list[CachedImage] = []
    images = cached_images(root)
    while stored_bytes(root) > max_bytes and images:
        oldest = images.pop()
        if oldest.digest == keep:
            continue
        for name in _remove_layout(os.path.join(_images_dir(root), oldest.digest.partition(":")[2])):
            path = os.path.join(_blob_dir(root), name)
            with contextlib.suppress(OSError):
                if os.stat(path).st_nlink == 1:  # no other image uses it
                    os.unlink(path)
        removed.append(oldest)
    return removed


__all__ = ["DEFAULT_MAX_BYTES", "CachedImage", "cached_images", "prune", "stored_bytes", "touch"]
