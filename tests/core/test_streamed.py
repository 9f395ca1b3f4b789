"""A compressed outer archive read in one pass: layers parsed before the manifest, from a file or a pipe."""

from __future__ import annotations

import io
import os
import tarfile
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import xxhash
import zstandard

from dive_py.core.archive import open_archive
from dive_py.core.archive import streamed as streamed_module
from dive_py.core.archive.streamed import FileSource, StreamedArchive
from dive_py.core.kinds import DIR, REGULAR
from dive_py.core.model.loader import load_image
from dive_py.core.oci.manifest import FORMAT_CONTAINERS_IMAGE, FORMAT_DOCKER25, FORMAT_KANIKO, FORMAT_OCI, find_images
from dive_py.core.oci.selection import select_image
from dive_py.core.tar.tarscan import iter_headers
from dive_py.errors import ArchiveError, InputError, LayerError, LimitError, ManifestError
from dive_py.fixtures.builder import ImageSpec, archive_bytes, write_archive
from tests.helpers import file_member, gz, loaded, tar_of, tree_of

TREE = {
    "b": (REGULAR, 0o644, 0, 0, 2, "", False),
    "etc": (DIR, 0o755, 0, 0, 0, "", False),
    "etc/a": (REGULAR, 0o644, 0, 0, 4, "", False),
}


def spec() -> ImageSpec:
    img = ImageSpec(tags=["s:1"])
    img.layer("ADD base").dir("etc").file("etc/a", "aaaa")
    img.layer("RUN x").file("b", "bb")
    return img


def h(data: bytes) -> int:
    return int(xxhash.xxh3_64_intdigest(data))


def outer(data: bytes, compression: str) -> bytes:
    return gz(data) if compression == "gzip" else zstandard.ZstdCompressor().compress(data)


def members_of(data: bytes) -> list[tuple[str, int]]:
    """(name, size) of the regular members of a plain outer archive, in order."""
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return [(m.name, m.size) for m in tar.getmembers() if m.isreg()]


def failure(call: Callable[[], object]) -> tuple[type[BaseException], str]:
    """The exact type and message of the input error ``call`` raises."""
    with pytest.raises(InputError) as err:
        call()
    return type(err.value), str(err.value)


def streamed(path: str | Path, *, hash_files: bool = False) -> StreamedArchive:
    archive = open_archive(str(path), hash_files=hash_files)
    assert isinstance(archive, StreamedArchive)
    return archive


# -- one pass, the manifest last ------------------------------------------------------------------


def test_docker25_puts_the_manifest_after_the_layers() -> None:
    names = [name for name, _ in members_of(archive_bytes(spec(), "docker25"))]
    assert [n.split("/")[0] for n in names] == ["blobs"] * 4 + ["index.json", "manifest.json", "oci-layout"]


@pytest.mark.parametrize(
    ("layout", "compression", "fmt"),
    [
        ("docker25", "gzip", FORMAT_DOCKER25),
        ("docker25", "zstd", FORMAT_DOCKER25),
        ("oci", "gzip", FORMAT_OCI),
        ("containers-image", "zstd", FORMAT_CONTAINERS_IMAGE),  # <id>/layer.tar links to <digest>.tar
        ("kaniko", "gzip", FORMAT_KANIKO),
    ],
)
def test_a_compressed_archive_loads_in_one_pass(tmp_path: Path, layout: str, compression: str, fmt: str) -> None:
    path = write_archive(spec(), tmp_path / f"img.tar.{compression}", layout, outer=compression)
    with loaded(path) as image:
        assert isinstance(image.archive, StreamedArchive)
        assert image.archive_format == fmt
        assert image.names == ["s:1"]
        assert tree_of(image, 0) == {k: v for k, v in TREE.items() if k != "b"}
        assert tree_of(image, 1) == TREE


def test_layers_are_hashed_as_they_stream_past_when_asked(tmp_path: Path) -> None:
    path = write_archive(spec(), tmp_path / "img.tar.gz", "docker25", outer="gzip")
    for hash_files in (True, False):
        archive = streamed(path, hash_files=hash_files)
        try:
            ref = select_image(find_images(archive))
            blobs = [archive.read_layer(lr.member, hash_files=hash_files, what="layer").raw for lr in ref.layers]
        finally:
            archive.close()
        assert [raw.paths for raw in blobs] == [["etc", "etc/a"], ["b"]]
        if hash_files:
            assert [list(raw.hashes or ()) for raw in blobs] == [[0, h(b"aaaa")], [h(b"bb")]]  # 0: a directory
        else:
            assert [raw.hashes for raw in blobs] == [None, None]


