"""Where the layer metadata cache lives, for the command line and the explorer alike.

``DIR/meta`` under ``--cache-dir DIR``, else ``meta`` in the user cache
directory (platformdirs); ``--no-cache`` turns it off.  Kept apart from
``pulling`` (the registry) so the explorer can import it without the CLI's
modules.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dive_py.core.archive.metacache import MetaCache


def meta_cache_dir(cache_dir: str | None) -> str:
    """Where layer metadata snapshots go: ``DIR/meta`` under ``--cache-dir DIR``, else the user cache's ``meta``."""
    if cache_dir is not None:
        return os.path.join(cache_dir, "meta")
    import platformdirs

    return os.path.join(platformdirs.user_cache_dir("divepy"), "meta")


def meta_cache(cache_dir: str | None, no_cache: bool) -> MetaCache | None:
    """The layer metadata cache of this run (None under ``--no-cache``)."""
    if no_cache:
        return None
    from dive_py.core.archive.metacache import MetaCache

    return MetaCache(meta_cache_dir(cache_dir))


__all__ = ["meta_cache", "meta_cache_dir"]
