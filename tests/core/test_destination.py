"""Extraction destinations: decided from the name as typed, created exclusively, removed only as created."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dive_py.core.content.destination import DIRECTORY, FILE, SYMLINK, ExtractError, claim
from dive_py.errors import UsageError


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keep").mkdir()
    (tmp_path / "mine.txt").write_text("mine")
    os.symlink("nowhere", tmp_path / "dangling")
    return tmp_path


@pytest.mark.parametrize(
    ("dest", "kind", "error", "message"),
    [
        ("", FILE, UsageError, "the destination is empty"),
        (".", DIRECTORY, UsageError, "'.' names an existing directory"),
        ("a/..", DIRECTORY, UsageError, "'..' names an existing directory"),
        ("/", DIRECTORY, UsageError, "that is the root directory"),
        ("new/", FILE, UsageError, "a trailing '/' names a directory, but this is a file"),
        ("new/", SYMLINK, UsageError, "but this is a symlink"),
        ("mine.txt", FILE, ExtractError, "already exists"),
        ("dangling", SYMLINK, ExtractError, "already exists"),
        ("dangling/", DIRECTORY, ExtractError, "already exists"),
        ("nosuch/../new", DIRECTORY, ExtractError, "the parent nosuch/.. does not exist"),
        ("mine.txt/x", FILE, ExtractError, "the parent mine.txt is not a directory"),
    ],
)
def test_refused_names(here: Path, dest: str, kind: str, error: type[Exception], message: str) -> None:
    before = sorted(os.listdir(here))
    with pytest.raises(error, match=message.replace(".", r"\.").replace("(", r"\(")):
        claim(dest, kind=kind, link="target")
    assert sorted(os.listdir(here)) == before


def test_a_claimed_directory_is_new_and_checked(here: Path) -> None:
    dest = claim("keep/../out/", kind=DIRECTORY)
    try:
        assert dest.path == str(here / "out") and (here / "out").is_dir()
        assert dest.ident == ((st := os.stat(here / "out")).st_dev, st.st_ino)
    finally:
        dest.close()


def test_discard_removes_what_was_made_and_nothing_else(here: Path) -> None:
    dest = claim("out", kind=DIRECTORY)
    os.mkdir(here / "out" / "made")
    dest.made(str(here / "out" / "made"), True)
    (here / "out" / "made" / "f").write_text("ours")
    dest.made(str(here / "out" / "made" / "f"), False)
    (here / "out" / "foreign").write_text("someone else's")  # not recorded: must survive
    dest.discard()
    assert not (here / "out" / "made").exists()
    assert (here / "out" / "foreign").read_text() == "someone else's"
    assert (here / "out").is_dir()  # not empty, so not removed


def test_discard_leaves_a_replaced_destination_alone(here: Path) -> None:
    dest = claim("out.txt", kind=FILE)
    dest.close_file()
    os.unlink(here / "out.txt")
    (here / "out.txt").write_text("a new file by someone else")
    dest.discard()
    assert (here / "out.txt").read_text() == "a new file by someone else"


def test_a_symlink_destination_is_the_link_itself(here: Path) -> None:
    dest = claim("link-out", kind=SYMLINK, link="/etc/passwd")
    dest.discard()
    assert not os.path.lexists(here / "link-out")
    assert Path("/etc/passwd").exists()
