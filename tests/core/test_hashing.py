"""Lazy content hashes: which entries need one, and how each kind of layer gets it."""

from __future__ import annotations

import os
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import xxhash

from dive_py.core.analysis.compare import MODIFIED, Comparer
from dive_py.core.analysis.hashing import ensure_hashes, hash_candidates
from dive_py.core.archive.base import LayerBlob
from dive_py.core.kinds import CONTIGUOUS, ENTRY, REGULAR
from dive_py.core.model.image import Image
from dive_py.core.tar.layerread import EMPTY_HASH
from dive_py.fixtures.builder import ImageSpec, write_archive
from tests.helpers import loaded


def h(data: bytes) -> int:
    """The reference xxh3-64 (the library itself, not divepy's reading of the archive)."""
    return int(xxhash.xxh3_64_intdigest(data))


def stack() -> ImageSpec:
    """Three layers: same-size rewrites, size changes, a copy under another name, links, empties, whiteouts."""
    img = ImageSpec()
    base = img.layer("ADD base")
    base.dir("etc").file("etc/a", "aaaa").file("etc/b", "bb").symlink("etc/l", "a").file("etc/z", "")
    base.file("etc/gone", "")
    mid = img.layer("RUN edit")
    mid.file("etc/a", "abcd").file("etc/b", "bbb").symlink("etc/l", "b").file("etc/c", "aaaa").file("etc/z", "")
    top = img.layer("RUN again")
    top.file("etc/a", "wxyz").whiteout("etc/b").whiteout("etc/gone").file("x/y", "q")
    return img


def where(image: Image, ids: list[int]) -> list[tuple[int, str]]:
    e = image.entries
    return [(e.layer_of(g), image.paths.paths[e.pid[g]]) for g in ids]


def file_hashes(image: Image) -> dict[tuple[int, str], int]:
    """(layer, path) -> hash of every regular-file entry of the layers."""
    e = image.entries
    out = {}
    for g in range(e.layer_start[-1]):
        if e.kind[g] == ENTRY and e.tflag[g] in (REGULAR, CONTIGUOUS):
            out[(e.layer_of(g), image.paths.paths[e.pid[g]])] = e.hash[g]
    return out


def entry(image: Image, layer: int, path: str) -> int:
    e = image.entries
    (g,) = [g for g in e.layer_range(layer) if image.paths.paths[e.pid[g]] == path and e.kind[g] == ENTRY]
    return g


