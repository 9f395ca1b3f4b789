"""What the explorer shows of the insights: the reclaimable line, and the rows of the Insights screen.

The insights (true reclaimable bytes, findings, junk, duplicates) need
content hashes that the first screen does not: :class:`InsightsJob` works
them out on a thread of its own after the explorer is up, so a huge image
shows its tree first.  Everything the screen prints is made here as plain
text, so golden tests read it without Textual.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from dive_py.core.analysis.insights import Insights, analyse_insights
from dive_py.core.analysis.junk import JunkRule
from dive_py.core.analysis.reclaim import KIND_KEYS, KIND_WORDS
from dive_py.core.model.image import Image
from dive_py.core.text import printable
from dive_py.core.units import humanize_bytes


class Cancelled(Exception):
    """The explorer closed (or opened another image) while the insights were being worked out."""


@dataclass(slots=True, frozen=True)
class InsightSettings:
    """What the CLI passes on: ``--base-layers``, ``--ignore-path`` and the config's junk rules."""

    base_layers: int | None = None
    ignore_paths: tuple[str, ...] = ()
    junk_rules: list[JunkRule] | None = None


class _CancellableProgress:
    """A progress listener that stops the analysis at its next report once cancelled."""

    def __init__(self, flag: threading.Event) -> None:
        self.flag = flag

    def phase(self, name: str, total: int) -> None:
        if self.flag.is_set():
            raise Cancelled

    def advance(self, done: int, detail: str = "") -> None:
        if self.flag.is_set():
            raise Cancelled


