"""What the IMAGE argument names: an archive or layout on disk, the demo, an engine's image, a registry's.

As in dive: an IMAGE that exists as a path is an archive (dive's and
skopeo's scheme prefixes, ``docker-archive:``, ``oci:DIR:TAG`` ..., name
files too); ``docker://NAME`` / ``--source docker`` and ``podman://NAME`` /
``--source podman`` name an engine's image; ``registry://NAME`` (or
``--source registry``) an image in a registry, pulled into the cache
before anything else runs.  A bare ``NAME[:TAG|@DIGEST]`` that is no path
goes to the engines (Docker first, then Podman); one that only a path could
be (``./x``, ``image.tar``) stays a missing file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from dive_py.errors import UsageError

_ENGINE_SCHEMES = {"docker://": "docker", "podman://": "podman"}
#: Names only a file could have: never sent to an engine.
_PATH_ENDINGS = (".tar", ".tgz", ".gz", ".zst", ".zstd", ".xz", ".bz2", ".oci", ".json")
AUTO = "auto"
_ARCHIVE_SCHEMES = (
    "docker-archive://",
    "docker-tar://",
    "oci-archive://",
    "oci://",
    "docker-archive:",
    "oci-archive:",
    "oci:",
)
_REGISTRY_SCHEME = "registry://"
#: skopeo's spellings that may end in ``:REFERENCE`` (or ``:@INDEX``) naming one image of the archive.
_ARCHIVE_REF_SCHEMES = ("docker-archive:", "oci-archive:")
#: --source values: dive's own, and the registry.
SOURCES = ("docker", "podman", "docker-archive", "oci-archive", "oci", "registry")


@dataclass(slots=True, frozen=True)
class Resolved:
    """The IMAGE argument, understood."""

    path: str  #: the archive or layout directory ("" for a registry image: pulled later)
    tag: str | None = None  #: the TAG of skopeo's ``oci:DIR:TAG`` form: picks the image when --image is not given
    registry: str | None = None  #: an image name to pull from a registry
    engine: str | None = None  #: "docker", "podman", or AUTO (a bare name: whichever engine has it)
    engine_name: str = ""  #: the image's name, tag, digest or id in the engine


def resolve_source(image: str | None, demo: bool, source: str | None) -> Resolved:
    """Turn the IMAGE argument (with dive/skopeo scheme prefixes, or ``registry://``) into what to open."""
    if source not in (None, *SOURCES):
        raise UsageError(f"--source {source}: expected one of {', '.join(SOURCES)}")
    if demo:
        if source not in (None, "docker-archive"):
            raise UsageError(f"--demo opens the shipped archive; it takes no --source {source}")
        if image:
            raise UsageError("give either IMAGE or --demo, not both")
        from dive_py.fixtures.demo import DEMO_PATH

        return Resolved(str(DEMO_PATH))
    if not image:
        raise UsageError("missing IMAGE (an image archive or OCI layout directory; try --demo)")
    if source == "registry" or image.startswith(_REGISTRY_SCHEME):
        from dive_py.core.sources.reference import parse_reference

        name = image.removeprefix(_REGISTRY_SCHEME)
        parse_reference(name)  # a bad name is a usage error before anything starts
        return Resolved("", registry=name)
    for scheme, engine in _ENGINE_SCHEMES.items():
        if image.startswith(scheme):
            return _engine(image[len(scheme) :], engine)
    if source is not None and source in _ENGINE_SCHEMES.values():
        return _engine(image, source)
    for scheme in _ARCHIVE_SCHEMES:
        if image.startswith(scheme):
            path = image[len(scheme) :]
            if scheme in _ARCHIVE_REF_SCHEMES and ":" in path and not os.path.exists(path):
                return _archive_with_ref(path)
            if scheme.startswith("oci") and ":" in path and not os.path.exists(path):
                path, tag = path.rsplit(":", 1)  # skopeo's oci:DIR:TAG form
                return Resolved(path, tag or None)
            return Resolved(path)
    if source is None and not os.path.lexists(image) and _could_be_a_name(image):
        return Resolved(image, engine=AUTO, engine_name=image)
    return Resolved(image)


def _archive_with_ref(spec: str) -> Resolved:
    """skopeo's ``docker-archive:PATH:NAME:TAG`` / ``:@INDEX``: the image of a multi-image archive.

    The path is the shortest prefix (up to a colon) that exists, so a path with colons still works;
    what follows picks the image as ``--image`` would (``@2`` is the third image).
    """
    for i, ch in enumerate(spec):
        if ch == ":" and os.path.exists(spec[:i]):
            ref = spec[i + 1 :]
            if not ref:
                break
            return Resolved(spec[:i], ref[1:] if ref.startswith("@") else ref)
    return Resolved(spec)


def _engine(name: str, engine: str) -> Resolved:
    from dive_py.core.sources.engine import check_name

    if not name:
        raise UsageError(f"{engine}://: give an image name, tag, digest or id")
    return Resolved("", engine=engine, engine_name=check_name(name))


def _could_be_a_name(image: str) -> bool:
    """Could a missing path be an image name instead (``nginx``, ``app:1.2``, ``ghcr.io/o/app@sha256:…``)?"""
    if image.startswith(("/", ".", "~")) or image.lower().endswith(_PATH_ENDINGS):
        return False
    from dive_py.core.sources.reference import parse_reference

    try:
        parse_reference(image)
    except UsageError:
        return False
    return True


__all__ = ["AUTO", "SOURCES", "Resolved", "resolve_source"]
