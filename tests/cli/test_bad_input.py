"""Bad input through the command line: exit status 2 and one clear line on stderr, nothing else.

Each row of ``CASES`` makes a broken input in ``tmp_path`` and names a
distinctive piece of the expected message.  Every row runs in-process
(typer's CliRunner, with ``--json -`` and with ``--ci``); a few also run as
a real ``python -m dive_py`` process.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner, Result

from dive_py.cli import app
from dive_py.fixtures.builder import write_archive
from tests.conftest import peer_image
from tests.helpers import (
    END,
    OCI_GZIP,
    OCI_TAR,
    docker_archive,
    gz,
    header_offsets,
    member,
    oci_archive,
    pax_member,
    raw_member,
    read_members,
    replace_members,
    tar_of,
    write_members,
)
from tests.images import edge_case_image, tiny_image

GOOD = tar_of([member("etc/", tarfile.DIRTYPE), member("etc/os", data=b"ok\n")])
HARDLINK_TO_NOWHERE = tar_of([member("h", tarfile.LNKTYPE, linkname="nope")])


def one_layer(tar: bytes) -> Callable[[Path], list[str]]:
    """An image whose second layer is ``tar``."""
    return lambda tmp: [docker_archive(tmp / "img.tar", [GOOD, tar])]


def truncated_archive(tmp: Path) -> list[str]:
    data = Path(write_archive(edge_case_image(), tmp / "full.tar", "docker")).read_bytes()
    layer_at = [off for name, off in header_offsets(data) if name.endswith("/layer.tar")][1]
    (tmp / "cut.tar").write_bytes(data[: layer_at + 512 + 3000])  # inside the second layer's data
    return [str(tmp / "cut.tar")]


def truncated_gzip_layer(tmp: Path) -> list[str]:
    path = write_archive(edge_case_image(), tmp / "oci.tar", "oci", compression="gzip")
    info, data = max(read_members(path), key=lambda m: m[0].size)
    return [replace_members(path, tmp / "cut-blob.tar", {info.name: data[: len(data) // 2]})]


def truncated_gzip_archive(tmp: Path) -> list[str]:
    data = gz(Path(write_archive(edge_case_image(), tmp / "full.tar", "docker")).read_bytes())
    (tmp / "cut.tar.gz").write_bytes(data[: len(data) // 2])
    return [str(tmp / "cut.tar.gz")]


def bad_layer_in_gzip_archive(tmp: Path) -> list[str]:
    path = docker_archive(tmp / "img.tar", [GOOD, tar_of([member("../evil", data=b"x")])])
    (tmp / "img.tar.gz").write_bytes(gz(Path(path).read_bytes()))
    return [str(tmp / "img.tar.gz")]


def missing_blob(tmp: Path) -> list[str]:
    path = docker_archive(tmp / "img.tar", [GOOD])
    members = [m for m in read_members(path) if not m[0].name.endswith("layer.tar")]
    return [write_members(tmp / "no-blob.tar", members)]


def bad_manifest_json(tmp: Path) -> list[str]:
    return [docker_archive(tmp / "img.tar", [GOOD], manifest=b'[{"Config": "x.json", ')]


def random_bytes(tmp: Path) -> list[str]:
    (tmp / "noise.bin").write_bytes(random.Random(1).randbytes(10_000))
    return [str(tmp / "noise.bin")]


def empty_file(tmp: Path) -> list[str]:
    (tmp / "empty.tar").write_bytes(b"")
    return [str(tmp / "empty.tar")]


def plain_directory(tmp: Path) -> list[str]:
    (tmp / "rootfs" / "etc").mkdir(parents=True)
    (tmp / "rootfs" / "etc" / "passwd").write_text("root\n")
    return [str(tmp / "rootfs")]


def filesystem_tar(tmp: Path) -> list[str]:
    return [write_members(tmp / "rootfs.tar", [member("etc/", tarfile.DIRTYPE), member("etc/passwd", data=b"r")])]


def two_platforms(tmp: Path) -> str:
    return write_archive(
        [tiny_image("mp:1", arch="amd64"), tiny_image("mp:1", arch="arm64", variant="v8")],
        tmp / "mp.tar",
        "oci",
        platforms=True,
    )


CASES: dict[str, tuple[Callable[[Path], list[str]], str]] = {
    "missing-file": (lambda tmp: [str(tmp / "nope.tar")], "nope.tar: no such file or directory"),
    "directory-without-layout": (plain_directory, "is a directory but not an image layout"),
    "not-a-tar": (random_bytes, "noise.bin is not a tar archive (nor a gzip/zstd/xz/bzip2-compressed one)"),
    "empty-file": (empty_file, "empty.tar is empty"),
    "truncated-tar": (truncated_archive, "cut.tar is truncated: member '"),
    "truncated-gzip-layer": (truncated_gzip_layer, "is truncated (gzip stream ends early)"),
    "truncated-gzip-archive": (truncated_gzip_archive, "is truncated (gzip stream ends early)"),
    "missing-blob": (missing_blob, "/layer.tar', which is not in the archive"),
    "bad-manifest-json": (bad_manifest_json, "manifest.json is not valid JSON"),
    "bad-config-json": (
        lambda tmp: [docker_archive(tmp / "img.tar", [GOOD], config=b"{nope")],
        ".json is not valid JSON",
    ),
    "unknown-layer-media-type": (
        lambda tmp: [oci_archive(tmp / "img.tar", [(GOOD, "application/x-custom-layer")])],
        "layer 0 has unknown media type 'application/x-custom-layer'",
    ),
    "layer-not-a-tar": (
        lambda tmp: [oci_archive(tmp / "img.tar", [(b"plain text, not a tar\n" * 40, OCI_TAR)])],
        "is not a tar archive (nor a gzip/zstd-compressed one)",
    ),
    "gzip-layer-not-a-tar": (
        lambda tmp: [oci_archive(tmp / "img.tar", [(gz(b"just text" * 100), OCI_GZIP)])],
        "is not a tar archive",
    ),
    "pax-global-header": (
        one_layer(tar_of([member("a", data=b"x")], pax_headers={"comment": "global"})),
        "holds a PAX global header",
    ),
    "non-utf8-name": (one_layer(raw_member(b"caf\xe9.txt", b"x") + END), "entry name is not valid UTF-8"),
    "nul-in-pax-path": (
        one_layer(pax_member({"path": b"a\x00b"}) + raw_member(b"x") + END),
        "entry name contains a NUL byte",
    ),
    "dotdot-name": (one_layer(tar_of([member("../../etc/evil", data=b"x")])), "climbs out of the root with '..'"),
    "dotdot-in-gzip-archive": (bad_layer_in_gzip_archive, "climbs out of the root with '..'"),
    "absolute-name": (one_layer(tar_of([member("/etc/shadow", data=b"x")])), "absolute entry name '/etc/shadow'"),
    "hardlink-to-missing-target": (
        one_layer(HARDLINK_TO_NOWHERE),
        "layer 1: hardlink /h points to /nope, which does not exist",
    ),
    "filesystem-tar": (filesystem_tar, "rootfs.tar is not a container image archive: no manifest.json"),
    "peer-filesystem-tar": (
        lambda tmp: [str(peer_image("test-uncompressed-image.tar"))],
        "test-uncompressed-image.tar is not a container image archive",
    ),
    "unknown-platform": (
        lambda tmp: [two_platforms(tmp), "--platform", "linux/s390x"],
        "--platform linux/s390x: not in this image; available: linux/amd64, linux/arm64/v8",
    ),
    "unknown-image": (
        lambda tmp: [
            write_archive([tiny_image("a:1", marker="a"), tiny_image("b:2", marker="b")], tmp / "two.tar", "docker"),
            "--image",
            "c:3",
        ],
        "--image c:3: no such image in the archive; available: a:1, b:2",
    ),
}

SCRUB = (
    "CI",
    "NO_COLOR",
    "FORCE_COLOR",
    "DIVE_RULES_LOWEST_EFFICIENCY",
    "DIVE_RULES_HIGHEST_WASTED_BYTES",
    "DIVE_RULES_HIGHEST_USER_WASTED_PERCENT",
)


def invoke(args: list[str]) -> Result:
    runner = CliRunner(env=dict.fromkeys(SCRUB))
    return runner.invoke(app, args)


def check_error(code: int, out: str, err: str, needle: str) -> None:
    assert code == 2, err
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert err.endswith("\n")
    assert lines[0].startswith("divepy: error: ")
    assert needle in lines[0]


@pytest.mark.parametrize("mode", [["--json", "-"], ["--ci"]], ids=["json", "ci"])
@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, mode: list[str]) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .dive-ci
    make, needle = CASES[case]
    args = make(tmp_path)
    result = invoke([*args, *mode])
    check_error(result.exit_code, result.stdout, result.stderr, needle)


def run_process(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUB}
    return subprocess.run(
        [sys.executable, "-m", "dive_py", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "case",
    [
        "missing-file",
        "not-a-tar",
        "truncated-tar",
        "truncated-gzip-layer",
        "non-utf8-name",
        "hardlink-to-missing-target",
        "peer-filesystem-tar",
        "unknown-platform",
    ],
)
def test_bad_input_as_a_process(tmp_path: Path, case: str) -> None:
    make, needle = CASES[case]
    proc = run_process([*make(tmp_path), "--json", "-"], tmp_path)
    check_error(proc.returncode, proc.stdout, proc.stderr, needle)


def test_ignore_errors_turns_a_missing_hardlink_target_into_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (path,) = one_layer(HARDLINK_TO_NOWHERE)(tmp_path)
    warning = "divepy: warning: layer 1: hardlink /h points to /nope, which does not exist\n"
    result = invoke([path, "--ignore-errors", "--json", "-"])
    assert (result.exit_code, result.stderr) == (0, warning)
    doc = orjson.loads(result.stdout)
    assert doc["warnings"] == [warning[len("divepy: warning: ") : -1]]
    assert [layer["sizeBytes"] for layer in doc["layer"]] == [3, 0]
    proc = run_process([path, "-i", "--json", "-"], tmp_path)
    assert (proc.returncode, proc.stderr) == (0, warning)
    assert orjson.loads(proc.stdout) == doc
