"""The Docker Engine API (which Podman also speaks), read-only: find an image, list images, stream its export.

``GET /images/{name}/json`` says whether the engine has the image;
``GET /images/{name}/get`` is ``docker save`` as a stream, handed straight
to the one-pass archive reader (:class:`EngineSource`), so the analysis
runs while the engine is still sending and no copy of the image is
written.  Reading a file's content later (the viewer, extraction) asks the
engine for the export again, by image id, so a tag moved in the meantime
cannot change what is read.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from dive_py.core.archive.base import Archive, ProgressFn
from dive_py.core.archive.streamed import StreamedArchive
from dive_py.core.oci.selection import normalise_platform
from dive_py.core.sources.endpoints import ENGINE_NAMES, Endpoint
from dive_py.core.sources.lazyhttp import httpx
from dive_py.core.tar import blobio
from dive_py.core.text import printable
from dive_py.errors import InputError, UsageError

#: What an image name or id may hold: the reference grammar's characters, nothing a URL could misread.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,511}\Z")
#: Small answers are read this far, no further (an image list of thousands of images fits).
MAX_VERSION_BYTES = 64 << 10
MAX_INSPECT_BYTES = 4 << 20
MAX_LIST_BYTES = 64 << 20
#: A socket connects at once; a tcp engine may be a network away.
CONNECT_TIMEOUT = 5.0
#: Small requests; the export may pause longer while the engine prepares a layer.
READ_TIMEOUT = 60.0
EXPORT_READ_TIMEOUT = 300.0
_CHUNK = 1 << 20
#: The Engine API version that added ``platform`` to the image export.
PLATFORM_EXPORT_API = (1, 48)


class EngineError(InputError):
    """The engine refused or failed a request."""


class EngineUnavailable(EngineError):
    """Nothing answered at the endpoint (no socket, refused, not an engine)."""


@dataclass(slots=True, frozen=True)
class ImageInfo:
    """What ``docker image inspect`` says about one image."""

    id: str
    repo_tags: tuple[str, ...]
    size: int
    os: str
    architecture: str
    variant: str

    @property
    def platform(self) -> str:
        parts = [self.os or "?", self.architecture or "?"] + ([self.variant] if self.variant else [])
        return "/".join(parts)


@dataclass(slots=True, frozen=True)
class ImageSummary:
    """One row of ``docker images`` / ``docker system df -v``."""

    id: str
    repo_tags: tuple[str, ...]
    created: int
    size: int
    shared_size: int  #: bytes in layers other images use too (-1: the engine did not say)
    containers: int


def check_name(name: str) -> str:
    if not _NAME.match(name) or ".." in name:
        raise UsageError(f"{printable(name[:200])!r} is not an image name, tag, digest or id")
    return name


def _ssl_context(endpoint: Endpoint) -> ssl.SSLContext | bool:
    tls = endpoint.tls
    if tls is None:
        return True
    ctx = ssl.create_default_context(cafile=tls.ca) if tls.ca else ssl.create_default_context()
    if tls.cert and tls.key:
        ctx.load_cert_chain(tls.cert, tls.key)
    if not tls.verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Engine:
    """A client for one engine endpoint."""

    def __init__(self, endpoint: Endpoint, *, client: httpx.Client | None = None) -> None:
        self.endpoint = endpoint
        self.name = ENGINE_NAMES.get(endpoint.engine, endpoint.engine)
        self.where = f"{self.name} at {endpoint.describe()}"
        timeout = httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT)
        if client is not None:
            self.client = client
        elif endpoint.socket is not None:
            transport = httpx.HTTPTransport(uds=endpoint.socket)
            self.client = httpx.Client(transport=transport, base_url=endpoint.base_url, timeout=timeout)
        else:
            try:
                verify = _ssl_context(endpoint)
            except (OSError, ssl.SSLError) as exc:
                raise UsageError(f"{self.where}: its TLS certificates cannot be used ({exc})") from None
            self.client = httpx.Client(base_url=endpoint.base_url, timeout=timeout, verify=verify)
        self.api_version: tuple[int, int] = (0, 0)

    # -- one request -----------------------------------------------------------------------
    def _fail(self, what: str) -> EngineError:
        return EngineError(f"{self.where}: {what}")

    def _send(self, path: str, params: dict[str, str] | None = None, *, read_timeout: float = READ_TIMEOUT) -> Any:
        headers = {"Accept-Encoding": "identity"}
        timeout = httpx.Timeout(read_timeout, connect=CONNECT_TIMEOUT)
        socket_path = self.endpoint.socket
        if socket_path is not None and not os.path.exists(socket_path):
            # Said before httpx tries: its failed connect to a missing socket leaves the socket object open.
            raise EngineUnavailable(f"{self.where}: no socket there")
        try:
            request = self.client.build_request("GET", path, params=params, headers=headers, timeout=timeout)
            return self.client.send(request, stream=True)
        except (httpx.ConnectError, httpx.UnsupportedProtocol, FileNotFoundError, ConnectionError) as exc:
            raise EngineUnavailable(f"{self.where}: {_why(exc)}") from None
        except httpx.TimeoutException:
            raise EngineUnavailable(f"{self.where}: did not answer in time") from None
        except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError) as exc:
            raise EngineUnavailable(f"{self.where}: {printable(str(exc)[:200])}") from None

    def _body(self, response: Any, limit: int, what: str) -> bytes:
        body = bytearray()
        try:
            for chunk in response.iter_raw():
                body += chunk
                if len(body) > limit:
                    raise self._fail(f"{what} is over {limit:,} bytes: refused")
        except httpx.HTTPError as exc:
            raise self._fail(f"reading {what} failed ({printable(str(exc)[:200])})") from None
        finally:
            response.close()
        return bytes(body)

    def _json(self, path: str, limit: int, what: str, params: dict[str, str] | None = None) -> Any:
        response = self._send(path, params)
        status = response.status_code
        body = self._body(response, limit, what)
        if status != 200:
            raise _StatusError(status, _message(body))
        try:
            return json.loads(body)
        except ValueError:
            raise self._fail(f"{what} is not JSON: is this an engine?") from None

    # -- what divepy asks ------------------------------------------------------------------------
    def ping(self) -> None:
        """Check the engine answers, and learn its API version."""
        try:
            doc = self._json("/version", MAX_VERSION_BYTES, "its version")
        except _StatusError as exc:
            raise EngineUnavailable(
                f"{self.where}: answered HTTP {exc.status} to /version: is this an engine?"
            ) from None
        except EngineUnavailable:
            raise
        except EngineError as exc:  # not JSON, too long: whatever answers there is no engine
            raise EngineUnavailable(exc.message) from None
        version = doc.get("ApiVersion") if isinstance(doc, dict) else None
        match = re.match(r"(\d+)\.(\d+)", version) if isinstance(version, str) else None
        if match is None:
            raise EngineUnavailable(f"{self.where}: its /version names no API version: is this an engine?")
        self.api_version = (int(match.group(1)), int(match.group(2)))

    def inspect(self, name: str) -> ImageInfo | None:
        """The image ``name`` (a name, tag, digest or id), or None when the engine does not have it."""
        path = f"/images/{quote(check_name(name), safe='/:@')}/json"
        try:
            doc = self._json(path, MAX_INSPECT_BYTES, "the image's inspect")
        except _StatusError as exc:
            if exc.status == 404:
                return None
            raise self._fail(f"image {printable(name)!r}: {exc.describe()}") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("Id"), str):
            raise self._fail(f"image {printable(name)!r}: the engine's answer has no image id")
        tags = doc.get("RepoTags")
        return ImageInfo(
            id=doc["Id"],
            repo_tags=tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else (),
            size=_int(doc.get("Size")),
            os=_str(doc.get("Os")),
            architecture=_str(doc.get("Architecture")),
            variant=_str(doc.get("Variant")),
        )

    def images(self) -> list[ImageSummary]:
        """The engine's images with shared and unique sizes (``/system/df``, else ``/images/json``)."""
        try:
            doc = self._json("/system/df", MAX_LIST_BYTES, "its disk usage")
            rows = doc.get("Images") if isinstance(doc, dict) else None
        except (_StatusError, EngineError):
            rows = None
        if not isinstance(rows, list):
            try:
                rows = self._json("/images/json", MAX_LIST_BYTES, "its image list")
            except _StatusError as exc:
                raise self._fail(f"listing images: {exc.describe()}") from None
        out: list[ImageSummary] = []
        for row in rows if isinstance(rows, list) else []:
            if not isinstance(row, dict) or not isinstance(row.get("Id"), str):
                continue
            tags = row.get("RepoTags")
            out.append(
                ImageSummary(
                    id=row["Id"],
                    repo_tags=tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else (),
                    created=_int(row.get("Created")),
                    size=_int(row.get("Size")),
                    shared_size=_int(row.get("SharedSize"), -1),
                    containers=_int(row.get("Containers"), -1),
                )
            )
        return out

    def export(self, name: str, platform: str | None = None) -> blobio.Readable:
        """``docker save NAME`` as a stream (the caller closes it)."""
        params: dict[str, str] = {}
        if platform is not None and self.api_version >= PLATFORM_EXPORT_API:
            os_, arch, variant = [*normalise_platform(platform).split("/"), ""][:3]
            wanted = {"os": os_, "architecture": arch} | ({"variant": variant} if variant else {})
            params["platform"] = json.dumps(wanted)
        path = f"/images/{quote(check_name(name), safe='/:@')}/get"
        response = self._send(path, params or None, read_timeout=EXPORT_READ_TIMEOUT)
        if response.status_code != 200:
            status = response.status_code
            body = self._body(response, MAX_VERSION_BYTES, "the error")
            raise self._fail(f"exporting {printable(name)!r}: {_StatusError(status, _message(body)).describe()}")
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            response.close()
            raise self._fail("the export came compressed although none was asked for: refused")
        return _ResponseReader(response, self)

    def close(self) -> None:
        self.client.close()


