"""The explorer in a real terminal (tmux): bursts of keys, Ctrl+Space, start-up size, several images, $PAGER."""

from __future__ import annotations

import os
import time
from pathlib import Path

from dive_py.fixtures.builder import write_archive
from tests.images import tiny_image
from tests.ui.tmux import divepy_in_tmux


def test_slash_then_q_in_one_burst_types_into_the_search(tmp_path: Path) -> None:
    with divepy_in_tmux(tmp_path, "--demo") as term:
        term.wait_for("Current Layer Contents")
        term.type("/xq")
        term.wait_until(
            lambda screen: any("Search:" in line and "xq" in line for line in screen.splitlines()),
            "the search prompt holding xq",
        )
        time.sleep(0.5)
        assert term.alive  # q was typed, not run
        term.type("\x1b")  # Esc closes the prompt, then q quits
        term.wait_until_gone("Search:")
        term.type("q")
        deadline = time.monotonic() + 20
        while term.alive and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not term.alive


def test_ctrl_f_then_text_in_one_burst_filters(tmp_path: Path) -> None:
    with divepy_in_tmux(tmp_path, "--demo") as term:
        term.wait_for("Current Layer Contents")
        term.type("\x06busybox")  # Ctrl+F and the text, one write
        term.wait_for("Path Filter:")
        term.type("\r")
        term.wait_until(
            lambda screen: "filter: busybox" in screen and "os-release" not in screen and "└── busybox" in screen,
            "the filtered tree",
        )


def test_ctrl_space_collapses_every_directory(tmp_path: Path) -> None:
    with divepy_in_tmux(tmp_path, "--demo") as term:
        term.wait_for("Current Layer Contents")
        term.press("Tab")
        assert "os-release" in term.wait_for("busybox")
        term.press("C-Space")  # tmux sends NUL, as xterm does
        term.wait_until(
            lambda screen: "os-release" not in screen and "⊕ bin" in screen and "⊕ etc" in screen,
            "every directory collapsed",
        )


def test_started_at_80x24_the_layout_is_narrow_from_the_first_frame(tmp_path: Path) -> None:
    with divepy_in_tmux(tmp_path, "--demo", width=80, height=24) as term:
        screen = term.wait_until(lambda screen: "Efficiency 77 %" in screen and "Permission" in screen, "the screen")
        lines = screen.splitlines()
        assert lines[0].startswith("╭─ Layers ───────╮╭─ Current Layer Contents")  # an 18-column layer list
        assert "Permission" in lines[1]  # the tree keeps its attribute columns
        assert any("Efficiency 77 %" in line for line in lines)
        term.press("i")
        assert "/root/.cache" in term.wait_for("Findings (6)")
        term.press("Tab", "Tab", "Tab")  # dive's Image Details, the last tab
        term.wait_for("Image efficiency score: 77 %")
        assert "deleted by layer 7" in term.wait_for("logo.png")


def test_at_50x20_the_tree_still_shows(tmp_path: Path) -> None:
    with divepy_in_tmux(tmp_path, "--demo", width=50, height=20) as term:
        screen = term.wait_until(lambda screen: "Efficiency" in screen and "├── bin" in screen, "the tree")
        assert screen.splitlines()[0].startswith("╭─ Layers ───────╮╭─ Current Layer Contents")
        assert max(len(line) for line in screen.splitlines()) <= 50


def test_several_images_switch_in_place(tmp_path: Path) -> None:
    child = tiny_image("child:1")
    child.layer("RUN more").file("more.txt", "more")
    path = write_archive([tiny_image("parent:1"), child], tmp_path / "family.tar")
    with divepy_in_tmux(tmp_path, str(path)) as term:
        term.wait_until(
            lambda screen: "image 1/2" in screen and "◆" in screen and "I Images" in screen,
            "the first image with its shared layers",
        )
        term.press("I")
        term.wait_until(
            lambda screen: "Images in this archive (2)" in screen and "child:1" in screen and "Shared" in screen,
            "the images table",
        )
        term.press("Down", "Enter")
        term.wait_until(
            lambda screen: "image 2/2" in screen and "RUN more" in screen and "child:1" in screen, "the second image"
        )
        assert term.alive


def test_p_hands_a_read_only_copy_to_the_pager_and_removes_it(tmp_path: Path) -> None:
    out = tmp_path / "paged.txt"
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    pager = f'sh -c \'cat "$1" > {out}; stat -c %a "$1" >> {out}\' sh'
    with divepy_in_tmux(tmp_path, "--demo", env={"PAGER": pager, "TMPDIR": str(tmp)}) as term:
        term.wait_for("Current Layer Contents")
        term.press("Down", "Down", "Down", "Down", "Tab")
        term.type("/")
        term.wait_for("Search:")  # this test is about the pager; bursts are test_slash_then_q_in_one_burst's
        term.type("main.py")
        term.press("Enter")
        term.wait_until(lambda screen: "Search:" not in screen and "/app/main.py ─╯" in screen, "main.py selected")
        term.press("p")
        deadline = time.monotonic() + 30
        while not (out.exists() and out.read_text().count("\n") >= 2) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert out.exists(), term.screen()
        term.wait_for("Current Layer Contents")  # back in the explorer
        assert term.alive
    text = out.read_text()
    assert text.startswith("from flask import Flask\n") and text.endswith("400\n")
    assert os.listdir(tmp) == []  # the private copy and its directory are gone


def test_keys_queued_behind_enter_in_the_images_table(tmp_path: Path) -> None:
    """Enter twice, or Enter then Esc, in one burst: one switch, and the explorer stays."""
    child = tiny_image("child:1")
    child.layer("RUN more").file("more.txt", "more")
    path = write_archive([tiny_image("parent:1"), child], tmp_path / "family.tar")
    with divepy_in_tmux(tmp_path, str(path)) as term:
        term.wait_for("image 1/2")
        term.press("I")
        term.wait_for("Images in this archive (2)")
        term._run("send-keys", "-t", "t", "Down", "Enter", "Enter")  # one write
        term.wait_until(lambda screen: "image 2/2" in screen and "RUN more" in screen, "the second image")
        term.press("I")
        term.wait_for("Images in this archive (2)")
        term._run("send-keys", "-t", "t", "Enter", "Escape")  # Enter on the image shown, then Esc
        time.sleep(1)
        term.wait_until(
            lambda screen: "image 2/2" in screen and "Images in this archive" not in screen, "the explorer, still there"
        )
        assert term.alive


def test_enter_twice_in_the_insights_jumps_once(tmp_path: Path) -> None:
    with divepy_in_tmux(tmp_path, "--demo", width=80, height=24) as term:
        term.wait_for("Efficiency")
        term.press("i")
        term.wait_for("Findings (6)")
        term._run("send-keys", "-t", "t", "Enter", "Enter")
        term.wait_until(
            lambda screen: "/root/.cache · 64 kB stored here" in screen and "Efficiency" in screen,
            "the tree at the cache",
        )
        time.sleep(0.5)
        assert term.alive and "Efficiency" in term.screen()


def test_enter_in_the_insights_scrolls_the_tree_to_the_row(tmp_path: Path) -> None:
    with divepy_in_tmux(tmp_path, "--demo") as term:
        term.wait_for("Current Layer Contents")
        term.press("i")
        term.wait_for("Findings (6)")
        term.press("Tab", "Down", "Enter")  # pycache, deep in /usr/lib: below the first screenful
        term.wait_until(
            lambda screen: "└── __pycache__" in screen or "├── __pycache__" in screen, "the __pycache__ row on screen"
        )
