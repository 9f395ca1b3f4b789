"""``--ci``: evaluate dive's three rules and print dive's report.

The report follows dive's current layout (``Analysis:``, ``Inefficient
Files:``, ``Evaluation:`` and a one-line verdict); the rule semantics are
dive's: fail when efficiency < lowestEfficiency, wasted bytes >
highestWastedBytes, or user-wasted percent > highestUserWastedPercent
(strict comparisons).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from dive_py.config import RuleSettings
from dive_py.core.analysis.efficiency import Efficiency
from dive_py.core.analysis.insights import Insights
from dive_py.core.analysis.reclaim import KIND_KEYS
from dive_py.core.text import printable
from dive_py.core.units import humanize_bytes

PASS = "PASS"
FAIL = "FAIL"
SKIP = "SKIP"

_STYLE = {PASS: "\x1b[32m", FAIL: "\x1b[1;31m", SKIP: "\x1b[2m"}
BOLD = "\x1b[1m"
_RESET = "\x1b[0m"


@dataclass(slots=True, frozen=True)
class RuleResult:
    name: str
    status: str
    detail: str


def _go_v(value: float) -> str:
    """Go's ``%v`` for a float64: shortest representation, no trailing ``.0``."""
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)


def evaluate(rules: RuleSettings, eff: Efficiency) -> list[RuleResult]:
    """Apply every rule; results sorted by rule name as dive prints them."""
    results: list[RuleResult] = []
    eff_rule = rules.lowest_efficiency
    if eff_rule.threshold is None:
        results.append(RuleResult("lowestEfficiency", SKIP, "disabled"))
    elif eff_rule.threshold > eff.score:
        results.append(
            RuleResult(
                "lowestEfficiency",
                FAIL,
                f"image efficiency is too low (efficiency={eff.score:.2f} < threshold={_go_v(eff_rule.threshold)})",
            )
        )
    else:
        results.append(RuleResult("lowestEfficiency", PASS, eff_rule.text))
    bytes_rule = rules.highest_wasted_bytes
    if bytes_rule.threshold is None:
        results.append(RuleResult("highestWastedBytes", SKIP, "disabled"))
    elif eff.wasted_bytes > bytes_rule.threshold:
        results.append(
            RuleResult(
                "highestWastedBytes",
                FAIL,
                f"too many bytes wasted (wasted-bytes={eff.wasted_bytes} > threshold={int(bytes_rule.threshold)})",
            )
        )
    else:
        results.append(RuleResult("highestWastedBytes", PASS, bytes_rule.text))
    pct_rule = rules.highest_user_wasted_percent
    if pct_rule.threshold is None:
        results.append(RuleResult("highestUserWastedPercent", SKIP, "disabled"))
    elif eff.user_wasted_percent > pct_rule.threshold:
        results.append(
            RuleResult(
                "highestUserWastedPercent",
                FAIL,
                "too many bytes wasted, relative to the user bytes added "
                f"(%-user-wasted-bytes={eff.user_wasted_percent:.2f} > "
                f"threshold={_go_v(pct_rule.threshold)})",
            )
        )
    else:
        results.append(RuleResult("highestUserWastedPercent", PASS, pct_rule.text))
    results.sort(key=lambda r: r.name)
    return results


def evaluate_insights(rules: RuleSettings, ins: Insights) -> list[RuleResult]:
    """divepy's rules on the true figures; only the enabled ones are reported (dive's report stays dive's)."""
    results: list[RuleResult] = []
    stored = ins.waste.stored_bytes
    for rule in rules.insight_rules:
        if rule.threshold is None:
            continue
        if rule.name == "highestReclaimableBytes":
            value = ins.reclaimable_bytes
            over = value > rule.threshold
            detail = f"reclaimable-bytes={value} > threshold={int(rule.threshold)}"
            what = "too many bytes a squash would save"
        elif rule.name == "highestReclaimablePercent":
            ratio = ins.reclaimable_bytes / stored if stored else 0.0
            over = ratio > rule.threshold
            detail = f"reclaimable-ratio={ratio:.2f} > threshold={_go_v(rule.threshold)}"
            what = "too large a part of the image is reclaimable"
        else:  # highestJunkBytes
            value = ins.junk_bytes
            over = value > rule.threshold
            detail = f"junk-bytes={value} > threshold={int(rule.threshold)}"
            what = "too much junk in the final image"
        results.append(
            RuleResult(rule.name, FAIL, f"{what} ({detail})") if over else RuleResult(rule.name, PASS, rule.text)
        )
    return results


