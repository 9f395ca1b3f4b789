"""Apps for UI tests: always built from an already loaded session, so no worker runs."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dive_py.core.loader import load_image
from dive_py.fixtures.demo import DEMO_PATH
from dive_py.ui.app import DiveApp
from dive_py.ui_settings import UiSettings
from dive_py.viewmodel.session import Session


@pytest.fixture
def make_app() -> Callable[..., DiveApp]:
    opened = []

    def factory(path: str = str(DEMO_PATH), settings: UiSettings | None = None) -> DiveApp:
        image = load_image(path, hash_files=True)
        opened.append(image)
        settings = settings or UiSettings()
        session = Session.build(image, hidden=settings.hidden, collapse_dir=settings.collapse_dir,
                                aggregated=settings.aggregated)
        return DiveApp(session=session, settings=settings)

    yield factory
    for image in opened:
        image.close()
