"""Every size, count and depth divepy accepts from an image, in one place.

An image is untrusted input.  A 49 kB archive can claim a 1 GiB PAX record,
a gigabyte ``manifest.json``, or an index chain that lists itself a
thousand times; read naively, each one takes gigabytes of memory or never
ends.  Each limit below is far above what real images use (the figures in
the comments were measured on real images) and is checked *before* the
memory is spent, so the error names the limit instead of the machine
running out.  docs/user-guide.md ("Limits and safety") lists them for users.
"""

from __future__ import annotations

from dive_py.errors import LimitError

#: One PAX extended header or GNU long-name record (Go's archive/tar: 1 MiB).
#: Real ones hold a path, a link target and a few timestamps: under 10 kB.
EXTENDED_HEADER_BYTES = 1 << 20

#: One path or link target inside a layer, in characters.  Linux's PATH_MAX is
#: 4,096 bytes: an extracting runtime cannot create anything longer.
PATH_CHARS = 4096

#: Entries (files, directories, links, whiteouts) of one image, all layers
#: together.  The largest real image measured here has 1.3 million.
IMAGE_ENTRIES = 10_000_000

#: Characters of paths and link targets held for one image.  Interning a path
#: also interns each parent directory, so a few deep paths can cost more than
#: their bytes; this caps the total (about 60 characters per entry on real images).
NAME_CHARS = 1 << 30

#: One JSON document (manifest.json, index.json, a manifest, a config).  Real
#: configs with long histories are under 1 MiB.
JSON_DOCUMENT_BYTES = 16 << 20

#: JSON documents read while finding the images (nested indexes included).
JSON_DOCUMENTS = 4096

#: Bytes of JSON read while finding the images and their configs, in total.
JSON_TOTAL_BYTES = 128 << 20

#: Images (manifests) one archive may list.
IMAGES = 4096

#: Layers of one image (the overlay filesystem stops at 128; Docker at 125).
LAYERS = 4096

#: Nesting of OCI indexes inside indexes (real archives use one or two).
INDEX_DEPTH = 8

#: History entries of one image config (real ones: a few hundred at most).
HISTORY_ENTRIES = 65_536

#: Non-layer members a compressed (streamed) archive keeps in memory until its
#: manifest arrives: their total size.  Only JSON-looking members are kept.
HELD_MEMBER_BYTES = 128 << 20

#: Members of the outer archive (files and links).  ``docker save`` of a
#: hundred images with a hundred layers each writes about 30,000.
ARCHIVE_MEMBERS = 1_000_000

#: Symlinks followed to find one archive member.
MEMBER_LINK_HOPS = 16

#: Bytes of a CI rules or explorer settings file (real ones: a few hundred).
SETTINGS_FILE_BYTES = 1 << 20


def binary_size(n: int) -> str:
    """``16 MiB``, ``1 GiB``: limits are powers of two, so say them that way."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n:,} bytes"


def check_size(size: int, limit: int, what: str, kind: str) -> None:
    """Raise :class:`LimitError` if ``size`` bytes of ``kind`` exceed ``limit``."""
    if size > limit:
        raise LimitError(f"{what}: {kind} of {size:,} bytes is over divepy's limit of {binary_size(limit)}")


def check_count(count: int, limit: int, what: str, kind: str) -> None:
    """Raise :class:`LimitError` if more than ``limit`` ``kind`` were found."""
    if count > limit:
        raise LimitError(f"{what}: more than {limit:,} {kind} (divepy's limit)")


class Budget:
    """What one load has spent of :data:`IMAGE_ENTRIES` and :data:`NAME_CHARS`.

    Layer readers charge it every few thousand entries (and at the end), so a
    layer that would blow the limit is stopped after at most that many more
    entries, not after it has filled memory.
    """

    __slots__ = ("chars", "entries")

    def __init__(self) -> None:
        self.entries = 0
        self.chars = 0

    def spend(self, entries: int, chars: int, what: str) -> None:
        self.entries += entries
        self.chars += chars
        if self.entries > IMAGE_ENTRIES:
            raise LimitError(f"{what}: the image holds more than {IMAGE_ENTRIES:,} entries (divepy's limit)")
        if self.chars > NAME_CHARS:
            raise LimitError(
                f"{what}: the image's paths and link targets exceed {NAME_CHARS:,} characters in total (divepy's limit)"
            )
