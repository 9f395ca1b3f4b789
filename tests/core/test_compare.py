"""Diff types of the comparer on edits that only one attribute or the content tells apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from dive_py.core.analysis.compare import ADDED, MODIFIED, UNMODIFIED, Comparer
from dive_py.core.analysis.hashing import ensure_hashes, hash_candidates
from dive_py.fixtures.builder import ImageSpec, write_archive
from tests.helpers import loaded


def diff_at_layer_1(
    tmp_path: Path, base: dict[str, int], top: dict[str, int], content: tuple[str, str] = ("same", "same")
) -> int:
    img = ImageSpec()
    img.layer("ADD base").file("f", content[0], **base)
    img.layer("RUN edit").file("f", content[1], **top)
    with loaded(write_archive(img, tmp_path / "img.tar")) as image:
        ensure_hashes(image, hash_candidates(image))
        tree = Comparer(image).tree(1, False)
        pid = image.paths.lookup("f")
        assert pid is not None
        return int(tree.diff[pid])


def test_a_same_size_edit_is_modified(tmp_path: Path) -> None:
    assert diff_at_layer_1(tmp_path, {}, {}, ("abc", "abd")) == MODIFIED  # only the hash tells


def test_the_same_bytes_again_are_unmodified(tmp_path: Path) -> None:
    assert diff_at_layer_1(tmp_path, {}, {}, ("abc", "abc")) == UNMODIFIED


@pytest.mark.parametrize("change", [{"gid": 7}, {"uid": 7}, {"mode": 0o600}])
def test_owner_or_mode_alone_is_modified(tmp_path: Path, change: dict[str, int]) -> None:
    assert diff_at_layer_1(tmp_path, {}, change) == MODIFIED


def test_a_new_path_is_added(tmp_path: Path) -> None:
    img = ImageSpec()
    img.layer("ADD base").file("a", "a")
    img.layer("RUN add").file("b", "b")
    with loaded(write_archive(img, tmp_path / "img.tar")) as image:
        tree = Comparer(image).tree(1, False)
        pid = image.paths.lookup("b")
        assert pid is not None and tree.diff[pid] == ADDED
