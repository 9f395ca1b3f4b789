"""Reading images from the engines: a real dockerd and a real podman service, and a scripted engine for the rest.

The cross-source test is the point: an image read from the engine's export
stream gives the same figures, the same ``--list`` and the same extracted
bytes as the ``docker save`` archive of that image.
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from dive_py.core.content.reading import read_content
from dive_py.core.model.loader import load_image
from dive_py.core.sources.endpoints import docker_endpoints, podman_endpoints
from dive_py.core.sources.engine import Engine, EngineError, EngineSource, EngineUnavailable
from dive_py.core.tar.blobio import Readable
from dive_py.engine_lookup import find_engine_image
from dive_py.errors import InputError, UsageError
from dive_py.fixtures.builder import archive_bytes, write_archive
from dive_py.fixtures.demo import DEMO_PATH
from dive_py.source_args import AUTO, Resolved, resolve_source
from tests.clitools import run_divepy
from tests.images import edge_case_image, tiny_image
from tests.sources.engines import RealEngine, ScriptedEngine, real_dockerd, real_podman, scripted_engine

EDGE = "edge:latest"


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("engine-archives")
    return {"demo": DEMO_PATH, "edge": Path(write_archive([edge_case_image(EDGE)], tmp / "edge.tar", "docker"))}


@pytest.fixture(scope="module")
def dockerd(tmp_path_factory: pytest.TempPathFactory, archives: dict[str, Path]) -> Iterator[RealEngine]:
    with real_dockerd(tmp_path_factory.mktemp("dockerd")) as engine:
        for path in archives.values():
            engine.load(path)
        yield engine


@pytest.fixture(scope="module")
def podman(tmp_path_factory: pytest.TempPathFactory, archives: dict[str, Path]) -> Iterator[RealEngine]:
    with real_podman(tmp_path_factory.mktemp("podman")) as engine:
        for path in archives.values():
            engine.load(path)
        yield engine


def _no_engines(tmp: Path) -> dict[str, str]:
    """An environment where no default socket exists and no variable names an engine."""
    return {"HOME": str(tmp), "XDG_RUNTIME_DIR": str(tmp / "run"), "DOCKER_CONFIG": str(tmp / "docker-config")}


def figures(*args: str, env: dict[str, str], cwd: Path) -> dict[str, object]:
    """``--json`` without what names the source (its path, its format, the layers' member names)."""
    res = run_divepy(*args, "--json", "-", "-q", cwd=cwd, env=env)
    assert res.code == 0, res.stderr
    doc: dict[str, object] = json.loads(res.out)
    layers = doc.pop("layer")
    assert isinstance(layers, list)
    doc["layer"] = [{k: v for k, v in row.items() if k != "id"} for row in layers]
    image = doc["image"]
    assert isinstance(image, dict)
    return {"image": image, "insights": doc["insights"], "layer": doc["layer"]}


# -- the real engines ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["demo", "edge"])
def test_docker_gives_what_its_saved_archive_gives(
    dockerd: RealEngine, archives: dict[str, Path], tmp_path: Path, name: str
) -> None:
    tag = "divepy-demo:latest" if name == "demo" else EDGE
    saved = tmp_path / "saved.tar"
    dockerd.run("save", "-o", str(saved), tag)
    env = {**_no_engines(tmp_path), **dockerd.env}
    from_engine = figures(f"docker://{tag}", env=env, cwd=tmp_path)
    assert from_engine == figures(str(saved), env=env, cwd=tmp_path)
    assert figures(tag, env=env, cwd=tmp_path) == from_engine  # a bare name goes to the engine too
    listed = run_divepy(f"docker://{tag}", "--list", env=env, cwd=tmp_path)
    assert listed.code == 0 and listed.out == run_divepy(saved, "--list", env=env, cwd=tmp_path).out
    assert listed.out.count(b"\n") > 5


def test_extraction_reads_the_export_again(dockerd: RealEngine, tmp_path: Path) -> None:
    env = {**_no_engines(tmp_path), **dockerd.env}
    saved = tmp_path / "saved.tar"
    dockerd.run("save", "-o", str(saved), EDGE)
    for source, out in ((f"docker://{EDGE}", "engine"), (str(saved), "file")):
        res = run_divepy(source, "--extract", "/bin", "-o", out, env=env, cwd=tmp_path)
        assert res.code == 0, res.stderr
    engine_files = sorted(p.relative_to(tmp_path / "engine") for p in (tmp_path / "engine").rglob("*"))
    assert engine_files == sorted(p.relative_to(tmp_path / "file") for p in (tmp_path / "file").rglob("*"))
    busybox = Path("bin", "busybox") if (tmp_path / "engine" / "bin").exists() else Path("busybox")
    assert (tmp_path / "engine" / busybox).read_bytes() == (tmp_path / "file" / busybox).read_bytes()
    assert len((tmp_path / "engine" / busybox).read_bytes()) == 5000


def test_the_viewer_reads_content_from_a_second_export_by_id(dockerd: RealEngine, tmp_path: Path) -> None:
    env = {**_no_engines(tmp_path), **dockerd.env}
    saved = tmp_path / "saved.tar"
    dockerd.run("save", "-o", str(saved), "divepy-demo:latest")
    with tarfile.open(saved) as tf:
        assert tf.getmembers()
    old = dict(os.environ)
    os.environ.update(env)
    try:
        source = find_engine_image("divepy-demo:latest", "docker")
    finally:
        os.environ.clear()
        os.environ.update(old)
    exports: list[str] = []
    real_export = source.engine.export

    def export(name: str, platform: str | None = None) -> Readable:
        exports.append(name)
        return real_export(name, platform)

    source.engine.export = export  # type: ignore[method-assign]
    try:
        image = load_image(source, hash_files=False)
        local = load_image(str(saved), hash_files=True)
        try:
            path = "app/config.yaml"
            pid, lid = image.paths.lookup(path), local.paths.lookup(path)
            g = max(g for g, p in enumerate(image.entries.pid) if p == pid)  # the last layer's copy
            k = max(g for g, p in enumerate(local.entries.pid) if p == lid)
            content = read_content(image, g)
            assert content == read_content(local, k) and b"debug" in content
            assert image.entries.hash[g] != 0  # hashed while it streamed past: no second export for hashes
        finally:
            image.close()
            local.close()
    finally:
        source.close()
    assert exports == ["divepy-demo:latest", source.info.id]  # the tag once, then the id that cannot move


def test_an_image_the_engine_lacks_and_a_platform_it_lacks(dockerd: RealEngine, tmp_path: Path) -> None:
    env = {**_no_engines(tmp_path), **dockerd.env}
    res = run_divepy("docker://nope:1", "--ci", env=env, cwd=tmp_path)
    assert res.code == 2 and res.stdout == ""
    assert res.stderr == (
        f"divepy: error: nope:1: not an image of Docker at {dockerd.host}; `docker pull nope:1` first, "
        "or read it from its registry: registry://nope:1\n"
    )
    bare = run_divepy("nope:1", "--ci", env=env, cwd=tmp_path)
    assert bare.code == 2 and bare.stderr.startswith("divepy: error: nope:1: no such file or directory, and not an")
    other = run_divepy(EDGE, "--platform", "linux/arm64", "--ci", env=env, cwd=tmp_path)
    assert other.code == 2
    assert other.stderr == (
        f"divepy: error: --platform linux/arm64: Docker at {dockerd.host} holds {EDGE} for linux/amd64\n"
    )


def test_the_engine_lists_its_images(dockerd: RealEngine, tmp_path: Path) -> None:
    old = dict(os.environ)
    os.environ.update({**_no_engines(tmp_path), **dockerd.env})
    try:
        (endpoint,) = docker_endpoints()
    finally:
        os.environ.clear()
        os.environ.update(old)
    engine = Engine(endpoint)
    try:
        engine.ping()
        rows = {tag: row for row in engine.images() for tag in row.repo_tags}
    finally:
        engine.close()
    assert set(rows) >= {"divepy-demo:latest", EDGE}
    demo = rows["divepy-demo:latest"]
    assert demo.size > 0 and demo.id.startswith("sha256:") and demo.shared_size >= 0


def test_divepy_alone_on_a_terminal_picks_one_of_the_engines_images(dockerd: RealEngine, tmp_path: Path) -> None:
    from tests.ui.tmux import divepy_in_tmux

    with divepy_in_tmux(tmp_path, env={**_no_engines(tmp_path), **dockerd.env}) as term:
        screen = term.wait_for("Local images (2)")
        first = next(line for line in screen.splitlines() if "ago" in line).split()[1]
        assert "divepy-demo" in screen and "edge" in screen and first in ("divepy-demo", "edge")
        term.press("Enter")
        term.wait_for("Current Layer Contents")
        term.wait_for(f"Tags:    {first}:latest")


def test_no_image_on_a_terminal_without_an_engine_says_how_to_start(tmp_path: Path) -> None:
    import pty
    import subprocess
    import sys

    from tests.clitools import clean_env

    main, child = pty.openpty()
    env = clean_env({**_no_engines(tmp_path), "TERM": "xterm"})
    proc = subprocess.Popen(
        [sys.executable, "-m", "dive_py"], stdin=child, stdout=child, stderr=child, env=env, cwd=tmp_path
    )
    os.close(child)
    out = b""
    try:
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(main)
        assert proc.wait(60) == 2
    text = out.decode().replace("\r\n", "\n")
    assert text.startswith("divepy: error: missing IMAGE: no Docker or Podman engine answered to pick an image from ")
    assert text.rstrip().endswith("give an image archive, an image name or registry://NAME, or try --demo")
    assert text.count("\n") == 1


def test_podman_gives_the_same_figures_as_docker(podman: RealEngine, dockerd: RealEngine, tmp_path: Path) -> None:
    env = _no_engines(tmp_path)
    from_podman = figures(f"podman://{EDGE}", env={**env, **podman.env}, cwd=tmp_path)
    from_docker = figures(f"docker://{EDGE}", env={**env, **dockerd.env}, cwd=tmp_path)
    assert from_podman == from_docker
    # A bare name with no Docker engine answering goes to Podman.
    assert figures(EDGE, env={**env, **podman.env}, cwd=tmp_path) == from_docker
    listed = run_divepy(f"podman://{EDGE}", "--list", env={**env, **podman.env}, cwd=tmp_path)
    assert listed.out == run_divepy(f"docker://{EDGE}", "--list", env={**env, **dockerd.env}, cwd=tmp_path).out


# -- where the engines are ------------------------------------------------------------------------------------


def test_docker_host_and_contexts(tmp_path: Path) -> None:
    assert [e.socket for e in docker_endpoints({"DOCKER_HOST": "unix:///x/d.sock"})] == ["/x/d.sock"]
    (tcp,) = docker_endpoints({"DOCKER_HOST": "tcp://10.0.0.2:2375"})
    assert (tcp.base_url, tcp.tls, tcp.socket) == ("http://10.0.0.2:2375", None, None)
    certs = tmp_path / "certs"
    certs.mkdir()
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (certs / name).write_text("x")
    (tls,) = docker_endpoints({"DOCKER_HOST": "tcp://h:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(certs)})
    assert tls.base_url == "https://h:2376" and tls.tls is not None
    assert (tls.tls.ca, tls.tls.verify) == (str(certs / "ca.pem"), True)
    # The current context, from config.json, and DOCKER_CONTEXT over it.
    cfg = tmp_path / "cfg"
    for name, host in (("colima", "unix:///c/docker.sock"), ("remote", "tcp://r:2376")):
        meta = cfg / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
        meta.mkdir(parents=True)
        (meta / "meta.json").write_text(json.dumps({"Name": name, "Endpoints": {"docker": {"Host": host}}}))
    (cfg / "config.json").write_text(json.dumps({"currentContext": "colima"}))
    env = {"DOCKER_CONFIG": str(cfg), "HOME": str(tmp_path)}
    (ctx,) = docker_endpoints(env)
    assert (ctx.socket, ctx.origin) == ("/c/docker.sock", "docker context 'colima'")
    (chosen,) = docker_endpoints({**env, "DOCKER_CONTEXT": "remote"})
    assert chosen.base_url == "http://r:2376"
    assert docker_endpoints({**env, "DOCKER_HOST": "unix:///h.sock"})[0].socket == "/h.sock"  # the variable wins
    with pytest.raises(UsageError, match="no such docker context"):
        docker_endpoints({**env, "DOCKER_CONTEXT": "gone"})
    guesses = docker_endpoints({**env, "DOCKER_CONTEXT": "default", "XDG_RUNTIME_DIR": "/run/user/7"})
    assert [g.socket for g in guesses][:2] == ["/var/run/docker.sock", "/run/user/7/docker.sock"]
    assert all(g.guessed for g in guesses) and str(tmp_path / ".colima/default/docker.sock") in [
        g.socket for g in guesses
    ]


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("ssh://me@box", "does not speak to engines over ssh"),
        ("npipe:////./pipe/docker_engine", "named pipes exist only on Windows"),
        ("ftp://x", "not an engine address"),
        ("unix://", "needs a socket path"),
        ("tcp://:2375", "needs a host"),
        ("tcp://h:port", "the port is not a number"),
    ],
)
def test_engine_addresses_divepy_refuses(host: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        docker_endpoints({"DOCKER_HOST": host})


def test_podman_sockets() -> None:
    assert [e.socket for e in podman_endpoints({"CONTAINER_HOST": "unix:///p.sock"})] == ["/p.sock"]
    guesses = [e.socket for e in podman_endpoints({"XDG_RUNTIME_DIR": "/run/user/5", "HOME": "/h"})]
    assert guesses[:2] == ["/run/user/5/podman/podman.sock", "/run/podman/podman.sock"]


@pytest.mark.parametrize(
    ("argv", "engine", "name"),
    [
        (["nginx"], AUTO, "nginx"),
        (["app:1.2"], AUTO, "app:1.2"),
        (["docker://ghcr.io/o/app@sha256:" + "a" * 64], "docker", "ghcr.io/o/app@sha256:" + "a" * 64),
        (["podman://app"], "podman", "app"),
        (["--source", "podman", "app"], "podman", "app"),
        (["--source", "docker", "image.tar"], "docker", "image.tar"),
    ],
)
def test_names_that_go_to_an_engine(argv: list[str], engine: str, name: str, tmp_path: Path) -> None:
    source = argv[1] if argv[0] == "--source" else None
    got = resolve_source(argv[-1], False, source)
    assert (got.engine, got.engine_name) == (engine, name)


@pytest.mark.parametrize("image", ["missing.tar", "./app", "/abs/app", "~/x", "Bad Name", "img.tar.gz"])
def test_names_only_a_file_could_have_stay_files(image: str) -> None:
    assert resolve_source(image, False, None).engine is None


def test_an_existing_path_is_a_file_even_if_it_looks_like_a_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nginx").write_bytes(b"")
    assert resolve_source("nginx", False, None).engine is None


@pytest.mark.parametrize("image", ["docker://", "docker://a b", "podman://../../etc", "docker://x?y=1"])
def test_engine_names_that_are_no_names(image: str) -> None:
    with pytest.raises(UsageError):
        resolve_source(image, False, None)


def test_nothing_answering_is_one_line_saying_what_was_tried(tmp_path: Path) -> None:
    env = _no_engines(tmp_path)
    res = run_divepy("myapp:2", "--ci", env=env, cwd=tmp_path)
    assert res.code == 2 and res.stdout == ""
    assert res.stderr.count("\n") == 1
    assert res.stderr.startswith(
        "divepy: error: myapp:2: no such file or directory, and no Docker or Podman engine answered "
        "(Docker: no socket at /var/run/docker.sock (nor "
    )
    assert "Podman: no socket at" in res.stderr and res.stderr.endswith("registry://myapp:2\n")
    gone = tmp_path / "gone.sock"
    res = run_divepy("docker://myapp:2", "--ci", env={**env, "DOCKER_HOST": f"unix://{gone}"}, cwd=tmp_path)
    assert res.stderr == (
        f"divepy: error: myapp:2: no Docker engine answered (Docker at unix://{gone}: no socket there); "
        "start one, or read the image from its registry: registry://myapp:2\n"
    )
    plain = run_divepy("missing.tar", "--ci", env=env, cwd=tmp_path)
    assert plain.stderr == "divepy: error: missing.tar: no such file or directory\n"


# -- the scripted engine ------------------------------------------------------------------------------------------


@pytest.fixture
def scripted(tmp_path: Path) -> Iterator[ScriptedEngine]:
    with scripted_engine(tmp_path) as engine:
        yield engine


def _inspect(image_id: str = "sha256:" + "1" * 64, **extra: object) -> bytes:
    doc = {"Id": image_id, "RepoTags": ["t:1"], "Size": 10, "Os": "linux", "Architecture": "amd64", **extra}
    return json.dumps(doc).encode()


def _stream(body: bytes, *, cut: int | None = None) -> object:
    """A hook that sends ``body`` chunked (as an engine's export), cut short after ``cut`` bytes if asked."""

    def hook(h: BaseHTTPRequestHandler) -> bool:
        if not h.path.split("?")[0].endswith("/get"):
            return False
        h.send_response(200)
        h.send_header("Content-Type", "application/x-tar")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        data = body if cut is None else body[:cut]
        for i in range(0, len(data), 65536):
            piece = data[i : i + 65536]
            h.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        if cut is None:
            h.wfile.write(b"0\r\n\r\n")
        h.wfile.flush()
        h.close_connection = True
        return True

    return hook


def test_a_docker25_export_with_its_manifest_last(scripted: ScriptedEngine, tmp_path: Path) -> None:
    """Docker 25's export is an OCI layout whose manifest.json arrives after the layers."""
    body = archive_bytes([tiny_image("t:1")], "docker25")
    scripted.routes["/images/t:1/json"] = (200, _inspect())
    scripted.hook = _stream(body)  # type: ignore[assignment]
    (tmp_path / "t.tar").write_bytes(body)
    env = {**_no_engines(tmp_path), "DOCKER_HOST": scripted.host}
    assert figures("t:1", env=env, cwd=tmp_path) == figures(str(tmp_path / "t.tar"), env=env, cwd=tmp_path)
    assert "/images/t:1/get" in scripted.seen


def test_a_second_run_on_the_same_engine_image_needs_no_export(scripted: ScriptedEngine, tmp_path: Path) -> None:
    body = archive_bytes([edge_case_image("t:1")], "docker")
    scripted.routes["/images/t:1/json"] = (200, _inspect("sha256:" + "7" * 64))
    scripted.hook = _stream(body)  # type: ignore[assignment]
    env = {**_no_engines(tmp_path), "DOCKER_HOST": scripted.host, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    first = figures("t:1", env=env, cwd=tmp_path)
    assert figures("t:1", env=env, cwd=tmp_path) == first
    assert [p for p in scripted.seen if p.endswith("/get")] == ["/images/t:1/get"]  # the second: inspect only
    extracted = run_divepy("t:1", "--extract", "/bin/busybox", "-o", "-", env=env, cwd=tmp_path)
    assert extracted.code == 0 and len(extracted.out) == 5000
    assert scripted.seen[-1] == "/images/sha256:" + "7" * 64 + "/get"  # contents: the export again, by id
    assert figures("t:1", env={**env, "XDG_CACHE_HOME": str(tmp_path / "other")}, cwd=tmp_path) == first


def test_a_truncated_export_is_one_line(scripted: ScriptedEngine, tmp_path: Path) -> None:
    body = archive_bytes([edge_case_image("t:1")], "docker")
    scripted.routes["/images/t:1/json"] = (200, _inspect())
    scripted.hook = _stream(body, cut=len(body) // 2)  # type: ignore[assignment]
    res = run_divepy("t:1", "--ci", env={**_no_engines(tmp_path), "DOCKER_HOST": scripted.host}, cwd=tmp_path)
    assert res.code == 2 and res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert res.stderr.startswith("divepy: error: ") and "export broke off" in res.stderr


def test_broken_and_hostile_answers(scripted: ScriptedEngine, tmp_path: Path) -> None:
    env = {**_no_engines(tmp_path), "DOCKER_HOST": scripted.host}
    scripted.routes["/images/a/json"] = (500, b'{"message":"disk \\u001b[31mon fire"}')
    res = run_divepy("docker://a", "--ci", env=env, cwd=tmp_path)
    assert res.stderr == (f"divepy: error: Docker at {scripted.host}: image 'a': HTTP 500 (disk \\x1b[31mon fire)\n")
    scripted.routes["/images/b/json"] = (200, b"x" * (5 << 20))
    res = run_divepy("docker://b", "--ci", env=env, cwd=tmp_path)
    assert res.code == 2 and "is over 4,194,304 bytes: refused" in res.stderr
    scripted.routes["/images/c/json"] = (200, _inspect())
    scripted.routes["/images/c/get"] = (500, b'{"message":"export failed"}')
    res = run_divepy("docker://c", "--ci", env=env, cwd=tmp_path)
    assert res.stderr == f"divepy: error: Docker at {scripted.host}: exporting 'c': HTTP 500 (export failed)\n"
    scripted.routes["/images/d/json"] = (200, _inspect())
    scripted.routes["/images/d/get"] = (200, b"this is not a tar archive" * 40)
    res = run_divepy("docker://d", "--ci", env=env, cwd=tmp_path)
    assert res.stderr == "divepy: error: docker://d did not send a tar archive\n"
    scripted.routes["/version"] = (200, b"<html>")
    res = run_divepy("docker://d", "--ci", env=env, cwd=tmp_path)
    assert res.stderr == (
        f"divepy: error: d: no Docker engine answered (Docker at {scripted.host}: its version is not JSON: "
        "is this an engine?); start one, or read the image from its registry: registry://d\n"
    )


def test_a_stalled_export_is_cut_off(scripted: ScriptedEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dive_py.core.sources.engine as engine_module

    monkeypatch.setattr(engine_module, "EXPORT_READ_TIMEOUT", 0.5)
    release = threading.Event()
    body = archive_bytes([tiny_image("t:1")], "docker")

    def hook(h: BaseHTTPRequestHandler) -> bool:
        if not h.path.endswith("/get"):
            return False
        h.send_response(200)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        h.wfile.write(f"{1024:x}\r\n".encode() + body[:1024] + b"\r\n")
        h.wfile.flush()
        release.wait(10)
        return True

    scripted.routes["/images/t:1/json"] = (200, _inspect())
    scripted.hook = hook
    (endpoint,) = docker_endpoints({"DOCKER_HOST": scripted.host})
    engine = Engine(endpoint)
    try:
        engine.ping()
        info = engine.inspect("t:1")
        assert info is not None
        with pytest.raises(EngineError, match="the export stalled"):
            load_image(EngineSource(engine, "t:1", info), hash_files=False)
    finally:
        release.set()
        engine.close()


def test_the_platform_goes_with_the_export_on_a_new_engine(scripted: ScriptedEngine, tmp_path: Path) -> None:
    scripted.routes["/version"] = (200, b'{"ApiVersion":"1.48"}')
    scripted.routes["/images/t:1/json"] = (200, _inspect())
    scripted.hook = _stream(archive_bytes([tiny_image("t:1", arch="arm64", variant="v8")], "docker25"))  # type: ignore[assignment]
    env = {**_no_engines(tmp_path), "DOCKER_HOST": scripted.host}
    res = run_divepy("t:1", "--platform", "linux/arm64/v8", "--json", "-", "-q", env=env, cwd=tmp_path)
    assert res.code == 0, res.stderr
    gets = [p for p in scripted.seen if "/get" in p]
    assert gets == [
        "/images/t:1/get?platform=%7B%22os%22%3A+%22linux%22%2C+%22architecture%22%3A+%22arm64%22%2C+%22variant%22%3A+%22v8%22%7D"
    ]


def test_unavailable_engines_are_not_errors_of_the_image(tmp_path: Path) -> None:
    (endpoint,) = docker_endpoints({"DOCKER_HOST": f"unix://{tmp_path / 'none.sock'}"})
    engine = Engine(endpoint)
    try:
        with pytest.raises(EngineUnavailable) as err:
            engine.ping()
    finally:
        engine.close()
    assert isinstance(err.value, InputError) and str(err.value).endswith("no socket there")


def test_skopeos_archive_spelling_with_an_image_reference(tmp_path: Path) -> None:
    archive = tmp_path / "two:images.tar"  # a colon in the path itself
    archive.write_bytes(b"")
    assert resolve_source(f"docker-archive:{archive}:app:1", False, None) == Resolved(str(archive), "app:1")
    assert resolve_source(f"oci-archive:{archive}:@2", False, None) == Resolved(str(archive), "2")
    assert resolve_source(f"docker-archive:{archive}", False, None) == Resolved(str(archive))
    missing = f"docker-archive:{tmp_path}/gone.tar:app:1"
    assert resolve_source(missing, False, None) == Resolved(missing.removeprefix("docker-archive:"))
