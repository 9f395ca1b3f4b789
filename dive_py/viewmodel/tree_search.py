"""Incremental search in the file tree, the way less and vim do it.

While the user types, each text jumps to its first match at or after the
place the search started, expanding directories to show it.  The view is
saved when the prompt opens: a text with no match, Esc, or an empty text
puts back exactly the rows, cursor and window of that moment, so a failed
``/mysqld`` leaves no trace.  Enter keeps the view at the match.
"""

from __future__ import annotations

from dataclasses import dataclass

from dive_py.viewmodel.file_tree import FileTreeModel, FilterError


@dataclass(slots=True, frozen=True)
class SavedView:
    collapsed: frozenset[int]
    pid: int | None
    top: int


class TreeSearch:
    """One search prompt's life: opened, typed into, then accepted or cancelled."""

    def __init__(self, model: FileTreeModel) -> None:
        self.model = model
        self.saved = SavedView(frozenset(model.collapsed), model.selected, model.top)
        self.text = ""
        self.found = False

    def restore(self) -> None:
        """The view as it was when the prompt opened."""
        s = self.saved
        self.model.restore_rows(set(s.collapsed), s.pid, s.top)

    def update(self, text: str) -> bool:
        """Search for ``text`` from where the search started; False (view restored) if nothing matches.

        Raises :class:`FilterError` for an invalid regex (the view is restored first).
        """
        self.text = text
        self.restore()
        self.found = False
        if not text:
            return False
        # No match leaves the view untouched: search() reveals nothing unless it finds something.
        self.found = self.model.search(text, from_next=False)
        return self.found


__all__ = ["FilterError", "SavedView", "TreeSearch"]
