"""The hand-written tar header reader, over both window kinds.

Every parsing test runs with a FileWindow (pread, seekable) and a
StreamWindow (a non-seekable stream): both must give the same headers.
"""

from __future__ import annotations

import io
import random
import re
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
import xxhash

from dive_py.core.kinds import BLOCKDEV, CHAR, DIR, FIFO, HARDLINK, REGULAR, SYMLINK
from dive_py.core.tar.tarscan import Header, Window, iter_headers
from dive_py.core.tar.tarwindow import StreamWindow
from dive_py.errors import ArchiveError, InputError, LayerError
from tests.helpers import (
    END,
    file_window,
    header_offsets,
    member,
    patch_header,
    pax_member,
    raw_header,
    raw_member,
    scan,
    tar_of,
)

KINDS = pytest.mark.parametrize("kind", ["file", "stream"])
MT = 1_600_000_000


def names(headers: list[Header]) -> list[str]:
    return [h[0] for h in headers]


@KINDS
def test_plain_ustar_fields(kind: str, tmp_path: Path) -> None:
    data = tar_of(
        [
            member("etc/", tarfile.DIRTYPE, mode=0o750, uid=5, gid=6),
            member("etc/passwd", data=b"root\n", mode=0o4755, uid=7, gid=8, mtime=1234),
        ],
        fmt=tarfile.USTAR_FORMAT,
    )
    assert scan(data, kind, tmp_path) == [
        ("etc/", DIR, 0o750, 5, 6, 0, MT, "", 512),
        ("etc/passwd", REGULAR, 0o4755, 7, 8, 5, 1234, "", 1024),
    ]


@KINDS
def test_gnu_long_name_and_long_link(kind: str, tmp_path: Path) -> None:
    long_name = "d/" + "n" * 150 + ".txt"
    long_link = "t/" + "k" * 200
    data = tar_of(
        [
            member(long_name, data=b"abc"),
            member("sym", tarfile.SYMTYPE, linkname=long_link),
            member("l" * 120, tarfile.LNKTYPE, linkname=long_name),
            member("after", data=b"z"),
        ],
        fmt=tarfile.GNU_FORMAT,
    )
    got = scan(data, kind, tmp_path)
    assert [(h[0], h[1], h[5], h[7]) for h in got] == [
        (long_name, REGULAR, 3, ""),
        ("sym", SYMLINK, 0, long_link),
        ("l" * 120, HARDLINK, 0, long_name),
        ("after", REGULAR, 1, ""),
    ]
    # data offsets are those tarfile computes (after the 'L'/'K' records)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert [m.offset_data for m in tar.getmembers()] == [h[8] for h in got]


@KINDS
def test_pax_overrides(kind: str, tmp_path: Path) -> None:
    info, body = member("short", data=b"hello world", uid=1, gid=2, mtime=10)
    info.pax_headers = {
        "path": "pax/päth/" + "p" * 120,
        "linkpath": "ignored-for-regular",
        "uid": "70000000",
        "gid": "80000000",
        "mtime": "1234567890.75",
    }
    data = tar_of([(info, body), member("next", data=b"n")])
    got = scan(data, kind, tmp_path)
    assert got[0][:8] == (
        "pax/päth/" + "p" * 120,
        REGULAR,
        0o644,
        70000000,
        80000000,
        11,
        1234567890,
        "ignored-for-regular",
    )
    assert names(got) == ["pax/päth/" + "p" * 120, "next"]


@KINDS
def test_pax_size_overrides_header_size(kind: str, tmp_path: Path) -> None:
    content = b"0123456789" * 70  # 700 bytes: two data blocks
    data = pax_member({"size": b"700"}) + raw_member(b"big", content, size=0) + raw_member(b"after", b"A") + END
    got = scan(data, kind, tmp_path)
    assert [(h[0], h[5]) for h in got] == [("big", 700), ("after", 1)]
    assert got[1][8] == got[0][8] + 1024 + 512  # the 700 bytes took two blocks


@KINDS
def test_pax_applies_to_next_member_only(kind: str, tmp_path: Path) -> None:
    data = (
        pax_member({"path": b"renamed", "uid": b"99"})
        + raw_member(b"orig", b"x", uid=1)
        + raw_member(b"plain", b"y", uid=2)
        + END
    )
    assert [(h[0], h[3]) for h in scan(data, kind, tmp_path)] == [("renamed", 99), ("plain", 2)]


