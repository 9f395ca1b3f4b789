"""``registry://REPO@sha256:…`` already in the cache: opened without asking the registry anything.

A tag can move, so a name by tag always asks the registry which manifest it
means now.  A digest cannot: the manifest it names is the one it names
forever, and every blob of a pull was verified against its digest before it
was kept.  When the cache holds that manifest's layout whole (the manifest
file hashes to the digest, and every blob it lists is there at its size), the
run opens it straight away: no network, no TLS set-up, not even the HTTP
library's import.  Anything missing or odd, and the normal pull runs.

A digest that names an index (a multi-platform image) is never a layout of
its own in the cache (layouts are keyed by the image manifest chosen from
the index), so it goes to the registry, which chooses the platform again.
"""

from __future__ import annotations

import hashlib
import json
import os

from dive_py.core.sources.blobcache import touch
from dive_py.core.sources.pull import Pulled
from dive_py.core.sources.reference import Reference
from dive_py.core.sources.registry import MAX_MANIFEST_BYTES, SHA256  # not httpx: that loads on first use
from dive_py.core.text import printable


def _hex_of(digest: object) -> str | None:
    return digest[7:] if isinstance(digest, str) and SHA256.match(digest) else None


def cached_by_digest(ref: Reference, cache_dir: str) -> Pulled | None:
    """The cached layout of ``ref`` when it is named by digest and held whole, else None."""
    hexpart = _hex_of(ref.digest)
    if hexpart is None:
        return None
    layout = os.path.join(cache_dir, "images", hexpart)
    blobs = os.path.join(layout, "blobs", "sha256")
    try:
        if not os.path.isfile(os.path.join(layout, "index.json")):
            return None
        with open(os.path.join(blobs, hexpart), "rb") as fh:
            data = fh.read(MAX_MANIFEST_BYTES + 1)
        if len(data) > MAX_MANIFEST_BYTES or hashlib.sha256(data).hexdigest() != hexpart:
            return None
        doc = json.loads(data)
        listed = [doc["config"], *doc["layers"]]
        for desc in listed:
            blob = _hex_of(desc["digest"])
            if blob is None or os.stat(os.path.join(blobs, blob)).st_size != desc["size"]:
                return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    touch(layout)
    return Pulled(layout, f"sha256:{hexpart}", None, 0, printable(str(ref)))


__all__ = ["cached_by_digest"]
