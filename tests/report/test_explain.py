"""``--explain``: the report a person reads, on dive's test image (committed) and the demo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.clitools import run_divepy
from tests.conftest import DIVE_TEST_IMAGE

#: dive's test image, explained: 32,025 reclaimable = 1,220,598 stored − 1,188,573 final (docs/metrics.md).
DIVE_TEST_EXPLAINED = (DIVE_TEST_IMAGE.parent / "explain-dive-test-image.txt").read_text()
#: The demo, explained: a finding of every kind, junk of three rules, an optional item, a duplicate, a base image.
DEMO_EXPLAINED = (DIVE_TEST_IMAGE.parent / "explain-demo.txt").read_text()


def test_dive_test_image_explained_exactly(tmp_path: Path) -> None:
    res = run_divepy(DIVE_TEST_IMAGE, "--explain", "-q", cwd=tmp_path)
    assert (res.code, res.stderr) == (0, "")
    assert res.stdout == DIVE_TEST_EXPLAINED
    assert "\x1b" not in res.stdout  # colours only on a terminal


def test_the_demo_shows_every_part_of_the_report(tmp_path: Path) -> None:
    res = run_divepy("--demo", "--explain", "-q", cwd=tmp_path)
    assert (res.code, res.stderr) == (0, "")
    assert res.stdout == DEMO_EXPLAINED
    for kind in ("removed", "overwritten", "metadataOnly", "identicalCopy"):
        assert f"  {kind} " in res.stdout
    for rule in ("vcs", "pycache", "temp-files", "docs"):
        assert f"  {rule} " in res.stdout
    assert "7.0 kB × 2  /app/static/app.min.js, /tmp/build/app.min.js" in res.stdout
    assert "squashing only the 7 layers above the base image's 1 saves 214 kB" in res.stdout


def test_headline_names_the_true_figure_and_its_kinds(tmp_path: Path) -> None:
    res = run_divepy("--demo", "--explain", "-q", cwd=tmp_path)
    lines = res.stdout.splitlines()
    assert lines[2] == (
        "This image can lose 214 kB (36% of 596 kB): 154 kB removed by later layers, "
        "60 kB stored again for a mode or owner change, 23 B overwritten with other content, "
        "13 B stored again unchanged."
    )
    assert (
        "      fix: `pip install --no-cache-dir` (or `PIP_NO_CACHE_DIR=1`) instead of deleting the cache later" in lines
    )


def test_explain_with_json_to_stdout_sends_the_report_to_stderr(tmp_path: Path) -> None:
    res = run_divepy(DIVE_TEST_IMAGE, "--explain", "--json", "-", "-q", cwd=tmp_path)
    assert res.code == 0
    assert json.loads(res.stdout)["insights"]["reclaimableBytes"] == 32025
    assert res.stderr == DIVE_TEST_EXPLAINED


def test_explain_is_not_gated_by_the_ci_variable_unless_asked(tmp_path: Path) -> None:
    res = run_divepy(DIVE_TEST_IMAGE, "--explain", "-q", cwd=tmp_path, env={"CI": "true"})
    assert res.code == 1  # CI=true gates a run on an image, as dive does; the report comes first
    assert res.stdout.startswith(DIVE_TEST_EXPLAINED)
    assert "Analysis:" in res.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--explain", "--list"], "--explain reports on the image; it cannot be combined with --list or --extract"),
        (
            ["--explain", "--extract", "etc"],
            "--explain reports on the image; it cannot be combined with --list or --extract",
        ),
        (["--base-layers", "-1"], "--base-layers -1: expected 0 or more layers"),
    ],
)
def test_bad_combinations_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    res = run_divepy(DIVE_TEST_IMAGE, *args, cwd=tmp_path)
    assert (res.code, res.stdout, res.stderr) == (2, "", f"divepy: error: {message}\n")


def test_base_layers_flag_sets_the_boundary(tmp_path: Path) -> None:
    default = json.loads(run_divepy(DIVE_TEST_IMAGE, "--json", "-", "-q", cwd=tmp_path).stdout)["insights"]
    assert default["baseLayers"] == {"count": 1, "source": "history"}
    flagged = json.loads(run_divepy(DIVE_TEST_IMAGE, "--json", "-", "-q", "--base-layers", "8", cwd=tmp_path).stdout)
    ins = flagged["insights"]
    assert ins["baseLayers"] == {"count": 8, "source": "flag"}
    # every waste copy was stored by layers 3..7 (the findings' storedIn), so none is "yours" above layer 8
    assert ins["yourLayers"] == {
        "reclaimableBytes": 0,
        "byKind": {"removed": 0, "overwritten": 0, "metadataOnly": 0, "identicalCopy": 0},
    }
    assert ins["squash"]["aboveBaseSavingBytes"] == 0
    assert ins["reclaimableBytes"] == default["reclaimableBytes"] == 32025  # the boundary changes no total
