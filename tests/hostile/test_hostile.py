"""The hostile-input suite: every case, in every mode it lists, judged in a sandbox.

See ``harness.py`` for what is checked (time, memory, the one stderr line,
a full before/after snapshot of the sandbox) and ``cases_*.py`` for the
cases, each with its exact expected outcome.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.hostile.corpus import ALL_CASES
from tests.hostile.harness import RSS_LIMIT, Outcome, judged, make_sandbox, run, run_explorer
from tests.hostile.model import CONTROL, MODE_ARGS, Case, Expect

PARAMS = [pytest.param(case, mode, id=f"{case.name}-{mode}") for case in ALL_CASES for mode in case.modes]


#: divepy's own cache (the layer metadata of every image read, under the sandbox's HOME): always allowed.
CACHE_DIRS = ("home/.cache", "home/.cache/divepy")


def execute(case: Case, mode: str, box: Path) -> Outcome:
    """Build the case's inputs in a fresh sandbox and run divepy on them once."""
    make_sandbox(box)
    args = case.build(box) + MODE_ARGS[mode]
    if mode == "explorer":
        if shutil.which("tmux") is None and not Path("/dev/ptmx").exists():
            pytest.skip("no pseudo-terminals here")
        return judged(box, lambda: run_explorer(box, args))
    return judged(box, lambda: run(box, args, stdout_to=case.stdout_to, env_extra=case.env))


def verdict(case: Case, mode: str, out: Outcome, box: Path) -> list[str]:
    """Everything wrong with ``out`` (empty when the case passed)."""
    want: Expect = case.expected(mode)
    problems: list[str] = []
    if out.timed_out:
        return [f"no answer within the time limit ({out.seconds:.0f} s): a hang"]
    if out.rss > RSS_LIMIT:
        problems.append(f"peak RSS {out.rss >> 20} MiB is over {RSS_LIMIT >> 20} MiB")
    if "Traceback" in out.stderr or "Traceback" in out.stdout.decode("utf-8", "replace"):
        problems.append("a traceback was printed")
    if want.code == -1:
        if out.code not in (0, 1):
            problems.append(f"exit status {out.code}, expected 0 or 1 (the CI rules)")
    elif out.code != want.code:
        problems.append(f"exit status {out.code}, expected {want.code}")
    lines = out.stderr.splitlines()
    if want.code == 2 or want.message:
        errors = [ln for ln in lines if ln.startswith("divepy: error: ")]
        if len(errors) != 1 or (mode != "explorer" and len(lines) != 1):
            problems.append(f"expected exactly one 'divepy: error:' line on stderr, got {lines!r}")
        elif want.message and not re.search(want.message, errors[0]):
            problems.append(f"message {errors[0]!r} does not match {want.message!r}")
    if mode != "explorer":
        if CONTROL.search(out.stderr.replace("\n", "")):
            problems.append(f"a control character on stderr: {out.stderr!r}")
        text = out.stdout.decode("utf-8", "replace")
        if mode in ("ci", "list", "summary") and CONTROL.search(text.replace("\n", "").replace("\t", "")):
            problems.append("a control character on stdout")
        if mode == "json" and out.code == 0 and case.stdout_to is None:
            try:
                json.loads(out.stdout)
            except ValueError as exc:
                problems.append(f"stdout is not JSON: {exc}")
    allowed = (*want.creates, *CACHE_DIRS)
    changed = [p for p in out.changed if not _parent_of_created(p, out.created, box)]
    if changed:
        problems.append(f"changed or removed what existed before: {changed}")
    stray = [p for p in out.created if not any(p == a or p.startswith(a + "/") for a in allowed)]
    if stray:
        problems.append(f"created {stray} (allowed: {list(allowed)})")
    if want.check is not None and not problems:
        try:
            want.check(out, box)
        except AssertionError as exc:
            problems.append(f"check failed: {exc}")
    return problems


def _parent_of_created(path: str, created: list[str], box: Path) -> bool:
    """A directory whose entry list changed because the run created something in it (its mtime moves)."""
    return (
        (box / path).is_dir() and not (box / path).is_symlink() and any(c.rpartition("/")[0] == path for c in created)
    )


def remove_tree(root: Path) -> None:
    """Delete a tree of any depth: shutil.rmtree recurses once per level, and 1,500 levels overflow it."""
    subprocess.run(["rm", "-rf", "--", str(root)], check=False)


@pytest.mark.parametrize(("case", "mode"), PARAMS)
def test_hostile_input(case: Case, mode: str, tmp_path: Path) -> None:
    box = tmp_path / "box"
    try:
        out = execute(case, mode, box)
        problems = verdict(case, mode, out, box)
    finally:
        if box.exists():
            remove_tree(box)
    assert not problems, (
        f"{case.name} [{mode}]: " + "; ".join(problems) + f"\nstderr: {out.stderr!r}\nstdout: {out.stdout[:400]!r}"
    )


def test_the_suite_is_big_enough() -> None:
    """The issue asks for at least 150 cases across every class, format and output mode."""
    assert len(ALL_CASES) >= 150
    assert {c.cls for c in ALL_CASES} >= {
        "destination",
        "hang",
        "memory",
        "traceback",
        "escaping",
        "semantics",
        "messages",
        "formats",
    }
    assert {m for c in ALL_CASES for m in c.modes} >= {"json", "ci", "list", "extract", "explorer", "summary"}
