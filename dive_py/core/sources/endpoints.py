"""Where the Docker and Podman engines listen, found the way their own CLIs find them.

Docker: ``DOCKER_HOST`` (``unix://``, or ``tcp://`` with TLS when
``DOCKER_TLS_VERIFY`` is set, certificates from ``DOCKER_CERT_PATH``), else
the current context (``DOCKER_CONTEXT``, or ``currentContext`` in
``config.json``, whose endpoint is in ``contexts/meta/<sha256 of the
name>/meta.json``), else the default socket and the sockets Docker Desktop,
rootless Docker, Colima, Rancher Desktop and OrbStack use.  Podman:
``CONTAINER_HOST``, else the rootless and rootful sockets.

An endpoint named explicitly (a variable, a context) is the only one tried:
falling back to another daemon would analyse an image the user did not
mean.  Only the default sockets are a list of guesses.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from dive_py.core.sources.credentials import MAX_CONFIG_BYTES, config_dir
from dive_py.core.text import printable
from dive_py.errors import UsageError

DOCKER = "docker"
PODMAN = "podman"
#: Engine names as users write them.
ENGINE_NAMES = {DOCKER: "Docker", PODMAN: "Podman"}


@dataclass(slots=True, frozen=True)
class TLSFiles:
    """Client TLS for a ``tcp://`` engine: the CA to verify it with, and our certificate."""

    ca: str | None
    cert: str | None
    key: str | None
    verify: bool = True


@dataclass(slots=True, frozen=True)
class Endpoint:
    """One place an engine may answer."""

    engine: str  #: DOCKER or PODMAN
    url: str  #: as the user would write it: ``unix:///run/docker.sock``, ``tcp://host:2376``
    origin: str  #: why it is tried: ``DOCKER_HOST``, ``context "colima"``, ``default socket``
    socket: str | None = None  #: the unix socket's path
    base_url: str = "http://engine"  #: what httpx is given (the host part is ignored on a socket)
    tls: TLSFiles | None = None
    guessed: bool = False  #: a default location: skipped silently when nothing is there

    def describe(self) -> str:
        return printable(self.url)


