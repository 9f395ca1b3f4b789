"""What a comparison says in figures: every headline figure's change, and where the new bytes went.

:mod:`~dive_py.core.analysis.image_diff` says which paths changed; this
module turns that into the two things a reviewer reads first:

* :func:`figure_deltas`: OLD's and NEW's value of every figure divepy
  reports — dive's (size, efficiency, wasted bytes) and divepy's own
  (reclaimable bytes by kind, junk, duplicates) — keyed by their path in the
  single-image JSON (``image.sizeBytes``, ``insights.byKind.removed``), plus
  ``layerCount`` and ``fileCount`` (the final filesystem's non-directories).
* :func:`growth`: for each layer of NEW that made the final filesystem
  grow, the bytes it added and the deepest directory holding at least three
  quarters of them (half would name the biggest package rather than the
  directory of packages), and the junk it brought that OLD did not have:
  "31 MB in /usr/lib/node_modules from layer 6 (RUN npm ci), 7 MB of it junk".
"""

from __future__ import annotations

from dataclasses import dataclass

from dive_py.core.analysis.efficiency import Efficiency
from dive_py.core.analysis.image_diff import ImageDiff, final_paths
from dive_py.core.analysis.insights import Insights
from dive_py.core.kinds import DIR
from dive_py.core.model.image import Image

#: A directory named by :func:`growth` holds at least this share of its layer's growth.
DOMINANT_SHARE = 0.75


@dataclass(slots=True, frozen=True)
class FigureDelta:
    key: str  #: the figure's path in the single-image JSON (``image.sizeBytes`` ...)
    old: float
    new: float

    @property
    def delta(self) -> float:
        return self.new - self.old

    @property
    def percent(self) -> float | None:
        """The change relative to OLD (None when OLD is 0)."""
        return None if not self.old else 100.0 * self.delta / self.old


@dataclass(slots=True, frozen=True)
class Growth:
    """The bytes one layer of NEW added to the final filesystem, against OLD."""

    layer: int  #: NEW's layer index
    command: str  #: the step that made it
    bytes: int  #: the positive deltas of the paths it stored (added files, grown files)
    directory: str  #: the deepest directory with DOMINANT_SHARE of them ("/" at worst)
    directory_bytes: int
    junk_bytes: int  #: new junk (non-optional rules) this layer stored: a rule and root OLD has not


def _files(image: Image) -> int:
    return sum(1 for state in final_paths(image).values() if state.tflag != DIR)


def figure_deltas(
    old: Image, old_eff: Efficiency, old_ins: Insights, new: Image, new_eff: Efficiency, new_ins: Insights
) -> list[FigureDelta]:
    """Every figure, OLD against NEW, in the order a report shows them."""
    rows = [
        FigureDelta("image.sizeBytes", old.size_bytes, new.size_bytes),
        FigureDelta("layerCount", len(old.layers), len(new.layers)),
        FigureDelta("fileCount", _files(old), _files(new)),
        FigureDelta("image.efficiencyScore", old_eff.score, new_eff.score),
        FigureDelta("image.inefficientBytes", old_eff.wasted_bytes, new_eff.wasted_bytes),
        FigureDelta("analysis.userWastedPercent", old_eff.user_wasted_percent, new_eff.user_wasted_percent),
        FigureDelta("insights.reclaimableBytes", old_ins.reclaimable_bytes, new_ins.reclaimable_bytes),
    ]
    old_kinds, new_kinds = old_ins.waste.by_kind(), new_ins.waste.by_kind()
    rows += [FigureDelta(f"insights.byKind.{k}", old_kinds[k], new_kinds[k]) for k in new_kinds]
    rows.append(FigureDelta("insights.junkBytes", old_ins.junk_bytes, new_ins.junk_bytes))
    rows.append(FigureDelta("insights.duplicates.savingBytes", old_ins.duplicate_bytes, new_ins.duplicate_bytes))
    return rows


def _parents(path: str) -> list[str]:
    """``/a/b/c`` -> ``["/", "/a", "/a/b"]``."""
    parts = path.strip("/").split("/")[:-1]
    return ["/"] + ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


def growth(diff: ImageDiff, new: Image, new_ins: Insights, old_ins: Insights) -> list[Growth]:
    """The layers of NEW that grew the final filesystem, most bytes first."""
    had = {(h.rule, h.path) for h in old_ins.junk}
    per_layer: dict[int, dict[str, int]] = {}
    for change in diff.changes:
        if change.new is None or change.delta <= 0:
            continue
        per_layer.setdefault(change.new.layer, {})[change.path] = change.delta
    out: list[Growth] = []
    for layer, paths in per_layer.items():
        total = sum(paths.values())
        held: dict[str, int] = {}
        for path, n in paths.items():
            for parent in _parents(path):
                held[parent] = held.get(parent, 0) + n
        # The deepest (then the biggest) directory holding DOMINANT_SHARE of the layer's growth.
        directory = max(
            (d for d, n in held.items() if n >= DOMINANT_SHARE * total), key=lambda d: (d.count("/"), held[d], d)
        )
        junk = sum(h.bytes for h in new_ins.junk if h.layer == layer and not h.optional and (h.rule, h.path) not in had)
        command = new.layers[layer].command if 0 <= layer < len(new.layers) else ""
        out.append(Growth(layer, command, total, directory, held.get(directory, total), junk))
    out.sort(key=lambda g: (-g.bytes, g.layer))
    return out


__all__ = ["DOMINANT_SHARE", "FigureDelta", "Growth", "figure_deltas", "growth"]
