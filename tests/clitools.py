"""Run ``divepy`` and dive 0.13.1 (the differential oracle) as real processes.

Every run gets a scrubbed environment: no ``CI``, ``NO_COLOR``,
``FORCE_COLOR`` or ``DIVE_RULES_*`` leaks in from the machine running the
tests, so a test sees exactly the variables it sets.  ``COLUMNS`` and
``LINES`` go too: pytest-xdist workers have ``80``/``24`` set, and a
terminal program sized by them draws 24 rows into a 20-row terminal.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import dive_binary

ANSI = re.compile(r"\x1b\[[0-9;]*m")
_SCRUB_PREFIXES = ("DIVE_", "DIVEPY_")
_SCRUB = {"CI", "NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE", "CLICOLOR", "TERM", "COLUMNS", "LINES"}


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB and not k.startswith(_SCRUB_PREFIXES)}
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(extra or {})
    return env


@dataclass
class Result:
    code: int
    out: bytes
    err: bytes

    @property
    def stdout(self) -> str:
        return self.out.decode()

    @property
    def stderr(self) -> str:
        return self.err.decode()


def run_divepy(
    *args: str | os.PathLike[str],
    cwd: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> Result:
    """``python -m dive_py ARGS`` with a scrubbed environment (plus ``env``)."""
    proc = subprocess.run(
        [sys.executable, "-m", "dive_py", *map(str, args)],
        cwd=cwd,
        env=clean_env(env),
        capture_output=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def run_dive(*args: str | os.PathLike[str], cwd: str | os.PathLike[str]) -> Result:
    """dive 0.13.1 (skips the test when it is not installed)."""
    proc = subprocess.run(
        [dive_binary(), *map(str, args)],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def dive_json(archive: str | os.PathLike[str], workdir: Path) -> bytes:
    """dive's whole ``--json`` export of a docker-layout archive.

    dive opens the output without truncating it, so each call writes to a
    path that did not exist before.
    """
    n = 0
    while (workdir / f"dive-{n}.json").exists():
        n += 1
    out = workdir / f"dive-{n}.json"
    res = run_dive("--source", "docker-archive", archive, "--json", out, cwd=workdir)
    assert res.code == 0, res.stderr + res.stdout
    return out.read_bytes()


def dive_ci(archive: str | os.PathLike[str], workdir: Path, *args: str) -> tuple[int, str]:
    """dive's ``--ci`` report (styles stripped) and exit status."""
    res = run_dive("--source", "docker-archive", archive, "--ci", *args, cwd=workdir)
    return res.code, ANSI.sub("", res.stdout)


def divepy_json(archive: str | os.PathLike[str], workdir: Path) -> bytes:
    out = workdir / "divepy-export.json"
    res = run_divepy(archive, "--json", out, "-q", cwd=workdir)
    assert res.code == 0, res.stderr
    return out.read_bytes()
