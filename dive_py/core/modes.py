"""File modes in the three spellings users meet: Go ``FileMode``, ``ls -l``, octal.

dive's JSON export writes Go's ``os.FileMode`` as a number (a directory
0755 is 2147484141), so ``jq`` scripts written against dive expect it.
"""

from __future__ import annotations

from dive_py.core.kinds import BLOCKDEV, CHAR, DIR, FIFO, SYMLINK

_GO_DIR = 1 << 31
_GO_SYMLINK = 1 << 27
_GO_DEVICE = 1 << 26
_GO_NAMED_PIPE = 1 << 25
_GO_SOCKET = 1 << 24
_GO_SETUID = 1 << 23
_GO_SETGID = 1 << 22
_GO_CHAR_DEVICE = 1 << 21
_GO_STICKY = 1 << 20

_S_IFMT = 0o170000
_S_TYPES = {
    0o040000: _GO_DIR,
    0o010000: _GO_NAMED_PIPE,
    0o120000: _GO_SYMLINK,
    0o060000: _GO_DEVICE,
    0o020000: _GO_DEVICE | _GO_CHAR_DEVICE,
    0o140000: _GO_SOCKET,
}
_TFLAG_TYPES = {
    SYMLINK: _GO_SYMLINK,
    CHAR: _GO_DEVICE | _GO_CHAR_DEVICE,
    BLOCKDEV: _GO_DEVICE,
    DIR: _GO_DIR,
    FIFO: _GO_NAMED_PIPE,
}


def go_file_mode(tflag: int, mode: int) -> int:
    """Go's ``tar.Header.FileInfo().Mode()`` for a header's type flag and mode."""
    out = mode & 0o777
    if mode & 0o4000:
        out |= _GO_SETUID
    if mode & 0o2000:
        out |= _GO_SETGID
    if mode & 0o1000:
        out |= _GO_STICKY
    out |= _S_TYPES.get(mode & _S_IFMT, 0)
    out |= _TFLAG_TYPES.get(tflag, 0)
    return out


def perm_string(tflag: int, mode: int) -> str:
    """dive's permission column: ``drwxr-xr-x``, ``-rwsr-xr-x``, ``drwxrwxrwt``.

    Like dive, only directories get a type letter; everything else shows ``-``.
    """
    first = "d" if tflag == DIR else "-"
    chars = []
    for shift, special, mark in ((6, 0o4000, "s"), (3, 0o2000, "s"), (0, 0o1000, "t")):
        bits = (mode >> shift) & 7
        chars.append("r" if bits & 4 else "-")
        chars.append("w" if bits & 2 else "-")
        if mode & special:
            chars.append(mark if bits & 1 else mark.upper())
        else:
            chars.append("x" if bits & 1 else "-")
    return first + "".join(chars)


def octal_mode(mode: int) -> str:
    """Permission bits including setuid/setgid/sticky, e.g. ``0755``, ``4755``."""
    return f"{mode & 0o7777:04o}"