def test_progress_counts_compressed_bytes_up_to_the_file_size(tmp_path: Path) -> None:
    path = write_archive(spec(), tmp_path / "img.tar.gz", "docker25", outer="gzip")
    size = os.path.getsize(path)
    calls: list[tuple[int, int]] = []
    StreamedArchive(
        FileSource(path), "img", "gzip", hash_files=False, progress=lambda done, total: calls.append((done, total))
    )
    assert calls[-1] == (size, size)
    assert {total for _, total in calls} == {size}
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_a_pipe_is_read_in_one_pass(tmp_path: Path) -> None:
    """A fifo cannot seek (its size is 0): one pass still finds the layers before the manifest."""
    data = outer(archive_bytes(spec(), "docker25"), "zstd")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InputError) as err:  # the command line's door takes regular files only
        open_archive(str(fifo), hash_files=False)
    assert str(err.value) == f"{fifo} is not a regular file"

    failures: list[BaseException] = []

    def writer() -> None:
        try:
            with open(fifo, "wb") as fh:
                fh.write(data)
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    archive = StreamedArchive(FileSource(str(fifo)), "-", "zstd", hash_files=True)
    thread.join(10)
    assert not thread.is_alive() and failures == []
    try:
        found = find_images(archive)
        assert found.format == FORMAT_DOCKER25
        ref = select_image(found)
        raws = [
            archive.read_layer(lr.member, hash_files=True, what=f"layer {i}").raw for i, lr in enumerate(ref.layers)
        ]
        assert [(raw.paths, list(raw.sizes)) for raw in raws] == [(["etc", "etc/a"], [0, 4]), (["b"], [2])]
        assert [list(raw.hashes or ()) for raw in raws] == [[0, h(b"aaaa")], [h(b"bb")]]
        assert archive.read_json("oci-layout") == {"imageLayoutVersion": "1.0.0"}
    finally:
        archive.close()


# -- what is kept of the other members --------------------------------------------------------------


def test_small_json_members_are_kept_and_the_others_say_why(tmp_path: Path) -> None:
    data = archive_bytes(spec(), "docker")
    members = dict(members_of(data))
    version = next(n for n in members if n.endswith("/VERSION"))
    layer = next(n for n in members if n.endswith("/layer.tar"))
    path = tmp_path / "img.tar.gz"
    path.write_bytes(gz(data))
    archive = streamed(path)
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            stored = tar.extractfile("manifest.json")
            assert stored is not None
            assert archive.read_bytes("manifest.json") == stored.read()
        assert failure(lambda: archive.read_bytes(version)) == (  # "1.0"
            ManifestError,
            f"{path}: member {version!r} is not a JSON document",
        )
        assert failure(lambda: archive.read_bytes(layer)) == (
            ManifestError,
            f"{path}: member {layer!r} is a tar stream, not a JSON document",
        )
        assert failure(lambda: archive.read_bytes("nope.json")) == (
            ArchiveError,
            f"{path}: member 'nope.json' is missing",
        )
        assert failure(lambda: archive.read_layer("nope.tar", hash_files=False, what="layer 3")) == (
            ManifestError,
            "layer 3: blob 'nope.tar' is missing from the archive",
        )
        assert failure(lambda: archive.read_layer("manifest.json", hash_files=False, what="layer 3")) == (
            LayerError,
            "layer 3 is not a tar archive (nor a gzip/zstd-compressed one)",
        )
    finally:
        archive.close()


def test_a_json_document_over_the_limit_is_not_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = archive_bytes(spec(), "docker25")
    size = dict(members_of(data))["manifest.json"]
    assert size > 100
    path = tmp_path / "img.tar.gz"
    path.write_bytes(gz(data))
    monkeypatch.setattr(streamed_module, "JSON_DOCUMENT_BYTES", 100)
    archive = streamed(path)
    try:
        assert archive.read_bytes("oci-layout") == b'{"imageLayoutVersion":"1.0.0"}'  # 30 bytes: kept
    finally:
        archive.close()
    with pytest.raises(LimitError) as err:
        load_image(str(path))  # manifest.json is read first
    assert str(err.value) == (
        f"{path}: member 'manifest.json' is {size:,} bytes, over divepy's limit of 100 bytes for a JSON document"
    )


