"""``--ci``: dive's rules and dive's (HEAD) report text, exact (reference §5, §10.3, §10.4).

Every run happens in a fresh temporary directory so that no stray
``.dive-ci`` is picked up, with an environment scrubbed of CI/colour/rule
variables (see tests/clitools.py).
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from dive_py.config import RuleSettings, load_rules, parse_rule
from dive_py.core.analysis.efficiency import Efficiency, analyse
from dive_py.core.model.loader import load_image
from dive_py.report.ci import evaluate, passed, render_report
from tests.clitools import ANSI, Result, clean_env, dive_ci, run_divepy
from tests.conftest import peer_image

DOCKER_DEFAULT = """\
Analysis:
  efficiency:        98.44 %
  wastedBytes:       32025 bytes (32 kB)
  userWastedPercent: 48.35 %

Inefficient Files:
  Count  Wasted Space  File Path
  2      13 kB         /root/saved.txt
  2      13 kB         /root/example/somefile1.txt
  2      6.4 kB        /root/example/somefile3.txt

Evaluation:
  FAIL  highestUserWastedPercent (too many bytes wasted, relative to the user bytes added \
(%-user-wasted-bytes=0.48 > threshold=0.1))
  SKIP  highestWastedBytes (disabled)
  PASS  lowestEfficiency (0.9)

FAIL [pass:1 fail:1 skip:1]
"""

# dive's .data/.dive-ci, with its ignored plugin keys
DATA_DIVE_CI = """\
plugins:
  - plugin1

rules:
  # If the efficiency is measured below X%, mark as failed.
  lowestEfficiency: 0.95
  highestWastedBytes: 20Mb
  highestUserWastedPercent: 0.5

  plugin1/rule1: error
"""

KANIKO_DATA_DIVE_CI = """\
Analysis:
  efficiency:        97.94 %
  wastedBytes:       46245 bytes (46 kB)
  userWastedPercent: 48.85 %

Inefficient Files:
  Count  Wasted Space  File Path
  2      18 kB         /root/saved.txt
  2      18 kB         /root/example/somefile1.txt
  2      9.2 kB        /root/example/somefile3.txt

Evaluation:
  PASS  highestUserWastedPercent (0.5)
  PASS  highestWastedBytes (20Mb)
  PASS  lowestEfficiency (0.95)

PASS [pass:3]
"""

OCI_SINGLE_LAYER = """\
Analysis:
  efficiency:        100.00 %
  wastedBytes:       0 bytes
  userWastedPercent: 0 %

Inefficient Files: (None)

Evaluation:
  PASS  highestUserWastedPercent (0.1)
  SKIP  highestWastedBytes (disabled)
  PASS  lowestEfficiency (0.9)

PASS [pass:2 skip:1]
"""


def ci(cwd: Path, *args: str | Path, env: dict[str, str] | None = None) -> Result:
    return run_divepy("--ci", *args, cwd=cwd, env=env)


@pytest.fixture
def docker() -> Path:
    return peer_image("test-docker-image.tar")


def test_default_rules_report(tmp_path: Path, docker: Path) -> None:
    res = ci(tmp_path, docker)
    assert res.stdout == DOCKER_DEFAULT
    assert res.code == 1
    assert res.err == b""  # progress only on a terminal


def test_dive_ci_file_on_kaniko(tmp_path: Path) -> None:
    (tmp_path / ".dive-ci").write_text(DATA_DIVE_CI)
    res = ci(tmp_path, peer_image("test-kaniko-image.tar"))
    assert res.stdout == KANIKO_DATA_DIVE_CI
    assert res.code == 0


@pytest.mark.dive
def test_dive_accepts_the_same_dive_ci_on_kaniko(tmp_path: Path) -> None:
    (tmp_path / ".dive-ci").write_text(DATA_DIVE_CI)
    code, report = dive_ci(peer_image("test-kaniko-image.tar"), tmp_path, "--ci-config", ".dive-ci")
    assert code == 0
    assert "Result:PASS [Total:3] [Passed:3] [Failed:0] [Warn:0] [Skipped:0]" in report


def test_dive_head_snapshot_with_kebab_case_file(tmp_path: Path, docker: Path) -> None:
    """§10.3: kebab-case keys, values as written ('0.90'), a misspelled efficiency key left at its default."""
    (tmp_path / "ci.yaml").write_text(
        "rules:\n  lowest-efficency: '0.5'\n  highest-wasted-bytes: '20MB'\n  highest-user-wasted-percent: '0.90'\n"
    )
    res = ci(tmp_path, f"docker-archive://{docker}", "--ci-config", "ci.yaml")
    assert res.code == 0
    assert res.stdout.endswith("""
Evaluation:
  PASS  highestUserWastedPercent (0.90)
  PASS  highestWastedBytes (20MB)
  PASS  lowestEfficiency (0.9)