@KINDS
def test_ustar_prefix_field(kind: str, tmp_path: Path) -> None:
    name = "/".join([f"segment{i:02d}" for i in range(14)]) + "/file.txt"  # 139 bytes
    assert len(name) > 100
    data = tar_of([member(name, data=b"p")], fmt=tarfile.USTAR_FORMAT)
    assert data[345:355] == b"segment00/"  # really stored in the prefix field
    assert names(scan(data, kind, tmp_path)) == [name]


@KINDS
def test_prefix_ignored_without_posix_magic(kind: str, tmp_path: Path) -> None:
    # Old GNU headers ("ustar  ") use those bytes for other fields: never a prefix.
    data = raw_member(b"name", b"x", magic=b"ustar  \x00", prefix=b"garbage") + END
    assert names(scan(data, kind, tmp_path)) == ["name"]


@KINDS
def test_base256_numbers(kind: str, tmp_path: Path) -> None:
    data = tar_of([member("f", data=b"hello", uid=10_000_000, gid=2**33, mtime=-5)], fmt=tarfile.GNU_FORMAT)
    assert data[108] & 0x80  # base-256 really used
    assert scan(data, kind, tmp_path) == [("f", REGULAR, 0o644, 10_000_000, 2**33, 5, -5, "", 512)]


@KINDS
def test_base256_size(kind: str, tmp_path: Path) -> None:
    raw = bytearray(raw_member(b"f", b"abc") + END)
    raw[124:136] = b"\x80" + (3).to_bytes(11, "big")
    data = patch_header(bytes(raw), 0)  # fix the checksum
    assert scan(data, kind, tmp_path) == [("f", REGULAR, 0o644, 0, 0, 3, MT, "", 512)]


@KINDS
def test_old_style_nul_typeflag(kind: str, tmp_path: Path) -> None:
    data = raw_member(b"file", b"abc", b"\x00") + raw_member(b"dir/", b"", b"\x00") + raw_member(b"z", b"1") + END
    got = scan(data, kind, tmp_path)
    assert [(h[0], h[1], h[5]) for h in got] == [("file", REGULAR, 3), ("dir/", DIR, 0), ("z", REGULAR, 1)]


@KINDS
def test_old_style_directory_never_has_data(kind: str, tmp_path: Path) -> None:
    # An old-style directory with size > 0 is still header-only, like a '5' entry.
    data = raw_header(b"dir/", b"\x00", size=600) + raw_member(b"next", b"n") + END
    got = scan(data, kind, tmp_path)
    assert [(h[0], h[1], h[8]) for h in got] == [("dir/", DIR, 512), ("next", REGULAR, 1024)]


@KINDS
def test_old_style_directory_decided_on_the_pax_name(kind: str, tmp_path: Path) -> None:
    data = pax_member({"path": b"paxdir/"}) + raw_header(b"x", b"\x00", size=600) + raw_member(b"next", b"n") + END
    got = scan(data, kind, tmp_path)
    assert [(h[0], h[1], h[8]) for h in got] == [("paxdir/", DIR, 1536), ("next", REGULAR, 2048)]


@KINDS
def test_header_only_types_never_consume_data(kind: str, tmp_path: Path) -> None:
    entries = [
        (b"d/", b"5", DIR),
        (b"s", b"2", SYMLINK),
        (b"h", b"1", HARDLINK),
        (b"c", b"3", CHAR),
        (b"b", b"4", BLOCKDEV),
        (b"p", b"6", FIFO),
    ]
    data = b"".join(raw_header(n, t, size=700, link=b"target" if t in b"12" else b"") for n, t, _ in entries)
    data += raw_member(b"real", b"R" * 10) + END
    got = scan(data, kind, tmp_path)
    assert [(h[0], h[1], h[5], h[8]) for h in got] == (
        [(n.decode(), flag, 700, 512 * (i + 1)) for i, (n, _, flag) in enumerate(entries)]
        + [("real", REGULAR, 10, 512 * 7)]
    )


@KINDS
def test_missing_end_marker_is_a_clean_eof(kind: str, tmp_path: Path) -> None:
    data = raw_member(b"a", b"x" * 600) + raw_member(b"b", b"")
    assert names(scan(data, kind, tmp_path)) == ["a", "b"]
    assert scan(END, kind, tmp_path) == []  # an empty layer
    assert scan(b"", kind, tmp_path) == []


@KINDS
def test_stops_at_end_marker_and_ignores_trailing_data(kind: str, tmp_path: Path) -> None:
    # estargz puts its TOC after the end-of-archive marker: it must never be read
    data = raw_member(b"a", b"x") + END + b"\xffgarbage that is not a tar header" * 40
    assert names(scan(data, kind, tmp_path)) == ["a"]


