"""The ``divepy`` command line: flags, sources, listings and exit statuses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dive_py import __version__
from dive_py.fixtures.builder import ImageSpec, write_archive, write_layout_dir
from tests.clitools import clean_env, run_divepy
from tests.images import tiny_image

TINY_LISTING = (
    "dir      0755     0:0                0 /etc\n"
    "file     0644     0:0                7 /etc/os\n"
    "file     0644     0:0                8 /hello.txt\n"
)


def test_version(tmp_path: Path) -> None:
    res = run_divepy("--version", cwd=tmp_path)
    assert (res.code, res.stdout, res.err) == (0, f"divepy {__version__}\n", b"")


def test_help_names_dives_flags(tmp_path: Path) -> None:
    res = run_divepy("--help", cwd=tmp_path, env={"COLUMNS": "200"})
    assert res.code == 0
    for flag in (
        "--ci",
        "--ci-config",
        "--json",
        "--lowestEfficiency",
        "--highestWastedBytes",
        "--highestUserWastedPercent",
        "--source",
        "--ignore-errors",
        "--list",
        "--demo",
    ):
        assert flag in res.stdout


def test_demo_json(tmp_path: Path) -> None:
    res = run_divepy("--demo", "--json", "-", cwd=tmp_path)
    assert res.code == 0, res.stderr
    doc = json.loads(res.out)
    assert doc["imageInfo"]["names"] == ["divepy-demo:latest"]
    assert len(doc["layer"]) == 8
    assert doc["image"]["inefficientBytes"] == 168325


def test_demo_list_text(tmp_path: Path) -> None:
    res = run_divepy("--demo", "--list", cwd=tmp_path)
    assert res.code == 0 and res.err == b""
    lines = res.stdout.splitlines()
    paths = [line.split(" /", 1)[1].split(" -> ")[0] for line in lines]
    assert paths == sorted(paths)
    assert lines[0] == "dir      0775  1000:1000             0 /app"
    assert "file     4755     0:0            12000 /bin/su" in lines  # setuid shown
    assert "symlink  0777     0:0               12 /bin/sh -> /bin/busybox" in lines  # lstat size = target length
    assert "symlink  0777     0:0               10 /usr/bin/python3 -> python3.12" in lines
    assert "file     0664  1000:1000            24 /app/config.yaml" in lines  # the last layer's version
    assert "dir      1777     0:0                0 /tmp" in lines
    assert not any("/root/.cache" in line for line in lines)  # whited out
    assert not any(line.endswith("/app/static/logo.png") for line in lines)  # hidden by the opaque dir
    assert len(lines) == 70


def test_demo_list_jsonl(tmp_path: Path) -> None:
    res = run_divepy("--demo", "--list", "--format", "jsonl", cwd=tmp_path)
    assert res.code == 0
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(rows) == 70
    assert all(set(row) == {"path", "type", "mode", "uid", "gid", "size", "link"} for row in rows)
    by_path = {row["path"]: row for row in rows}
    assert by_path["/bin/su"] == {
        "path": "/bin/su",
        "type": "file",
        "mode": "4755",
        "uid": 0,
        "gid": 0,
        "size": 12000,
        "link": None,
    }
    assert by_path["/bin/sh"]["link"] == "/bin/busybox"
    assert by_path["/bin/sh"]["type"] == "symlink"


def listing(tmp_path: Path, *args: str) -> list[str]:
    res = run_divepy("--demo", "--list", *args, cwd=tmp_path)
    assert res.code == 0, res.stderr
    return res.stdout.splitlines()


def test_list_layer(tmp_path: Path) -> None:
    base = listing(tmp_path, "--layer", "0")
    top = listing(tmp_path)
    assert top == listing(tmp_path, "--layer", "7")
    assert len(base) == 39
    assert set(base) <= set(top)  # the demo only adds on top of its base
    assert not any("/app" in line or "python" in line for line in base)
    pip = listing(tmp_path, "--layer", "3")
    assert "file     0644     0:0            64000 /root/.cache/pip/http/2f/flask-3.0.0-py3-none-any.whl" in pip
    before_assets = listing(tmp_path, "--layer", "6")
    assert "file     0664  1000:1000         30000 /app/static/logo.png" in before_assets
    assert "file     0644  1000:1000            42 /app/static/logo.svg" in top


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--demo", "--list", "--layer", "8"], "--layer 8: the image has layers 0..7"),
        (["--demo", "--list", "--layer", "-1"], "--layer -1: the image has layers 0..7"),
        (["--demo", "--layer", "1"], "--layer only applies to --list and --extract"),
        (["--demo", "--list", "--format", "xml"], "--format xml: expected text or jsonl"),
        (["--demo", "x.tar"], "give either IMAGE or --demo, not both"),
        ([], "missing IMAGE (an image archive or OCI layout directory; try --demo)"),
    ],
)
def test_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    res = run_divepy(*args, cwd=tmp_path)
    assert res.code == 2
    assert res.stderr == f"divepy: error: {message}\n"
    assert res.out == b""


def test_unknown_flag_is_a_usage_error(tmp_path: Path) -> None:
    res = run_divepy("--demo", "--frobnicate", cwd=tmp_path)
    assert res.code == 2
    assert "--frobnicate" in res.stderr


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sources")
    write_archive(tiny_image(), root / "docker.tar")
    write_archive(tiny_image(), root / "oci.tar", layout="oci")
    write_layout_dir(tiny_image(), root / "layout")
    return root


@pytest.mark.parametrize(
    "spec",
    [
        "docker-archive://{root}/docker.tar",
        "docker-tar://{root}/docker.tar",
        "docker-archive:{root}/docker.tar",
        "oci-archive:{root}/oci.tar",
        "oci-archive://{root}/oci.tar",
        "oci:{root}/layout",
        "oci:{root}/layout:latest",
        "oci://{root}/layout",
        "{root}/layout",
        "{root}/docker.tar",
    ],
)
def test_source_schemes(sources: Path, spec: str) -> None:
    res = run_divepy(spec.format(root=sources), "--list", cwd=sources)
    assert res.code == 0, res.stderr
    assert res.stdout == TINY_LISTING


@pytest.mark.parametrize("source", ["docker-archive", "oci-archive", "oci"])
def test_source_flag_accepts_archive_kinds(sources: Path, source: str) -> None:
    target = "layout" if source == "oci" else ("oci.tar" if source == "oci-archive" else "docker.tar")
    res = run_divepy("--source", source, target, "--list", cwd=sources)
    assert (res.code, res.stdout) == (0, TINY_LISTING)


def test_missing_image_file(tmp_path: Path) -> None:
    res = run_divepy("nope.tar", "--list", cwd=tmp_path)
    assert res.code == 2
    assert res.stderr == "divepy: error: nope.tar: no such file or directory\n"


def test_python_dash_m(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "dive_py", "--version"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert (proc.returncode, proc.stdout) == (0, f"divepy {__version__}\n")


def big_listing_image(path: Path) -> Path:
    """Far more output than a pipe buffer holds, so the writer really meets a closed pipe."""
    img = ImageSpec()
    layer = img.layer("many files").dir("d")
    for i in range(4000):
        layer.file(f"d/file-{i:05d}.txt", b"")
    return Path(write_archive(img, path))


@pytest.mark.parametrize(
    "args", [["--demo", "--list"], ["BIG", "--list"], ["BIG", "--list", "--format", "jsonl"], ["BIG", "--json", "-"]]
)
def test_reader_closing_the_pipe_early(tmp_path: Path, args: list[str]) -> None:
    if "BIG" in args:
        args = [str(big_listing_image(tmp_path / "big.tar")) if a == "BIG" else a for a in args]
    proc = subprocess.Popen(
        [sys.executable, "-m", "dive_py", *args],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # `| head -1`
    err = proc.stderr.read()
    proc.stderr.close()
    code = proc.wait(timeout=120)
    assert first
    assert code == 0
    assert b"Traceback" not in err
    assert err == b""


# -- --extract ----------------------------------------------------------------------------


def test_extract_writes_the_file_as_it_is_after_the_layer(tmp_path: Path) -> None:
    res = run_divepy("--demo", "--extract", "/app/config.yaml", "--layer", "5", "-o", "before.yaml", cwd=tmp_path)
    assert res.code == 0, res.stderr
    assert res.stdout == ""
    assert res.stderr == "divepy: extracted /app/config.yaml (after layer 5) to before.yaml: 1 file (23 B)\n"
    after = run_divepy("--demo", "--extract", "/app/config.yaml", "-o", "-", cwd=tmp_path)
    assert after.code == 0 and after.err == b""
    before = (tmp_path / "before.yaml").read_bytes()
    assert before != after.out and len(after.out) == 24  # layer 6 ran sed on it
    assert before.replace(b"true", b"false") == after.out


def test_extract_a_directory_to_its_own_name(tmp_path: Path) -> None:
    res = run_divepy("--demo", "--extract", "/app/", "-q", cwd=tmp_path)
    assert (res.code, res.err) == (0, b"")
    assert sorted(p.name for p in (tmp_path / "app").iterdir()) == [
        ".git",
        "config.yaml",
        "main.py",
        "requirements.txt",
        "static",
    ]
    again = run_divepy("--demo", "--extract", "/app", cwd=tmp_path)
    assert (again.code, again.stderr) == (2, "divepy: error: ./app already exists; name a new file or directory\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--extract", "/nope"], "/nope does not exist in the filesystem after layer 7"),
        (
            ["--extract", "/app/static/logo.png", "--layer", "7", "-o", "-"],
            "/app/static/logo.png does not exist in the filesystem after layer 7",
        ),
        (["--extract", "/app", "-o", "-"], "/app is not a regular file; only files can be written to stdout"),
        (["--extract", "/app", "--layer", "8"], "--layer 8: the image has layers 0..7"),
        (
            ["--extract", "/app", "--json", "x.json"],
            "--extract writes files; it cannot be combined with --json, --ci or --list",
        ),
        (["--output", "x"], "--output only applies to --extract"),
        (["--extract", "/app", "-o", "no/such/dir/app"], "the parent no/such/dir does not exist"),
    ],
)
def test_extract_refusals(tmp_path: Path, args: list[str], message: str) -> None:
    res = run_divepy("--demo", *args, cwd=tmp_path)
    assert res.code == 2
    assert res.stderr.startswith("divepy: error: ") and message in res.stderr
    assert res.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("outer", ["none", "gzip"])
@pytest.mark.parametrize("args", [["--json", "-"], ["--ci"], ["--explain"]])
def test_an_analysis_hashes_compressed_layers_on_their_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], outer: str
) -> None:
    """Reading a gzip layer again to hash it cost the 1 GB image 8 s of its 12 (issue 12): it never happens."""
    from typer.testing import CliRunner

    from dive_py.cli import app
    from dive_py.core.analysis import hashing

    img = ImageSpec(tags=["twice:1"])
    img.layer("ADD").file("etc/app.conf", "same size A").file("big.bin", "x" * 5000)
    img.layer("RUN sed").file("etc/app.conf", "same size B")
    img.layer("COPY").file("copy.bin", "x" * 5000)
    path = write_archive(img, tmp_path / "twice.tar", "oci", compression="gzip", outer=outer)

    def refuse(*a: object) -> None:
        raise AssertionError("a compressed layer was decompressed again to hash it")

    monkeypatch.setattr(hashing, "_rehash_layer", refuse)
    res = CliRunner().invoke(app, [path, "--no-cache", "-q", *args])
    assert res.exit_code in (0, 1), res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception


def test_the_load_progress_bar_draws_on_a_terminal_and_costs_nothing_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    from dive_py.cli_progress import RichLoadProgress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    err = Tty()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(RichLoadProgress, "DELAY", 0.0)
    with RichLoadProgress(enabled=True) as bar:
        bar.phase("Reading layers", 1000)
        bar.advance(500, "layer 1/2")
        bar.advance(1000, "layer 2/2")
    assert "Reading layers" in err.getvalue()
    # A quick or quiet run never imports Rich for it (80 ms of a warm re-open).
    code = "import sys; from dive_py.cli_progress import RichLoadProgress as P\n"
    code += "with P(enabled=True) as p: p.phase('x', 1); p.advance(1)\n"
    code += "assert 'rich.progress' not in sys.modules, 'imported'"
    assert subprocess.run([sys.executable, "-c", code], env=clean_env(), timeout=60).returncode == 0
