"""Start the explorer from the CLI: settings, a loader in a worker, errors out to stderr."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Protocol

from dive_py import messages
from dive_py.errors import EXIT_OK, InputError, UsageError
from dive_py.ui_settings import load_ui_settings

if TYPE_CHECKING:
    from dive_py.core.archive import OpensArchive


class LaunchOptions(Protocol):
    path: str
    opener: OpensArchive | None
    shown_name: str
    select: str | None
    platform: str | None
    ignore_errors: bool
    config: str | None
    no_color: bool
    base_layers: int | None
    ignore_paths: tuple[str, ...]
    cache_dir: str | None
    no_cache: bool


def launch(opts: LaunchOptions) -> int:
    """Run the TUI; returns the exit status (load errors raise InputError after the screen closes)."""
    from dive_py.core.model.loader import load_image, settle
    from dive_py.insight_settings import load_junk_rules
    from dive_py.ui.app import DiveApp, ImageChoice, LoadProgress
    from dive_py.viewmodel.insights import InsightSettings
    from dive_py.viewmodel.session import Session

    if opts.no_color:
        os.environ["NO_COLOR"] = "1"  # Textual renders monochrome when NO_COLOR is set
    settings = load_ui_settings(opts.config)
    for warning in settings.warnings:
        messages.warning(warning)
    from dive_py.cache_dirs import meta_cache

    source = opts.opener or opts.path
    cache = meta_cache(opts.cache_dir, opts.no_cache)
    if opts.opener is None and not os.path.exists(opts.path):
        raise InputError(f"{opts.path}: no such file or directory")
    insight_settings = InsightSettings(opts.base_layers, tuple(opts.ignore_paths), load_junk_rules(opts.config))

    def loader(progress: LoadProgress, choice: ImageChoice | None) -> Session:
        if choice is None:
            image = load_image(
                source,
                image=opts.select,
                platform=opts.platform,
                hash_files=True,
                strict=not opts.ignore_errors,
                progress=progress,
                cache=cache,
            )
        else:
            image = load_image(
                source,
                position=choice.position,
                hash_files=True,
                strict=not opts.ignore_errors,
                progress=progress,
                cache=cache,
            )
        if not image.layers:
            image.close()
            raise UsageError("the image has no layers: there is nothing to explore (--json and --ci still work)")
        try:
            session = Session.build(
                image,
                hidden=settings.hidden,
                collapse_dir=settings.collapse_dir,
                aggregated=settings.aggregated,
                progress=progress,
                insight_settings=insight_settings,
            )
        except BaseException:
            image.close()
            raise
        settle()
        return session

    app = DiveApp(loader=loader, source=opts.shown_name, settings=settings)
    app.run()
    if app.error is not None:
        raise InputError(app.error)
    if app.session is not None:
        for warning in app.session.image.warnings:
            messages.warning(warning)
        app.session.close()
    return app.return_code if app.return_code is not None else EXIT_OK
