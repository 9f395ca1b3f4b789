"""``divepy NEW --compare OLD``: the report on stdout, OLD from any source, bad combinations refused in one line."""

from __future__ import annotations

import json
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


@pytest.mark.parametrize("flag", [["--ci"], ["--list"], ["--explain"], ["--markdown", "m.md"]])
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


def test_the_comparison_as_json_has_every_path_and_the_report_moves_to_stderr(tmp_path: Path) -> None:
    new = write_archive(new_image(), tmp_path / "new.tar")
    old = write_archive(base(), tmp_path / "old.tar")
    res = run_divepy(new, "--compare", old, "--json", "-", "-q", cwd=tmp_path)
    assert res.code == 0
    assert res.stderr == GOLDEN.read_text()  # the text report, out of the JSON's way
    doc = json.loads(res.out)
    assert (doc["schemaVersion"], doc["kind"]) == (1, "divepy-compare")
    assert (doc["old"]["names"], doc["new"]["names"]) == (["app:1"], ["app:2"])
    assert doc["new"]["sizeBytes"] - doc["old"]["sizeBytes"] == 66_001
    assert doc["layers"]["shared"] == 2 and [la["index"] for la in doc["layers"]["new"]] == [2, 3, 4]
    assert doc["growth"][0] == {
        "layer": 4,
        "command": "RUN npm ci",
        "bytes": 36_000,
        "directory": "/usr/lib/node_modules",
        "directoryBytes": 29_000,
        "junkBytes": 7_000,
    }
    items = {item["path"]: item for item in doc["paths"]["items"]}
    assert items["/app/main.py"] == {
        "path": "/app/main.py",
        "change": "modified",
        "reasons": ["content"],
        "oldSizeBytes": 12,
        "newSizeBytes": 12,
        "deltaBytes": 0,
        "layer": 2,
    }
    assert items["/usr/lib/libbar.so"]["change"] == "removed" and items["/usr/lib/libbar.so"]["layer"] == 1
    assert "/root" in items  # directories too: the text leaves them out
    assert doc["paths"]["added"] == 12 and doc["paths"]["addedBytes"] == 66_000
    assert sum(item["deltaBytes"] for item in items.values()) == 66_000 + 1 - 100
    figures = {f["key"]: f for f in doc["figures"]}
    assert figures["insights.junkBytes"]["delta"] == 7_000
    assert doc["verdict"] == {"result": "ok", "line": "verdict: ok (+66 kB, +1420.6%)"}
    to_file = run_divepy(new, "--compare", old, "--json", tmp_path / "cmp.json", "-q", cwd=tmp_path)
    assert to_file.code == 0 and to_file.stdout == GOLDEN.read_text()
    assert json.loads((tmp_path / "cmp.json").read_bytes()) == doc


def test_a_json_target_that_cannot_be_written_is_said_before_anything_is_read(tmp_path: Path) -> None:
    new = write_archive(new_image(), tmp_path / "new.tar")
    res = run_divepy(new, "--compare", tmp_path / "gone.tar", "--json", tmp_path / "no-dir" / "x.json", cwd=tmp_path)
    assert res.code == 2 and "no-dir" in res.stderr and "gone.tar" not in res.stderr
