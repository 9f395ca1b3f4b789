"""Extraction (Ctrl+E, --extract): the merged filesystem after a layer, written to disk safely."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest

from dive_py.core.content.destination import ExtractError
from dive_py.core.content.extract import entries_under, extract, write_file
from dive_py.core.content.reading import read_content
from dive_py.errors import UsageError
from dive_py.fixtures.builder import ImageSpec, write_archive, write_layout_dir
from tests.helpers import loaded
from tests.images import _bytes, edge_case_image

STORAGES = [
    ("docker", "gzip", "none"),
    ("oci", "gzip", "none"),
    ("oci", "zstd", "none"),
    ("oci", "none", "none"),
    ("docker", "gzip", "gzip"),
    ("oci", "gzip", "zstd"),
    ("kaniko", "gzip", "none"),
    ("dir", "gzip", "none"),
]


def store(image: ImageSpec, tmp_path: Path, layout: str, compression: str, outer: str) -> str:
    if layout == "dir":
        return write_layout_dir(image, tmp_path / "layout", "oci", compression=compression)
    return write_archive(image, tmp_path / "image.tar", layout, compression=compression, outer=outer)


#: What :func:`snapshot` records of one path: ("l", target), ("d", mode) or ("f", mode, content).
Written = tuple[str | bytes, ...]


def snapshot(root: Path) -> dict[str, Written]:
    """Everything written below ``root``: type, permission bits and content or link target."""
    out: dict[str, Written] = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("l", os.readlink(full))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("d", oct(st.st_mode & 0o7777))
            else:
                out[rel] = ("f", oct(st.st_mode & 0o7777), Path(full).read_bytes())
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[int, dict[str, Written]]:
    tmp = tmp_path_factory.mktemp("ref")
    path = write_archive(edge_case_image(), tmp / "ref.tar", "docker")
    out = {}
    with loaded(path) as image:
        for layer in range(len(image.layers)):
            extract(image, "/", layer, str(tmp / f"root{layer}"))
            out[layer] = snapshot(tmp / f"root{layer}")
    return out


def test_the_top_layer_is_the_container_view(reference: dict[int, dict[str, Written]]) -> None:
    top = reference[max(reference)]
    busybox = _bytes(1, 5000)
    assert top["etc/passwd"] == ("f", "0o644", b"root:x:0:0::/root:/bin/bash\n")
    assert top["etc/shadow"][1] == "0o600"
    assert top["bin/ls"] == ("f", "0o755", busybox)  # hardlink: a copy of its target's bytes
    assert top["tmp/ls-link"] == ("f", "0o755", busybox)  # hardlink into a lower layer
    assert top["bin/sh"] == ("l", "/bin/busybox")
    assert top["retarget"] == ("l", "etc/shadow")
    assert "bin/su" not in top  # whiteout
    assert top["olddir/a.txt"][2] == b"back again" and "olddir/sub" not in top  # deleted, then re-created
    assert sorted(p for p in top if p.startswith("opaque/")) == ["opaque/new"]  # opaque dir hides lower files
    assert top["becomes-dir"][0] == "d" and top["becomes-dir/now"][2] == b"now a dir\n"
    assert top["becomes-file"] == ("f", "0o644", b"now a file\n")
    assert "big.bin" not in top and "big-copy.bin" not in top
    assert "var/log/pipe" not in top and "usr/null" not in top  # fifo and device: skipped
    assert top["tmp"] == ("d", "0o777")  # sticky bit not restored
    deep = "names/" + "/".join(f"deep{i}" for i in range(30)) + "/leaf"
    assert top[deep][2] == b"deep path"


def test_earlier_layers_show_earlier_content(reference: dict[int, dict[str, Written]]) -> None:
    base = reference[0]
    assert base["etc/passwd"][2] == b"root:x:0:0::/root:/bin/sh\n"
    assert base["bin/su"] == ("f", "0o755", _bytes(2, 700))  # setuid dropped
    assert base["retarget"] == ("l", "etc/passwd")
    assert base["opaque/lowersub/x"][2] == b"xx"
    assert "names" not in base
    assert reference[1]["big.bin"][2] == _bytes(3, 20000)


@pytest.mark.parametrize(("layout", "compression", "outer"), STORAGES)
def test_every_storage_extracts_the_same_files(
    reference: dict[int, dict[str, Written]], tmp_path: Path, layout: str, compression: str, outer: str
) -> None:
    path = store(edge_case_image(), tmp_path, layout, compression, outer)
    with loaded(path) as image:
        for layer in (0, len(image.layers) - 1):
            result = extract(image, "/", layer, str(tmp_path / f"out{layer}"))
            assert snapshot(tmp_path / f"out{layer}") == reference[layer]
            assert result.skipped == ["/usr/null", "/var/log/pipe"]


def test_a_subtree_and_a_single_file(tmp_path: Path) -> None:
    path = write_archive(edge_case_image(), tmp_path / "i.tar", "oci", compression="gzip")
    with loaded(path) as image:
        top = len(image.layers) - 1
        result = extract(image, "/etc/", top, str(tmp_path / "etc"))
        assert (result.files, result.dirs, result.symlinks) == (2, 1, 0)
        assert sorted(os.listdir(tmp_path / "etc")) == ["passwd", "shadow"]
        extract(image, "etc/passwd", top, str(tmp_path / "passwd"))
        assert (tmp_path / "passwd").read_bytes() == b"root:x:0:0::/root:/bin/bash\n"
        assert os.stat(tmp_path / "passwd").st_mtime == image.entries.mtime[entries_under(image, "/etc/passwd", top)[0]]
        extract(image, "/bin/sh", top, str(tmp_path / "sh"))
        assert os.readlink(tmp_path / "sh") == "/bin/busybox"
        assert read_content(image, entries_under(image, "/bin/ls", top)[0], limit=10) == _bytes(1, 5000)[:10]


def test_the_later_copy_of_a_path_repeated_in_one_layer_wins(tmp_path: Path) -> None:
    img = ImageSpec(tags=["twice:latest"])
    img.layer("ADD").file("a.txt", "first").file("b.txt", "b").file("a.txt", "second, longer")
    for compression in ("gzip", "none"):
        path = write_archive(img, tmp_path / f"{compression}.tar", "oci", compression=compression)
        with loaded(path) as image:
            extract(image, "/a.txt", 0, str(tmp_path / f"a-{compression}"))
        assert (tmp_path / f"a-{compression}").read_bytes() == b"second, longer"


def test_many_hardlinks_to_one_compressed_file(tmp_path: Path) -> None:
    img = ImageSpec(tags=["links:latest"])
    layer = img.layer("ADD").file("data", "shared bytes", mode=0o600)
    for i in range(5):
        layer.hardlink(f"link{i}", "data", mode=0o600)
    path = write_archive(img, tmp_path / "i.tar", "oci", compression="zstd")
    with loaded(path) as image:
        result = extract(image, "/", 0, str(tmp_path / "out"))
    assert result.files == 6
    assert {p.read_bytes() for p in (tmp_path / "out").iterdir()} == {b"shared bytes"}


def test_a_symlinked_directory_never_leads_writes_outside(tmp_path: Path) -> None:
    """A layer holding ``lib -> OUTSIDE`` and ``lib/x``: nothing may land in OUTSIDE."""
    outside = tmp_path / "outside"
    outside.mkdir()
    img = ImageSpec(tags=["evil:latest"])
    img.layer("ADD").symlink("lib", str(outside)).file("lib/x", "payload").file("ok", "fine")
    path = write_archive(img, tmp_path / "i.tar", "docker")
    with loaded(path) as image:
        result = extract(image, "/", 0, str(tmp_path / "out"))
    assert list(outside.iterdir()) == []
    assert (tmp_path / "out" / "ok").read_bytes() == b"fine"
    assert not (tmp_path / "out" / "lib").is_symlink()
    assert (tmp_path / "out" / "lib" / "x").read_bytes() == b"payload"
    assert result.symlinks == 0


def test_refusals(tmp_path: Path) -> None:
    path = write_archive(edge_case_image(), tmp_path / "i.tar", "docker")
    (tmp_path / "taken").write_text("mine")
    with loaded(path) as image:
        top = len(image.layers) - 1
        with pytest.raises(ExtractError, match="already exists"):
            extract(image, "/etc", top, str(tmp_path / "taken"))
        assert (tmp_path / "taken").read_text() == "mine"
        with pytest.raises(ExtractError, match="does not exist"):
            extract(image, "/etc", top, str(tmp_path / "missing" / "etc"))
        with pytest.raises(UsageError, match="/bin/su does not exist in the filesystem after layer 4"):
            extract(image, "/bin/su", top, str(tmp_path / "su"))
        with pytest.raises(UsageError, match=r"layers 0\.\.4"):
            extract(image, "/etc", 9, str(tmp_path / "x"))
        buf = io.BytesIO()
        assert write_file(image, "/etc/passwd", 0, buf) == len(b"root:x:0:0::/root:/bin/sh\n")
        assert buf.getvalue() == b"root:x:0:0::/root:/bin/sh\n"
        with pytest.raises(UsageError, match="not a regular file"):
            write_file(image, "/etc", top, io.BytesIO())
    assert sorted(os.listdir(tmp_path)) == ["i.tar", "taken"]


def test_progress_reaches_the_total(tmp_path: Path) -> None:
    path = write_archive(edge_case_image(), tmp_path / "i.tar", "oci", compression="gzip")
    seen: list[tuple[int, int]] = []
    with loaded(path) as image:
        result = extract(image, "/", 1, str(tmp_path / "out"), progress=lambda d, t: seen.append((d, t)))
    assert seen and seen[-1][0] == seen[-1][1] == result.bytes
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_entry_at_agrees_with_the_merged_tree(tmp_path: Path) -> None:
    """The viewer's one-path lookup gives the same entry as the full merged tree, at every layer."""
    path = write_archive(edge_case_image(), tmp_path / "i.tar", "docker")
    with loaded(path) as image:
        names = image.paths.paths
        for layer in range(len(image.layers)):
            visible = {names[image.entries.pid[g]]: g for g in image.visible_at(layer)}
            assert len(visible) > 20
            for p in names[1:]:
                assert image.entry_at("/" + p, layer) == visible.get(p), (p, layer)
        assert image.entry_at("/no/such/path", 0) is None


@pytest.mark.parametrize(("layout", "compression", "outer"), STORAGES)
def test_archive_order_inside_a_layer_decides_the_bytes(
    tmp_path: Path, layout: str, compression: str, outer: str
) -> None:
    """``f`` v1, ``h -> f``, ``f`` v2 in one layer: ``h`` keeps v1; a doubled whiteout is not a file copy."""
    img = ImageSpec()
    img.layer("base").file("x", "lower x\n")
    top = img.layer("same layer")
    top.file("f", "version one\n").hardlink("h", "f").file("f", "version two, longer\n")
    top.whiteout("x").whiteout("x").file("x", "upper x\n")  # the second .wh.x shadows the first
    with loaded(store(img, tmp_path, layout, compression, outer)) as image:

        def content(path: str) -> bytes:
            g = image.entry_at(path, 1)
            assert g is not None, path
            return read_content(image, g)

        assert content("/h") == b"version one\n"
        assert content("/f") == b"version two, longer\n"
        assert content("/x") == b"upper x\n"
        assert image.content_size(image.entry_at("/h", 1) or -1) == len(b"version one\n")