class _StatusError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def describe(self) -> str:
        return f"HTTP {self.status}" + (f" ({self.message})" if self.message else "")


def _message(body: bytes) -> str:
    """The ``message`` of an engine's error answer, printable and short."""
    try:
        doc = json.loads(body)
    except ValueError:
        return ""
    text = doc.get("message") if isinstance(doc, dict) else None
    return printable(text[:200]) if isinstance(text, str) else ""


def _why(exc: BaseException) -> str:
    text = str(exc)
    if "No such file" in text or isinstance(exc, FileNotFoundError):
        return "no socket there"
    if "Connection refused" in text:
        return "connection refused"
    if "Permission denied" in text:
        return "permission denied (is your user in the engine's group?)"
    return printable(text[:200]) or type(exc).__name__


def _int(value: object, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _str(value: object) -> str:
    return printable(value[:100]) if isinstance(value, str) else ""


class _ResponseReader(blobio.ReadOnlyStream):
    """The body of a streamed response as a readable stream; a broken connection is one clear error."""

    def __init__(self, response: Any, engine: Engine) -> None:
        self.response = response
        self.engine = engine
        self._chunks: Iterator[bytes] = response.iter_raw(_CHUNK)
        self._buf = b""
        self._pos = 0
        self._closed = False

    def read(self, n: int = -1, /) -> bytes:
        if self._pos >= len(self._buf):
            try:
                self._buf = next(self._chunks, b"")
            except httpx.TimeoutException:
                raise self.engine._fail("the export stalled: no data for a long time") from None
            except httpx.HTTPError as exc:
                raise self.engine._fail(f"the export broke off ({printable(str(exc)[:200])})") from None
            self._pos = 0
            if not self._buf:
                return b""
        if n < 0:
            n = len(self._buf) - self._pos
        out = self._buf[self._pos : self._pos + n]
        self._pos += len(out)
        return out

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.response.close()

    @property
    def closed(self) -> bool:
        return self._closed


class EngineSource:
    """An engine's image as a source the loader opens: the first read by name, re-reads by id."""

    def __init__(self, engine: Engine, name: str, info: ImageInfo, platform: str | None = None) -> None:
        self.engine = engine
        self.name = name
        self.info = info
        self.platform = platform
        self.label = f"{engine.endpoint.engine}://{printable(name)}"
        self._opened = 0

    def open(self) -> blobio.Readable:
        # The first export is by the name given, so the archive carries its tags; later ones by id.
        target = self.name if self._opened == 0 else self.info.id
        self._opened += 1
        return self.engine.export(target, self.platform)

    def size(self) -> int:
        return self.info.size

    def open_archive(self, *, hash_files: bool, progress: ProgressFn | None = None, scan: bool = True) -> Archive:
        # Content is hashed on the way past: hashing later would mean asking for the export again.
        del hash_files
        if not scan:
            self._opened = max(self._opened, 1)  # contents for a cached load: by id, which cannot move
        return StreamedArchive(self, self.label, None, hash_files=True, progress=progress, scan=scan)

    def identity(self) -> str:
        """The endpoint, the image id (its config's digest, naming every layer) and the platform asked for."""
        parts = ("engine", self.engine.endpoint.url, self.info.id, self.platform or "")
        return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()

    def close(self) -> None:
        self.engine.close()


__all__ = [
    "Engine",
    "EngineError",
    "EngineSource",
    "EngineUnavailable",
    "ImageInfo",
    "ImageSummary",
    "check_name",
]
