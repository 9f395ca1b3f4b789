"""The plain-text summary printed when the explorer cannot run.

``divepy IMAGE`` with its output piped or redirected (``divepy img.tar |
less``, a script, a pipeline step without ``--ci``) has no terminal to draw
the explorer on.  Rather than fill a file with escape sequences or hang
waiting for keys, divepy prints what the explorer's left column shows: the
image, its layers with the build steps that made no layer, and the analysis.
No rules are evaluated, so the exit status is 0.
"""

from __future__ import annotations

from dive_py.core.analysis.efficiency import Efficiency
from dive_py.core.analysis.insights import Insights
from dive_py.core.model.image import Image
from dive_py.core.text import printable
from dive_py.core.units import humanize_bytes
from dive_py.report.ci import BOLD, render_analysis, styler
from dive_py.viewmodel.insights import headline
from dive_py.viewmodel.layers import LayerListModel

#: Commands longer than this are cut with an ellipsis; the full text is in --json.
COMMAND_WIDTH = 120


def _clip(text: str) -> str:
    return text if len(text) <= COMMAND_WIDTH else text[: COMMAND_WIDTH - 1] + "…"


def render_summary(
    image: Image, eff: Efficiency, *, color: bool, archive_note: str | None = None, insights: Insights | None = None
) -> str:
    """Image line, the true reclaimable bytes, layer table (``docker history`` order: base first) and analysis."""
    style = styler(color)
    facts = [f"{len(image.layers)} layers", humanize_bytes(image.size_bytes)]
    if image.config.platform:
        facts.insert(0, image.config.platform)
    lines = [f"{style('Image:', BOLD)} {printable(image.display_name)} ({', '.join(facts)})", ""]
    if insights is not None:
        lines += [headline(image, insights) + " (divepy IMAGE --explain shows where, and the fixes)", ""]
    lines.append(style("Layers:", BOLD))
    lines.append(f"  {'Layer':<5}  {'Size':>9}  Command")
    for row in LayerListModel(image).rows:
        index = "" if row.layer is None else str(row.layer)
        lines.append(f"  {index:<5}  {row.size:>9}  {_clip(printable(row.command))}".rstrip())
    lines.append("")
    lines.extend(render_analysis(eff, color=color, archive_note=archive_note))
    return "\n".join(lines)