@KINDS
def test_truncated_header(kind: str, tmp_path: Path) -> None:
    data = raw_member(b"a", b"x") + raw_header(b"b")[:300]
    with pytest.raises(LayerError, match="is truncated: it ends inside a tar header"):
        scan(data, kind, tmp_path)


@KINDS
def test_truncated_data(kind: str, tmp_path: Path) -> None:
    data = raw_member(b"a", b"x" * 2000)[: 512 + 1000]  # data claims 4 blocks, 2 are there
    with pytest.raises(ArchiveError, match="is truncated: a member's data runs past its end"):
        scan(data, kind, tmp_path)


@KINDS
def test_truncated_after_extended_header(kind: str, tmp_path: Path) -> None:
    with pytest.raises(LayerError, match="ends after an extended header"):
        scan(pax_member({"path": b"x"}), kind, tmp_path)
    long_name = tar_of([member("n" * 200, data=b"")], fmt=tarfile.GNU_FORMAT)
    with pytest.raises(LayerError, match="ends after an extended header"):
        scan(long_name[:1024], kind, tmp_path)  # the 'L' header and its data only


@KINDS
def test_truncated_inside_pax_data(kind: str, tmp_path: Path) -> None:
    data = pax_member({"path": b"p" * 600})[:700]
    with pytest.raises(InputError, match="is truncated"):
        scan(data, kind, tmp_path)


@KINDS
def test_corrupt_header_mid_archive(kind: str, tmp_path: Path) -> None:
    data = bytearray(raw_member(b"a", b"x") + raw_member(b"b", b"y") + END)
    data[1024:1536] = bytes(random.Random(1).randbytes(512))  # a garbage block where the 2nd header is
    with pytest.raises(LayerError, match="bad tar header checksum at offset 1024"):
        scan(bytes(data), kind, tmp_path)


@KINDS
def test_bad_checksum_without_magic_mid_archive(kind: str, tmp_path: Path) -> None:
    data = bytearray(raw_member(b"a", b"x") + raw_member(b"b", b"y", magic=b"\x00" * 8) + END)
    data[1024 + 148 : 1024 + 156] = b"0000000\x00"
    with pytest.raises(LayerError, match="bad tar header checksum at offset 1024"):
        scan(bytes(data), kind, tmp_path)


@KINDS
@pytest.mark.xfail(
    strict=True,
    reason="checksums of headers with a ustar/GNU magic are only verified on the "
    "first header (speed); a corrupt mid-archive header with an intact magic is parsed as is",
)
def test_bad_checksum_with_intact_magic_mid_archive(kind: str, tmp_path: Path) -> None:
    data = bytearray(raw_member(b"a", b"x") + raw_member(b"b", b"y") + END)
    data[1024 + 124 : 1024 + 136] = b"00000000777\x00"  # a flipped size field, checksum not updated
    with pytest.raises(LayerError, match="bad tar header checksum at offset 1024"):
        scan(bytes(data), kind, tmp_path)


@KINDS
def test_bad_checksum_on_first_header(kind: str, tmp_path: Path) -> None:
    data = bytearray(raw_member(b"a", b"x") + END)
    data[148:156] = b"0001234\x00"
    with pytest.raises(LayerError, match="is not a tar archive"):
        scan(bytes(data), kind, tmp_path)


@KINDS
def test_non_tar_first_block(kind: str, tmp_path: Path) -> None:
    data = random.Random(7).randbytes(4096)
    with pytest.raises(LayerError, match=r"^layer is not a tar archive$"):
        scan(data, kind, tmp_path)
    with pytest.raises(LayerError, match="is not a tar archive"):
        scan(b'{"json": "document"}'.ljust(1024, b" "), kind, tmp_path)


@KINDS
def test_bad_number_field(kind: str, tmp_path: Path) -> None:
    data = patch_header(raw_member(b"a", b"x") + END, 0, uid=b"12x4567\x00")
    with pytest.raises(LayerError, match=r"corrupt tar header for 'a' \(bad number"):
        scan(data, kind, tmp_path)


@KINDS
def test_pax_global_header_is_refused(kind: str, tmp_path: Path) -> None:
    data = tar_of([member("a", data=b"x")], pax_headers={"comment": "global"})
    assert data[156:157] == b"g"
    with pytest.raises(LayerError, match="holds a PAX global header"):
        scan(data, kind, tmp_path)


@KINDS
def test_gnu_sparse_is_refused(kind: str, tmp_path: Path) -> None:
    data = raw_member(b"ok", b"1") + raw_member(b"sparse", b"z" * 10, b"S") + END
    with pytest.raises(LayerError, match="holds a GNU sparse file"):
        scan(data, kind, tmp_path)


