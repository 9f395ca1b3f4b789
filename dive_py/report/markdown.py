"""``--markdown FILE``: the insights (and the CI verdict) as Markdown for a pull-request comment.

The same figures as ``--explain``, laid out as tables GitHub, GitLab and
Gitea render: the headline, the rules when they ran, the biggest findings
with their fixes, junk and duplicates, and dive's figures for reference.
Every piece of image-controlled text (paths, build commands) is escaped, so
a file named ``| evil ](http://x)`` renders as text and cannot forge a link
or break a table.
"""

from __future__ import annotations

import re

from dive_py.core.analysis.efficiency import Efficiency
from dive_py.core.analysis.insights import Insights
from dive_py.core.analysis.reclaim import KIND_KEYS
from dive_py.core.model.image import Image
from dive_py.core.text import printable
from dive_py.core.units import humanize_bytes
from dive_py.report.ci import FAIL, RuleResult
from dive_py.viewmodel.insights import headline

#: Rows of each table; the rest are counted.
ROWS = 10
COMMAND_WIDTH = 80
#: What could start markup inside a table cell: emphasis, code, links and images, HTML, cell breaks.
_SPECIAL = re.compile(r"([\\`*_\[\]|<>~!])")


def md(text: str) -> str:
    """Text safe inside a Markdown table cell: control characters shown escaped, markup characters backslashed."""
    flat = printable(" ".join(text.split()))
    return _SPECIAL.sub(r"\\\1", flat).replace("&", "&amp;")


def _plural(n: int) -> str:
    return "" if n == 1 else "s"


def _command(text: str) -> str:
    flat = " ".join(text.split())
    return md(flat if len(flat) <= COMMAND_WIDTH else flat[: COMMAND_WIDTH - 1] + "…")


def render_markdown(image: Image, eff: Efficiency, ins: Insights, results: list[RuleResult] | None) -> str:
    layers = image.layers
    out = [f"## divepy: {md(image.display_name)}", "", f"**{md(headline(image, ins))}**", ""]
    if results is not None:
        verdict = "❌ fails" if any(r.status == FAIL for r in results) else "✅ passes"
        out += [f"CI rules: **{verdict}**", "", "| Rule | Result | Detail |", "|---|---|---|"]
        out += [f"| {r.name} | {r.status} | {md(r.detail)} |" for r in results]
        out.append("")
    out += [f"### Findings ({len(ins.findings)})", ""]
    if ins.findings:
        out += ["| Bytes | Kind | Path | Stored by | Hidden by | Fix |", "|---:|---|---|---|---|---|"]
        for f, hint in list(zip(ins.findings, ins.hints, strict=True))[:ROWS]:
            stored = "<br>".join(f"{i}: {_command(layers[i].created_by)}" for i in f.stored_in[:3])
            hidden = f"{f.hidden_by}: {_command(layers[f.hidden_by].created_by)}" if f.hidden_by is not None else "—"
            path = md(f.path) + (" (part)" if f.partial else "")
            files = f"{f.files:,} file" + ("" if f.files == 1 else "s")
            out.append(
                f"| {humanize_bytes(f.bytes)} | {KIND_KEYS[f.kind]} | {path} ({files}) "
                f"| {stored} | {hidden} | {md(hint)} |"
            )
        if len(ins.findings) > ROWS:
            out.append(f"\n… and {len(ins.findings) - ROWS:,} more (`divepy IMAGE --explain`).")
    else:
        out.append("None: every stored byte is in the final filesystem.")
    junk = [h for h in ins.junk if not h.optional]
    out += ["", f"### Junk in the final image ({humanize_bytes(ins.junk_bytes)})", ""]
    if junk:
        out += ["| Bytes | Rule | Path | Layer | Fix |", "|---:|---|---|---:|---|"]
        for h in junk[:ROWS]:
            out.append(f"| {humanize_bytes(h.bytes)} | {h.rule} | {md(h.path)} | {h.layer} | {md(h.hint)} |")
    else:
        out.append("None found.")
    out += [
        "",
        f"Duplicate content: {ins.duplicate_groups:,} group{_plural(ins.duplicate_groups)}, "
        f"a dedupe saves {humanize_bytes(ins.duplicate_bytes)}. "
        f"Squashed, the image holds {humanize_bytes(ins.squashed_bytes)}.",
        "",
        f"<sub>dive's figures: efficiency {eff.score * 100:.2f} %, wasted {humanize_bytes(eff.wasted_bytes)} "
        "(see docs/metrics.md for why they differ).</sub>",
        "",
    ]
    return "\n".join(out)


__all__ = ["md", "render_markdown"]
