"""Every binding against the bytes real terminals send, parsed by Textual's own terminal parser.

Pilot presses key *names*; a terminal sends bytes, and for some keys the
name Textual makes of them is not the key pressed: xterm, tmux and the
Linux console send NUL for Ctrl+Space, which Textual calls ``ctrl+@``.
So a binding of ``ctrl+space`` alone never fired in a real terminal.  The
table below is what xterm and tmux send (legacy encoding) and what a
terminal speaking the kitty keyboard protocol sends, for every key the
explorer binds; each must come out as a key the binding holds.
"""

from __future__ import annotations

import pytest
from textual import events
from textual._xterm_parser import XTermParser

from dive_py.viewmodel.bindings import KEYS, with_terminal_aliases


def _ctrl(letter: str) -> dict[str, str]:
    return {"xterm": chr(ord(letter) - 96), "kitty": f"\x1b[{ord(letter)};5u"}


def _plain(char: str) -> dict[str, str]:
    return {"xterm": char, "kitty": char}  # the kitty protocol's default mode sends text keys as text


SENDS: dict[str, dict[str, str]] = {
    **{f"ctrl+{c}": _ctrl(c) for c in "abcefflnoprsuz"},
    "ctrl+space": {"xterm": "\x00", "tmux": "\x00", "kitty": "\x1b[32;5u"},
    "ctrl+@": {"xterm": "\x00"},
    "tab": {"xterm": "\t", "kitty": "\t"},
    "shift+tab": {"xterm": "\x1b[Z", "kitty": "\x1b[9;2u"},
    "escape": {"xterm": "\x1b", "kitty": "\x1b[27u"},
    "enter": {"xterm": "\r", "kitty": "\r"},
    "space": _plain(" "),
    "slash": _plain("/"),
    "question_mark": _plain("?"),
    "percent_sign": _plain("%"),
    "up": {"xterm": "\x1b[A", "xterm-application": "\x1bOA"},
    "down": {"xterm": "\x1b[B", "xterm-application": "\x1bOB"},
    "left": {"xterm": "\x1b[D", "xterm-application": "\x1bOD"},
    "right": {"xterm": "\x1b[C", "xterm-application": "\x1bOC"},
    "pageup": {"xterm": "\x1b[5~"},
    "pagedown": {"xterm": "\x1b[6~"},
    "home": {"xterm": "\x1b[H", "xterm-application": "\x1bOH", "tmux": "\x1b[1~"},
    "end": {"xterm": "\x1b[F", "xterm-application": "\x1bOF", "tmux": "\x1b[4~"},
    **{c: _plain(c) for c in "qkjhludgGvnNIiype c"},
}


def parsed(data: str) -> list[events.Key]:
    parser = XTermParser()
    found = [*parser.feed(data), *parser.feed("")]
    return [e for e in found if isinstance(e, events.Key)]


BOUND = sorted({(spec.id, key) for spec in KEYS for key in spec.keys.split(",")})


@pytest.mark.parametrize(("binding", "key"), BOUND)
def test_what_terminals_send_for_each_bound_key_reaches_the_binding(binding: str, key: str) -> None:
    assert key in SENDS, f"{binding}: add what terminals send for {key!r}"
    spec = next(s for s in KEYS if s.id == binding)
    keys = spec.keys.split(",")
    for terminal, data in SENDS[key].items():
        got = parsed(data)
        assert len(got) == 1, (terminal, data, got)
        assert got[0].key in keys, f"{binding}: {terminal} sends {data!r}, which Textual reads as {got[0].key!r}"


def test_a_remapped_ctrl_space_also_binds_what_terminals_send() -> None:
    assert with_terminal_aliases(["ctrl+space", "x"]) == ["ctrl+space", "x", "ctrl+@"]
    assert with_terminal_aliases(["ctrl+@"]) == ["ctrl+@"]


def test_a_dive_config_binding_ctrl_space_works_in_a_terminal() -> None:
    from dive_py.viewmodel.bindings import keymap_from_config

    warnings: list[str] = []
    assert keymap_from_config({"toggle-collapse-all-dir": "ctrl+space"}, warnings) == {
        "toggle-collapse-all-dir": "ctrl+space,ctrl+@"
    }
    assert warnings == []
