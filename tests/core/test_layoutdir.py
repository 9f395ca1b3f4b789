"""OCI layout directories: names resolved inside the layout, only regular files opened."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from dive_py.core.archive.layoutdir import DirectoryArchive
from dive_py.errors import ArchiveError
from dive_py.fixtures.builder import ImageSpec, write_layout_dir


@pytest.fixture
def layout(tmp_path: Path) -> Iterator[tuple[DirectoryArchive, str, Path]]:
    img = ImageSpec()
    img.layer("base").file("etc/os-release", "ID=test\n")
    root = Path(write_layout_dir(img, tmp_path / "layout", "oci", compression="none"))
    blob = max((root / "blobs" / "sha256").iterdir(), key=lambda p: p.stat().st_size)
    archive = DirectoryArchive(str(root), "layout")
    try:
        yield archive, f"blobs/sha256/{blob.name}", blob
    finally:
        archive.close()


def _hang_guard(signum: int, frame: object) -> None:
    raise TimeoutError("opening the blob blocked")


def test_a_blob_swapped_for_a_fifo_after_it_was_resolved(layout: tuple[DirectoryArchive, str, Path]) -> None:
    """Between resolving a name and opening it the file may change: a fifo must be refused, not waited on."""
    archive, name, blob = layout
    member = archive.resolve(name)
    assert member is not None and member.is_file
    blob.unlink()
    os.mkfifo(blob)
    previous = signal.signal(signal.SIGALRM, _hang_guard)
    signal.alarm(10)
    try:
        with pytest.raises(ArchiveError, match=r"is not a regular file"):
            archive.read_bytes(name)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_names_that_climb_out_are_refused(layout: tuple[DirectoryArchive, str, Path]) -> None:
    archive, _name, _blob = layout
    with pytest.raises(ArchiveError, match=r"climbs out of the layout with '\.\.': refused"):
        archive.resolve("blobs/../../outside")
