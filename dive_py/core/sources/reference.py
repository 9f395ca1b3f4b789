"""Image references (``[HOST[:PORT]/]REPO[:TAG][@DIGEST]``) with Docker Hub's naming rules.

``nginx`` means ``docker.io/library/nginx:latest``, as it does for
``docker pull``: the first component is a registry host only when it has a
``.`` or a ``:`` or is ``localhost``.  The grammar follows the distribution
project's reference grammar, so a name docker accepts parses here and a
name it refuses gets one line saying why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dive_py.errors import UsageError

DOCKER_HUB = "docker.io"
#: The host Docker Hub's registry API answers on.
DOCKER_HUB_API = "registry-1.docker.io"
_HUB_ALIASES = ("index.docker.io", "registry-1.docker.io", "registry.hub.docker.com")

_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*\Z")
_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\Z")
_IPV6 = re.compile(r"\[[0-9A-Fa-f:.]+\]\Z")
_TAG = re.compile(r"[\w][\w.-]{0,127}\Z", re.ASCII)
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}\Z")
#: Longest name the distribution spec's implementations accept.
MAX_NAME = 255


@dataclass(slots=True, frozen=True)
class Reference:
    """A parsed image name: where it lives and which manifest."""

    host: str  #: as written, ``docker.io`` for Docker Hub
    repository: str  #: ``library/nginx``
    tag: str | None
    digest: str | None

    @property
    def api_host(self) -> str:
        """The host to send API requests to (Docker Hub's API lives on another name)."""
        return DOCKER_HUB_API if self.host == DOCKER_HUB else self.host

    @property
    def reference(self) -> str:
        """What goes after ``/manifests/``: the digest when there is one, else the tag."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        text = f"{self.host}/{self.repository}"
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def _split_host(name: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return DOCKER_HUB, name


def _valid_host(host: str) -> bool:
    name, _, port = host.rpartition(":") if not host.endswith("]") else (host, "", "")
    if not name:
        name, port = host, ""
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        return False
    return bool(_HOST.match(name) or _IPV6.match(name))


def parse_reference(text: str) -> Reference:
    """Parse an image name; a bad one is a :class:`UsageError` naming the part that is wrong."""
    if not text:
        raise UsageError("an empty image name")
    if len(text) > MAX_NAME + 200:
        raise UsageError("the image name is too long")
    rest, at, digest = text.partition("@")
    if at and not _DIGEST.match(digest):
        raise UsageError(f"{text!r}: {digest!r} is not a digest (expected ALGORITHM:HEX)")
    host, path = _split_host(rest)
    tag: str | None = None
    last_slash = path.rfind("/")
    colon = path.rfind(":")
    if colon > last_slash:
        path, tag = path[:colon], path[colon + 1 :]
        if not _TAG.match(tag):
            raise UsageError(f"{text!r}: {tag!r} is not a valid tag")
    if not _valid_host(host):
        raise UsageError(f"{text!r}: {host!r} is not a registry host")
    if host in _HUB_ALIASES:
        host = DOCKER_HUB
    components = path.split("/")
    for part in components:
        if not _COMPONENT.match(part):
            what = "an empty path component" if not part else f"{part!r} (lowercase letters, digits and . _ - only)"
            raise UsageError(f"{text!r}: the repository has {what}")
    if host == DOCKER_HUB and len(components) == 1:
        path = "library/" + path
    if len(host) + 1 + len(path) > MAX_NAME:
        raise UsageError(f"{text!r}: the repository name is longer than {MAX_NAME} characters")
    if tag is None and not at:
        tag = "latest"
    return Reference(host, path, tag, digest if at else None)


__all__ = ["DOCKER_HUB", "DOCKER_HUB_API", "Reference", "parse_reference"]
