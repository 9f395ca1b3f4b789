"""The comparison as text: the headline and where the bytes went, layers, files, figures, then one verdict line.

Read top to bottom by someone reviewing a change to a Dockerfile:

1. the headline — NEW against OLD in bytes and percent — and, per layer of
   NEW that grew the final filesystem, where the bytes went and how much of
   them is new junk;
2. the layers: how many are the shared base, reused elsewhere, new, gone;
3. the biggest path changes (added, removed, modified with why; added and
   removed directories are implied by their files and only counted in JSON);
4. every figure, OLD, NEW and the change;
5. ``verdict: ok|regression (…)|improvement (…)`` (:func:`verdict_line`).

Image-controlled text (names, paths, commands) goes through ``printable``.
"""

from __future__ import annotations

from dive_py.core.analysis.image_deltas import FigureDelta, Growth
from dive_py.core.analysis.image_diff import ADDED, MODIFIED, REMOVED, ImageDiff, PathChange
from dive_py.core.kinds import DIR
from dive_py.core.model.image import Image
from dive_py.core.text import printable
from dive_py.core.units import humanize_bytes

#: File changes and growth lines printed; the rest are counted.
SHOWN = 15
COMMAND_WIDTH = 60
#: Figures shown as ratios (dive's efficiency) rather than counts or bytes.
_RATIOS = {"image.efficiencyScore", "analysis.userWastedPercent"}
_COUNTS = {"layerCount", "fileCount"}


def signed_bytes(n: int) -> str:
    return ("+" if n > 0 else "-" if n < 0 else "") + humanize_bytes(abs(n))


def _percent(delta: float, old: float) -> str:
    """``+12.0%``; a change too small to show at one decimal is ``+<0.1%``, never ``+0.0%``."""
    if not old:
        return "new"
    pct = 100.0 * delta / old
    if delta and abs(pct) < 0.05:
        return "+<0.1%" if delta > 0 else "-<0.1%"
    return f"{pct:+.1f}%"


def _clip(text: str) -> str:
    text = printable(" ".join(text.split()))
    return text if len(text) <= COMMAND_WIDTH else text[: COMMAND_WIDTH - 1] + "…"


def _figure(key: str, value: float) -> str:
    if key in _RATIOS:
        return f"{value:.4f}"
    if key in _COUNTS:
        return f"{int(value):,}"
    return humanize_bytes(int(value))


def _change(key: str, row: FigureDelta) -> str:
    if key in _RATIOS:
        if row.delta and abs(row.delta) < 0.00005:  # not "-0.0000"
            return "+<0.0001" if row.delta > 0 else "-<0.0001"
        return f"{row.delta:+.4f}" if row.delta else "0"
    if key in _COUNTS:
        return f"{int(row.delta):+,}"
    return signed_bytes(int(row.delta))


def _listed(c: PathChange) -> bool:
    """Added and removed directories are implied by their files (``--json`` has them all)."""
    state = c.new or c.old
    return c.change == MODIFIED or state is None or state.tflag != DIR


def _count(diff: ImageDiff, change: str) -> str:
    n = sum(1 for c in diff.changes if c.change == change and _listed(c))
    return f"{n:,} {change} ({signed_bytes(diff.bytes_of(change))})"


def verdict_line(size: FigureDelta, failed: list[str]) -> str:
    """``regression`` when a comparison rule failed; otherwise the direction of the image's size.

    Without rules nothing is a regression: a bigger image is ``ok (+38 MB, +12.0%)`` and the rules
    (``highestSizeIncrease`` …) decide how much growth is too much.
    """
    change = f"{signed_bytes(int(size.delta))}, {_percent(size.delta, size.old)}"
    if failed:
        return f"verdict: regression ({'; '.join(failed)})"
    if size.delta < 0:
        return f"verdict: improvement ({change})"
    return f"verdict: ok ({change})" if size.delta else "verdict: ok (same size)"


def render_compare(
    old: Image, new: Image, diff: ImageDiff, figures: list[FigureDelta], grew: list[Growth], verdict: str
) -> str:
    rows = {row.key: row for row in figures}
    size = rows["image.sizeBytes"]
    out = [f"Comparing {printable(new.display_name)} (NEW) with {printable(old.display_name)} (OLD)", ""]
    bigger = "bigger" if size.delta > 0 else "smaller" if size.delta < 0 else "the same size"
    amount = f"{humanize_bytes(abs(int(size.delta)))} {bigger}" if size.delta else bigger
    out.append(
        f"NEW is {amount} ({_percent(size.delta, size.old)}): "
        f"{humanize_bytes(int(size.new))} against {humanize_bytes(int(size.old))}."
    )
    for g in grew[:SHOWN]:
        junk = f", {humanize_bytes(g.junk_bytes)} of it junk" if g.junk_bytes else ""
        out.append(
            f"  {signed_bytes(g.bytes)} in layer {g.layer} ({_clip(g.command)}): "
            f"{humanize_bytes(g.directory_bytes)} in {printable(g.directory)}{junk}"
        )
    if len(grew) > SHOWN:
        out.append(f"  … and {len(grew) - SHOWN} more layers")
    m = diff.layers
    out += [
        "",
        f"Layers: {m.shared} shared at the bottom, {len(m.reused)} reused at another position, "
        f"{len(m.new_only)} new, {len(m.old_only)} gone",
    ]
    for j in m.new_only:
        layer = new.layers[j]
        out.append(f"  new   layer {j:<3} {humanize_bytes(layer.size):>9}  {_clip(layer.command)}")
    for i in m.old_only:
        layer = old.layers[i]
        out.append(f"  gone  layer {i:<3} {humanize_bytes(layer.size):>9}  {_clip(layer.command)}")
    listed = [c for c in diff.changes if _listed(c)]
    out += ["", f"Paths: {_count(diff, ADDED)}, {_count(diff, REMOVED)}, {_count(diff, MODIFIED)}"]
    for c in listed[:SHOWN]:
        why = f"  ({', '.join(c.reasons)})" if c.reasons else ""
        out.append(f"  {c.change:<9} {signed_bytes(c.delta):>10}  {printable(c.path)}{why}")
    if len(listed) > SHOWN:
        out.append(f"  … and {len(listed) - SHOWN:,} more paths (--json lists them all)")
    out += ["", f"  {'Figure':<34} {'OLD':>12} {'NEW':>12} {'Change':>12}"]
    for row in figures:
        out.append(
            f"  {row.key:<34} {_figure(row.key, row.old):>12} {_figure(row.key, row.new):>12} "
            f"{_change(row.key, row):>12}"
        )
    out += ["", verdict, ""]
    return "\n".join(out)


__all__ = ["render_compare", "signed_bytes", "verdict_line"]
