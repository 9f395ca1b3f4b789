"""Extraction from every real archive format equals ``umoci unpack``'s rootfs, byte for byte.

Run with ``DIVEPY_REAL_IMAGES``; skipped otherwise.  Covers the three ways
content is read back: ``pread`` in plain tar layers, one decompressing pass
over gzip/zstd layers, and re-decompressing a gzip-compressed outer archive.
"""

from __future__ import annotations

import hashlib
import os
import tarfile
from pathlib import Path

import pytest

from dive_py.core.content.extract import extract
from tests.conftest import real_image
from tests.helpers import loaded
from tests.real.test_real_images import BUILDER_ARTEFACTS, SAME_IMAGE_GROUPS, SMALL_MIXED, small_mixed_name

pytestmark = pytest.mark.real


def rootfs_truth() -> dict[str, tuple[str, str]]:
    """path -> ("f", sha256) or ("l", target) from the umoci rootfs tar."""
    out: dict[str, tuple[str, str]] = {}
    with tarfile.open(real_image("ground-truth/small-mixed.umoci-rootfs.tar")) as tar:
        for m in tar:
            name = m.name.removeprefix("./").removeprefix("rootfs/").strip("/")
            if not name or name == "rootfs":
                continue
            if m.isfile():
                fh = tar.extractfile(m)
                assert fh is not None
                out[name] = ("f", hashlib.sha256(fh.read()).hexdigest())
            elif m.islnk():
                out[name] = ("f", out[m.linkname.removeprefix("./").removeprefix("rootfs/").strip("/")][1])
            elif m.issym():
                out[name] = ("l", m.linkname)
    return out


def written(root: Path) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for dirpath, dirs, files in os.walk(root):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(dirpath, d))]:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            if os.path.islink(full):
                out[rel] = ("l", os.readlink(full))
            else:
                out[rel] = ("f", hashlib.sha256(Path(full).read_bytes()).hexdigest())
    return out


@pytest.mark.parametrize("name", SMALL_MIXED)
def test_extracting_the_root_gives_the_unpacked_rootfs(tmp_path: Path, name: str) -> None:
    path = real_image(name)
    truth = rootfs_truth()
    assert sum(1 for kind, _ in truth.values() if kind == "f") >= 30
    with loaded(path, image=small_mixed_name(path)) as image:
        result = extract(image, "/", len(image.layers) - 1, str(tmp_path / "root"))
    ours = written(tmp_path / "root")
    extra: set[str] = set()
    if name in SAME_IMAGE_GROUPS[1]:
        extra = BUILDER_ARTEFACTS["podman"]
    elif name in SAME_IMAGE_GROUPS[2]:
        extra = BUILDER_ARTEFACTS["buildah"]
    ours = {p: v for p, v in ours.items() if p not in extra and not p.startswith(tuple(f"{x}/" for x in extra))}
    assert ours == truth
    assert result.files >= sum(1 for kind, _ in truth.values() if kind == "f")
