"""Everything divepy can tell about an image's size: waste by kind, findings, junk, duplicates, squash.

This is the headline analysis of every output (``--json``'s ``insights``,
``--explain``, the explorer's Image Details).  It composes the rooms'
parts: :mod:`reclaim` (every waste copy and its kind), :mod:`findings`
(copies grouped into actionable units, with :mod:`hints`), :mod:`junk`
(removable files in the final image), duplicate contents and the squash
estimates, optionally for "your layers only" above the base image.

The base image's last layer is told from the history (:func:`base_layers`):
a ``CMD`` or ``ENTRYPOINT`` step is how a Dockerfile for a base image ends,
so the last such step that further layers follow marks the end of the base.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from dive_py.core.analysis.findings import Finding, group_findings
from dive_py.core.analysis.hashing import ensure_hashes
from dive_py.core.analysis.hints import hint_for, instruction
from dive_py.core.analysis.junk import JunkHit, JunkRule, find_junk, glob_regex
from dive_py.core.analysis.reclaim import KIND_KEYS, Reclaim, find_waste, layer_column
from dive_py.core.kinds import CONTIGUOUS, ENTRY, REGULAR
from dive_py.core.model.image import Image
from dive_py.core.progress import Progress

#: Files smaller than this are left out of the duplicate search: hashing them costs more than a dedupe saves.
DUPLICATE_MIN_BYTES = 1024
#: Duplicate groups reported (the total counts them all).
MAX_DUPLICATE_GROUPS = 50


@dataclass(slots=True)
class DuplicateGroup:
    """Final files with identical content at different paths (not hardlinks of one another)."""

    paths: list[str]
    size: int  #: bytes of one copy
    layers: list[int] = field(default_factory=list)  #: the layer that stored each path's copy (as ``paths``)

    @property
    def saving(self) -> int:
        return self.size * (len(self.paths) - 1)


@dataclass(slots=True)
class BaseLayers:
    count: int  #: layers that belong to the base image (0: none known)
    source: str  #: "history", "flag" (--base-layers), "config" (.dive-ci) or "none"


@dataclass(slots=True)
class Insights:
    waste: Reclaim
    findings: list[Finding]
    hints: list[str]  #: one per finding
    junk: list[JunkHit]
    duplicates: list[DuplicateGroup]
    duplicate_bytes: int  #: what a dedupe of every group would save
    duplicate_groups: int
    base: BaseLayers
    own_reclaimable: int  #: waste stored by the layers above the base (a squash of them saves this)
    own_by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def reclaimable_bytes(self) -> int:
        return self.waste.reclaimable_bytes

    @property
    def junk_bytes(self) -> int:
        return sum(h.bytes for h in self.junk if not h.optional)

    @property
    def squashed_bytes(self) -> int:
        """The image's content size after a full squash (uncompressed)."""
        return self.waste.final_bytes


def base_layers(image: Image, override: int | None = None, source: str = "flag") -> BaseLayers:
    """How many bottom layers come from the base image; see the module docstring for the rule.

    ``override`` (``--base-layers``, or ``baseLayers`` in ``.dive-ci``: ``source``) wins.
    """
    n = len(image.layers)
    if override is not None:
        return BaseLayers(max(0, min(override, n)), source)
    history = image.config.history
    count = 0
    for i, step in enumerate(history):
        verb = instruction(step.created_by)[0]
        if verb not in ("CMD", "ENTRYPOINT"):
            continue
        later = [h.layer_index for h in history[i + 1 :] if h.layer_index is not None]
        if later:
            count = min(later)
    return BaseLayers(count, "history" if count else "none")


