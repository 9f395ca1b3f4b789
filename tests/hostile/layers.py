"""Hand-made layer tars: broken, hostile, or legal-but-odd, each as bytes.

Every function returns the uncompressed tar stream of one layer; the corpus
(``corpus.py``) puts it into archives of every layout.  Headers are built
byte by byte (``tests.helpers.raw_header``) where ``tarfile`` would refuse
to write them.
"""

from __future__ import annotations

import tarfile

from tests.helpers import END, member, pax_member, pax_record, raw_header, raw_member, tar_of

GIB = 1 << 30


def good() -> bytes:
    """A plain, healthy layer."""
    return tar_of([member("etc/", tarfile.DIRTYPE), member("etc/os-release", data=b"ID=hostile\n")])


def with_pax(records: dict[str, bytes], name: bytes = b"f", data: bytes = b"0123456789") -> bytes:
    """A PAX header with ``records`` for a regular file ``name``."""
    return pax_member(records) + raw_member(name, data) + END


def raw_pax(data: bytes, name: bytes = b"f") -> bytes:
    """A PAX header whose data is ``data`` exactly (records written by hand)."""
    return raw_member(b"PaxHeaders/f", data, b"x") + raw_member(name, b"x") + END


def claimed(typeflag: bytes, size: int) -> bytes:
    """An extension header that claims ``size`` bytes of data and holds none."""
    return raw_header(b"././@LongLink", typeflag, size=size) + END


def base256(value: int, width: int) -> bytes:
    """A GNU base-256 numeric field (negative values in two's complement)."""
    if value < 0:
        value += 1 << (8 * width - 1)
        raw = value.to_bytes(width, "big")
        return bytes([raw[0] | 0xC0]) + raw[1:]
    raw = value.to_bytes(width, "big")
    return bytes([raw[0] | 0x80]) + raw[1:]


def patched(field_slice: slice, value: bytes, name: bytes = b"f", data: bytes = b"x" * 10) -> bytes:
    """One regular file whose header has ``value`` written into ``field_slice`` (checksum fixed)."""
    block = bytearray(raw_header(name, b"0", size=len(data)))
    block[field_slice] = value.ljust(field_slice.stop - field_slice.start, b"\x00")
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\x00 " % sum(block)
    return bytes(block) + data.ljust(512, b"\x00") + END


SIZE = slice(124, 136)
UID = slice(108, 116)
GID = slice(116, 124)
MODE = slice(100, 108)
MTIME = slice(136, 148)
CHECKSUM = slice(148, 156)


def bad_checksum_second() -> bytes:
    """The second header is old-style (no ustar magic) with a wrong checksum."""
    second = bytearray(raw_header(b"g", b"0", size=0, magic=b"\x00" * 8))
    second[148:156] = b"0000001\x00"
    return raw_member(b"f", b"x") + bytes(second) + END


def truncated_header() -> bytes:
    return raw_member(b"f", b"x") + raw_header(b"g")[:300]


def truncated_after_pax() -> bytes:
    return pax_member({"path": b"long"})


def data_past_end() -> bytes:
    return raw_header(b"f", b"0", size=5000) + b"x" * 100


def typed(typeflag: bytes, name: bytes = b"odd") -> bytes:
    return raw_member(name, b"", typeflag) + raw_member(b"after", b"ok") + END


def long_path(chars: int) -> bytes:
    return with_pax({"path": b"d/" + b"p" * (chars - 2)}, name=b"placeholder")


def deep_path(components: int) -> bytes:
    """A file ``a/a/.../f`` ``components`` levels deep (directories implied)."""
    return with_pax({"path": b"a/" * (components - 1) + b"f"}, name=b"placeholder")


def long_link(chars: int) -> bytes:
    return pax_member({"linkpath": b"t" * chars}) + raw_member(b"s", b"", b"2") + END


def hardlinks(target_type: bytes, target: bytes = b"t", link_to: bytes = b"t") -> bytes:
    """``t`` of ``target_type`` then ``h``, a hardlink to ``link_to``."""
    data = b"content" if target_type == b"0" else b""
    first = raw_member(target, data, target_type, link=b"elsewhere" if target_type == b"2" else b"")
    return first + raw_member(b"h", b"", b"1", link=link_to) + END


def hardlink_loop() -> bytes:
    return raw_member(b"a", b"", b"1", link=b"b") + raw_member(b"b", b"", b"1", link=b"a") + END


def replaced_by_symlink() -> bytes:
    """``etc/passwd`` then ``etc -> /elsewhere``: the symlink wins, passwd is gone."""
    return (
        raw_member(b"etc/", b"", b"5")
        + raw_member(b"etc/passwd", b"root\n")
        + raw_member(b"etc", b"", b"2", link=b"/elsewhere")
        + END
    )


def deep_tree_replaced(depth: int, files: int) -> bytes:
    """``files`` files ``depth`` levels down, then a file where the top directory was: all of it is replaced.

    Finding what the file replaced must cost entries plus directories, not
    entries times depth.
    """
    deep = b"top/" + b"d/" * (depth - 2)
    body = b"".join(with_pax({"path": deep + b"f%d" % i}, name=b"placeholder")[:-1024] for i in range(files))
    return body + raw_member(b"top", b"now a file\n") + END


def relinked_versions() -> bytes:
    """``f`` (v1), ``h -> f``, ``f`` (v2): ``h`` keeps v1."""
    return (
        raw_member(b"f", b"version one\n")
        + raw_member(b"h", b"", b"1", link=b"f")
        + raw_member(b"f", b"version two, longer\n")
        + END
    )


def named(name: bytes, data: bytes = b"x") -> bytes:
    return raw_member(name, data) + END


def pax_named(name: str) -> bytes:
    return with_pax({"path": name.encode()}, name=b"placeholder")


def volume_label() -> bytes:
    return raw_member(b"TAPE-1", b"", b"V") + raw_member(b"etc/os-release", b"ok") + END


def long_component(chars: int) -> bytes:
    """A directory with a file whose single name is ``chars`` long (over NAME_MAX: cannot be written)."""
    return tar_of(
        [
            member("d/", tarfile.DIRTYPE),
            member("d/a", data=b"a"),
            member("d/" + "n" * chars, data=b"n"),
            member("d/z", data=b"z"),
        ]
    )


def pax_records_raw(*records: bytes) -> bytes:
    return raw_pax(b"".join(records))


__all__ = ["CHECKSUM", "GIB", "GID", "MODE", "MTIME", "SIZE", "UID", "base256", "pax_record"]
