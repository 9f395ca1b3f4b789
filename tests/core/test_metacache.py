"""The layer metadata cache: a re-open gives what a fresh read gives, and is never served stale or corrupt."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest

from dive_py.core.analysis.efficiency import analyse
from dive_py.core.analysis.hashing import ensure_hashes
from dive_py.core.analysis.insights import analyse_insights
from dive_py.core.archive.metacache import MetaCache, Snapshot, decode, encode, file_identity
from dive_py.core.archive.snapshot_archive import SnapshotArchive
from dive_py.core.content.reading import read_content
from dive_py.core.model.image import Image
from dive_py.core.model.loader import load_image
from dive_py.fixtures.builder import write_archive, write_layout_dir
from dive_py.fixtures.demo import DEMO_PATH
from dive_py.report.export import write_export
from tests.clitools import run_divepy
from tests.images import edge_case_image, tiny_image


def export(image: Image) -> bytes:
    out = io.BytesIO()
    write_export(image, analyse(image), analyse_insights(image), out)
    return out.getvalue()


def load(path: str, cache: MetaCache | None, **kwargs: object) -> tuple[bytes, str]:
    """The export, and "cache" when the cache answered (else "read")."""
    image = load_image(path, cache=cache, **kwargs)  # type: ignore[arg-type]
    try:
        archive = image.archive
        return export(image), "cache" if isinstance(archive, SnapshotArchive) and archive.from_cache else "read"
    finally:
        image.close()


def snapshots(cache: MetaCache) -> list[str]:
    return [path for path, _, _ in cache.entries()]


@pytest.mark.parametrize(
    ("layout", "outer", "compression"),
    [
        ("docker", "none", "none"),  # a plain tar: layers read in place
        ("oci", "none", "gzip"),  # gzip layers inside a plain tar
        ("docker25", "zstd", "none"),  # a compressed outer archive: one pass
        ("containers-image", "gzip", "gzip"),
    ],
)
def test_a_second_load_is_answered_by_the_cache_and_exports_the_same_bytes(
    tmp_path: Path, layout: str, outer: str, compression: str
) -> None:
    path = write_archive([edge_case_image()], tmp_path / "img.tar", layout, compression=compression, outer=outer)
    cache = MetaCache(str(tmp_path / "cache"))
    fresh, kind = load(path, None)
    first, _ = load(path, cache)
    assert len(snapshots(cache)) == 1
    again, cached_kind = load(path, cache)
    assert fresh == first == again and (kind, cached_kind) == ("read", "cache")


def test_a_layout_directory_is_cached_and_an_edit_inside_it_is_seen(tmp_path: Path) -> None:
    layout = write_layout_dir([tiny_image()], tmp_path / "layout")
    cache = MetaCache(str(tmp_path / "cache"))
    key = file_identity(layout)
    first, _ = load(layout, cache)
    assert load(layout, cache) == (first, "cache")
    index = Path(layout, "index.json")
    time.sleep(0.01)
    index.write_bytes(index.read_bytes() + b"\n")
    assert file_identity(layout) != key  # any file of the tree changes the key


def test_an_edited_archive_is_never_served_stale(tmp_path: Path) -> None:
    path = tmp_path / "img.tar"
    cache = MetaCache(str(tmp_path / "cache"))
    write_archive([tiny_image(marker="a")], path)
    before, _ = load(str(path), cache)
    write_archive([tiny_image(marker="b")], path)  # the same path and size, new content
    after, kind = load(str(path), cache)
    assert after != before and kind == "read"
    assert after == load(str(path), None)[0]


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty"])
def test_a_corrupt_snapshot_is_dropped_and_the_image_read_again(tmp_path: Path, damage: str) -> None:
    path = write_archive([edge_case_image()], tmp_path / "img.tar", "oci")
    cache = MetaCache(str(tmp_path / "cache"))
    good, _ = load(path, cache)
    (snap,) = snapshots(cache)
    data = Path(snap).read_bytes()
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip":
        data = data[:-10] + bytes([data[-10] ^ 0xFF]) + data[-9:]
    elif damage == "garbage":
        data = b"\x00" * 200
    else:
        data = b""
    Path(snap).write_bytes(data)
    again, kind = load(path, cache)
    assert again == good and kind == "read"  # read afresh
    assert decode(Path(snap).read_bytes()).layers  # and stored again, whole


def test_contents_come_from_the_source_when_the_metadata_comes_from_the_cache(tmp_path: Path) -> None:
    path = write_archive([edge_case_image()], tmp_path / "img.tar.gz", "docker", outer="gzip")
    cache = MetaCache(str(tmp_path / "cache"))
    load(path, cache)
    image = load_image(path, cache=cache, hash_files=True)
    fresh = load_image(path, hash_files=True)
    try:
        assert isinstance(image.archive, SnapshotArchive) and image.archive.from_cache
        pid = image.paths.lookup("bin/busybox")
        g = next(g for g, p in enumerate(image.entries.pid) if p == pid)
        assert read_content(image, g) == read_content(fresh, g) and len(read_content(image, g)) == 5000
        assert list(image.entries.hash) == list(fresh.entries.hash)
    finally:
        image.close()
        fresh.close()


def test_hashes_worked_out_after_the_load_are_stored_when_the_image_closes(tmp_path: Path) -> None:
    path = write_archive([edge_case_image()], tmp_path / "img.tar", "oci", compression="gzip")
    cache = MetaCache(str(tmp_path / "cache"))
    image = load_image(path, cache=cache)
    ensure_hashes(image, range(len(image.entries)))  # compressed layers: a second read, with hashes
    (snap,) = snapshots(cache)
    assert all(b.raw.hashes is None for b in decode(Path(snap).read_bytes()).layers.values())
    image.close()
    assert any(b.raw.hashes is not None for b in decode(Path(snap).read_bytes()).layers.values())
    load_image(path, cache=cache, hash_files=True).close()  # the explorer: every compressed layer hashed
    third = load_image(path, cache=cache, hash_files=True)
    try:
        assert not third.archive.grown  # nothing left to hash: no read of the layers at all
    finally:
        third.close()


def test_another_image_of_a_one_pass_archive_reads_it_again(tmp_path: Path) -> None:
    path = write_archive(
        [tiny_image("a:1", marker="a"), tiny_image("b:1", marker="b")], tmp_path / "two.tar.zst", outer="zstd"
    )
    cache = MetaCache(str(tmp_path / "cache"))
    load(path, cache, image="a:1")
    second, _ = load(path, cache, image="b:1")
    assert second == load(path, None, image="b:1")[0]


def test_prune_drops_the_least_recently_used_and_nothing_else(tmp_path: Path) -> None:
    cache = MetaCache(str(tmp_path / "cache"))
    paths = [write_archive([tiny_image(marker=m)], tmp_path / f"{m}.tar") for m in "abc"]
    for i, path in enumerate(paths):
        load(path, cache)
        os.utime(snapshots(cache)[-1], (1000 + i, 1000 + i))
    load(paths[0], cache)  # a hit makes "a" the most recently used
    stranger = Path(snapshots(cache)[0]).parent / "notes.meta"
    stranger.write_text("mine")
    sizes = sorted(size for _, size, _ in cache.entries())
    gone = cache.prune(sizes[-1])
    assert len(gone) == 2 and stranger.read_text() == "mine"
    (left,) = snapshots(cache)
    assert load(paths[0], cache)[1] == "cache" and Path(left).exists()


def test_a_name_with_a_nul_is_not_cached() -> None:
    from dive_py.core.archive.base import LayerBlob
    from dive_py.core.tar.layerread import RawLayer

    raw = RawLayer(paths=["a"], links=["x\0y"])
    raw.kinds.append(0)
    raw.tflags.append(0)
    for col in ("modes", "uids", "gids", "sizes", "mtimes", "offsets"):
        getattr(raw, col).append(0)
    snap = Snapshot("tar", {}, True, False, {}, {"l": LayerBlob(raw, "tar", 0)})
    assert encode(snap) is None


def test_the_cli_caches_and_no_cache_keeps_nothing(tmp_path: Path) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    first = run_divepy(DEMO_PATH, "--json", "-", "-q", env=env, cwd=tmp_path)
    second = run_divepy(DEMO_PATH, "--json", "-", "-q", env=env, cwd=tmp_path)
    assert first.code == second.code == 0 and first.out == second.out
    assert len(list((tmp_path / "xdg" / "divepy" / "meta").rglob("*.meta"))) == 1
    res = run_divepy(
        DEMO_PATH, "--json", "-", "-q", "--no-cache", env={"XDG_CACHE_HOME": str(tmp_path / "n")}, cwd=tmp_path
    )
    assert res.out == first.out and not (tmp_path / "n").exists()
    listed = run_divepy("--cache-list", env=env, cwd=tmp_path)
    assert listed.code == 0 and "meta: 1 layer metadata snapshot(s), " in listed.stdout
    pruned = run_divepy("--cache-prune", "0", env=env, cwd=tmp_path)
    assert "removed 1 layer metadata snapshot(s)" in pruned.stdout
    assert not list((tmp_path / "xdg" / "divepy" / "meta").rglob("*.meta"))
