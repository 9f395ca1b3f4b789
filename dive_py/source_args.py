"""What the IMAGE argument names: an archive or layout on disk, the demo, or an image in a registry.

dive's and skopeo's scheme prefixes (``docker-archive:``, ``oci:DIR:TAG``
...) name files; ``registry://NAME`` (or ``--source registry``) names an
image in a registry, pulled into the cache before anything else runs.
The engines (``docker://``, ``podman://``) are not read yet: their error
says how to export the image instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from dive_py.errors import UsageError

_ENGINE_SCHEMES = ("docker://", "podman://")
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
#: --source values: dive's own, and the registry.
SOURCES = ("docker-archive", "oci-archive", "oci", "registry")


@dataclass(slots=True, frozen=True)
class Resolved:
    """The IMAGE argument, understood."""

    path: str  #: the archive or layout directory ("" for a registry image: pulled later)
    tag: str | None = None  #: the TAG of skopeo's ``oci:DIR:TAG`` form: picks the image when --image is not given
    registry: str | None = None  #: an image name to pull from a registry


def resolve_source(image: str | None, demo: bool, source: str | None) -> Resolved:
    """Turn the IMAGE argument (with dive/skopeo scheme prefixes, or ``registry://``) into what to open."""
    if source not in (None, *SOURCES):
        raise UsageError(
            f"--source {source}: divepy reads image archives and registries (--source registry), not engines yet; "
            "export the image first (`docker save IMAGE -o image.tar`)"
        )
    if demo:
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
    for scheme in _ENGINE_SCHEMES:
        if image.startswith(scheme):
            raise UsageError(
                f"{image}: divepy reads image archives and registries, not engines yet; "
                f"run `{scheme[:-3]} save {image[len(scheme) :]} -o image.tar` and open that, "
                f"or read it from its registry: registry://{image[len(scheme) :]}"
            )
    for scheme in _ARCHIVE_SCHEMES:
        if image.startswith(scheme):
            path = image[len(scheme) :]
            if scheme.startswith("oci") and ":" in path and not os.path.exists(path):
                path, tag = path.rsplit(":", 1)  # skopeo's oci:DIR:TAG form
                return Resolved(path, tag or None)
            return Resolved(path)
    return Resolved(image)


__all__ = ["SOURCES", "Resolved", "resolve_source"]
