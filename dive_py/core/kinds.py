"""The names of what a layer holds: tar entry types and the kinds of entries the model stores.

One vocabulary for every room: the tar reader produces these values, the
model stores them in byte columns, and the analysis, view model and
reports test them.  They are ``IntEnum`` members, so a value read from a
column (a plain ``int``) compares equal to them, and numpy compares whole
columns with them.  The module-level names are their plain ``int`` values,
for the hot loops that test millions of entries.
"""

from __future__ import annotations

from enum import IntEnum


class TarType(IntEnum):
    """A tar header's typeflag byte, for the entry types a layer may hold."""

    REGULAR = 0x30  #: '0' (NUL is read as '0' too)
    HARDLINK = 0x31  #: '1'
    SYMLINK = 0x32  #: '2'
    CHAR = 0x33  #: '3' character device
    BLOCKDEV = 0x34  #: '4' block device
    DIR = 0x35  #: '5'
    FIFO = 0x36  #: '6'
    CONTIGUOUS = 0x37  #: '7' a regular file to every reader that matters
    VOLUME_LABEL = 0x56  #: 'V' names the tape, not a file: skipped


class EntryKind(IntEnum):
    """What an entry of the model is (the ``kind`` column)."""

    ENTRY = 0  #: a file, directory, link or device of the layer
    WHITEOUT = 1  #: ``.wh.<name>``: deletes ``<name>`` from lower layers
    OPAQUE = 2  #: ``.wh..wh..opq``: hides everything lower inside its directory
    SHADOWED = 3  #: an earlier duplicate of a path within the same layer (the later one wins)
    IMPLICIT = 4  #: a directory the merged tree needs but no layer declares
    SHADOWED_MARKER = 5  #: an earlier duplicate of a whiteout or opaque marker within the same layer


REGULAR = int(TarType.REGULAR)
HARDLINK = int(TarType.HARDLINK)
SYMLINK = int(TarType.SYMLINK)
CHAR = int(TarType.CHAR)
BLOCKDEV = int(TarType.BLOCKDEV)
DIR = int(TarType.DIR)
FIFO = int(TarType.FIFO)
CONTIGUOUS = int(TarType.CONTIGUOUS)
VOLUME_LABEL = int(TarType.VOLUME_LABEL)

ENTRY = int(EntryKind.ENTRY)
WHITEOUT = int(EntryKind.WHITEOUT)
OPAQUE = int(EntryKind.OPAQUE)
SHADOWED = int(EntryKind.SHADOWED)
IMPLICIT = int(EntryKind.IMPLICIT)
SHADOWED_MARKER = int(EntryKind.SHADOWED_MARKER)

#: Types whose header is all there is (no data blocks follow).
HEADER_ONLY = frozenset((HARDLINK, SYMLINK, CHAR, BLOCKDEV, DIR, FIFO))
#: Every type a layer may hold; anything else is refused.
KNOWN_TYPES = frozenset((REGULAR, HARDLINK, SYMLINK, CHAR, BLOCKDEV, DIR, FIFO, CONTIGUOUS))
#: Types whose entry carries file content.
CONTENT_TYPES = frozenset((REGULAR, CONTIGUOUS))

__all__ = [
    "BLOCKDEV",
    "CHAR",
    "CONTENT_TYPES",
    "CONTIGUOUS",
    "DIR",
    "ENTRY",
    "FIFO",
    "HARDLINK",
    "HEADER_ONLY",
    "IMPLICIT",
    "KNOWN_TYPES",
    "OPAQUE",
    "REGULAR",
    "SHADOWED",
    "SHADOWED_MARKER",
    "SYMLINK",
    "VOLUME_LABEL",
    "WHITEOUT",
    "EntryKind",
    "TarType",
]
