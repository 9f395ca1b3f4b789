"""The OCI distribution API, read-only: manifests and blobs, with the auth flows registries use.

One request path does it all (``_send``): the ``Authorization`` this host
asked for, the Bearer token flow on a 401 (``WWW-Authenticate: Bearer
realm=…,service=…,scope=…``, with the user's credentials if any), basic
auth, redirects followed by hand so that credentials never go to another
host (blob storage on a CDN), and 429/5xx retried a bounded number of times
with backoff.  Plain HTTP only for loopback hosts or when asked for.
Every failure is one line naming the image and what to do.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urljoin, urlsplit

from dive_py.core.oci.manifest import DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST
from dive_py.core.sources.credentials import Credentials
from dive_py.core.sources.lazyhttp import httpx
from dive_py.core.sources.reference import Reference
from dive_py.core.text import printable
from dive_py.errors import InputError

#: What a manifest request accepts, best first (OCI, then Docker schema 2; never schema 1).
MANIFEST_ACCEPT = ", ".join((OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST))
#: A manifest or an index is small; a bigger answer is refused unread.
MAX_MANIFEST_BYTES = 4 << 20
RETRIES = 4
MAX_REDIRECTS = 5
#: Longest wait a Retry-After header may ask for.
MAX_RETRY_WAIT = 10.0
#: Error bodies and token answers are read this far, no further.
MAX_SMALL_BODY = 64 << 10
#: A manifest, an error or a token must arrive whole within this many seconds (a trickle is cut off).
SMALL_DEADLINE = 30.0
#: A blob gets this long, plus a second for every BLOB_RATE bytes of it.
BLOB_DEADLINE = 300.0
BLOB_RATE = 100_000
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')
SHA256 = re.compile(r"sha256:[0-9a-f]{64}\Z")


class RegistryError(InputError):
    """The registry refused, failed, or sent something that is not what was asked for."""


def is_loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, rest = header.strip().partition(" ")
    return scheme.lower(), dict(_CHALLENGE.findall(rest))


class Registry:
    """A client for one repository of one registry."""

    def __init__(
        self,
        ref: Reference,
        *,
        credentials: Credentials | None = None,
        plain_http: bool = False,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.ref = ref
        self.credentials = credentials
        self.client = client or httpx.Client(timeout=httpx.Timeout(30.0, connect=10.0), follow_redirects=False)
        self.sleep = sleep
        self.scheme = "http" if plain_http else "https"
        self._fallback = not plain_http and is_loopback(ref.api_host)  # a local registry often speaks plain HTTP
        self._authorization: str | None = None
        self.name = str(ref)
        #: Set when the pull gives up (another blob failed, Ctrl+C): the other downloads stop at their next chunk.
        self.cancelled = threading.Event()

    # -- the one request path -----------------------------------------------------------
    def _url(self, path: str) -> str:
        return f"{self.scheme}://{self.ref.api_host}/v2/{self.ref.repository}/{path}"

    def _fail(self, what: str) -> RegistryError:
        return RegistryError(f"{self.name}: {what}")

    def _bad_request(self) -> tuple[type[BaseException], ...]:
        """What httpx raises for a hostile URL or header value, besides its transport errors."""
        return (httpx.HTTPError, httpx.InvalidURL, UnicodeError, ValueError)

    @contextmanager
    def _send(self, path: str, accept: str | None = None) -> Iterator[httpx.Response]:
        """GET ``path`` of the repository, authenticated, redirected and retried; the response streams."""
        url = self._url(path)
        origin = urlsplit(url).netloc
        tried_auth = False
        attempt = 0
        redirects = 0
        while True:
            # identity: a compressed answer could expand without bound before any size check sees it
            headers = {"Accept-Encoding": "identity"}
            if accept:
                headers["Accept"] = accept
            if self._authorization and urlsplit(url).netloc == origin:
                headers["Authorization"] = self._authorization
            try:
                request = self.client.build_request("GET", url, headers=headers)
                response = self.client.send(request, stream=True)
            except httpx.ConnectError as exc:
                if self._fallback and url.startswith("https://"):
                    self._fallback = False
                    self.scheme = "http"
                    url = "http://" + url[len("https://") :]
                    origin = urlsplit(url).netloc
                    continue
                raise self._fail(f"cannot reach {self.ref.api_host} ({exc})") from None
            except httpx.TimeoutException:
                raise self._fail(f"{self.ref.api_host} did not answer in time") from None
            except self._bad_request() as exc:
                raise self._fail(f"request to {printable(url[:200])} failed ({printable(str(exc)[:200])})") from None
            status = response.status_code
            if status in (301, 302, 303, 307, 308) and "location" in response.headers:
                response.close()
                redirects += 1
                if redirects > MAX_REDIRECTS:
                    raise self._fail("too many redirects")
                url = urljoin(url, response.headers["location"])
                continue
            if status == 401:  # answer the challenge once; a second 401 means the credentials are not enough
                challenge = response.headers.get("www-authenticate", "")
                response.close()
                if not tried_auth and self._authenticate(challenge):
                    tried_auth = True
                    continue
                raise self._fail(self._unauthorized())
            if (status == 429 or status >= 500) and attempt < RETRIES:
                wait = self._retry_after(response, attempt)
                response.close()
                attempt += 1
                self.sleep(wait)
                continue
            if status != 200:
                message = self._status_message(response)
                response.close()
                raise self._fail(message)
            encoding = response.headers.get("content-encoding", "identity").strip().lower()
            if encoding not in ("", "identity"):
                response.close()
                raise self._fail("the registry sent a compressed answer although none was asked for: refused")
            try:
                yield response
            except self._bad_request() as exc:  # the connection broke while the body was read
                raise self._fail(f"reading from {self.ref.api_host} failed ({printable(str(exc)[:200])})") from None
            finally:
                response.close()
            return

    def _read(self, response: httpx.Response, limit: int, what: str) -> bytes:
        """A small body, whole: at most ``limit`` bytes, within SMALL_DEADLINE seconds."""
        deadline = time.monotonic() + SMALL_DEADLINE
        body = bytearray()
        for chunk in response.iter_raw():
            body += chunk
            if len(body) > limit:
                raise self._fail(f"{what} is over {limit:,} bytes: refused")
            if time.monotonic() > deadline:
                raise self._fail(f"{what} did not arrive within {SMALL_DEADLINE:.0f} s")
        return bytes(body)

    def _retry_after(self, response: httpx.Response, attempt: int) -> float:
        header: str = response.headers.get("retry-after", "")
        if header.isascii() and header.isdigit():
            return min(float(header), MAX_RETRY_WAIT)
        return min(0.5 * 2.0**attempt, MAX_RETRY_WAIT)

    def _authenticate(self, challenge: str) -> bool:
        """Answer a 401's challenge: fetch a Bearer token, or send basic credentials."""
        scheme, params = _challenge(challenge)
        creds = self.credentials
        if scheme == "basic":
            if creds is None or not creds.username:
                return False
            pair = f"{creds.username}:{creds.password}".encode()
            self._authorization = "Basic " + base64.b64encode(pair).decode()
            return True
        if scheme != "bearer" or "realm" not in params:
            return False
        realm = params["realm"]
        if not realm.startswith(("https://", "http://")):
            raise self._fail(f"the token server {printable(realm[:200])!r} is not an http(s) address")
        query = {k: v for k, v in params.items() if k in ("service", "scope")}
        query.setdefault("scope", f"repository:{self.ref.repository}:pull")
        try:
            if creds is not None and creds.identity_token:
                query.update({"grant_type": "refresh_token", "refresh_token": creds.identity_token})
                query["client_id"] = "divepy"
                request = self.client.build_request("POST", realm, data=query, headers={"Accept-Encoding": "identity"})
            else:
                headers = {"Accept-Encoding": "identity"}
                if creds is not None and creds.username:
                    pair = f"{creds.username}:{creds.password}".encode()
                    headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
                request = self.client.build_request("GET", realm, params=query, headers=headers)
            answer = self.client.send(request, stream=True)
            try:
                status = answer.status_code
                body = self._read(answer, MAX_SMALL_BODY, "the token server's answer") if status == 200 else b""
            finally:
                answer.close()
        except RegistryError:
            raise
        except self._bad_request() as exc:
            raise self._fail(
                f"the token server {printable(realm[:200])} failed ({printable(str(exc)[:200])})"
            ) from None
        if status in (401, 403):
            raise self._fail(self._unauthorized())
        if status != 200:
            raise self._fail(f"the token server answered HTTP {status}")
        try:
            doc: Any = json.loads(body)
        except ValueError:
            raise self._fail("the token server sent no JSON") from None
        token = (doc.get("token") or doc.get("access_token")) if isinstance(doc, dict) else None
        if not isinstance(token, str) or not token or not (token.isascii() and token.isprintable()):
            raise self._fail("the token server sent no usable token")
        self._authorization = f"Bearer {token}"
        return True

    def _unauthorized(self) -> str:
        if self.credentials is None:
            return (
                f"authentication required: log in (`docker login {self.ref.host}`) "
                "or put credentials in ~/.docker/config.json"
            )
        return "the registry refused these credentials (from ~/.docker/config.json)"

    def _status_message(self, response: httpx.Response) -> str:
        status = response.status_code
        codes: list[str] = []
        try:
            if response.headers.get("content-encoding", "identity").strip().lower() in ("", "identity"):
                doc = json.loads(self._read(response, MAX_SMALL_BODY, "the error"))
                errors = doc.get("errors") if isinstance(doc, dict) else None
                if isinstance(errors, list):
                    codes = [str(e.get("code", "")) for e in errors if isinstance(e, dict)]
        except (ValueError, UnicodeError, RegistryError, httpx.HTTPError, httpx.InvalidURL):
            pass  # the status alone says enough
        if status == 404 or "MANIFEST_UNKNOWN" in codes or "NAME_UNKNOWN" in codes:
            return f"not found in {self.ref.host} (check the name and tag)"
        if status == 403 or "DENIED" in codes:
            return "access denied: this account may not pull it"
        if status == 429 or "TOOMANYREQUESTS" in codes:
            return "rate limited by the registry: wait, or log in for a higher limit"
        return f"the registry answered HTTP {status}"

    # -- what the pull needs -----------------------------------------------------------------
    def manifest(self, reference: str) -> tuple[bytes, str, str]:
        """(bytes, media type, digest) of a manifest or an index; the digest is checked when it was asked for."""
        if ":" in reference and not SHA256.match(reference):
            raise self._fail(f"{printable(reference)}: only sha256 digests can be verified")
        with self._send(f"manifests/{reference}", MANIFEST_ACCEPT) as response:
            declared = response.headers.get("content-length") or "0"
            if not declared.isascii() or not declared.isdigit() or int(declared) > MAX_MANIFEST_BYTES:
                raise self._fail(f"the manifest's length {printable(declared[:40])} is refused")
            data = self._read(response, MAX_MANIFEST_BYTES, "the manifest")
            media = response.headers.get("content-type", "").split(";")[0].strip()
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if reference.startswith("sha256:") and digest != reference:
            raise self._fail(f"the manifest sent for {reference} has digest {digest}: refused")
        return data, media, digest

    def blob(self, digest: str, size: int, write: Callable[[bytes], object]) -> None:
        """Stream a blob to ``write``, checking its size and digest; a mismatch raises before it is kept."""
        if not SHA256.match(digest):
            raise self._fail(f"{printable(digest[:80])}: not a sha256 digest")
        hexdigest = digest[7:]
        sha = hashlib.sha256()
        got = 0
        deadline = time.monotonic() + BLOB_DEADLINE + size / BLOB_RATE
        with self._send(f"blobs/{digest}") as response:
            for chunk in response.iter_raw():
                if self.cancelled.is_set():
                    raise self._fail("cancelled")
                got += len(chunk)
                if got > size:
                    raise self._fail(f"blob {digest[:19]}… is longer than the {size:,} bytes its manifest gives")
                if time.monotonic() > deadline:
                    raise self._fail(f"blob {digest[:19]}… is arriving too slowly: gave up")
                sha.update(chunk)
                write(chunk)
        if got != size:
            raise self._fail(f"blob {digest[:19]}… ended after {got:,} of {size:,} bytes")
        if sha.hexdigest() != hexdigest:
            raise self._fail(f"blob {digest[:19]}… does not match its digest: refused")

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["MANIFEST_ACCEPT", "Registry", "RegistryError", "is_loopback"]
