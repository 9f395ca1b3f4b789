"""One layer's tar stream -> RawLayer: path cleaning, whiteouts, offsets, hashes."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
import xxhash

from dive_py.core.kinds import DIR, ENTRY, FIFO, HARDLINK, OPAQUE, REGULAR, SYMLINK, WHITEOUT
from dive_py.core.tar.layerread import EMPTY_HASH, RawLayer, clean_path, hardlink_path, read_layer
from dive_py.errors import LayerError
from tests.helpers import END, file_window, member, raw_member, stream_window, tar_of


def read(data: bytes, kind: str, tmp_path: Path, hash_files: bool = False) -> RawLayer:
    if kind == "stream":
        return read_layer(stream_window(data), hash_files=hash_files)
    with file_window(tmp_path, data) as win:
        return read_layer(win, hash_files=hash_files)


def rows(layer: RawLayer) -> list[tuple[str, int, int]]:
    return list(zip(layer.paths, layer.kinds, layer.tflags, strict=True))


KINDS = pytest.mark.parametrize("kind", ["file", "stream"])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a", "a"),
        ("./a", "a"),
        ("././a/b", "a/b"),
        ("a/", "a"),
        ("./a/b/", "a/b"),
        ("a//b", "a/b"),
        ("a/./b", "a/b"),
        ("a/b/.", "a/b"),
        (".hidden", ".hidden"),
        ("./.wh.x", ".wh.x"),
        ("a/..b", "a/..b"),
        ("a/b..", "a/b.."),
        ("...", "..."),
        ("/", None),
        ("//", None),
        (".", None),
        ("./", None),
        ("", None),
        ("./.", None),
        ("ünï/cödé", "ünï/cödé"),
    ],
)
def test_clean_path(name: str, expected: str | None) -> None:
    assert clean_path(name, "layer 1") == expected


@pytest.mark.parametrize("name", ["..", "../x", "a/../b", "./..", "a/b/..", "./a/../../etc"])
def test_clean_path_refuses_dotdot(name: str) -> None:
    with pytest.raises(LayerError, match=r"^layer 1: entry name .* climbs out of the root with '\.\.'$"):
        clean_path(name, "layer 1")


@pytest.mark.parametrize("name", ["/etc/passwd", "/a", "//a/b", "/./x"])
def test_clean_path_refuses_absolute(name: str) -> None:
    with pytest.raises(LayerError, match=r"^layer 1: absolute entry name .* \(layers must use relative names\)$"):
        clean_path(name, "layer 1")


def test_clean_path_refuses_nul() -> None:
    with pytest.raises(LayerError, match="contains a NUL byte"):
        clean_path("a\x00b", "layer 1")


def test_hardlink_path() -> None:
    assert hardlink_path("./bin/busybox") == "bin/busybox"
    assert hardlink_path("/bin/busybox") == "bin/busybox"
    assert hardlink_path("bin//busybox") == "bin/busybox"


@KINDS
def test_prefixes_slashes_and_root_entries(kind: str, tmp_path: Path) -> None:
    data = tar_of(
        [
            member("/", tarfile.DIRTYPE),
            member("./", tarfile.DIRTYPE),
            member("./etc/", tarfile.DIRTYPE),
            member("./etc/passwd", data=b"root"),
            member("usr/", tarfile.DIRTYPE),
            member("usr//lib/./x", data=b"12"),
        ]
    )
    layer = read(data, kind, tmp_path)
    assert rows(layer) == [
        ("etc", ENTRY, DIR),
        ("etc/passwd", ENTRY, REGULAR),
        ("usr", ENTRY, DIR),
        ("usr/lib/x", ENTRY, REGULAR),
    ]
    assert list(layer.sizes) == [0, 4, 0, 2]


@KINDS
@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../evil", "climbs out of the root"),
        ("a/../../evil", "climbs out of the root"),
        ("/etc/passwd", "absolute entry name '/etc/passwd'"),
    ],
)
def test_bad_names_in_a_layer(kind: str, name: str, message: str, tmp_path: Path) -> None:
    data = tar_of([member("ok", data=b"1"), member(name, data=b"x")])
    with pytest.raises(LayerError, match=message):
        read(data, kind, tmp_path)


@KINDS
def test_whiteouts(kind: str, tmp_path: Path) -> None:
    data = tar_of(
        [
            member(".wh.top", mode=0),
            member("dir/.wh.file", mode=0),
            member("./a/b/.wh.c", mode=0),
            member("dir/.wh..wh..opq", mode=0),
            member(".wh..wh..opq", mode=0),
            member("keep/", tarfile.DIRTYPE),
        ]
    )
    layer = read(data, kind, tmp_path)
    assert rows(layer) == [
        ("top", WHITEOUT, REGULAR),
        ("dir/file", WHITEOUT, REGULAR),
        ("a/b/c", WHITEOUT, REGULAR),
        ("dir", OPAQUE, REGULAR),
        ("", OPAQUE, REGULAR),
        ("keep", ENTRY, DIR),
    ]
    # markers are never files with content: no offsets, no sizes counted as data
    assert list(layer.offsets) == [-1] * 6


@KINDS
def test_aufs_bookkeeping_entries_are_skipped(kind: str, tmp_path: Path) -> None:
    data = tar_of(
        [
            member(".wh..wh.plnk/", tarfile.DIRTYPE),
            member(".wh..wh.plnk/123.456", data=b"x"),
            member(".wh..wh.aufs", data=b""),
            member("real", data=b"r"),
            member("d/.wh..wh.orph/", tarfile.DIRTYPE),
        ]
    )
    assert rows(read(data, kind, tmp_path)) == [(".wh..wh.plnk/123.456", ENTRY, REGULAR), ("real", ENTRY, REGULAR)]


@KINDS
def test_whiteout_recognised_by_name_only(kind: str, tmp_path: Path) -> None:
    # overlay2 writes whiteouts with a stale link name, and as hardlinks to one another
    data = tar_of(
        [
            member("app/.wh.dir-to-delete", linkname="app/delete-me.txt", mode=0),
            member("app/.wh.other", tarfile.LNKTYPE, linkname="app/.wh.dir-to-delete"),
            member("app/.wh.third", tarfile.SYMTYPE, linkname=""),
        ]
    )
    layer = read(data, kind, tmp_path)
    assert rows(layer) == [
        ("app/dir-to-delete", WHITEOUT, REGULAR),
        ("app/other", WHITEOUT, HARDLINK),
        ("app/third", WHITEOUT, SYMLINK),
    ]
    assert layer.links == ["app/delete-me.txt", "app/.wh.dir-to-delete", ""]


@KINDS
@pytest.mark.parametrize("name", [".wh.", "a/.wh.", ".wh..", "a/.wh.."])
def test_malformed_whiteouts(kind: str, name: str, tmp_path: Path) -> None:
    with pytest.raises(LayerError, match="malformed whiteout entry"):
        read(tar_of([member(name, data=b"")]), kind, tmp_path)


@KINDS
@pytest.mark.parametrize("link", ["", "./", "/", "."])
def test_hardlink_without_target(kind: str, link: str, tmp_path: Path) -> None:
    data = tar_of([member("f", data=b"1"), member("h", tarfile.LNKTYPE, linkname=link)])
    with pytest.raises(LayerError, match=r"^layer: hardlink 'h' has no target$"):
        read(data, kind, tmp_path)


@KINDS
def test_hardlink_with_target(kind: str, tmp_path: Path) -> None:
    data = tar_of([member("h", tarfile.LNKTYPE, linkname="./later"), member("later", data=b"1")])
    layer = read(data, kind, tmp_path)
    assert rows(layer) == [("h", ENTRY, HARDLINK), ("later", ENTRY, REGULAR)]
    assert layer.links == ["./later", ""]


@KINDS
def test_attributes_are_kept(kind: str, tmp_path: Path) -> None:
    data = tar_of(
        [
            member("f", data=b"12345", mode=0o4755, uid=1000, gid=65534, mtime=42),
            member("s", tarfile.SYMTYPE, linkname="/abs/target", mode=0o777),
            member("p", tarfile.FIFOTYPE, mode=0o600),
        ]
    )
    layer = read(data, kind, tmp_path)
    assert (list(layer.modes), list(layer.uids), list(layer.gids), list(layer.sizes), list(layer.mtimes)) == (
        [0o4755, 0o777, 0o600],
        [1000, 0, 0],
        [65534, 0, 0],
        [5, 0, 0],
        [42, 1_600_000_000, 1_600_000_000],
    )
    assert layer.links == ["", "/abs/target", ""]
    assert list(layer.tflags) == [REGULAR, SYMLINK, FIFO]


def test_offsets_recorded_for_seekable_layers(tmp_path: Path) -> None:
    contents = {"a": b"first", "dir/b": b"x" * 1000, "empty": b"", "c": b"third"}
    members = [member("dir/", tarfile.DIRTYPE)] + [member(n, data=c) for n, c in contents.items()]
    data = tar_of(members)
    lead = b"\x00" * 2048  # the layer sits at offset 2048 of its file
    with file_window(tmp_path, data, lead=lead) as win:
        layer = read_layer(win, hash_files=False)  # seekable: hashed later, on demand, from the offsets
        assert layer.hashes is None
        offsets = dict(zip(layer.paths, layer.offsets, strict=True))
        assert offsets["dir"] == -1
        raw = lead + data
        for name, content in contents.items():
            assert offsets[name] >= 2048
            assert raw[offsets[name] : offsets[name] + len(content)] == content
    assert layer.tar_bytes == 512 * 9  # five headers, one data block each for 'a' and 'c', two for 'dir/b'
    with file_window(tmp_path, data) as win:
        hashed = read_layer(win, hash_files=True)  # hashing a seekable layer eagerly works too
    assert hashed.hashes is not None
    assert list(hashed.hashes) == [0] + [xxhash.xxh3_64(c).intdigest() for c in contents.values()]
    assert list(hashed.offsets) == [-1] + [o - 2048 for o in list(layer.offsets)[1:]]


def test_eager_hashes_on_a_stream() -> None:
    contents = [("a", b"alpha"), ("big", bytes(range(256)) * 4000), ("empty", b"")]
    data = tar_of(
        [
            member("d/", tarfile.DIRTYPE),
            *(member(n, data=c) for n, c in contents),
            member(".wh.gone", data=b""),
            member("l", tarfile.SYMTYPE, linkname="a"),
        ]
    )
    layer = read_layer(stream_window(data), hash_files=True)
    assert layer.paths == ["d", "a", "big", "empty", "gone", "l"]
    assert layer.hashes is not None
    assert list(layer.hashes) == [
        0,
        xxhash.xxh3_64(b"alpha").intdigest(),
        xxhash.xxh3_64(contents[1][1]).intdigest(),
        EMPTY_HASH,
        0,
        0,
    ]
    assert xxhash.xxh3_64(b"").intdigest() == EMPTY_HASH
    assert list(layer.offsets) == [-1] * 6


def test_no_hashes_on_a_stream_unless_asked() -> None:
    layer = read_layer(stream_window(tar_of([member("a", data=b"alpha")])), hash_files=False)
    assert layer.hashes is None
    assert list(layer.offsets) == [-1]


@KINDS
def test_tar_bytes_of_an_empty_layer(kind: str, tmp_path: Path) -> None:
    layer = read(END, kind, tmp_path)
    assert (len(layer), layer.tar_bytes) == (0, 0)


@KINDS
def test_tar_bytes_ends_after_the_last_member(kind: str, tmp_path: Path) -> None:
    data = raw_member(b"a", b"x" * 513) + raw_member(b"d/", typeflag=b"5") + END + END
    layer = read(data, kind, tmp_path)
    assert layer.paths == ["a", "d"]
    assert layer.tar_bytes == 512 + 1024 + 512