def behind_by_rule(results: list[RuleResult], ins: Insights, *, shown: int = 5) -> dict[str, list[str]]:
    """For each failed divepy rule, what makes it fail: the biggest findings, or the junk, with their fixes."""
    failed = {r.name for r in results if r.status == FAIL}
    out: dict[str, list[str]] = {}
    if failed & {"highestReclaimableBytes", "highestReclaimablePercent"} and ins.findings:
        lines = ["Reclaimable (biggest findings; --explain has them all):"]
        for f, hint in list(zip(ins.findings, ins.hints, strict=True))[:shown]:
            stored = ",".join(str(i) for i in f.stored_in)
            hidden = f", hidden by layer {f.hidden_by}" if f.hidden_by is not None else ""
            lines.append(f"  {humanize_bytes(f.bytes):>8}  {KIND_KEYS[f.kind]:<13} {printable(f.path)}")
            lines.append(f"            stored by layer {stored}{hidden}; fix: {printable(hint)}")
        for name in failed & {"highestReclaimableBytes", "highestReclaimablePercent"}:
            out[name] = lines
    junk = [h for h in ins.junk if not h.optional]
    if "highestJunkBytes" in failed and junk:
        lines = ["Junk (biggest first):"]
        for h in junk[:shown]:
            lines.append(f"  {humanize_bytes(h.bytes):>8}  {h.rule:<18} {printable(h.path)} (layer {h.layer})")
            lines.append(f"            fix: {printable(h.hint)}")
        out["highestJunkBytes"] = lines
    return out


def behind_failures(by_rule: dict[str, list[str]]) -> list[str]:
    """The report's section: each distinct explanation once, then a blank line."""
    lines: list[str] = []
    for block in dict.fromkeys(tuple(b) for b in by_rule.values()):
        lines.extend([*block, ""])
    return lines


def passed(results: list[RuleResult]) -> bool:
    return not any(r.status == FAIL for r in results)


def styler(color: bool) -> Callable[[str, str], str]:
    """``style(text, code)``: ANSI-styled text when ``color``, plain text otherwise."""

    def style(text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    return style


def render_analysis(eff: Efficiency, *, color: bool, archive_note: str | None = None) -> list[str]:
    """The Analysis, Inefficient Files and (multi-image) Archive sections, as lines.

    Shared by the CI report and the no-terminal summary so both read the same.
    """
    style = styler(color)
    lines = [style("Analysis:", BOLD)]
    lines.append(f"  {'efficiency:':<18} {eff.score * 100:.2f} %")
    wasted = f"{eff.wasted_bytes} bytes"
    if eff.wasted_bytes:
        wasted += f" ({humanize_bytes(eff.wasted_bytes)})"
    lines.append(f"  {'wastedBytes:':<18} {wasted}")
    pct = f"{eff.user_wasted_percent * 100:.2f} %" if eff.wasted_bytes else "0 %"
    lines.append(f"  {'userWastedPercent:':<18} {pct}")
    lines.append("")
    if eff.inefficient:
        lines.append(style("Inefficient Files:", BOLD))
        lines.append(f"  {'Count':<5}  {'Wasted Space':<12}  File Path")
        for w in eff.inefficient:
            lines.append(f"  {w.count!s:<5}  {humanize_bytes(w.cumulative):<12}  {printable(w.path)}")
    else:
        lines.append(style("Inefficient Files:", BOLD) + " (None)")
    lines.append("")
    if archive_note:
        lines.append(style("Archive:", BOLD))
        lines.extend(f"  {line}" for line in archive_note.splitlines())
        lines.append("")
    return lines


def render_report(
    eff: Efficiency,
    results: list[RuleResult],
    *,
    color: bool,
    archive_note: str | None = None,
    behind: list[str] | None = None,
) -> str:
    """The report text; ANSI styles only when ``color``.  ``behind`` explains failed divepy rules."""
    style = styler(color)
    lines = render_analysis(eff, color=color, archive_note=archive_note)
    if behind:
        lines.extend(behind)
    lines.append(style("Evaluation:", BOLD))
    for r in results:
        lines.append(f"  {style(r.status, _STYLE[r.status])}  {r.name} ({r.detail})")
    lines.append("")
    counts = {s: sum(1 for r in results if r.status == s) for s in (PASS, FAIL, SKIP)}
    summary = " ".join(f"{s.lower()}:{counts[s]}" for s in (PASS, FAIL, SKIP) if counts[s])
    verdict = PASS if passed(results) else FAIL
    lines.append(f"{style(verdict, _STYLE[verdict])} [{summary}]")
    return "\n".join(lines) + "\n"
