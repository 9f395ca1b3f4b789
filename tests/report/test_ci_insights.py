"""divepy's CI rules on the true figures, ``ignorePaths`` and ``baseLayers``, on dive's test image.

dive's test image: 32,025 reclaimable bytes (13 kB under /root/example, 6.4 kB /root/saved.txt …) and
6,405 bytes of junk (/tmp/saved.again1.txt); see docs/metrics.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.clitools import run_divepy
from tests.conftest import DIVE_TEST_IMAGE


def evaluation(stdout: str) -> list[str]:
    lines = stdout.splitlines()
    start = lines.index("Evaluation:")
    return lines[start + 1 : lines.index("", start)]


def test_divepy_rules_are_absent_from_the_report_unless_set(tmp_path: Path) -> None:
    res = run_divepy(DIVE_TEST_IMAGE, "--ci", cwd=tmp_path)
    assert [line.split()[1] for line in evaluation(res.stdout)] == [
        "highestUserWastedPercent",
        "highestWastedBytes",
        "lowestEfficiency",
    ]
    assert "Reclaimable (biggest" not in res.stdout


def test_rules_from_flags_fail_with_the_findings_behind_them(tmp_path: Path) -> None:
    res = run_divepy(
        DIVE_TEST_IMAGE,
        "--ci",
        "--highestUserWastedPercent",
        "off",
        "--highest-reclaimable-bytes",
        "32024",
        "--highestReclaimablePercent",
        "0.03",
        "--highestJunkBytes",
        "6405",
        cwd=tmp_path,
    )
    assert res.code == 1
    assert evaluation(res.stdout) == [
        "  PASS  highestJunkBytes (6405)",  # strictly greater fails, as dive's rules
        "  FAIL  highestReclaimableBytes (too many bytes a squash would save "
        "(reclaimable-bytes=32025 > threshold=32024))",
        "  PASS  highestReclaimablePercent (0.03)",  # 32,025 / 1,220,598 = 0.026
        "  SKIP  highestUserWastedPercent (disabled)",
        "  SKIP  highestWastedBytes (disabled)",
        "  PASS  lowestEfficiency (0.9)",
    ]
    assert "     13 kB  removed       /root/example" in res.stdout.splitlines()
    assert "Junk (biggest first):" not in res.stdout
    assert res.stdout.endswith("FAIL [pass:3 fail:1 skip:2]\n")


def test_rules_ignore_paths_and_base_layers_from_dive_ci(tmp_path: Path) -> None:
    (tmp_path / ".dive-ci").write_text(
        "rules:\n"
        "  highest-junk-bytes: 1B\n"
        "  highestReclaimableBytes: 7kB\n"
        "  lowestEfficiency: off\n"
        "  highestUserWastedPercent: off\n"
        "  ignorePaths: ['/root/example/**']\n"
        "baseLayers: 8\n"
    )
    res = run_divepy(DIVE_TEST_IMAGE, "--ci", "--json", "out.json", cwd=tmp_path)
    assert res.code == 1
    # without /root/example only /root/saved.txt's chmod copy (6,405 bytes) is reclaimable
    assert evaluation(res.stdout)[:2] == [
        "  FAIL  highestJunkBytes (too much junk in the final image (junk-bytes=6405 > threshold=1))",
        "  PASS  highestReclaimableBytes (7kB)",
    ]
    assert "    6.4 kB  temp-files         /tmp (layer 11)" in res.stdout.splitlines()
    insights = json.loads((tmp_path / "out.json").read_text())["insights"]
    assert (insights["reclaimableBytes"], insights["baseLayers"]) == (6405, {"count": 8, "source": "config"})


def test_ignore_path_flag_changes_divepy_figures_not_dives(tmp_path: Path) -> None:
    plain = json.loads(run_divepy(DIVE_TEST_IMAGE, "--json", "-", "-q", cwd=tmp_path).stdout)
    ignored = json.loads(
        run_divepy(DIVE_TEST_IMAGE, "--json", "-", "-q", "--ignore-path", "/tmp/**", cwd=tmp_path).stdout
    )
    assert plain["image"] == ignored["image"] and plain["layer"] == ignored["layer"]  # dive's keys stay dive's
    assert (plain["insights"]["junkBytes"], ignored["insights"]["junkBytes"]) == (6405, 0)
    # /tmp/saved.again1.txt is a final copy: the stored and the final bytes both lose its 6,405 bytes
    assert ignored["insights"]["storedBytes"] == plain["insights"]["storedBytes"] - 6405
    assert ignored["insights"]["reclaimableBytes"] == plain["insights"]["reclaimableBytes"] == 32025


@pytest.mark.parametrize(
    ("ci_file", "message"),
    [
        ("baseLayers: two\n", ".dive-ci: baseLayers must be a number of layers (got 'two')"),
        ("ignorePaths: {a: b}\n", ".dive-ci: ignorePaths must be a list of path globs"),
        (
            "rules:\n  ignorePaths: [tmp/**]\n",
            ".dive-ci: ignorePaths: pattern 'tmp/**' must be an absolute path or start with **/",
        ),
        (
            "rules:\n  highestJunkBytes: lots\n",
            ".dive-ci: rules.highestJunkBytes: highestJunkBytes must be a size like 20MB or 1KiB, or 'disabled' "
            "(got 'lots')",
        ),
        (
            "rules:\n  highestReclaimablePercent: 2\n",
            ".dive-ci: rules.highestReclaimablePercent: highestReclaimablePercent must be between 0 and 1 (got '2')",
        ),
    ],
)
def test_bad_dive_ci_values_are_one_line(tmp_path: Path, ci_file: str, message: str) -> None:
    (tmp_path / ".dive-ci").write_text(ci_file)
    res = run_divepy(DIVE_TEST_IMAGE, "--ci", cwd=tmp_path)
    assert (res.code, res.stdout, res.stderr) == (2, "", f"divepy: error: {message}\n")


def test_a_directory_glob_ignores_everything_below_it(tmp_path: Path) -> None:
    def reclaimable(*globs: str) -> int:
        args = [a for g in globs for a in ("--ignore-path", g)]
        doc = json.loads(run_divepy(DIVE_TEST_IMAGE, "--json", "-", "-q", *args, cwd=tmp_path).stdout)
        value: int = doc["insights"]["reclaimableBytes"]
        return value

    # /root/example holds 25,620 of the 32,025 reclaimable bytes (two findings and somefile3's copy)
    assert reclaimable("/root/example") == reclaimable("/root/example/**") == reclaimable("**/example") == 6405
    assert reclaimable("/root/exam*") == 6405  # `*` within one name
    # somefile1.txt has two waste copies: layer 3's (chmod copy-up) and layer 4's (removed with the directory)
    assert reclaimable("/root/*/somefile1.txt") == 32025 - 2 * 6405