PASS [pass:3]
""")
    assert res.stdout.startswith(DOCKER_DEFAULT.split("Evaluation:")[0])


def test_single_layer_oci_report(tmp_path: Path) -> None:
    """dive HEAD prints "0 bytes " (an empty humanized part, trailing space); 0.13.1 prints "NaN %"."""
    res = ci(tmp_path, peer_image("test-oci-gzip-image.tar"))
    assert res.stdout == OCI_SINGLE_LAYER
    assert res.code == 0


# --- the evaluator table (dive's Test_Evaluator) ---------------------------------------------------------------


def rules(eff: str, wasted: str, pct: str) -> RuleSettings:
    return RuleSettings(
        parse_rule("lowestEfficiency", eff, "test"),
        parse_rule("highestWastedBytes", wasted, "test"),
        parse_rule("highestUserWastedPercent", pct, "test"),
        None,
    )


@pytest.fixture(scope="module")
def docker_eff() -> Efficiency:
    image = load_image(str(peer_image("test-docker-image.tar")))
    try:
        return analyse(image)
    finally:
        image.close()


@pytest.mark.parametrize(
    ("case", "eff", "wasted", "pct", "ok", "statuses"),
    [
        ("allFail", "0.99", "1B", "0.01", False, ("FAIL", "FAIL", "FAIL")),
        ("allPass", "0.9", "50kB", "0.5", True, ("PASS", "PASS", "PASS")),
        ("allDisabled", "disabled", "disabled", "disabled", True, ("SKIP", "SKIP", "SKIP")),
        ("mixedResults", "0.9", "1B", "0.5", False, ("PASS", "FAIL", "PASS")),
    ],
)
def test_evaluator_table(
    docker_eff: Efficiency, case: str, eff: str, wasted: str, pct: str, ok: bool, statuses: tuple[str, str, str]
) -> None:
    results = evaluate(rules(eff, wasted, pct), docker_eff)
    by_name = {r.name: r.status for r in results}
    assert (by_name["lowestEfficiency"], by_name["highestWastedBytes"], by_name["highestUserWastedPercent"]) == statuses
    assert [r.name for r in results] == ["highestUserWastedPercent", "highestWastedBytes", "lowestEfficiency"]
    assert passed(results) is ok


def test_all_fail_details(docker_eff: Efficiency) -> None:
    results = evaluate(rules("0.99", "1B", "0.01"), docker_eff)
    text = render_report(docker_eff, results, color=False)
    assert text.endswith("""Evaluation:
  FAIL  highestUserWastedPercent (too many bytes wasted, relative to the user bytes added \
(%-user-wasted-bytes=0.48 > threshold=0.01))
  FAIL  highestWastedBytes (too many bytes wasted (wasted-bytes=32025 > threshold=1))
  FAIL  lowestEfficiency (image efficiency is too low (efficiency=0.98 < threshold=0.99))

