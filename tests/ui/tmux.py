"""Run divepy in a real terminal: tmux on a private socket, keys sent as a terminal sends them.

Pilot feeds Textual key *events*; these tests feed *bytes* through a real
terminal (tmux) and read back what it shows, which is how the key-burst,
Ctrl+Space and start-up layout bugs hid from Pilot.  Each session has its
own server socket in the test's temporary directory, so nothing touches
the user's tmux.  Without tmux the tests skip, unless
``DIVEPY_REQUIRE`` includes ``tmux`` (``.ci/run`` sets it) and makes them required.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.clitools import clean_env
from tests.resources import missing

#: Seconds to wait for the screen to show what a test expects.
WAIT = 20.0


def tmux_binary() -> str:
    found = shutil.which("tmux")
    if found is None:
        missing("tmux", "tmux is not installed")
    return found


class Terminal:
    """One tmux session running one command."""

    def __init__(self, socket: Path, tmux: str) -> None:
        self.socket = socket
        self.tmux = tmux

    def _run(self, *args: str) -> str:
        proc = subprocess.run(
            [self.tmux, "-S", str(self.socket), *args], capture_output=True, text=True, timeout=30, check=False
        )
        return proc.stdout

    def type(self, text: str) -> None:
        """Every character in one write: a burst, as a paste or a fast typist sends it."""
        self._run("send-keys", "-t", "t", "-l", text)

    def press(self, *keys: str) -> None:
        """tmux key names (``Tab``, ``C-Space``, ``Down``), one write per key."""
        for key in keys:
            self._run("send-keys", "-t", "t", key)
            time.sleep(0.15)

    def screen(self) -> str:
        return self._run("capture-pane", "-p", "-t", "t")

    @property
    def alive(self) -> bool:
        return self._run("display-message", "-p", "-t", "t", "#{pane_dead}").strip() == "0"

    def wait_for(self, text: str, timeout: float = WAIT) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not on screen after {timeout} s:\n{screen}")
            time.sleep(0.1)

    def wait_until(self, test: Callable[[str], bool], what: str, timeout: float = WAIT) -> str:
        """The screen, once ``test(screen)`` holds (a loaded machine draws late)."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if test(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not on screen after {timeout} s:\n{screen}")
            time.sleep(0.1)

    def wait_until_gone(self, text: str, timeout: float = WAIT) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text not in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} still on screen after {timeout} s:\n{screen}")
            time.sleep(0.1)


@contextmanager
def divepy_in_tmux(
    tmp_path: Path, *args: str, width: int = 160, height: int = 45, env: dict[str, str] | None = None
) -> Iterator[Terminal]:
    """``python -m dive_py ARGS`` in a fresh tmux server at ``width`` x ``height``; killed afterwards."""
    tmux = tmux_binary()
    socket = tmp_path / "tmux.sock"
    variables = clean_env({"TERM": "xterm-256color", **(env or {})})
    command = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "dive_py", *args])
    setters = [f"{k}={shlex.quote(v)}" for k, v in variables.items() if k.isidentifier()]
    # Start divepy only once the pane has its size: on a loaded machine tmux may still be
    # resizing the new window, and a resize before Textual listens for it would be lost.
    wait = f'while [ "$(stty size)" != "{height} {width}" ]; do sleep 0.05; done'
    shell = f"cd {shlex.quote(str(tmp_path))} && {wait} && exec env -i {' '.join(setters)} {command}"
    subprocess.run(
        [
            tmux,
            "-S",
            str(socket),
            "-f",
            os.devnull,
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            str(width),
            "-y",
            str(height),
            shell,
        ],
        check=True,
        timeout=30,
        env=variables,
    )
    term = Terminal(socket, tmux)
    term._run("set-option", "-t", "t", "remain-on-exit", "on")
    try:
        yield term
    finally:
        subprocess.run([tmux, "-S", str(socket), "kill-server"], capture_output=True, timeout=30, check=False)
