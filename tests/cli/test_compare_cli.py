"""``divepy NEW --compare OLD``: the report on stdout, OLD from any source, bad combinations refused in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from dive_py.fixtures.builder import ImageSpec, write_archive, write_layout_dir
from tests.clitools import run_divepy
from tests.core.test_image_diff import base, variant

GOLDEN = Path(__file__).parents[1] / "data" / "compare-variant.txt"


def new_image() -> ImageSpec:
    img = variant()
    deps = img.layer("RUN npm ci")
    deps.file("usr/lib/node_modules/left-pad/index.js", "l" * 20_000)
    deps.file("usr/lib/node_modules/react/index.js", "r" * 9_000)
    deps.file("root/.npm/_cacache/blob", "c" * 7_000)
    return img


@pytest.mark.parametrize("old_form", ["docker", "oci-gzip-archive", "layout-dir"])
def test_the_comparison_is_the_same_whatever_form_old_has(tmp_path: Path, old_form: str) -> None:
    new = write_archive(new_image(), tmp_path / "new.tar")
    if old_form == "docker":
        old = write_archive(base(), tmp_path / "old.tar")
    elif old_form == "oci-gzip-archive":
        old = write_archive(base(), tmp_path / "old.tar.gz", "oci", outer="gzip")
    else:
        old = write_layout_dir(base(), tmp_path / "old-layout")
    res = run_divepy(new, "--compare", old, "-q", cwd=tmp_path)
    assert (res.code, res.stderr) == (0, "")
    assert res.stdout == GOLDEN.read_text()


@pytest.mark.parametrize("flag", [["--json", "-"], ["--ci"], ["--list"], ["--explain"], ["--markdown", "m.md"]])
def test_a_comparison_has_its_text_report_only(tmp_path: Path, flag: list[str]) -> None:
    new = write_archive(new_image(), tmp_path / "new.tar")
    res = run_divepy(new, "--compare", new, *flag, cwd=tmp_path)
    assert res.code == 2 and res.stdout == ""
    assert res.stderr == (
        f"divepy: error: --compare prints the comparison as text; it cannot be combined with {flag[0]} "
        "(compare each image with those on its own)\n"
    )


def test_a_missing_old_image_is_one_line(tmp_path: Path) -> None:
    new = write_archive(new_image(), tmp_path / "new.tar")
    res = run_divepy(new, "--compare", tmp_path / "gone.tar", cwd=tmp_path)
    assert (res.code, res.stdout) == (2, "")
    assert res.stderr == f"divepy: error: {tmp_path / 'gone.tar'}: no such file or directory\n"


def test_an_image_against_itself_changes_nothing(tmp_path: Path) -> None:
    new = write_archive(new_image(), tmp_path / "new.tar")
    res = run_divepy(new, "--compare", new, "-q", cwd=tmp_path)
    assert res.code == 0
    assert "NEW is the same size (+0.0%)" in res.stdout
    assert "Paths: 0 added (0 B), 0 removed (0 B), 0 modified (0 B)" in res.stdout
    assert res.stdout.rstrip().endswith("verdict: ok (same size)")
