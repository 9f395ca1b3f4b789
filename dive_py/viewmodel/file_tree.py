"""The file-tree pane's state: which rows show, in what order, where the cursor is.

State (what the user controls): the layer and compare mode, hidden diff
types, the path filter, collapsed directories, sort order.  Derived (what
is recomputed, vectorised, when state changes): the included nodes, the
directory sizes, the display order and the visible ``rows`` (path ids).

Costs on a tree of *P* paths: a layer switch, filter or hide toggle is a
handful of O(P) numpy passes (milliseconds for 400k paths); a collapse is
one O(P) mask; cursor moves are O(1).  Nothing walks the tree per key
press, which is what makes dive take seconds per key on big images.

Filtering follows dive: a node stays when it matches (its diff type is not
hidden and the regex finds its full path) or when anything below it stays;
directory sizes count only what stays, and leave out removed files unless
the directory itself was removed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from dive_py.core.analysis.compare import ADDED, MODIFIED, NO_NODE, REMOVED, UNMODIFIED, Comparer, CompareTree
from dive_py.core.kinds import DIR
from dive_py.core.model.entries import ROOT
from dive_py.core.model.image import Image
from dive_py.viewmodel.tree_index import TreeIndex

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
BOOL = npt.NDArray[np.bool_]

DIFF_TYPES = (ADDED, REMOVED, MODIFIED, UNMODIFIED)
_REGEX_META = set(".^$*+?{}[]\\|()")


class FilterError(ValueError):
    """The filter text is not a valid regular expression."""


class FileTreeModel:
    """Rows of the file tree for the selected layer, plus cursor and view state."""

    def __init__(
        self,
        image: Image,
        comparer: Comparer | None = None,
        index: TreeIndex | None = None,
        *,
        hidden: Iterable[int] = (),
        collapse_all: bool = False,
    ) -> None:
        self.image = image
        self.comparer = comparer or Comparer(image)
        self.index = index or TreeIndex(image.paths)
        e = image.entries
        self._tflag = np.frombuffer(bytes(e.tflag), dtype=np.uint8)
        self._size = np.frombuffer(e.size, dtype=np.int64)
        self.layer = 0
        self.aggregated = False
        self.hidden: set[int] = set(hidden)
        self.filter_text = ""
        self.filter_error: str | None = None
        self._filter: re.Pattern[str] | None = None
        self._match_cache: dict[str, BOOL] = {}
        self.collapsed: set[int] = set()
        self.sort_by_size = False
        self.all_collapsed = collapse_all
        self.cursor = 0
        #: First row of the visible window; the widget keeps it in sync with scrolling.
        self.top = 0
        self.tree: CompareTree = self.comparer.tree(0, False)
        self._recompute_tree_state()
        if collapse_all:
            self.collapsed = {int(p) for p in np.nonzero(self.is_dir & (self.count > 1))[0]}
            self._recompute_rows()

    # -- derived state -----------------------------------------------------------
    def _recompute_tree_state(self, keep: int | None = None) -> None:
        """Everything that depends on the tree, hidden types or filter."""
        tree = self.tree
        idx = self.index
        entry = tree.entry
        in_tree = entry != NO_NODE
        in_tree[ROOT] = False
        safe = np.where(in_tree, entry, 0)
        self.is_dir: BOOL = in_tree & (self._tflag[safe] == DIR)
        if self.hidden or self._filter is not None:
            ok = in_tree.copy()
            if self.hidden:
                ok &= ~np.isin(tree.diff, np.fromiter(self.hidden, dtype=np.uint8))
            if self._filter is not None:
                ok &= self._match_mask(self._filter)
            included = in_tree & (idx.subtree_sum(ok.astype(np.int64)) > 0)
        else:
            included = in_tree
        self.included: BOOL = included
        own = np.where(included, self._size[safe], 0)
        removed = tree.diff == REMOVED
        all_sizes = idx.subtree_sum(own)
        kept_sizes = idx.subtree_sum(np.where(removed, 0, own))
        self.sizes: I64 = np.where(removed, all_sizes, kept_sizes)
        self.count: I32 = idx.subtree_sum(included.astype(np.int64)).astype(np.int32)
        self._recompute_order()
        self._recompute_rows(keep)

    def _recompute_order(self) -> None:
        idx = self.index
        if not self.sort_by_size:
            order = idx.name_order[self.included[idx.name_order]]
        else:
            order = self._size_order()
        self.order: I32 = order.astype(np.int32)
        self.opos: I32 = np.full(idx.n, -1, dtype=np.int32)
        self.opos[self.order] = np.arange(len(self.order), dtype=np.int32)

    def _size_order(self) -> I32:
        """Depth-first order with siblings by size (largest first), ties by name."""
        idx = self.index
        nodes = np.nonzero(self.included)[0].astype(np.int32)
        if nodes.size == 0:
            return nodes
        parent = idx.parent[nodes]
        srt = np.lexsort((idx.pos[nodes], -self.sizes[nodes], parent))
        nodes = nodes[srt]
        parent = parent[srt]
        cnt = self.count[nodes].astype(np.int64)
        before = np.cumsum(cnt) - cnt  # subtree rows of everything sorted earlier
        first = np.ones(len(nodes), dtype=bool)
        first[1:] = parent[1:] != parent[:-1]
        group_start = np.maximum.accumulate(np.where(first, np.arange(len(nodes)), 0))
        offset = before - before[group_start]
        position = np.full(idx.n, -1, dtype=np.int64)
        depth = idx.depth[nodes]
        for d in range(1, int(depth.max()) + 1):
            at = depth == d
            par = parent[at]
            base = np.where(par == ROOT, -1, position[par])
            position[nodes[at]] = base + 1 + offset[at]
        order = np.empty(len(nodes), dtype=np.int32)
        order[position[nodes]] = nodes
        return order

    def _recompute_rows(self, keep: int | None = None) -> None:
        if keep is None:
            keep = self.selected
        order = self.order
        collapsed = [p for p in self.collapsed if self.included[p] and self.count[p] > 1]
        if collapsed:
            cz = np.asarray(collapsed, dtype=np.int64)
            delta = np.zeros(len(order) + 1, dtype=np.int32)
            np.add.at(delta, self.opos[cz] + 1, 1)
            np.add.at(delta, self.opos[cz] + self.count[cz], -1)
            rows = order[np.cumsum(delta[:-1]) == 0]
        else:
            rows = order
        self.rows: I32 = rows
        self.row_of: I32 = np.full(self.index.n, -1, dtype=np.int32)
        self.row_of[rows] = np.arange(len(rows), dtype=np.int32)
        self._place_cursor(keep)

    def _place_cursor(self, pid: int | None) -> None:
        """Keep the cursor on ``pid``, else its nearest shown ancestor, else clamp."""
        n = len(self.rows)
        if n == 0:
            self.cursor = 0
            return
        parent = self.index.parent
        while pid is not None and pid > ROOT:
            row = int(self.row_of[pid])
            if row >= 0:
                self.cursor = row
                return
            pid = int(parent[pid])
        self.cursor = min(max(self.cursor, 0), n - 1)

    def _match_mask(self, pattern: re.Pattern[str]) -> BOOL:
        """Which full paths (``/a/b``) the pattern finds; cached per pattern."""
        cached = self._match_cache.get(pattern.pattern)
        if cached is not None:
            return cached
        search = pattern.search
        paths = self.index.slash_paths
        prev = self._literal_parent(pattern.pattern)
        if prev is not None:  # "abc" after "ab": only earlier matches can still match
            mask = np.zeros(self.index.n, dtype=bool)
            for p in np.nonzero(prev)[0]:
                if search(paths[p]) is not None:
                    mask[p] = True
        else:
            mask = np.fromiter((search(p) is not None for p in paths), dtype=bool, count=len(paths))
        if len(self._match_cache) > 32:
            self._match_cache.pop(next(iter(self._match_cache)))
        self._match_cache[pattern.pattern] = mask
        return mask

    def _literal_parent(self, text: str) -> BOOL | None:
        if any(c in _REGEX_META for c in text):
            return None
        for cut in range(len(text) - 1, 0, -1):
            cached = self._match_cache.get(text[:cut])
            if cached is not None:
                return cached
        return None

    # -- queries -------------------------------------------------------------------
    @property
    def selected(self) -> int | None:
        """Path id under the cursor (None for an empty tree)."""
        if not len(getattr(self, "rows", ())):
            return None
        return int(self.rows[min(self.cursor, len(self.rows) - 1)])

    def entry_of(self, pid: int) -> int:
        return int(self.tree.entry[pid])

    def diff_of(self, pid: int) -> int:
        return int(self.tree.diff[pid])

    def is_collapsed(self, pid: int) -> bool:
        return pid in self.collapsed and bool(self.is_dir[pid]) and self.count[pid] > 1

    def is_last_child(self, pid: int) -> bool:
        parent = int(self.index.parent[pid])
        end = len(self.order) if parent == ROOT else int(self.opos[parent] + self.count[parent])
        return int(self.opos[pid] + self.count[pid]) == end

    # -- commands --------------------------------------------------------------------
    def set_layer(self, layer: int, aggregated: bool) -> None:
        keep = self.selected
        self.layer = layer
        self.aggregated = aggregated
        self.tree = self.comparer.tree(layer, aggregated)
        self._recompute_tree_state(keep)

    def toggle_hidden(self, diff_type: int) -> None:
        self.hidden ^= {diff_type}
        self._recompute_tree_state()

    def set_filter(self, text: str) -> None:
        """Apply a regex filter live; an invalid one keeps the last valid filter."""
        self.filter_text = text
        if not text:
            self._filter = None
            self.filter_error = None
            self._recompute_tree_state()
            return
        try:
            compiled = re.compile(text)
        except re.error as exc:
            self.filter_error = f"invalid regex: {exc}"
            return
        self.filter_error = None
        self._filter = compiled
        self._recompute_tree_state()

    def toggle_sort(self) -> None:
        """Name order <-> size order; like dive, the cursor goes back to the top."""
        self.sort_by_size = not self.sort_by_size
        self._recompute_order()
        self.cursor = 0
        self._recompute_rows(keep=None if not len(self.order) else int(self.order[0]))

    def toggle_collapse(self, pid: int | None = None) -> bool:
        """Collapse or expand a directory (the selected one by default)."""
        pid = self.selected if pid is None else pid
        if pid is None or not self.is_dir[pid] or self.count[pid] <= 1:
            return False
        self.collapsed ^= {pid}
        self._recompute_rows(pid)
        return True

    def toggle_collapse_all(self) -> None:
        """Collapse every directory, or expand every one (dive flips one flag each time)."""
        self.all_collapsed = not self.all_collapsed
        if self.all_collapsed:
            self.collapsed = {int(p) for p in np.nonzero(self.is_dir & (self.count > 1))[0]}
            self.cursor = 0
            self._recompute_rows(keep=int(self.order[0]) if len(self.order) else None)
        else:
            self.collapsed.clear()
            self._recompute_rows()

    def move(self, delta: int) -> None:
        if len(self.rows):
            self.cursor = min(max(self.cursor + delta, 0), len(self.rows) - 1)

    def move_to(self, row: int) -> None:
        self.move(row - self.cursor)

    def scroll_into_view(self, height: int) -> None:
        """Adjust ``top`` so the cursor is inside a window of ``height`` rows."""
        if self.cursor < self.top:
            self.top = self.cursor
        elif self.cursor >= self.top + height:
            self.top = self.cursor - height + 1
        self.top = max(0, min(self.top, max(0, len(self.rows) - height)))

    def page_down(self, height: int) -> None:
        """Move window and cursor one page down (dive: by the visible height)."""
        n = len(self.rows)
        if not n:
            return
        self.top = max(0, min(self.top + height, n - height))
        self.cursor = min(self.cursor + height, n - 1)

    def page_up(self, height: int) -> None:
        self.top = max(0, self.top - height)
        self.cursor = max(self.cursor - height, 0)

    def cursor_left(self) -> None:
        """Go to the parent directory's row."""
        pid = self.selected
        if pid is None:
            return
        parent = int(self.index.parent[pid])
        if parent != ROOT and self.row_of[parent] >= 0:
            self.cursor = int(self.row_of[parent])

    def cursor_right(self) -> None:
        """Expand the selected directory and step into its first child."""
        pid = self.selected
        if pid is None or not self.is_dir[pid] or self.count[pid] <= 1:
            return
        if pid in self.collapsed:
            self.collapsed.discard(pid)
            self._recompute_rows(pid)
        self.move(1)

    def reveal(self, pid: int) -> bool:
        """Expand the ancestors of ``pid`` and put the cursor on it."""
        if pid < 0 or pid >= self.index.n or not self.included[pid]:
            return False
        parent = self.index.parent
        q = int(parent[pid])
        while q > ROOT:
            self.collapsed.discard(q)
            q = int(parent[q])
        self._recompute_rows(pid)
        self.cursor = int(self.row_of[pid])
        return True

    def show_path(self, path: str) -> bool:
        """Make ``path`` visible (clearing filters that hide it) and select it."""
        pid = self.image.paths.lookup(path.strip("/"))
        if pid is None or self.tree.entry[pid] == NO_NODE:
            return False
        if not self.included[pid]:
            self.hidden.clear()
            self.filter_text = ""
            self._filter = None
            self.filter_error = None
            self._recompute_tree_state()
        return self.reveal(pid)

    def restore_rows(self, collapsed: set[int], pid: int | None, top: int) -> None:
        """Put back collapsed directories, the cursor's path and the window (a cancelled search)."""
        self.collapsed = set(collapsed)
        self._recompute_rows(pid)
        self.top = top

    def search(self, text: str, forward: bool = True, *, from_next: bool = True) -> bool:
        """Jump to the next (or previous) path matching ``text``; rows stay as they are."""
        try:
            pattern = re.compile(text)
        except re.error as exc:
            raise FilterError(f"invalid regex: {exc}") from None
        hits = np.nonzero(self._match_mask(pattern)[self.order])[0]
        if hits.size == 0:
            return False
        here = self.selected
        cur = int(self.opos[here]) if here is not None else -1
        if forward:
            later = hits[hits > cur] if from_next else hits[hits >= cur]
            pos = int(later[0]) if later.size else int(hits[0])
        else:
            earlier = hits[hits < cur]
            pos = int(earlier[-1]) if earlier.size else int(hits[-1])
        return self.reveal(int(self.order[pos]))


__all__ = ["ADDED", "DIFF_TYPES", "MODIFIED", "REMOVED", "UNMODIFIED", "FileTreeModel", "FilterError"]
