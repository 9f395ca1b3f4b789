"""The comparison as JSON (``--compare OLD --json FILE``): every part of the text report, and every path.

Versioned by ``schemaVersion`` (``kind`` is ``"divepy-compare"``, so a
consumer can tell it from a single image's export).  Keys:

* ``old`` / ``new``: ``source``, ``names``, ``sizeBytes``, ``layerCount``;
* ``layers``: ``shared`` (bottom layers equal in both), ``reused``
  (``[oldIndex, newIndex]`` pairs), ``new`` and ``gone`` (``index``,
  ``digest``, ``sizeBytes``, ``command``);
* ``growth``: per layer of NEW that grew the final filesystem: ``layer``,
  ``command``, ``bytes``, ``directory``, ``directoryBytes``, ``junkBytes``;
* ``paths``: counts and net bytes per change (``added``, ``removed``,
  ``modified``, directories included here), and ``items``: every changed
  path with ``change``, ``reasons``, ``oldSizeBytes``, ``newSizeBytes``,
  ``deltaBytes`` and ``layer`` (NEW's layer that stored it, or OLD's for a
  removed path);
* ``figures``: ``key`` (the figure's path in a single image's JSON), ``old``,
  ``new``, ``delta``, ``percent`` (null when OLD's is 0);
* ``verdict``: ``result`` (``ok``, ``improvement`` or ``regression``) and
  ``line`` (the text report's last line).
"""

from __future__ import annotations

from typing import Any

import orjson

from dive_py import __version__
from dive_py.core.analysis.image_deltas import FigureDelta, Growth
from dive_py.core.analysis.image_diff import ADDED, MODIFIED, REMOVED, ImageDiff, PathChange
from dive_py.core.model.image import Image

SCHEMA_VERSION = 1


def _side(image: Image) -> dict[str, Any]:
    return {
        "source": image.source,
        "names": image.names,
        "sizeBytes": image.size_bytes,
        "layerCount": len(image.layers),
    }


def _layer(image: Image, index: int) -> dict[str, Any]:
    layer = image.layers[index]
    return {"index": index, "digest": layer.digest, "sizeBytes": layer.size, "command": layer.command}


def _where(change: PathChange) -> int | None:
    state = change.new or change.old
    return state.layer if state is not None else None


def compare_document(
    old: Image, new: Image, diff: ImageDiff, figures: list[FigureDelta], grew: list[Growth], verdict: str
) -> dict[str, Any]:
    m = diff.layers
    items = [
        {
            "path": c.path,
            "change": c.change,
            "reasons": list(c.reasons),
            "oldSizeBytes": c.old.size if c.old else None,
            "newSizeBytes": c.new.size if c.new else None,
            "deltaBytes": c.delta,
            "layer": _where(c),
        }
        for c in diff.changes
    ]
    paths: dict[str, Any] = {}
    for change in (ADDED, REMOVED, MODIFIED):
        paths[change] = diff.count(change)
        paths[f"{change}Bytes"] = diff.bytes_of(change)
    paths["items"] = items
    result = verdict.removeprefix("verdict: ").split(" ", 1)[0]
    return {
        "schemaVersion": SCHEMA_VERSION,
        "kind": "divepy-compare",
        "generator": f"divepy {__version__}",
        "old": _side(old),
        "new": _side(new),
        "layers": {
            "shared": m.shared,
            "reused": [list(pair) for pair in m.reused],
            "new": [_layer(new, j) for j in m.new_only],
            "gone": [_layer(old, i) for i in m.old_only],
        },
        "growth": [
            {
                "layer": g.layer,
                "command": g.command,
                "bytes": g.bytes,
                "directory": g.directory,
                "directoryBytes": g.directory_bytes,
                "junkBytes": g.junk_bytes,
            }
            for g in grew
        ],
        "paths": paths,
        "figures": [
            {"key": f.key, "old": f.old, "new": f.new, "delta": f.delta, "percent": f.percent} for f in figures
        ],
        "verdict": {"result": result, "line": verdict},
    }


def compare_json(*args: Any) -> bytes:
    """:func:`compare_document`, serialised (orjson; non-ASCII paths kept as UTF-8)."""
    return orjson.dumps(compare_document(*args), option=orjson.OPT_INDENT_2) + b"\n"


__all__ = ["SCHEMA_VERSION", "compare_document", "compare_json"]