def test_held_members_have_a_limit_in_total(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = archive_bytes(spec(), "docker25")
    sizes = members_of(data)
    # config, two layers, the image manifest, then index.json, manifest.json, oci-layout (30 bytes)
    assert [name for name, _ in sizes[4:]] == ["index.json", "manifest.json", "oci-layout"]
    assert sizes[-1][1] == 30 and sizes[4][1] > 100 and sizes[5][1] > 100
    room = sizes[0][1] + sizes[3][1] + 100  # the first two JSON blobs, then 100 bytes to spare
    path = tmp_path / "img.tar.gz"
    path.write_bytes(gz(data))
    monkeypatch.setattr(streamed_module, "HELD_MEMBER_BYTES", room)
    archive = streamed(path)
    try:
        assert archive.read_bytes("oci-layout") == b'{"imageLayoutVersion":"1.0.0"}'  # still fits
        for name in ("index.json", "manifest.json"):
            with pytest.raises(LimitError) as err:
                archive.read_bytes(name)
            assert str(err.value) == (
                f"{path}: member {name!r} was not kept: the archive's metadata members exceed "
                f"divepy's limit of {room:,} bytes in total"
            )
    finally:
        archive.close()


# -- broken blobs and repeated names -------------------------------------------------------------------


def with_members(data: bytes, extra: list[tuple[str, bytes]], replace: dict[str, bytes] | None = None) -> bytes:
    """The outer archive ``data`` with members replaced, and ``extra`` members first."""
    out = [file_member(name, body) for name, body in extra]
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for info in tar.getmembers():
            if not info.isreg():
                continue
            fh = tar.extractfile(info)
            assert fh is not None
            out.append(file_member(info.name, (replace or {}).get(info.name, fh.read())))
    return tar_of(out)


JUNK = gz(b"not a tar at all " * 40)


def test_a_broken_blob_the_manifest_does_not_use_is_harmless(tmp_path: Path) -> None:
    stray = "blobs/sha256/" + "f" * 64
    path = tmp_path / "img.tar.gz"
    path.write_bytes(gz(with_members(archive_bytes(spec(), "docker25"), [(stray, JUNK)])))
    with loaded(path) as image:
        assert tree_of(image, 1) == TREE
        with pytest.raises(LayerError) as err:
            image.archive.read_layer(stray, hash_files=False, what="layer 9")
        assert str(err.value) == "layer 9 is not a tar archive"  # named by its use, not by the archive


def test_a_broken_blob_the_manifest_uses_fails_with_the_layer_name(tmp_path: Path) -> None:
    data = archive_bytes(spec(), "docker25")
    first_layer = members_of(data)[1][0]
    path = tmp_path / "img.tar.gz"
    path.write_bytes(gz(with_members(data, [], {first_layer: JUNK})))
    with pytest.raises(LayerError) as err:
        load_image(str(path))
    assert str(err.value) == f"layer 0 ({first_layer}) is not a tar archive"


def test_a_later_member_of_the_same_name_replaces_the_earlier_one(tmp_path: Path) -> None:
    layer = tar_of([file_member("inside", b"xyz")])
    json_then_layer = tmp_path / "a.tar.zst"
    json_then_layer.write_bytes(outer(tar_of([file_member("x", b'{"a": 1}'), file_member("x", layer)]), "zstd"))
    layer_then_json = tmp_path / "b.tar.zst"
    layer_then_json.write_bytes(outer(tar_of([file_member("x", layer), file_member("x", b'{"a": 1}')]), "zstd"))

    archive = streamed(json_then_layer)
    try:
        with pytest.raises(ManifestError) as err:
            archive.read_bytes("x")
        assert str(err.value) == f"{json_then_layer}: member 'x' is a tar stream, not a JSON document"
        assert archive.read_layer("x", hash_files=False, what="layer").raw.paths == ["inside"]
    finally:
        archive.close()
    archive = streamed(layer_then_json)
    try:
        assert archive.read_json("x") == {"a": 1}
        with pytest.raises(LayerError) as layer_err:
            archive.read_layer("x", hash_files=False, what="layer")
        assert str(layer_err.value) == "layer is not a tar archive (nor a gzip/zstd-compressed one)"
    finally:
        archive.close()


# -- reading contents back ---------------------------------------------------------------------------


def test_a_layer_window_decompresses_the_archive_again_up_to_the_blob(tmp_path: Path) -> None:
    path = write_archive(spec(), tmp_path / "img.tar.gz", "docker25", outer="gzip")
    with loaded(path) as image:
        names = []
        contents = []
        with image.archive.layer_window(image.entries.blob_of[0], "layer 0") as win:
            for name, _t, _m, _u, _g, size, _mt, _l, off in iter_headers(win):
                names.append(name)
                contents.append(win.read(off, size) if size else b"")
        assert names == ["etc/", "etc/a"]
        assert contents == [b"", b"aaaa"]
        with pytest.raises(ArchiveError) as err, image.archive.layer_window("nope", "layer 5"):
            pass
        assert str(err.value) == f"{path}: member 'nope' is missing"