def _parse_host(engine: str, url: str, origin: str, tls: TLSFiles | None) -> Endpoint:
    """``unix://PATH`` or ``tcp://HOST:PORT`` (``http(s)://`` too); anything else is a usage error."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    shown = printable(url)
    if scheme == "unix":
        path = parts.path if not parts.netloc else "/" + parts.netloc + parts.path
        if not path:
            raise UsageError(f"{origin}={shown}: a unix:// address needs a socket path")
        return Endpoint(engine, url, origin, socket=path)
    if scheme in ("tcp", "http", "https"):
        if not parts.hostname:
            raise UsageError(f"{origin}={shown}: a {scheme}:// address needs a host")
        try:
            port = parts.port
        except ValueError:
            raise UsageError(f"{origin}={shown}: the port is not a number") from None
        secure = scheme == "https" or tls is not None
        default_port = 2376 if secure else 2375
        host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        base = f"{'https' if secure else 'http'}://{host}:{port or default_port}"
        return Endpoint(engine, url, origin, base_url=base, tls=tls if secure else None)
    if scheme == "ssh":
        raise UsageError(
            f"{origin}={shown}: divepy does not speak to engines over ssh; forward the socket "
            "(`ssh -nNT -L /tmp/engine.sock:/var/run/docker.sock HOST`) and use unix:///tmp/engine.sock"
        )
    if scheme == "npipe":
        raise UsageError(f"{origin}={shown}: named pipes exist only on Windows")
    raise UsageError(f"{origin}={shown}: not an engine address (unix://PATH or tcp://HOST:PORT)")


def _env_tls(env: dict[str, str]) -> TLSFiles | None:
    """The TLS the Docker CLI would use for ``DOCKER_HOST``: only when ``DOCKER_TLS_VERIFY`` is set."""
    if not env.get("DOCKER_TLS_VERIFY"):
        return None
    certs = env.get("DOCKER_CERT_PATH") or config_dir(env)
    return _tls_in(certs, verify=True)


def _tls_in(directory: str, *, verify: bool) -> TLSFiles:
    def found(name: str) -> str | None:
        path = os.path.join(directory, name)
        return path if os.path.isfile(path) else None

    return TLSFiles(found("ca.pem"), found("cert.pem"), found("key.pem"), verify)


def _read_json(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_CONFIG_BYTES + 1)
        doc = json.loads(data) if len(data) <= MAX_CONFIG_BYTES else {}
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _context_endpoint(name: str, env: dict[str, str], origin: str) -> Endpoint | None:
    """The endpoint of a named docker context (None for ``default``: the default socket)."""
    if name == "default":
        return None
    cfg = config_dir(env)
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = _read_json(os.path.join(cfg, "contexts", "meta", digest, "meta.json"))
    endpoints = meta.get("Endpoints")
    docker = endpoints.get("docker") if isinstance(endpoints, dict) else None
    host = docker.get("Host") if isinstance(docker, dict) else None
    if not isinstance(host, str) or not host:
        raise UsageError(
            f"{origin} {printable(name)!r}: no such docker context (or it has no docker endpoint); "
            "`docker context ls` lists them"
        )
    skip = bool(docker.get("SkipTLSVerify")) if isinstance(docker, dict) else False
    tls_dir = os.path.join(cfg, "contexts", "tls", digest, "docker")
    tls = _tls_in(tls_dir, verify=not skip) if os.path.isdir(tls_dir) else None
    return _parse_host(DOCKER, host, f"{origin} {printable(name)!r}", tls)


def _guesses(engine: str, paths: list[str]) -> list[Endpoint]:
    seen: list[str] = []
    for path in paths:
        if path not in seen:
            seen.append(path)
    return [Endpoint(engine, f"unix://{p}", "default socket", socket=p, guessed=True) for p in seen]


def docker_endpoints(environ: dict[str, str] | None = None) -> list[Endpoint]:
    """Where the Docker engine is, best first: one explicit endpoint, or the default sockets."""
    env = dict(os.environ if environ is None else environ)
    host = env.get("DOCKER_HOST")
    if host:
        return [_parse_host(DOCKER, host, "DOCKER_HOST", _env_tls(env))]
    context = env.get("DOCKER_CONTEXT")
    origin = "DOCKER_CONTEXT"
    if not context:
        current = _read_json(os.path.join(config_dir(env), "config.json")).get("currentContext")
        context, origin = (current, "docker context") if isinstance(current, str) and current else ("", "")
    if context:
        chosen = _context_endpoint(context, env, origin)
        if chosen is not None:
            return [chosen]
    home = env.get("HOME") or os.path.expanduser("~")
    runtime = env.get("XDG_RUNTIME_DIR")
    paths = ["/var/run/docker.sock"]
    if runtime:
        paths.append(os.path.join(runtime, "docker.sock"))  # rootless Docker
    for rel in (".docker/run/docker.sock", ".docker/desktop/docker.sock", ".colima/default/docker.sock"):
        paths.append(os.path.join(home, rel))
    paths += [os.path.join(home, ".rd/docker.sock"), os.path.join(home, ".orbstack/run/docker.sock")]
    return _guesses(DOCKER, paths)


def podman_endpoints(environ: dict[str, str] | None = None) -> list[Endpoint]:
    """Where Podman's API service is: ``CONTAINER_HOST``, else its rootless and rootful sockets."""
    env = dict(os.environ if environ is None else environ)
    host = env.get("CONTAINER_HOST")
    if host:
        return [_parse_host(PODMAN, host, "CONTAINER_HOST", None)]
    home = env.get("HOME") or os.path.expanduser("~")
    runtime = env.get("XDG_RUNTIME_DIR") or (f"/run/user/{os.getuid()}" if hasattr(os, "getuid") else "")
    paths = []
    if runtime:
        paths.append(os.path.join(runtime, "podman", "podman.sock"))
    paths.append("/run/podman/podman.sock")
    machine = os.path.join(home, ".local/share/containers/podman/machine")
    paths += [os.path.join(machine, "podman.sock"), os.path.join(machine, "qemu", "podman.sock")]
    return _guesses(PODMAN, paths)


def endpoints_for(engine: str, environ: dict[str, str] | None = None) -> list[Endpoint]:
    return docker_endpoints(environ) if engine == DOCKER else podman_endpoints(environ)


__all__ = [
    "DOCKER",
    "ENGINE_NAMES",
    "PODMAN",
    "Endpoint",
    "TLSFiles",
    "docker_endpoints",
    "endpoints_for",
    "podman_endpoints",
]
