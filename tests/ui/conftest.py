"""Apps for UI tests: always built from an already loaded session, so no worker runs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dive_py.core.model.image import Image
from dive_py.core.model.loader import load_image
from dive_py.fixtures.demo import DEMO_PATH
from dive_py.ui.app import DiveApp, ImageChoice
from dive_py.ui_settings import UiSettings
from dive_py.viewmodel.session import Session
from tests.ui.helpers import MakeApp


@pytest.fixture
def make_app() -> Iterator[MakeApp]:
    opened: list[Image] = []

    def factory(
        path: str = str(DEMO_PATH),
        settings: UiSettings | None = None,
        select: str | None = None,
        insights_now: bool = True,
    ) -> DiveApp:
        settings = settings or UiSettings()

        def loader(progress: object, choice: ImageChoice | None) -> Session:
            if choice is None:
                image = load_image(path, hash_files=True, image=select)
            else:
                image = load_image(path, hash_files=True, position=choice.position)
            opened.append(image)
            session = Session.build(
                image, hidden=settings.hidden, collapse_dir=settings.collapse_dir, aggregated=settings.aggregated
            )
            if insights_now:  # every frame complete from the first: snapshots never race the thread
                session.insights.run_now()
            return session

        # The first image is loaded here, so no worker runs at start-up; switching images uses the loader.
        return DiveApp(session=loader(None, None), loader=loader, settings=settings)

    yield factory
    for image in opened:
        image.close()