@KINDS
@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(lambda: raw_member(b"caf\xe9.txt", b"x"), id="ustar-name"),
        pytest.param(lambda: raw_member(b"s", typeflag=b"2", link=b"\xff\xfe"), id="ustar-link"),
        pytest.param(lambda: raw_member(b"name", b"x", prefix=b"pre\xc3"), id="ustar-prefix"),
        pytest.param(lambda: raw_member(b"././@LongLink", b"bad\xffname\x00", b"L") + raw_member(b"x"), id="gnu-L"),
        pytest.param(
            lambda: raw_member(b"././@LongLink", b"\xc0\x80\x00", b"K") + raw_member(b"x", typeflag=b"2"), id="gnu-K"
        ),
        pytest.param(lambda: pax_member({"path": b"p\xe9"}) + raw_member(b"x"), id="pax-path"),
        pytest.param(lambda: pax_member({"linkpath": b"\xff"}) + raw_member(b"x", typeflag=b"2"), id="pax-linkpath"),
    ],
)
def test_non_utf8_names_are_refused(kind: str, bad: Callable[[], bytes], tmp_path: Path) -> None:
    with pytest.raises(LayerError, match="is not valid UTF-8"):
        scan(bad() + END, kind, tmp_path)


@KINDS
@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(lambda: pax_member({"path": b"a\x00b"}) + raw_member(b"x"), id="pax-path"),
        pytest.param(lambda: pax_member({"linkpath": b"a\x00b"}) + raw_member(b"x", typeflag=b"2"), id="pax-link"),
        pytest.param(lambda: raw_member(b"././@LongLink", b"a\x00b\x00", b"L") + raw_member(b"x"), id="gnu-L"),
        pytest.param(
            lambda: raw_member(b"././@LongLink", b"a\x00b", b"K") + raw_member(b"x", typeflag=b"2"), id="gnu-K"
        ),
    ],
)
def test_nul_inside_extended_names_is_refused(kind: str, bad: Callable[[], bytes], tmp_path: Path) -> None:
    with pytest.raises(LayerError, match="contains a NUL byte"):
        scan(bad() + END, kind, tmp_path)


@KINDS
def test_gnu_long_name_trailing_nuls_are_stripped(kind: str, tmp_path: Path) -> None:
    data = raw_member(b"././@LongLink", b"long/name\x00\x00\x00", b"L") + raw_member(b"short", b"q") + END
    assert names(scan(data, kind, tmp_path)) == ["long/name"]


@KINDS
@pytest.mark.parametrize(
    ("records", "why"),
    [
        (b"garbage", "bad record length"),
        (b"5 a=b\n", "bad record length"),
        (b"12 keyvalue\n", "record without '='"),
        (b"99 k=v\n", "record overruns"),
        (b"12 uid=many\n", "uid='many'"),
        (b"2 k=v\n", "record overruns"),  # a length that does not even cover its own digits and space
        (b"+6 a=b\n", "bad record length"),
        (b"0 a=b\n", "record overruns"),
    ],
)
def test_corrupt_pax_records(kind: str, records: bytes, why: str, tmp_path: Path) -> None:
    data = raw_member(b"PaxHeaders/x", records, b"x") + raw_member(b"x") + END
    with pytest.raises(LayerError, match=f"corrupt PAX header.*{re.escape(why)}"):
        scan(data, kind, tmp_path)


def test_both_windows_agree_on_a_mixed_tar(tmp_path: Path) -> None:
    rng = random.Random(3)
    members = []
    for i in range(60):
        kind = i % 5
        if kind == 0:
            members.append(member(f"dir{i}/", tarfile.DIRTYPE))
        elif kind == 1:
            content = rng.randbytes(rng.randrange(0, 3000))
            members.append(member(f"dir{i - 1}/file-" + "x" * rng.randrange(1, 200), data=content))
        elif kind == 2:
            members.append(member(f"sym{i}", tarfile.SYMTYPE, linkname="/" + "t" * rng.randrange(1, 150)))
        elif kind == 3:
            members.append(member(f"big{i}", data=rng.randbytes(300_000), uid=3_000_000))
        else:
            members.append(member(f"fifo{i}", tarfile.FIFOTYPE))
    for fmt in (tarfile.GNU_FORMAT, tarfile.PAX_FORMAT):
        data = tar_of(members, fmt=fmt)
        from_file = scan(data, "file", tmp_path)
        assert from_file == scan(data, "stream", tmp_path)
        assert [h[0].rstrip("/") for h in from_file] == [n.rstrip("/") for n, _ in header_offsets(data)]
        assert len(from_file) == 60