class InsightsJob:
    """The insights of one image, worked out once on a background thread (or at once, for tests)."""

    def __init__(self, image: Image, settings: InsightSettings | None = None) -> None:
        self.image = image
        self.settings = settings or InsightSettings()
        self.result: Insights | None = None
        self.error: str | None = None
        self._cancel = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def run_now(self) -> InsightsJob:
        """Work them out on this thread (snapshots and tests: the screen is complete from its first frame)."""
        self._run(None)
        return self

    def start(self, on_done: Callable[[], None]) -> None:
        """Work them out on a daemon thread; ``on_done`` runs on that thread when they are ready (or failed)."""
        if self._thread is not None or self.done:
            if self.done:
                on_done()
            return
        self._thread = threading.Thread(target=self._run, args=(on_done,), name="divepy-insights", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Cancel and wait: the image may be closed afterwards."""
        self._cancel.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self, on_done: Callable[[], None] | None) -> None:
        s = self.settings
        try:
            self.result = analyse_insights(
                self.image,
                base_override=s.base_layers,
                ignore=s.ignore_paths,
                junk_rules=s.junk_rules,
                progress=_CancellableProgress(self._cancel),
            )
        except Cancelled:
            self.error = "cancelled"
        except Exception as err:
            self.error = printable(str(err) or type(err).__name__)
        finally:
            self._done.set()
        if on_done is not None and not self._cancel.is_set():
            on_done()


def percent(part: int, whole: int) -> str:
    """A share as people write it: one decimal below 10 % ("6.2%"), none above ("37%")."""
    if whole <= 0:
        return "0%"
    pct = 100 * part / whole
    return f"{pct:.1f}%" if pct < 10 else f"{pct:.0f}%"


def reclaim_line(image: Image, job: InsightsJob) -> str:
    """The Image Details line: the true reclaimable bytes and the biggest kind."""
    if job.result is None:
        return f"unavailable ({job.error})" if job.error else "measuring…"
    ins = job.result
    total = ins.reclaimable_bytes
    if total == 0:
        return "0 B: nothing a squash would save"
    amount, key = max((v, k) for k, v in ins.waste.by_kind().items())
    return (
        f"{humanize_bytes(total)} ({percent(total, image.size_bytes)}), "
        f"most {KIND_WORDS[key]} ({humanize_bytes(amount)}) · i explains"
    )


@dataclass(slots=True, frozen=True)
class InsightRow:
    """One row of a list on the Insights screen: its cells, what it says when selected, where Enter goes."""

    cells: tuple[str, ...]
    detail: list[str]
    path: str
    layer: int
    note: str  #: beside the path under the tree while the cursor is on it: what these bytes are


@dataclass(slots=True)
class InsightTab:
    """One list of the Insights screen."""

    id: str
    title: str
    columns: tuple[str, ...]
    rows: list[InsightRow] = field(default_factory=list)
    empty: str = "none"  #: the one line shown when there are no rows
    more: str = ""  #: a last line after the rows, when the list is cut (the rest are in --json)


def _cmd(image: Image, layer: int) -> str:
    return printable(" ".join(image.layers[layer].command.split()))


def count(n: int, word: str) -> str:
    """``1 file``, ``1,204 files``: a number and its noun."""
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _files(n: int) -> str:
    return count(n, "file")


#: What the hiding layer did, for the note under the tree when it opens on a finding.
_HIDDEN_BY = {
    "removed": "removed by layer {}",
    "overwritten": "overwritten by layer {}",
    "metadataOnly": "stored again by layer {} (new mode or owner)",
    "identicalCopy": "stored again unchanged by layer {}",
}


def findings_tab(image: Image, ins: Insights) -> InsightTab:
    tab = InsightTab("findings", "Findings", ("Bytes", "Kind", "Files", "Layers", "Path"), empty="no waste found")
    for f, hint in zip(ins.findings, ins.hints, strict=True):
        stored = ",".join(str(i) for i in f.stored_in)
        where = f"{stored} → {f.hidden_by}" if f.hidden_by is not None else stored
        path = printable(f.path)
        detail = [f"{'under ' if f.partial else ''}{path}: {humanize_bytes(f.bytes)} in {_files(f.files)}"]
        detail += [f"stored by layer {i}: {_cmd(image, i)}" for i in f.stored_in]
        if f.hidden_by is not None:
            detail.append(f"hidden by layer {f.hidden_by}: {_cmd(image, f.hidden_by)}")
        detail.append(f"fix: {printable(hint)}")
        layer = f.stored_in[-1]
        hidden = ", " + _HIDDEN_BY[KIND_KEYS[f.kind]].format(f.hidden_by) if f.hidden_by is not None else ""
        note = f"{humanize_bytes(f.bytes)} stored here{hidden}"
        tab.rows.append(
            InsightRow(
                (humanize_bytes(f.bytes), KIND_KEYS[f.kind], f"{f.files:,}", where, path), detail, f.path, layer, note
            )
        )
    return tab


def junk_tab(image: Image, ins: Insights) -> InsightTab:
    tab = InsightTab("junk", "Junk", ("Bytes", "Rule", "Files", "Layer", "Path"), empty="no junk found")
    for h in sorted(ins.junk, key=lambda h: h.optional):  # junk first, then what is only optional
        path = printable(h.path)
        rule = printable(h.rule) + (" (optional)" if h.optional else "")
        what = f"{printable(h.rule)}, optional" if h.optional else f"junk: {printable(h.rule)}"
        detail = [
            f"{'under ' if h.partial else ''}{path}: {humanize_bytes(h.bytes)} in {_files(h.files)} ({what})",
            f"added by layer {h.layer}: {_cmd(image, h.layer)}",
            f"fix: {printable(h.hint)}",
        ]
        note = f"{humanize_bytes(h.bytes)} ({what}) added here"
        tab.rows.append(
            InsightRow(
                (humanize_bytes(h.bytes), rule, f"{h.files:,}", str(h.layer), path),
                detail,
                h.path,
                h.layer,
                note,
            )
        )
    return tab


def duplicates_tab(image: Image, ins: Insights) -> InsightTab:
    tab = InsightTab(
        "duplicates", "Duplicates", ("Saving", "Copies", "Size", "Paths"), empty="no duplicate files (1 kB or more)"
    )
    for d in ins.duplicates:
        paths = [printable(p) for p in d.paths]
        detail = [
            f"the same {humanize_bytes(d.size)} at {len(paths)} paths; a dedupe saves {humanize_bytes(d.saving)}:"
        ]
        detail += [f"  {p}  (layer {layer})" for p, layer in zip(paths, d.layers, strict=True)]
        detail.append("fix: keep one copy and link the others (`ln -s`), or copy the file once")
        others = len(paths) - 1
        note = f"the same {humanize_bytes(d.size)} is at {count(others, 'other path')}"
        tab.rows.append(
            InsightRow(
                (humanize_bytes(d.saving), str(len(paths)), humanize_bytes(d.size), ", ".join(paths)),
                detail,
                d.paths[0],
                d.layers[0],
                note,
            )
        )
    if ins.duplicate_groups > len(ins.duplicates):
        tab.more = f"… and {ins.duplicate_groups - len(ins.duplicates):,} more groups (all are in --json)"
    return tab


def headline(image: Image, ins: Insights) -> str:
    """One sentence: what a squash saves, split by kind, biggest first (every output's headline)."""
    total = ins.reclaimable_bytes
    size = image.size_bytes
    if total == 0:
        return f"This image stores no waste: every byte of its {humanize_bytes(size)} is in the final filesystem."
    parts = sorted(((v, k) for k, v in ins.waste.by_kind().items() if v), reverse=True)
    kinds = ", ".join(f"{humanize_bytes(v)} {KIND_WORDS[k]}" for v, k in parts)
    return f"This image can lose {humanize_bytes(total)} ({percent(total, size)} of {humanize_bytes(size)}): {kinds}."


def summary_lines(image: Image, ins: Insights) -> list[str]:
    """The lines above the lists: the headline, the squash estimates, junk and duplicate totals."""
    parts = [f"Squashed: {humanize_bytes(ins.squashed_bytes)}"]
    if ins.base.count:
        above = len(image.layers) - ins.base.count
        own = humanize_bytes(ins.own_reclaimable)
        parts.append(f"the {above} layers above the base image's {ins.base.count} squashed: {own} less")
    parts.append(f"junk {humanize_bytes(ins.junk_bytes)}")
    parts.append(f"duplicates {humanize_bytes(ins.duplicate_bytes)}")
    return [headline(image, ins), " · ".join(parts)]


def short_summary(image: Image, ins: Insights) -> str:
    """One line for small terminals: the headline's figure and the totals."""
    total = ins.reclaimable_bytes
    return (
        f"Can lose {humanize_bytes(total)} ({percent(total, image.size_bytes)}) · "
        f"junk {humanize_bytes(ins.junk_bytes)} · duplicates {humanize_bytes(ins.duplicate_bytes)}"
    )


__all__ = [
    "Cancelled",
    "InsightRow",
    "InsightSettings",
    "InsightTab",
    "InsightsJob",
    "count",
    "duplicates_tab",
    "findings_tab",
    "headline",
    "junk_tab",
    "percent",
    "reclaim_line",
    "short_summary",
    "summary_lines",
]
