"""Report files: replaced only by a complete report, never left half-written, links kept."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pytest

from dive_py.errors import UsageError
from dive_py.report.output import check_target, write_to


class Boom(Exception):
    pass


def writes(data: bytes) -> Callable[[BinaryIO], None]:
    """A report writer that writes ``data``."""

    def write(fh: BinaryIO) -> None:
        fh.write(data)

    return write


def half_then_fail(fh: BinaryIO) -> None:
    fh.write(b'{"half": ')
    raise Boom


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_bytes(b'{"old": true}')
    os.chmod(report, 0o640)
    with pytest.raises(Boom):
        write_to(str(report), "--json", half_then_fail)
    assert report.read_bytes() == b'{"old": true}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]
    write_to(str(report), "--json", writes(b'{"new": true}'))
    assert report.read_bytes() == b'{"new": true}'
    assert oct(report.stat().st_mode & 0o777) == oct(0o640)  # the old file's permissions carry over
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_a_symlink_to_a_report_stays_a_symlink(tmp_path: Path) -> None:
    (tmp_path / "real.json").write_bytes(b"old")
    os.symlink("real.json", tmp_path / "link.json")
    write_to(str(tmp_path / "link.json"), "--json", writes(b"new"))
    assert os.readlink(tmp_path / "link.json") == "real.json"
    assert (tmp_path / "real.json").read_bytes() == b"new"


def test_a_new_file_gets_the_usual_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_to(str(tmp_path / "fresh.json"), "--json", writes(b"{}"))
    finally:
        os.umask(old)
    assert oct((tmp_path / "fresh.json").stat().st_mode & 0o777) == oct(0o644)


def test_devices_are_written_directly_and_fifos_need_a_reader(tmp_path: Path) -> None:
    write_to(os.devnull, "--json", writes(b"{}"))
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(UsageError, match=r"--json .*pipe: it is a fifo and nothing is reading it"):
        write_to(str(tmp_path / "pipe"), "--json", writes(b"{}"))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "the file name is empty"),
        ("nosuch/x.json", "directory nosuch does not exist"),
        (".", "is a directory"),
        ("new/", "directory new does not exist"),
    ],
)
def test_targets_refused_before_the_analysis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match=message):
        check_target(name, "--json")
