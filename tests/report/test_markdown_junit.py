"""``--markdown``, ``--junit`` and ``$GITHUB_STEP_SUMMARY``: files for pull requests and CI test reports."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from dive_py.fixtures.builder import ImageSpec, write_archive
from tests.clitools import run_divepy
from tests.conftest import DIVE_TEST_IMAGE

GATE = ["--highestReclaimableBytes", "10kB", "--highestJunkBytes", "1MB"]


def test_markdown_has_the_headline_the_rules_and_the_findings(tmp_path: Path) -> None:
    res = run_divepy(DIVE_TEST_IMAGE, "--ci", *GATE, "--markdown", "report.md", cwd=tmp_path)
    assert res.code == 1
    lines = (tmp_path / "report.md").read_text().splitlines()
    assert lines[0] == "## divepy: dive-test:latest"
    assert lines[2] == (
        "**This image can lose 32 kB (2.6% of 1.2 MB): 19 kB removed by later layers, "
        "13 kB stored again for a mode or owner change.**"
    )
    assert "CI rules: **❌ fails**" in lines
    assert "| highestJunkBytes | PASS | 1MB |" in lines
    rows = [line for line in lines if line.startswith("| 13 kB | removed | /root/example (2 files) |")]
    assert len(rows) == 1 and "9: /bin/sh -c rm -rf /root/example/" in rows[0]


def test_markdown_without_rules_has_no_verdict(tmp_path: Path) -> None:
    res = run_divepy(DIVE_TEST_IMAGE, "--markdown", "report.md", "-q", cwd=tmp_path)
    assert (res.code, res.stdout) == (0, "")
    text = (tmp_path / "report.md").read_text()
    assert "CI rules" not in text and "### Findings (4)" in text


def test_image_text_cannot_forge_markup(tmp_path: Path) -> None:
    img = ImageSpec(tags=["evil:1"])
    name = "app/a|b](http://x)<img src=x>`*"
    img.layer("RUN make").file(name, b"j" * 100)
    img.layer("RUN rm").whiteout(name)
    archive = write_archive(img, tmp_path / "evil.tar")
    res = run_divepy(archive, "--markdown", "report.md", "-q", cwd=tmp_path)
    assert res.code == 0
    text = (tmp_path / "report.md").read_text()
    # (the tar name's "//" is one "/" once the path is normalised)
    assert "| 100 B | removed | /app/a\\|b\\](http:/x)\\<img src=x\\>\\`\\* (1 file) |" in text
    assert re.search(r"(?<!\\)<img", text) is None and re.search(r"(?<!\\)\]\(", text) is None  # none unescaped


def test_junit_has_one_case_per_rule_and_the_findings_in_the_failure(tmp_path: Path) -> None:
    res = run_divepy(DIVE_TEST_IMAGE, "--ci", *GATE, "--junit", "rules.xml", cwd=tmp_path)
    assert res.code == 1
    suite = ET.parse(tmp_path / "rules.xml").getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("5", "2", "1")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert list(cases) == [
        "highestJunkBytes",
        "highestReclaimableBytes",
        "highestUserWastedPercent",
        "highestWastedBytes",
        "lowestEfficiency",
    ]
    failure = cases["highestReclaimableBytes"].find("failure")
    assert failure is not None and failure.text is not None
    assert failure.get("message") == "too many bytes a squash would save (reclaimable-bytes=32025 > threshold=10000)"
    assert "/root/example" in failure.text
    dive_failure = cases["highestUserWastedPercent"].find("failure")
    assert dive_failure is not None and dive_failure.text == dive_failure.get("message")  # dive's rule: no findings
    assert cases["highestWastedBytes"].find("skipped") is not None
    assert list(cases["lowestEfficiency"]) == []


def test_junit_without_ci_reports_the_rules_but_does_not_gate(tmp_path: Path) -> None:
    res = run_divepy(DIVE_TEST_IMAGE, *GATE, "--junit", "rules.xml", "-q", cwd=tmp_path)
    assert (res.code, res.stdout) == (0, "")
    assert b'failures="2"' in (tmp_path / "rules.xml").read_bytes()


def test_the_step_summary_is_appended_in_ci_mode_and_never_created(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    res = run_divepy(DIVE_TEST_IMAGE, "--ci", cwd=tmp_path, env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert res.code == 1
    text = summary.read_text()
    assert text.startswith("earlier step\n## divepy: dive-test:latest\n")
    missing = tmp_path / "gone.md"
    res = run_divepy(DIVE_TEST_IMAGE, "--ci", cwd=tmp_path, env={"GITHUB_STEP_SUMMARY": str(missing)})
    assert res.code == 1 and not missing.exists()
    assert f"divepy: warning: GITHUB_STEP_SUMMARY {missing}: not written (No such file or directory)" in res.stderr
    before = summary.read_text()
    run_divepy(DIVE_TEST_IMAGE, "--json", "out.json", cwd=tmp_path, env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert summary.read_text() == before  # only a CI run writes the step summary


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--markdown", "-"], "--markdown and --junit write files; '-' (standard output) is for --json"),
        (
            ["--junit", "r.xml", "--list"],
            "--markdown and --junit report on the image; they cannot be combined with --list or --extract",
        ),
    ],
)
def test_bad_report_arguments(tmp_path: Path, args: list[str], message: str) -> None:
    res = run_divepy(DIVE_TEST_IMAGE, *args, cwd=tmp_path)
    assert (res.code, res.stdout, res.stderr) == (2, "", f"divepy: error: {message}\n")
