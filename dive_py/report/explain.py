"""``--explain``: how much smaller the image can be, where the bytes are, and what to write instead.

A report for a person, read top to bottom: the headline (the true
reclaimable bytes and their kinds, with dive's figure beside it), then the
findings biggest first, each with the step that stored the bytes, the step
that hid them and the fix, then junk in the final image, duplicates and the
squash estimates.  Every figure is in ``--json``'s ``insights`` too; the
text keeps to the biggest items and says how many more there are.
"""

from __future__ import annotations

from dive_py.core.analysis.efficiency import Efficiency
from dive_py.core.analysis.insights import Insights
from dive_py.core.analysis.reclaim import KIND_KEYS
from dive_py.core.model.image import Image
from dive_py.core.text import printable
from dive_py.core.units import humanize_bytes
from dive_py.report.ci import BOLD, styler
from dive_py.viewmodel.insights import count, headline

#: Items of each list printed; the rest are counted.
SHOWN = 15
COMMAND_WIDTH = 100
_DIM = "\x1b[2m"


def _clip(text: str) -> str:
    text = printable(" ".join(text.split()))
    return text if len(text) <= COMMAND_WIDTH else text[: COMMAND_WIDTH - 1] + "…"


def _files(n: int) -> str:
    return count(n, "file")


def render_explain(image: Image, eff: Efficiency, ins: Insights, *, color: bool) -> str:
    style = styler(color)
    layers = image.layers
    out = [f"{style('Image:', BOLD)} {printable(image.display_name)} ({len(layers)} layers)", ""]
    out.append(style(headline(image, ins), BOLD))
    out.append(
        style(
            f"  dive's figures: {humanize_bytes(eff.wasted_bytes)} wasted, efficiency {eff.score * 100:.2f}% "
            "(they count every copy of a path seen twice and miss what deleted directories hold: docs/metrics.md)",
            _DIM,
        )
    )
    squash = f"Squashed, the image holds {humanize_bytes(ins.squashed_bytes)}"
    if ins.base.count:
        squash += (
            f"; squashing only the {len(layers) - ins.base.count} layers above the base image's "
            f"{ins.base.count} saves {humanize_bytes(ins.own_reclaimable)}"
        )
    out.extend([squash + ".", ""])

    out.append(style(f"Findings ({len(ins.findings)}, biggest first):", BOLD))
    if not ins.findings:
        out.append("  none")
    for n, (f, hint) in enumerate(zip(ins.findings[:SHOWN], ins.hints, strict=False), 1):
        what = "under " + printable(f.path) if f.partial else printable(f.path)
        out.append(f"  {n:>2}. {humanize_bytes(f.bytes):>8}  {KIND_KEYS[f.kind]:<13} {what}  ({_files(f.files)})")
        for i in f.stored_in[:3]:
            out.append(f"      stored by layer {i}: {_clip(layers[i].created_by)}")
        if len(f.stored_in) > 3:
            out.append(f"      … and by layers {', '.join(str(i) for i in f.stored_in[3:])}")
        if f.hidden_by is not None:
            out.append(f"      hidden by layer {f.hidden_by}: {_clip(layers[f.hidden_by].created_by)}")
        out.append(f"      fix: {printable(hint)}")
    _more(out, len(ins.findings), "findings")
    out.append("")

    junk = [h for h in ins.junk if not h.optional]
    optional = [h for h in ins.junk if h.optional]
    out.append(style(f"Junk in the final image ({humanize_bytes(ins.junk_bytes)}):", BOLD))
    if not junk:
        out.append("  none found")
    for h in junk[:SHOWN]:
        where = "under " + printable(h.path) if h.partial else printable(h.path)
        out.append(f"  {humanize_bytes(h.bytes):>8}  {h.rule:<18} {where}  ({_files(h.files)})")
        out.append(f"      added by layer {h.layer}: {_clip(layers[h.layer].created_by)}")
        out.append(f"      fix: {printable(h.hint)}")
    _more(out, len(junk), "junk items")
    if optional:
        out.append(style("Optional (not junk, but removable if the image never needs them):", BOLD))
        for h in optional[:SHOWN]:
            out.append(f"  {humanize_bytes(h.bytes):>8}  {h.rule:<18} {printable(h.path)}  ({_files(h.files)})")
        _more(out, len(optional), "optional items")
    out.append("")

    out.append(
        style(
            f"Duplicate content in the final image ({count(ins.duplicate_groups, 'group')}, "
            f"a dedupe saves {humanize_bytes(ins.duplicate_bytes)}):",
            BOLD,
        )
    )
    if not ins.duplicates:
        out.append("  none (files of 1 kB or more)")
    for d in ins.duplicates[:SHOWN]:
        paths = ", ".join(printable(p) for p in d.paths[:4]) + (", …" if len(d.paths) > 4 else "")
        out.append(f"  {humanize_bytes(d.size):>8} × {len(d.paths)}  {paths}")
    _more(out, ins.duplicate_groups, "groups")
    return "\n".join(out) + "\n"


def _more(out: list[str], count: int, what: str) -> None:
    if count > SHOWN:
        out.append(f"  … {count - SHOWN:,} more {what} in --json's insights")


__all__ = ["headline", "render_explain"]