def _hash_all(win: Window) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for name, tflag, *_rest, size, _mt, _link, off in iter_headers(win):
        if tflag == REGULAR:
            out.append((name, win.hash(off, size)))
    return out


def test_hashing_matches_xxh3(tmp_path: Path) -> None:
    rng = random.Random(5)
    contents = {
        "empty": b"",
        "small": b"abc",
        "block": rng.randbytes(512),
        "odd": rng.randbytes(777),
        "chunky": rng.randbytes((1 << 18) + 13),
        "huge": rng.randbytes(3 * (1 << 20) + 5),
    }
    members = []
    for name, content in contents.items():
        members.append(member(name, data=content))
        members.append(member(name + "-dir/", tarfile.DIRTYPE))
    data = tar_of(members)
    expected = [(n, xxhash.xxh3_64(c).intdigest()) for n, c in contents.items()]
    with file_window(tmp_path, data) as win:
        assert _hash_all(win) == expected
    assert _hash_all(StreamWindow(io.BytesIO(data), "layer")) == expected


def test_stream_window_hash_with_small_reads(tmp_path: Path) -> None:
    """A decompressor returns short reads: hashing must loop until it has every byte."""

    class Trickle(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self.buf = io.BytesIO(data)

        def read(self, n: int = -1) -> bytes:
            return self.buf.read(min(n if n >= 0 else 1 << 30, 1000))

    content = random.Random(9).randbytes(123_457)
    data = tar_of([member("a", data=content), member("b", data=b"tail")])
    win = StreamWindow(Trickle(data), "layer")
    assert _hash_all(win) == [("a", xxhash.xxh3_64(content).intdigest()), ("b", xxhash.xxh3_64(b"tail").intdigest())]


def test_hash_of_truncated_data(tmp_path: Path) -> None:
    data = raw_member(b"a", b"x" * 5000)[:2048]
    with file_window(tmp_path, data) as win:
        h = next(iter_headers(win))
        with pytest.raises(ArchiveError, match="is truncated"):
            win.hash(h[8], h[5])
    win2 = StreamWindow(io.BytesIO(data), "layer")
    h = next(iter_headers(win2))
    with pytest.raises(ArchiveError, match="is truncated"):
        win2.hash(h[8], h[5])


def test_file_window_region_inside_a_larger_file(tmp_path: Path) -> None:
    """A layer stored in the middle of an outer archive: offsets are relative, absolute() is not."""
    content = b"payload" * 100
    data = tar_of([member("x", data=content)])
    lead = b"L" * 4096
    with file_window(tmp_path, data + b"T" * 2048, lead=lead) as win:
        win.size = len(data)
        ((name, _t, _m, _u, _g, size, _mt, _l, off),) = list(iter_headers(win))
        assert (name, off) == ("x", 512)
        assert win.absolute(off) == 4096 + 512
        assert win.read(off, size) == content
        assert win.hash(off, size) == xxhash.xxh3_64(content).intdigest()
    assert StreamWindow(io.BytesIO(data), "s").absolute(512) == -1


def test_file_window_read_past_region(tmp_path: Path) -> None:
    with file_window(tmp_path, b"abc" * 100) as win:
        assert win.read(0, 3) == b"abc"
        with pytest.raises(ArchiveError, match="runs past its end"):
            win.read(290, 20)
        with pytest.raises(ArchiveError, match="runs past its end"):
            win.hash(290, 20)


def test_old_tars_with_a_signed_checksum_are_accepted() -> None:
    """Some old tar writers summed the header as signed bytes; both sums are valid."""
    import tarfile as tf

    from dive_py.core.tar.blobio import looks_like_tar
    from dive_py.core.tar.tarscan import header_checksum_ok

    info = tf.TarInfo("caf\xe9-\xff-name")
    block = bytearray(info.tobuf(format=tf.GNU_FORMAT, encoding="latin-1"))[:512]
    unsigned = sum(block[:148]) + 8 * 32 + sum(block[156:])
    signed = unsigned - 2 * sum(b for b in block if b > 127)
    assert signed != unsigned
    block[148:156] = f"{signed:06o}\0 ".encode()
    assert header_checksum_ok(bytes(block)) and looks_like_tar(bytes(block))
    block[148:156] = f"{signed + 1:06o}\0 ".encode()
    assert not header_checksum_ok(bytes(block)) and not looks_like_tar(bytes(block))


def test_gzip_needs_both_magic_bytes() -> None:
    from dive_py.core.tar.blobio import GZIP, UNKNOWN, sniff

    assert sniff(b"\x1f\x8b\x08" + bytes(20)) == GZIP
    assert sniff(b"\x1f\x00\x08" + bytes(20)) == UNKNOWN
