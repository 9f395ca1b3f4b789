"""Store every snapshot (SVG screens, text goldens) under the top-level ``snapshots/`` folder.

pytest-textual-snapshot looks up ``pytest_textual_snapshot.SVGImageExtension``
when its ``snap_compare`` fixture is set up, so replacing that name with a
subclass whose ``dirname()`` points into ``snapshots/`` moves the SVGs there.
Files land in ``snapshots/<test path without .py>/<test name>.<ext>``.  The
versions of textual, pytest-textual-snapshot and syrupy are pinned because the
patch relies on the plugin's module-level name (a test asserts a known SVG
exists, so a rename cannot go unnoticed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_textual_snapshot
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

TESTS_DIR = Path(__file__).resolve().parent
SNAPSHOT_ROOT = TESTS_DIR.parent / "snapshots"


class TopLevelDir:
    """Mixin: snapshots live in ``snapshots/`` mirroring the test's path."""

    @classmethod
    def dirname(cls, *, test_location: Any) -> str:
        rel = Path(test_location.filepath).resolve().relative_to(TESTS_DIR)
        return str(SNAPSHOT_ROOT / rel.with_suffix(""))


class SVGSnapshot(TopLevelDir, pytest_textual_snapshot.SVGImageExtension):
    """Screens rendered by snap_compare."""


class TextSnapshot(TopLevelDir, SingleFileSnapshotExtension):
    """Golden text files (view model renderings, reports)."""

    _file_extension = "txt"
    _write_mode = WriteMode.TEXT


# Replacing a class of the plugin is the point here; mypy refuses assignments to a class name.
pytest_textual_snapshot.SVGImageExtension = SVGSnapshot  # type: ignore[misc]


@pytest.fixture
def snapshot_txt(snapshot: Any) -> Any:
    return snapshot.use_extension(TextSnapshot)
