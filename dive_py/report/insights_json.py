"""The ``insights`` object of the JSON export: the true waste figures beside dive's.

Kept apart from :mod:`dive_py.report.export` (dive's schema and its byte
compatibility) so that each key documented in docs/user-guide.md under
"insights" is written in one place.  ``INSIGHTS_SCHEMA_VERSION`` changes
whenever a key changes meaning or disappears.
"""

from __future__ import annotations

from typing import Any

from dive_py.core.analysis.insights import Insights
from dive_py.core.analysis.reclaim import KIND_KEYS

INSIGHTS_SCHEMA_VERSION = 1


def insights_json(ins: Insights) -> dict[str, Any]:
    """The ``insights`` object, every figure in bytes."""
    waste = ins.waste
    return {
        "schemaVersion": INSIGHTS_SCHEMA_VERSION,
        "reclaimableBytes": ins.reclaimable_bytes,
        "storedBytes": waste.stored_bytes,
        "finalBytes": waste.final_bytes,
        "byKind": waste.by_kind(),
        "findings": [
            {
                "kind": KIND_KEYS[f.kind],
                "path": f.path,
                "bytes": f.bytes,
                "files": f.files,
                "storedIn": f.stored_in,
                "hiddenBy": f.hidden_by,
                "partial": f.partial,
                "hint": hint,
            }
            for f, hint in zip(ins.findings, ins.hints, strict=True)
        ],
        "junkBytes": ins.junk_bytes,
        "junk": [
            {
                "rule": h.rule,
                "path": h.path,
                "bytes": h.bytes,
                "files": h.files,
                "layer": h.layer,
                "optional": h.optional,
                "partial": h.partial,
                "hint": h.hint,
            }
            for h in ins.junk
        ],
        "duplicates": {
            "savingBytes": ins.duplicate_bytes,
            "groups": ins.duplicate_groups,
            "items": [{"sizeBytes": d.size, "savingBytes": d.saving, "paths": d.paths} for d in ins.duplicates],
        },
        "squash": {
            "squashedBytes": ins.squashed_bytes,
            "savingBytes": ins.reclaimable_bytes,
            "aboveBaseSavingBytes": ins.own_reclaimable,
        },
        "baseLayers": {"count": ins.base.count, "source": ins.base.source},
        "yourLayers": {"reclaimableBytes": ins.own_reclaimable, "byKind": ins.own_by_kind},
    }


__all__ = ["INSIGHTS_SCHEMA_VERSION", "insights_json"]