FAIL [fail:3]
""")


def test_all_disabled_summary(docker_eff: Efficiency) -> None:
    text = render_report(docker_eff, evaluate(rules("off", "disabled", ""), docker_eff), color=False)
    assert text.endswith(
        "  SKIP  highestUserWastedPercent (disabled)\n  SKIP  highestWastedBytes (disabled)\n"
        "  SKIP  lowestEfficiency (disabled)\n\nPASS [skip:3]\n"
    )


def test_comparisons_are_strict(docker_eff: Efficiency) -> None:
    exact = evaluate(rules(repr(docker_eff.score), "32025", repr(docker_eff.user_wasted_percent)), docker_eff)
    assert [r.status for r in exact] == ["PASS", "PASS", "PASS"]
    over = evaluate(rules("0.9", "32024", "0.4834911001404048"), docker_eff)
    assert [r.status for r in over] == ["FAIL", "FAIL", "PASS"]


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--lowestEfficiency", "1.1", "lowestEfficiency must be between 0 and 1 (got '1.1')"),
        ("--lowestEfficiency", "-0.1", "lowestEfficiency must be between 0 and 1 (got '-0.1')"),
        (
            "--lowestEfficiency",
            "not_a_number",
            "lowestEfficiency must be a ratio between 0 and 1, or 'disabled' (got 'not_a_number')",
        ),
        (
            "--highestWastedBytes",
            "not_a_size",
            "highestWastedBytes must be a size like 20MB or 1KiB, or 'disabled' (got 'not_a_size')",
        ),
        ("--highestUserWastedPercent", "1.1", "highestUserWastedPercent must be between 0 and 1 (got '1.1')"),
        ("--highestUserWastedPercent", "-0.1", "highestUserWastedPercent must be between 0 and 1 (got '-0.1')"),
        (
            "--highestUserWastedPercent",
            "not_a_number",
            "highestUserWastedPercent must be a ratio between 0 and 1, or 'disabled' (got 'not_a_number')",
        ),
    ],
)
def test_misconfigured_flags(tmp_path: Path, docker: Path, flag: str, value: str, message: str) -> None:
    res = ci(tmp_path, docker, f"{flag}={value}")
    assert res.code == 2
    assert res.stderr == f"divepy: error: {flag}: {message}\n"
    assert res.out == b""


def test_misconfigured_file(tmp_path: Path, docker: Path) -> None:
    (tmp_path / ".dive-ci").write_text("rules:\n  highest-user-wasted-percent: 1.5\n")
    res = ci(tmp_path, docker)
    assert res.code == 2
    assert res.stderr == (
        "divepy: error: .dive-ci: rules.highestUserWastedPercent: highestUserWastedPercent "
        "must be between 0 and 1 (got '1.5')\n"
    )


def test_invalid_yaml_and_shapes(tmp_path: Path, docker: Path) -> None:
    (tmp_path / "bad.yaml").write_text("rules: [\n")
    res = ci(tmp_path, docker, "--ci-config", "bad.yaml")
    assert (res.code, res.stderr) == (2, "divepy: error: bad.yaml: CI config is not valid YAML at line 2\n")
    (tmp_path / "list.yaml").write_text("- rules\n")
    res = ci(tmp_path, docker, "--ci-config", "list.yaml")
    assert (res.code, res.stderr) == (2, "divepy: error: list.yaml: expected a mapping with a 'rules' section\n")


def test_missing_ci_config_file(tmp_path: Path, docker: Path) -> None:
    res = ci(tmp_path, docker, "--ci-config", "nope.yaml")
    assert res.code == 2
    assert res.stderr == "divepy: error: nope.yaml: CI config file not found\n"


def test_unknown_keys_are_ignored(tmp_path: Path, docker: Path) -> None:
    (tmp_path / ".dive-ci").write_text("ui: {theme: dark}\nrules:\n  somethingElse: 3\n  lowestEfficiency: 0.5\n")
    res = ci(tmp_path, docker)
    assert "  PASS  lowestEfficiency (0.5)\n" in res.stdout
    assert res.code == 1  # the default percent rule still fails


def test_precedence_flag_env_file_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for var in (
        "DIVE_RULES_LOWEST_EFFICIENCY",
        "DIVE_RULES_HIGHEST_WASTED_BYTES",
        "DIVE_RULES_HIGHEST_USER_WASTED_PERCENT",
    ):
        monkeypatch.delenv(var, raising=False)
    none: dict[str, str | None] = {
        "lowestEfficiency": None,
        "highestWastedBytes": None,
        "highestUserWastedPercent": None,
    }
    defaults = load_rules(none, None)
    assert (
        defaults.lowest_efficiency.threshold,
        defaults.highest_wasted_bytes.threshold,
        defaults.highest_user_wasted_percent.threshold,
    ) == (0.9, None, 0.1)
    assert defaults.source_file is None
    Path(".dive-ci").write_text("rules:\n  lowestEfficiency: 0.5\n  highestWastedBytes: 1KiB\n")
    from_file = load_rules(none, None)
    assert (from_file.lowest_efficiency.threshold, from_file.highest_wasted_bytes.threshold) == (0.5, 1024.0)
    assert from_file.lowest_efficiency.origin == ".dive-ci: rules.lowestEfficiency"
    monkeypatch.setenv("DIVE_RULES_LOWEST_EFFICIENCY", "0.6")
    from_env = load_rules(none, None)
    assert from_env.lowest_efficiency.threshold == 0.6
    assert from_env.lowest_efficiency.origin == "DIVE_RULES_LOWEST_EFFICIENCY"
    assert from_env.highest_wasted_bytes.threshold == 1024.0  # still from the file
    from_flag = load_rules({**none, "lowestEfficiency": "0.7"}, None)
    assert (from_flag.lowest_efficiency.threshold, from_flag.lowest_efficiency.origin) == (0.7, "--lowestEfficiency")


def test_precedence_end_to_end(tmp_path: Path, docker: Path) -> None:
    (tmp_path / ".dive-ci").write_text("rules:\n  lowestEfficiency: 0.99\n  highestUserWastedPercent: 0.9\n")
    assert (
        "  FAIL  lowestEfficiency (image efficiency is too low (efficiency=0.98 < threshold=0.99))\n"
        in ci(tmp_path, docker).stdout
    )
    env = {"DIVE_RULES_LOWEST_EFFICIENCY": "0.5"}
    res = ci(tmp_path, docker, env=env)
    assert "  PASS  lowestEfficiency (0.5)\n" in res.stdout and res.code == 0
    res = ci(tmp_path, docker, "--lowestEfficiency", "0.985", env=env)
    assert "(efficiency=0.98 < threshold=0.985)" in res.stdout and res.code == 1
    res = ci(tmp_path, docker, "--highest-wasted-bytes", "32kB", env={"DIVE_RULES_HIGHEST_WASTED_BYTES": "1MB"})
    assert "  FAIL  highestWastedBytes (too many bytes wasted (wasted-bytes=32025 > threshold=32000))\n" in res.stdout


@pytest.mark.parametrize("value", ["true", "1", "yes", "TRUE"])
def test_ci_env_enables_ci_mode(tmp_path: Path, docker: Path, value: str) -> None:
    res = run_divepy(docker, cwd=tmp_path, env={"CI": value})
    assert (res.code, res.stdout) == (1, DOCKER_DEFAULT)


def test_ci_false_does_not(tmp_path: Path, docker: Path) -> None:
    res = run_divepy(docker, "--json", "-", "-q", cwd=tmp_path, env={"CI": "false"})
    assert res.code == 0
    assert res.out.startswith(b'{\n  "layer": [')
    assert res.err == b""
    listing = run_divepy(docker, "--list", cwd=tmp_path, env={"CI": "true"})
    assert listing.code == 0
    assert "Analysis:" not in listing.stdout  # --list is never a CI run
    assert listing.stdout.startswith("dir      0755     0:0                0 /bin\n")


def test_no_ci_flag_overrides_the_ci_environment(tmp_path: Path, docker: Path) -> None:
    """In a pipeline (CI=true) ``--no-ci`` gets the plain JSON export without the gate."""
    res = run_divepy(docker, "--no-ci", "--json", "-", "-q", cwd=tmp_path, env={"CI": "true"})
    assert res.code == 0
    assert res.err == b""
    assert res.out.startswith(b'{\n  "layer": [')
    gated = run_divepy(docker, "--json", "-", "-q", cwd=tmp_path, env={"CI": "true"})
    assert gated.code == 1 and gated.stderr == DOCKER_DEFAULT


def test_ci_env_with_json_stdout_moves_report_to_stderr(tmp_path: Path, docker: Path) -> None:
    res = run_divepy(docker, "--json", "-", cwd=tmp_path, env={"CI": "1"})
    assert res.code == 1
    assert res.stderr == DOCKER_DEFAULT
    assert res.out.startswith(b"{\n") and res.out.endswith(b"\n}")


def test_ci_and_json_file_write_both(tmp_path: Path, docker: Path) -> None:
    res = ci(tmp_path, docker, "--json", "out.json")
    assert (res.code, res.stdout) == (1, DOCKER_DEFAULT)
    assert (tmp_path / "out.json").read_bytes().startswith(b'{\n  "layer": [\n')


STYLED_TAIL = (
    "\x1b[1mEvaluation:\x1b[0m\n"
    "  \x1b[1;31mFAIL\x1b[0m  highestUserWastedPercent (too many bytes wasted, relative to the user bytes "
    "added (%-user-wasted-bytes=0.48 > threshold=0.1))\n"
    "  \x1b[2mSKIP\x1b[0m  highestWastedBytes (disabled)\n"
    "  \x1b[32mPASS\x1b[0m  lowestEfficiency (0.9)\n\n"
    "\x1b[1;31mFAIL\x1b[0m [pass:1 fail:1 skip:1]\n"
)


def test_colours(tmp_path: Path, docker: Path) -> None:
    plain = ci(tmp_path, docker)
    assert "\x1b" not in plain.stdout
    forced = ci(tmp_path, docker, env={"FORCE_COLOR": "1"})
    assert forced.stdout.startswith("\x1b[1mAnalysis:\x1b[0m\n")
    assert forced.stdout.endswith(STYLED_TAIL)
    assert "\x1b[1mInefficient Files:\x1b[0m\n" in forced.stdout
    assert ANSI.sub("", forced.stdout) == DOCKER_DEFAULT
    assert ci(tmp_path, docker, env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout == DOCKER_DEFAULT
    assert ci(tmp_path, docker, "--no-color", env={"FORCE_COLOR": "1"}).stdout == DOCKER_DEFAULT


def test_colour_on_a_terminal(tmp_path: Path, docker: Path) -> None:
    master, slave = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "dive_py", "--ci", "-q", str(docker)],
            cwd=tmp_path,
            env=clean_env(),
            stdout=slave,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )
        os.close(slave)
        slave = -1
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        if slave != -1:
            os.close(slave)
        os.close(master)
    out = b"".join(chunks).decode().replace("\r\n", "\n")
    assert proc.returncode == 1
    assert out.endswith(STYLED_TAIL)
    assert "\x1b[1mAnalysis:\x1b[0m" in out