class Recorder:
    """A Progress that writes down what it is told."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def phase(self, name: str, total: int) -> None:
        self.events.append(("phase", name, total))

    def advance(self, done: int, detail: str = "") -> None:
        self.events.append(("advance", done))


# -- which entries need a hash ---------------------------------------------------------


def test_candidates_are_regular_files_whose_path_holds_another_of_the_same_size(tmp_path: Path) -> None:
    with loaded(write_archive(stack(), tmp_path / "img.tar")) as image:
        # etc/a: size 4 in all three layers; etc/z: empty twice.  etc/b changes size (2, 3), etc/c has
        # etc/a's bytes under another name, etc/l is a symlink, etc/gone's second entry is a whiteout.
        # The first entry of a pair joins the list when its partner is met, and only once.
        assert where(image, hash_candidates(image)) == [
            (0, "etc/a"),
            (1, "etc/a"),
            (0, "etc/z"),
            (1, "etc/z"),
            (2, "etc/a"),
        ]


def test_a_path_repeated_inside_one_layer_is_not_a_pair(tmp_path: Path) -> None:
    img = ImageSpec()
    img.layer("ADD twice").file("f", "one").file("f", "two")  # the first becomes shadowed
    img.layer("ADD other").file("g", "xyz")
    with loaded(write_archive(img, tmp_path / "img.tar")) as image:
        assert hash_candidates(image) == []


def test_contiguous_files_are_regular_files(tmp_path: Path) -> None:
    info = tarfile.TarInfo("c")
    info.type = tarfile.CONTTYPE
    info.size = 3
    info.mode = 0o644
    img = ImageSpec()
    img.layer("ADD contiguous").raw(info, b"old")
    img.layer("RUN rewrite").file("c", "new")
    with loaded(write_archive(img, tmp_path / "img.tar")) as image:
        e = image.entries
        assert [e.tflag[g] for g in range(e.layer_start[-1])] == [CONTIGUOUS, REGULAR]
        assert where(image, hash_candidates(image)) == [(0, "c"), (1, "c")]


# -- uncompressed layers: pread just the bytes ----------------------------------------------


def test_only_candidates_are_hashed_in_an_uncompressed_archive(tmp_path: Path) -> None:
    with loaded(write_archive(stack(), tmp_path / "img.tar", "docker")) as image:
        assert set(file_hashes(image).values()) == {0}  # loading hashes nothing
        ensure_hashes(image, hash_candidates(image))
        assert file_hashes(image) == {
            (0, "etc/a"): h(b"aaaa"),
            (0, "etc/b"): 0,
            (0, "etc/z"): EMPTY_HASH,
            (0, "etc/gone"): 0,
            (1, "etc/a"): h(b"abcd"),
            (1, "etc/b"): 0,
            (1, "etc/c"): 0,
            (1, "etc/z"): EMPTY_HASH,
            (2, "etc/a"): h(b"wxyz"),
            (2, "x/y"): 0,
        }
    assert h(b"") == EMPTY_HASH == 0x2D06800538D394C2


def pairs_image() -> ImageSpec:
    img = ImageSpec()
    img.layer("ADD base").file("a", "aaa").file("b", "bbb").file("e", "")
    img.layer("RUN again").file("a", "AAA").file("b", "BBB").file("e", "")
    return img


def spy_hash_range(image: Image, monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str, int]]:
    """Record (layer, path, size) of every range the archive is asked to hash, one by one or in a batch."""
    e = image.entries
    at = {(e.blob_of[e.layer_of(g)], e.offset[g]): g for g in range(e.layer_start[-1]) if e.offset[g] >= 0}
    calls: list[tuple[int, str, int]] = []
    real: Callable[[str, list[int], list[int]], list[int]] = image.archive.hash_ranges

    def spy(member: str, offsets: list[int], sizes: list[int]) -> list[int]:
        for offset, size in zip(offsets, sizes, strict=True):
            g = at[(member, offset)]
            calls.append((e.layer_of(g), image.paths.paths[e.pid[g]], size))
        return real(member, offsets, sizes)

    def one(member: str, offset: int, size: int) -> int:
        return spy(member, [offset], [size])[0]

    monkeypatch.setattr(image.archive, "hash_ranges", spy)
    monkeypatch.setattr(image.archive, "hash_range", one)
    return calls


def test_files_are_read_layer_by_layer_in_offset_order_and_empty_ones_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with loaded(write_archive(pairs_image(), tmp_path / "img.tar", "docker")) as image:
        calls = spy_hash_range(image, monkeypatch)
        wanted = hash_candidates(image)
        ensure_hashes(image, list(reversed(wanted)))  # asked for in the worst order
        assert calls == [(0, "a", 3), (0, "b", 3), (1, "a", 3), (1, "b", 3)]
        assert file_hashes(image) == {
            (0, "a"): h(b"aaa"),
            (0, "b"): h(b"bbb"),
            (0, "e"): EMPTY_HASH,
            (1, "a"): h(b"AAA"),
            (1, "b"): h(b"BBB"),
            (1, "e"): EMPTY_HASH,
        }


def test_entries_that_have_a_hash_keep_it_and_are_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with loaded(write_archive(pairs_image(), tmp_path / "img.tar", "docker")) as image:
        calls = spy_hash_range(image, monkeypatch)
        known = entry(image, 0, "b")
        image.entries.hash[known] = 0x1234
        ensure_hashes(image, hash_candidates(image))
        assert calls == [(0, "a", 3), (1, "a", 3), (1, "b", 3)]
        assert image.entries.hash[known] == 0x1234
        # everything known: nothing read, and no phase announced
        calls.clear()
        progress = Recorder()
        ensure_hashes(image, hash_candidates(image), progress)
        assert calls == []
        assert progress.events == []


def test_progress_counts_the_bytes_hashed(tmp_path: Path) -> None:
    with loaded(write_archive(pairs_image(), tmp_path / "img.tar", "docker")) as image:
        progress = Recorder()
        ensure_hashes(image, hash_candidates(image), progress)
        # four 3-byte files in two layers, told after each layer's batch; the empty ones cost nothing
        assert progress.events == [("phase", "Hashing files", 12), ("advance", 6), ("advance", 12)]


# -- compressed layers: hashed while streaming, or read again ------------------------------------


def spy_read_layer(image: Image, monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, bool]]:
    """Record (layer, hash_files) of every layer the archive is asked to read again."""
    e = image.entries
    layer_of = {name: i for i, name in enumerate(e.blob_of)}
    calls: list[tuple[int, bool]] = []
    real = image.archive.read_layer

    def spy(name: str, *, hash_files: bool, what: str, **kw: Any) -> LayerBlob:
        calls.append((layer_of[name], hash_files))
        return real(name, hash_files=hash_files, what=what, **kw)

    monkeypatch.setattr(image.archive, "read_layer", spy)
    return calls


def test_a_compressed_layer_is_decompressed_again_with_hashing_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    img = stack()
    img.layer("RUN unrelated").file("other", "nothing to compare")
    with loaded(write_archive(img, tmp_path / "img.tar", "oci", compression="gzip")) as image:
        calls = spy_read_layer(image, monkeypatch)
        ensure_hashes(image, hash_candidates(image))
        assert calls == [(0, True), (1, True), (2, True)]  # layer 3 has no candidate: not read
        hashes = file_hashes(image)
        assert (hashes[(0, "etc/a")], hashes[(1, "etc/a")], hashes[(2, "etc/a")]) == (
            h(b"aaaa"),
            h(b"abcd"),
            h(b"wxyz"),
        )
        assert (hashes[(0, "etc/z")], hashes[(1, "etc/z")]) == (EMPTY_HASH, EMPTY_HASH)
        assert hashes[(0, "etc/b")] == hashes[(1, "etc/c")] == hashes[(3, "other")] == 0


def test_layers_hashed_while_streaming_are_not_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with loaded(write_archive(stack(), tmp_path / "img.tar", "oci", compression="zstd"), hash_files=True) as image:
        calls = spy_read_layer(image, monkeypatch)
        hashes = file_hashes(image)
        assert (hashes[(0, "etc/b")], hashes[(1, "etc/c")], hashes[(2, "x/y")]) == (h(b"bb"), h(b"aaaa"), h(b"q"))
        ensure_hashes(image, hash_candidates(image))
        assert calls == []


def test_a_layer_read_again_with_other_entries_gives_no_hashes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The blob read again no longer has the entries the table holds (the file changed): nothing is taken from it."""
    img = pairs_image()
    img.layer("ADD more").file("a", "AAA").file("c", "ccc")
    with loaded(write_archive(img, tmp_path / "img.tar", "oci", compression="gzip")) as image:
        e = image.entries
        real = image.archive.read_layer

        def changed(name: str, **kw: Any) -> LayerBlob:
            return real(e.blob_of[2] if name == e.blob_of[0] else name, **kw)  # 2 entries instead of 3

        monkeypatch.setattr(image.archive, "read_layer", changed)
        ensure_hashes(image, hash_candidates(image))
        assert file_hashes(image) == {
            (0, "a"): 0,
            (0, "b"): 0,
            (0, "e"): EMPTY_HASH,
            (1, "a"): h(b"AAA"),
            (1, "b"): h(b"BBB"),
            (1, "e"): EMPTY_HASH,
            (2, "a"): h(b"AAA"),
            (2, "c"): 0,
        }


