"""Run divepy on one hostile input in a sandbox, and judge what it did.

A case is judged on everything a user would care about, not only its exit
status:

* it ends within ``TIMEOUT`` seconds (no hang), with peak RSS under
  ``RSS_LIMIT`` (bounded memory; a hard address-space cap stops a runaway
  before it hurts the machine);
* exit status, and stderr: exactly one line ``divepy: …`` matching the
  expected pattern, no traceback, no control character from the image;
* the sandbox -- the inputs, the working directory, a precious file, a
  directory, a symlink, a dangling symlink and a fifo -- is snapshotted
  before and after: nothing that existed may change, and the only new
  paths are those the case says the run creates.

``DIVEPY_UNDER_TEST=/path/to/checkout`` runs another checkout's divepy on
the same inputs (``benchmarks/hostile_table.py`` uses it to measure "before").
"""

from __future__ import annotations

import hashlib
import os
import pty
import re
import select
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

#: Seconds a case may take.  Real work here is < 3 s; a hang is forever.
TIMEOUT = 60.0
#: Peak resident memory allowed (the issue's bound).
RSS_LIMIT = 1 << 30
#: Address-space cap for the child: far above RSS_LIMIT, only there to stop a runaway.
ADDRESS_SPACE_CAP = 6 << 30

RUNNER = Path(__file__).with_name("run_measured.py")
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)")

#: Paths every sandbox holds before the run (besides the case's inputs).
PRECIOUS = ("mine.txt", "keep", "keep/inner.txt", "link", "dangling", "pipe", "home")


@dataclass
class Outcome:
    """What one run did."""

    code: int
    stdout: bytes
    stderr: str
    rss: int  #: peak resident bytes
    seconds: float
    timed_out: bool = False
    changed: list[str] = field(default_factory=list)  #: pre-existing paths modified or removed
    created: list[str] = field(default_factory=list)  #: paths that did not exist before


Snapshot = dict[str, tuple[object, ...]]


def make_sandbox(box: Path) -> None:
    """The things a careless tool could destroy: a file, a directory, links, a fifo."""
    box.mkdir(parents=True, exist_ok=True)
    (box / "mine.txt").write_text("mine\n")
    (box / "keep").mkdir(exist_ok=True)
    (box / "keep" / "inner.txt").write_text("inner\n")
    os.symlink("mine.txt", box / "link")
    os.symlink("nowhere", box / "dangling")
    os.mkfifo(box / "pipe")
    (box / "home").mkdir(exist_ok=True)


def snapshot(root: Path) -> Snapshot:
    """Every path under ``root`` with its type, mode, size, mtime, inode and content hash."""
    out: Snapshot = {}
    todo = [str(root)]
    while todo:  # a loop, not os.walk: extracted trees can be 2,000 directories deep
        dirpath = todo.pop()
        for entry in os.scandir(dirpath):
            full = entry.path
            rel = os.path.relpath(full, root)
            st = os.lstat(full)
            if stat.S_ISDIR(st.st_mode):
                todo.append(full)
            extra: object = None
            if stat.S_ISREG(st.st_mode):
                with open(full, "rb") as fh:
                    extra = hashlib.sha256(fh.read()).hexdigest()
            elif stat.S_ISLNK(st.st_mode):
                extra = os.readlink(full)
            out[rel] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_size, st.st_mtime_ns, st.st_ino, extra)
    return out


def compare(before: Snapshot, after: Snapshot) -> tuple[list[str], list[str]]:
    """(changed or removed paths, new paths)."""
    changed = sorted(p for p, v in before.items() if after.get(p) != v)
    created = sorted(p for p in after if p not in before)
    return changed, created


def _env(box: Path) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(box / "home"),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "PYTHONDONTWRITEBYTECODE": "1",
        "NO_COLOR": "1",
    }
    target = os.environ.get("DIVEPY_UNDER_TEST")
    if target:
        env["PYTHONPATH"] = target
    return env


def _cap_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_CAP, ADDRESS_SPACE_CAP))


def run(
    box: Path, args: list[str], *, stdout_to: str | None = None, env_extra: dict[str, str] | None = None
) -> Outcome:
    """``divepy ARGS`` in ``box`` without a terminal (stdout to a pipe, or to the file ``stdout_to``)."""
    rss_file = box.parent / f"{box.name}.rss"
    env = _env(box)
    env["DIVEPY_RSS_FILE"] = str(rss_file)
    env.update(env_extra or {})
    start = time.monotonic()
    sink = open(stdout_to, "wb") if stdout_to else None  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, str(RUNNER), *args],
        cwd=box,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=sink or subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_cap_memory,
    )
    if sink is not None:
        sink.close()
    timed_out = False
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        timed_out = True
    return Outcome(
        proc.returncode,
        out or b"",
        err.decode("utf-8", "replace"),
        _read_rss(rss_file),
        time.monotonic() - start,
        timed_out,
    )


def run_explorer(box: Path, args: list[str], *, quit_when: str = "Layers") -> Outcome:
    """``divepy ARGS`` on a real pseudo-terminal (80x24); presses ``q`` once ``quit_when`` is drawn.

    The loader runs exactly as a user starts it: Textual's loading screen,
    the worker thread, and the error line printed after the screen closes.
    """
    import fcntl
    import struct
    import termios

    rss_file = box.parent / f"{box.name}.rss"
    env = _env(box)
    env.update(DIVEPY_RSS_FILE=str(rss_file), TERM="xterm-256color", COLUMNS="80", LINES="24")
    env.pop("NO_COLOR")
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, str(RUNNER), *args],
        cwd=box,
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        preexec_fn=_cap_memory,
        start_new_session=True,
    )
    # Our copy of the terminal's slave side stays open until the end: with it closed,
    # Linux may drop what the child wrote last (the error line) when the child exits.
    data = bytearray()
    sent_quit = False
    timed_out = False
    while proc.poll() is None:
        if time.monotonic() - start > TIMEOUT:
            os.killpg(proc.pid, signal.SIGKILL)
            timed_out = True
            break
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            data += os.read(master, 65536)
            if not sent_quit and quit_when.encode() in data:
                time.sleep(0.3)
                os.write(master, b"q")
                sent_quit = True
    code = proc.wait()
    while select.select([master], [], [], 0.2)[0]:  # what is still in the terminal's buffer
        chunk = os.read(master, 65536)
        if not chunk:
            break
        data += chunk
    os.close(slave)
    os.close(master)
    text = ANSI.sub("\n", data.decode("utf-8", "replace"))  # a cursor move ends a line of plain text
    # What the process said after the screen closed: its last lines of plain text.
    lines = [ln.strip() for ln in text.replace("\r", "\n").split("\n") if ln.strip().startswith("divepy:")]
    return Outcome(
        code,
        bytes(data),
        "\n".join(lines) + ("\n" if lines else ""),
        _read_rss(rss_file),
        time.monotonic() - start,
        timed_out,
    )


def _read_rss(path: Path) -> int:
    try:
        return int(path.read_text())
    except (OSError, ValueError):
        return 0


def judged(box: Path, action: Callable[[], Outcome]) -> Outcome:
    """Run ``action`` with a snapshot of the sandbox taken before and after."""
    before = snapshot(box)
    outcome = action()
    outcome.changed, outcome.created = compare(before, snapshot(box))
    return outcome
