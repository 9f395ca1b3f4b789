"""One line of "why wasted" for each row of the inefficient-files table.

A path is in dive's table when more than one layer stores it; the bytes
of every copy but the last stay in the image.  The reader wants to know
what made the last copy: ``deleted by layer 6``, ``chown/chmod copy,
layer 4`` (the same bytes with another owner or mode: the overlayfs
copy-up of a ``chown -R``), ``same bytes again, layer 4`` (an identical
re-``COPY``) or ``rewritten by layer 4`` (other bytes).  Equal bytes are decided by content hash (the
explorer hashes every same-size pair at load time); without a hash only
"rewritten" is said.

All rows are answered with one vectorised pass over the entry table, not
one scan per row: the table shows up to a thousand rows of a 400k-entry
image.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dive_py.core.kinds import ENTRY
from dive_py.core.model.image import Image


def waste_reasons(image: Image, paths: Sequence[str]) -> list[str]:
    """The reason for each of ``paths`` (``/app/x``, as the table lists them)."""
    e = image.entries
    lookup = image.paths.lookup
    pids = [lookup(p.strip("/")) for p in paths]
    wanted = np.asarray([p for p in pids if p is not None], dtype=np.int32)
    stored = e.layer_start[-1]  # entries stored in layers (implicit directories come after)
    pid_column = np.frombuffer(e.pid, dtype=np.int32)[:stored]
    kind_column = np.frombuffer(e.kind, dtype=np.uint8)[:stored]
    hits = np.flatnonzero(np.isin(pid_column, wanted) & (kind_column == ENTRY)).tolist()
    copies: dict[int, list[int]] = {}
    for g in hits:  # ascending entry ids: layer order
        copies.setdefault(int(e.pid[g]), []).append(g)
    return [_reason(image, copies.get(pid, [])) if pid is not None else "" for pid in pids]


def _reason(image: Image, copies: list[int]) -> str:
    if not copies:
        return ""
    e = image.entries
    last = copies[-1]
    removed_at = image.timeline.end[last]
    if removed_at < len(image.layers):
        return f"deleted by layer {removed_at}"
    if len(copies) < 2:
        return ""
    before = copies[-2]
    layer = e.layer_of(last)
    same_bytes = e.size[before] == e.size[last] and e.hash[before] != 0 and e.hash[before] == e.hash[last]
    if not same_bytes:
        return f"rewritten by layer {layer}"
    if (e.mode[before], e.uid[before], e.gid[before]) != (e.mode[last], e.uid[last], e.gid[last]):
        return f"chown/chmod copy, layer {layer}"
    return f"same bytes again, layer {layer}"


__all__ = ["waste_reasons"]
