"""Engines for the tests: a real ``dockerd`` and a real ``podman system service``, each on a private socket.

Both keep everything in a temporary directory (their own data root, the
``vfs`` storage driver, no networking) so a test run never touches the
machine's own engine or images.  Images go in with ``docker load`` /
``podman load`` from archives the fixture builder wrote.  The scripted
engine is a unix-socket HTTP server that answers what a test tells it to
(a broken export, a hostile inspect), things a real engine never sends.
"""

from __future__ import annotations

import os
import shutil
import socketserver
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx

from tests.resources import missing
from tests.sources.servers import serving

DOCKERD = "/usr/sbin/dockerd"


def _wait_for(sock: Path, proc: subprocess.Popen[bytes], log: Path, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if sock.exists():
            try:
                with httpx.Client(transport=httpx.HTTPTransport(uds=str(sock)), timeout=2) as client:
                    if client.get("http://engine/version").status_code == 200:
                        return
            except httpx.HTTPError:
                pass
        time.sleep(0.1)
    proc.kill()
    proc.wait(10)
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    raise RuntimeError(f"{what} did not start:\n{tail}")


@dataclass(slots=True)
class RealEngine:
    kind: str  #: "docker" or "podman"
    socket: Path
    cli: list[str]  #: the command line that talks to this engine's store
    env: dict[str, str]  #: what points divepy at this engine
    cli_env: dict[str, str] = field(default_factory=dict)  #: what the CLI needs (podman's is local, not remote)

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    def run(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run(
            [*self.cli, *args], check=True, capture_output=True, timeout=timeout, env={**os.environ, **self.cli_env}
        )
        return done.stdout.decode()

    def load(self, archive: str | Path) -> None:
        self.run("load", "-i", str(archive))


def _need_root(what: str, resource: str) -> None:
    if os.geteuid() != 0:
        missing(resource, f"{what} needs root here (a private daemon with its own data root)")


@contextmanager
def real_dockerd(tmp: Path, storage_driver: str = "vfs") -> Iterator[RealEngine]:
    """``dockerd`` on ``tmp/docker.sock`` with its own data root, no bridge, no iptables.

    ``vfs`` needs no mounts (tests); the benchmark asks for ``overlay2``, what users run.
    """
    if not os.path.exists(DOCKERD) or shutil.which("docker") is None:
        missing("engines", "dockerd or the docker CLI is not installed (Debian: docker.io)")
    _need_root("dockerd", "engines")
    sock = tmp / "docker.sock"
    log = tmp / "dockerd.log"
    exec_root = tmp / "exec"
    args = [
        DOCKERD,
        "--host",
        f"unix://{sock}",
        "--data-root",
        str(tmp / "data"),
        "--exec-root",
        str(exec_root),
        "--pidfile",
        str(tmp / "docker.pid"),
        "--storage-driver",
        storage_driver,
        "--iptables=false",
        "--ip-masq=false",
        "--bridge=none",
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        _wait_for(sock, proc, log, "dockerd")
        env = {"DOCKER_HOST": f"unix://{sock}", "DOCKER_CONFIG": str(tmp / "cli-config")}
        yield RealEngine("docker", sock, ["docker"], env, env)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        _unmount_under(exec_root)


def _unmount_under(root: Path) -> None:
    """dockerd leaves its network namespace's bind mount behind; unmount what lies under our own root only."""
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return
    points = [line.split()[1] for line in mounts if len(line.split()) > 1]
    for point in sorted((p for p in points if p.startswith(str(root) + "/")), reverse=True):
        subprocess.run(["umount", point], check=False, capture_output=True)


@contextmanager
def real_podman(tmp: Path) -> Iterator[RealEngine]:
    """``podman system service`` on ``tmp/podman.sock`` with its own storage."""
    if shutil.which("podman") is None:
        missing("engines", "podman is not installed")
    _need_root("podman's service", "engines")
    sock = tmp / "podman.sock"
    log = tmp / "podman.log"
    runroot = tempfile.mkdtemp(prefix="dp-podman-")  # podman refuses a runroot longer than 50 characters
    cli = [
        "podman",
        "--root",
        str(tmp / "root"),
        "--runroot",
        runroot,
        "--storage-driver",
        "vfs",
        "--cgroup-manager",
        "cgroupfs",
        "--events-backend",
        "none",
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [*cli, "system", "service", "--time=0", f"unix://{sock}"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        _wait_for(sock, proc, log, "podman system service")
        yield RealEngine("podman", sock, cli, {"CONTAINER_HOST": f"unix://{sock}"})
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        shutil.rmtree(runroot, ignore_errors=True)  # made above, for this service alone


# -- the scripted engine -----------------------------------------------------------------------------------

Hook = Callable[[BaseHTTPRequestHandler], bool]


@dataclass(slots=True)
class ScriptedEngine:
    """An engine whose answers are data: ``routes[path] = (status, body)``, plus a hook for streams."""

    socket: Path
    routes: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    hook: Hook | None = None
    seen: list[str] = field(default_factory=list)

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"


class _UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


@contextmanager
def scripted_engine(tmp: Path, version: bytes = b'{"ApiVersion":"1.41","Version":"20.10"}') -> Iterator[ScriptedEngine]:
    sock = tmp / "scripted.sock"
    state = ScriptedEngine(sock, {"/version": (200, version)})

    class Handle(BaseHTTPRequestHandler):
        def log_message(self, fmt: str, *args: object) -> None:  # quiet
            return None

        def address_string(self) -> str:
            return "unix"

        def do_GET(self) -> None:
            state.seen.append(self.path)
            if state.hook is not None and state.hook(self):
                return
            path = self.path.split("?", 1)[0]
            status, body = state.routes.get(path, (404, b'{"message":"No such image"}'))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with serving(_UnixHTTPServer(str(sock), Handle)):
        yield state
