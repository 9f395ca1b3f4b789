"""Registries for the tests: Debian's real ``docker-registry`` on loopback, and a scripted one for hostile answers.

The real registry is started per test module on a free loopback port with
its storage in a temporary directory; images are pushed to it with
``skopeo``.  The scripted server answers what a test tells it to -- a
challenge, a redirect to another host, a 503, a blob that does not match
its digest -- things a well-behaved registry never sends.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import socketserver
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.resources import missing


@contextmanager
def serving(server: socketserver.BaseServer) -> Iterator[None]:
    """Run ``server`` on a thread for the ``with`` block, then shut it down and close it."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(slots=True)
class RealRegistry:
    host: str  #: 127.0.0.1:PORT
    process: subprocess.Popen[bytes]

    def push(self, source: str, name: str, *, all_platforms: bool = False, creds: str | None = None) -> None:
        """``skopeo copy SOURCE docker://HOST/NAME`` (SOURCE like ``docker-archive:PATH``)."""
        args = ["skopeo", "copy", "--quiet", "--dest-tls-verify=false"]
        if creds is not None:
            args.append(f"--dest-creds={creds}")
        if all_platforms:
            args.append("--all")
        subprocess.run([*args, source, f"docker://{self.host}/{name}"], check=True, capture_output=True, timeout=120)


#: A user of the htpasswd-protected registry, and the bcrypt hash of its password (bcrypt is what the
#: registry reads; the hash is a literal so that no bcrypt library is needed).
HTPASSWD_USER = "divepy"
HTPASSWD_PASSWORD = "divepy-test-password"
HTPASSWD_HASH = "$2b$05$abcdefghijklmnopqrstuuiSUUQT/I/jnzCRc3Uj4cJK3SFB3lcNu"


@dataclass(slots=True)
class TokenIssuer:
    """A token server for the real registry: signs the JWTs it checks against ``cert`` (RS256, x5c)."""

    realm: str
    cert: Path
    issued: list[str] = field(default_factory=list)  #: the scope of every token handed out


SERVICE = "divepy-registry"
ISSUER = "divepy-test-issuer"


@contextmanager
def token_issuer(tmp: Path) -> Iterator[TokenIssuer]:
    import base64
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = tmp / "token-cert.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    der = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    state = TokenIssuer("", pem)

    class Handle(BaseHTTPRequestHandler):
        def log_message(self, fmt: str, *args: object) -> None:
            return None

        def do_GET(self) -> None:
            from urllib.parse import parse_qs, urlsplit

            query = parse_qs(urlsplit(self.path).query)
            scopes = query.get("scope", [])
            state.issued.extend(scopes)
            access = []
            for scope in scopes:
                kind, _, rest = scope.partition(":")
                repo, _, actions = rest.rpartition(":")
                access.append({"type": kind, "name": repo, "actions": actions.split(",")})
            t = int(time.time())
            claims = {"iss": ISSUER, "sub": "divepy", "aud": SERVICE, "exp": t + 300, "nbf": t - 10, "iat": t}
            claims |= {"jti": str(time.monotonic_ns()), "access": access}
            head = b64(json.dumps({"alg": "RS256", "typ": "JWT", "x5c": [der]}).encode())
            body = b64(json.dumps(claims).encode())
            signature = key.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
            token = f"{head}.{body}.{b64(signature)}"
            answer(self, 200, {"Content-Type": "application/json"}, json.dumps({"token": token}).encode())

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
    state.realm = f"http://127.0.0.1:{server.server_address[1]}/token"
    with serving(server):
        yield state


@contextmanager
def real_registry(tmp: Path, *, htpasswd: bool = False, token: TokenIssuer | None = None) -> Iterator[RealRegistry]:
    """The real registry on loopback; ``htpasswd=True`` asks basic auth of HTPASSWD_USER; ``token``, Bearer tokens."""
    binary = shutil.which("docker-registry")
    if binary is None or shutil.which("skopeo") is None:
        missing("registry", "docker-registry or skopeo is not installed")
    port = free_port()
    config = tmp / "config.yml"
    auth = ""
    if htpasswd:
        (tmp / "htpasswd").write_text(f"{HTPASSWD_USER}:{HTPASSWD_HASH}\n")
        auth = f"auth:\n  htpasswd:\n    realm: divepy-tests\n    path: {tmp / 'htpasswd'}\n"
    if token is not None:
        auth = (
            f"auth:\n  token:\n    realm: {token.realm}\n    service: {SERVICE}\n    issuer: {ISSUER}\n"
            f"    rootcertbundle: {token.cert}\n"
        )
    config.write_text(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {tmp / 'data'}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n" + auth
    )
    proc = subprocess.Popen([binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                err = proc.communicate()[1]
                raise RuntimeError(f"docker-registry did not start: {err!r}") from None
            time.sleep(0.05)
    try:
        yield RealRegistry(f"127.0.0.1:{port}", proc)
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stderr is not None:
            proc.stderr.close()


# -- the scripted registry ------------------------------------------------------------------------------------


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


Handler = Callable[[BaseHTTPRequestHandler], bool]


def answer(h: BaseHTTPRequestHandler, status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> bool:
    """Send one whole response from a hook (and say so: True)."""
    h.send_response(status)
    for k, v in (headers or {}).items():
        h.send_header(k, v)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)
    return True


@dataclass(slots=True)
class Scripted:
    """A registry whose answers are plain data: ``routes[path] = (status, headers, body)``, plus hooks."""

    host: str = ""
    routes: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    #: Runs before the routes; returns True when it answered the request itself.
    hook: Handler | None = None
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def image(self, repo: str, tag: str, layers: list[bytes], *, config: bytes = b"{}") -> str:
        """Serve a one-manifest image; returns the manifest digest."""
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": sha(config),
                    "size": len(config),
                },
                "layers": [
                    {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": sha(b), "size": len(b)}
                    for b in layers
                ],
            }
        ).encode()
        kind = {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
        self.routes[f"/v2/{repo}/manifests/{tag}"] = (200, kind, manifest)
        self.routes[f"/v2/{repo}/manifests/{sha(manifest)}"] = (200, kind, manifest)
        for blob in (config, *layers):
            self.routes[f"/v2/{repo}/blobs/{sha(blob)}"] = (200, {}, blob)
        return sha(manifest)


@contextmanager
def scripted_registry() -> Iterator[Scripted]:
    state = Scripted()

    class Handle(BaseHTTPRequestHandler):
        def log_message(self, fmt: str, *args: object) -> None:  # quiet
            return None

        def do_GET(self) -> None:
            state.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            if state.hook is not None and state.hook(self):
                return
            path = self.path.split("?", 1)[0]
            status, headers, body = state.routes.get(path, (404, {}, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}'))
            answer(self, status, headers, body)

        do_POST = do_GET

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
    state.host = f"127.0.0.1:{server.server_address[1]}"
    with serving(server):
        yield state