def test_a_streamed_archive_loaded_without_hashes_gets_them_when_asked(tmp_path: Path) -> None:
    img = ImageSpec()
    img.layer("ADD f").file("f", "abc")
    img.layer("RUN edit").file("f", "abd")
    with loaded(write_archive(img, tmp_path / "img.tar.gz", "docker", outer="gzip")) as image:
        ensure_hashes(image, hash_candidates(image))
        assert file_hashes(image) == {(0, "f"): h(b"abc"), (1, "f"): h(b"abd")}
        pid = image.paths.lookup("f")
        assert pid is not None
        assert Comparer(image).tree(1, False).diff[pid] == MODIFIED


def test_batch_hashing_gives_the_window_digests_and_refuses_a_short_file(tmp_path: Path) -> None:
    from dive_py.core.tar.tarwindow import _CHUNK, FileWindow, hash_fd_ranges
    from dive_py.errors import ArchiveError

    blob = tmp_path / "blob"
    data = bytes(range(256)) * (2 * _CHUNK // 256 + 3)  # one region above the one-read size
    blob.write_bytes(data)
    fd = os.open(blob, os.O_RDONLY)
    try:
        regions = [(0, 0), (5, 17), (1, _CHUNK), (3, len(data) - 3)]
        window = FileWindow(fd, 0, len(data), "blob")
        assert hash_fd_ranges(fd, [o for o, _ in regions], [n for _, n in regions], len(data), "blob") == [
            window.hash(o, n) for o, n in regions
        ]
        assert hash_fd_ranges(fd, [5], [17], len(data), "blob") == [h(data[5:22])]
        with pytest.raises(ArchiveError, match="blob is truncated: a member's data runs past its end"):
            hash_fd_ranges(fd, [len(data) - 2], [3], len(data), "blob")
        with pytest.raises(ArchiveError, match="blob is truncated: the file ends inside it"):
            hash_fd_ranges(fd, [len(data) - 2], [3], len(data) + 10, "blob")
    finally:
        os.close(fd)
