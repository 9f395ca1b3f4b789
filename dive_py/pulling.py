"""The caches of a run: pull a ``registry://`` image first, and the layer metadata cache every source shares.

The cache is the user cache directory (``platformdirs``) unless
``--cache-dir`` names another; ``--no-cache`` pulls into a private
temporary directory that is removed when the run ends (it was made by this
run, so removing it touches nothing else).  Progress goes to stderr as for
loading.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from dive_py import messages

if TYPE_CHECKING:
    from dive_py.core.sources.pull import Pulled
    from dive_py.main_flow import Options


def default_cache_dir() -> str:
    import platformdirs

    return os.path.join(platformdirs.user_cache_dir("divepy"), "registry")


@contextmanager
def pulled_image(opts: Options) -> Iterator[Pulled]:
    """Pull ``opts.registry`` and yield what was pulled (its layout directory opens like any source)."""
    from dive_py.cli_progress import RichLoadProgress
    from dive_py.core.sources.blobcache import DEFAULT_MAX_BYTES
    from dive_py.core.sources.credentials import find_credentials
    from dive_py.core.sources.pull import pull
    from dive_py.core.sources.reference import parse_reference
    from dive_py.core.sources.registry import Registry

    assert opts.registry is not None
    ref = parse_reference(opts.registry)
    if not opts.no_cache:
        from dive_py.core.sources.pinned import cached_by_digest

        held = cached_by_digest(ref, opts.cache_dir or default_cache_dir())
        if held is not None:  # by digest, and whole in the cache: nothing to ask the registry
            yield held
            return
    temporary = tempfile.mkdtemp(prefix="divepy-pull-") if opts.no_cache else None
    cache = temporary or opts.cache_dir or default_cache_dir()
    registry = Registry(ref, credentials=find_credentials(ref.host), plain_http=opts.plain_http)
    # A --no-cache pull keeps everything it fetched until the run ends: no cap applies.
    try:
        with RichLoadProgress(enabled=not opts.quiet) as progress:
            done = pull(
                registry,
                ref,
                cache,
                platform=opts.platform,
                progress=progress,
                max_bytes=1 << 62 if temporary else DEFAULT_MAX_BYTES,
                durable=temporary is None,
            )
        if not opts.quiet and done.downloaded and sys.stderr.isatty():  # a log gets one line only on failure
            messages.note(f"pulled {ref} ({done.downloaded:,} bytes) into {cache}")
        yield done
    finally:
        registry.close()
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)


def cache_command(cache_dir: str | None, show: bool, prune_to: str | None) -> int:
    """``--cache-list`` / ``--cache-prune SIZE``: what the caches hold, or shrink each to SIZE."""
    import time

    from dive_py.cache_dirs import meta_cache_dir
    from dive_py.core.archive.metacache import MetaCache
    from dive_py.core.sources.blobcache import cached_images, prune, stored_bytes
    from dive_py.core.text import printable
    from dive_py.core.units import humanize_bytes, parse_bytes

    root = cache_dir or default_cache_dir()
    meta = MetaCache(meta_cache_dir(cache_dir))
    out = sys.stdout
    if prune_to is not None:
        limit = parse_bytes(prune_to)
        for gone in prune(root, limit):
            out.write(f"removed {printable(gone.name)} ({gone.digest[:19]}…, {humanize_bytes(gone.size)})\n")
        dropped = meta.prune(limit)
        if dropped:
            freed = humanize_bytes(sum(size for _, size in dropped))
            out.write(f"removed {len(dropped)} layer metadata snapshot(s) ({freed})\n")
    snapshots = meta.entries()
    meta_line = (
        f"{meta.root}: {len(snapshots)} layer metadata snapshot(s), "
        f"{humanize_bytes(sum(size for _, size, _ in snapshots))} stored\n"
    )
    if show:
        images = cached_images(root)
        out.write(f"{root}: {len(images)} image(s), {humanize_bytes(stored_bytes(root))} stored\n")
        for img in images:
            used = time.strftime("%Y-%m-%d %H:%M", time.localtime(img.last_used))
            out.write(f"  {used}  {humanize_bytes(img.size):>9}  {img.digest[:19]}…  {printable(img.name)}\n")
        out.write(meta_line)
    elif prune_to is not None:
        out.write(f"{root}: {humanize_bytes(stored_bytes(root))} stored\n")
        out.write(meta_line)
    return 0


__all__ = ["cache_command", "default_cache_dir", "pulled_image"]
