"""What a hostile case is: an input builder, the modes to run it in, and the exact expected outcome."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.hostile.harness import Outcome

#: How each output mode is asked for, after the case's own arguments.
MODE_ARGS: dict[str, list[str]] = {
    "json": ["--json", "-"],
    "ci": ["--ci"],
    "list": ["--list"],
    "extract": ["--extract", "/", "-o", "out"],
    "summary": [],  # no terminal: the plain-text summary
    "explorer": [],  # a real pseudo-terminal (the explorer's loader)
    "raw": [],  # the case's arguments alone
}
LOAD_MODES = ("json", "ci", "list", "extract")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")


@dataclass(frozen=True)
class Expect:
    """The outcome a case must have: exit status, the one stderr line, what it may create."""

    code: int = 2
    #: Regex searched in the single ``divepy: error: …`` line (required when code is 2).
    message: str | None = None
    #: Paths (relative to the sandbox) the run creates, with everything below them.
    creates: tuple[str, ...] = ()
    #: Further checks on the outcome (stdout content, a file written...).
    check: Callable[[Outcome, Path], None] | None = None
    #: Stdout must be JSON (``--json -``) / may be empty.
    quiet_stderr: bool = False


@dataclass(frozen=True)
class Case:
    name: str
    cls: str
    build: Callable[[Path], list[str]]
    expect: Expect | dict[str, Expect]
    modes: tuple[str, ...] = LOAD_MODES
    stdout_to: str | None = None
    env: dict[str, str] = field(default_factory=dict)

    def expected(self, mode: str) -> Expect:
        if isinstance(self.expect, Expect):
            return self.expect
        return self.expect.get(mode, self.expect.get("*", Expect()))


def success(mode: str, check: Callable[[Outcome, Path], None] | None = None) -> Expect:
    """What a healthy load gives in ``mode``."""
    if mode == "ci":
        return Expect(code=-1, check=check)  # 0 or 1: the rules decide
    if mode == "extract":
        return Expect(code=0, creates=("out",), check=check)
    return Expect(code=0, check=check)


def ok_everywhere(check: dict[str, Callable[[Outcome, Path], None]] | None = None) -> dict[str, Expect]:
    checks = check or {}
    return {m: success(m, checks.get(m)) for m in (*LOAD_MODES, "summary", "explorer", "raw")}


def fails(message: str) -> Expect:
    return Expect(code=2, message=message)