def find_duplicates(
    image: Image, progress: Progress | None = None, ignored: npt.NDArray[np.bool_] | None = None
) -> list[DuplicateGroup]:
    """Groups of final regular files with the same content, biggest saving first."""
    e = image.entries
    n_layers = len(image.layers)
    kind = np.frombuffer(bytes(e.kind), dtype=np.uint8)
    tflag = np.frombuffer(bytes(e.tflag), dtype=np.uint8)
    size = np.asarray(e.size, dtype=np.int64)
    end = np.asarray(image.timeline.end, dtype=np.int64)
    final = (end == n_layers) & (kind == ENTRY) & ((tflag == REGULAR) | (tflag == CONTIGUOUS))
    if ignored is not None:
        final &= ~ignored[np.asarray(e.pid, dtype=np.int64)]
    ids = np.flatnonzero(final & (size >= DUPLICATE_MIN_BYTES))
    if len(ids) < 2:
        return []
    sizes = size[ids]
    _uniq, inverse, counts = np.unique(sizes, return_inverse=True, return_counts=True)
    ids = ids[counts[inverse] >= 2]
    if len(ids) < 2:
        return []
    ensure_hashes(image, ids.tolist(), progress)
    by_content: dict[tuple[int, int], list[int]] = {}
    for g in ids.tolist():
        by_content.setdefault((e.size[g], e.hash[g]), []).append(g)
    names = image.paths.paths
    layer = layer_column(image)
    groups = []
    for (_s, digest), gs in by_content.items():
        if len(gs) > 1 and digest != 0:
            pairs = sorted(("/" + names[e.pid[g]], int(layer[g])) for g in gs)
            groups.append(DuplicateGroup([p for p, _ in pairs], e.size[gs[0]], [i for _, i in pairs]))
    groups.sort(key=lambda d: (-d.saving, d.paths[0]))
    return groups


def ignored_paths(image: Image, globs: tuple[str, ...] | list[str]) -> npt.NDArray[np.bool_] | None:
    """Per path id: does the path, or a directory above it, match one of ``globs`` (``ignorePaths``)?"""
    if not globs:
        return None
    regex = re.compile("(?:" + "|".join(glob_regex(g, "ignorePaths")[0] for g in globs) + r")\Z")
    names = image.paths.paths
    parent = image.paths.parent
    out = np.zeros(len(names), dtype=bool)
    for pid in range(1, len(names)):  # parents are interned before their children
        out[pid] = out[parent[pid]] or regex.match("/" + names[pid]) is not None
    return out


def analyse_insights(
    image: Image,
    *,
    base_override: int | None = None,
    base_source: str = "flag",
    junk_rules: list[JunkRule] | None = None,
    ignore: tuple[str, ...] | list[str] = (),
    progress: Progress | None = None,
) -> Insights:
    """Every insight of ``image``; paths matching ``ignore`` count in none of them."""
    ignored = ignored_paths(image, ignore)
    waste = find_waste(image, progress, ignored)
    findings = group_findings(image, waste)
    layers = image.layers
    hints = [
        hint_for(
            f.kind,
            f.path,
            layers[f.stored_in[0]].created_by,
            layers[f.hidden_by].created_by if f.hidden_by is not None else None,
            f.example,
        )
        for f in findings
    ]
    junk = find_junk(image, junk_rules, ignored)
    dups = find_duplicates(image, progress, ignored)
    base = base_layers(image, base_override, base_source)
    own = waste.stored_in >= base.count
    own_sizes = waste.size[own]
    own_kinds = waste.kind[own]
    own_by_kind = {key: int(own_sizes[own_kinds == i].sum()) for i, key in enumerate(KIND_KEYS)}
    return Insights(
        waste=waste,
        findings=findings,
        hints=hints,
        junk=junk,
        duplicates=dups[:MAX_DUPLICATE_GROUPS],
        duplicate_bytes=sum(d.saving for d in dups),
        duplicate_groups=len(dups),
        base=base,
        own_reclaimable=int(own_sizes.sum()),
        own_by_kind=own_by_kind,
    )


__all__ = [
    "BaseLayers",
    "DuplicateGroup",
    "Insights",
    "analyse_insights",
    "base_layers",
    "find_duplicates",
    "ignored_paths",
]
