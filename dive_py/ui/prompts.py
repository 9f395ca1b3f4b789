"""The filter and search prompts of the explorer screen.

A mixin of :class:`~dive_py.ui.main_screen.MainScreen`: the prompts are
bound to the screen's keys and repaint its tree, but they are a job of
their own.  Both open with priority bindings and take the focus at once
(not on the next idle), so the keys typed right after ``/`` or Ctrl+F --
in one burst, as a paste or a fast typist sends them -- land in the prompt
and never run as commands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input

from dive_py.ui.widgets.bars import InputBar
from dive_py.viewmodel.file_tree import FilterError
from dive_py.viewmodel.tree_search import TreeSearch

if TYPE_CHECKING:
    from dive_py.ui.widgets.file_tree import FileTreeView
    from dive_py.viewmodel.session import Session

#: Trees up to this many paths are filtered on every keystroke.
LIVE_FILTER_PATHS = 60_000
#: Otherwise the filter is applied once typing pauses this long (seconds).
FILTER_PAUSE = 0.12


class PromptsMixin(Screen[None]):
    """Ctrl+F filters the tree live; ``/`` searches incrementally; ``n``/``N`` repeat."""

    session: Session
    last_search: str
    _filter_timer: Timer | None
    _search: TreeSearch | None

    @property
    def file_tree(self) -> FileTreeView:
        raise NotImplementedError

    def _update_tree_chrome(self) -> None:
        raise NotImplementedError

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The prompt keys are priority bindings: inside a prompt "/" must type, not reopen.
        # Ctrl+F always works: it closes the filter, or switches from the search to it.
        return not (action == "open_search" and isinstance(self.focused, Input))

    @property
    def _filter_bar(self) -> InputBar:
        return self.query_one("#filter", InputBar)

    @property
    def _search_bar(self) -> InputBar:
        return self.query_one("#search", InputBar)

    def action_open_filter(self) -> None:
        bar = self._filter_bar
        if bar.is_open:
            self._close_filter(keep=True)
        else:
            self._close_search(accept=False)
            bar.open(self.session.tree.filter_text)

    def action_open_search(self) -> None:
        """``/``: a new, empty search from here; the view is saved to come back to."""
        self._filter_bar.close()
        self._search = TreeSearch(self.session.tree)
        self._search_bar.open("")

    def _close_search(self, accept: bool) -> None:
        search = self._search
        self._search = None
        bar = self._search_bar
        if search is not None:
            if accept and search.found:
                self.last_search = search.text
            else:
                search.restore()
                self.file_tree.rebuild(top=search.saved.top)
        if bar.is_open:
            bar.close()
            self._focus_tree_unless_moved(bar)

    def _close_filter(self, keep: bool) -> None:
        bar = self._filter_bar
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self._filter_timer = None
        if not keep:
            self.session.tree.set_filter("")
            bar.input.value = ""
            self.file_tree.rebuild()
        bar.close()
        self._focus_tree_unless_moved(bar)
        self._update_tree_chrome()

    def _focus_tree_unless_moved(self, bar: InputBar) -> None:
        """The tree gets the focus back -- unless a key typed since Enter opened the other prompt."""
        if self.focused is None or self.focused is bar.input or self.focused is self.file_tree:
            self.set_focus(self.file_tree)

    def on_input_bar_changed(self, event: InputBar.Changed) -> None:
        model = self.session.tree
        if event.bar.id == "filter":
            # Small trees filter on every keystroke; on big ones (a regex over a quarter
            # of a million paths takes ~30 ms) the filter waits for a pause in typing.
            if self._filter_timer is not None:
                self._filter_timer.stop()
                self._filter_timer = None
            if model.index.n <= LIVE_FILTER_PATHS:
                self.apply_filter(event.value)
            else:
                self._filter_timer = self.set_timer(FILTER_PAUSE, lambda: self.apply_filter(event.value))
            return
        search = self._search
        if search is None:
            return
        try:
            found = search.update(event.value)
        except FilterError as exc:
            event.bar.set_error(str(exc))
            self.file_tree.rebuild(top=search.saved.top)
            return
        event.bar.set_error(None if found or not event.value else "no match")
        self.file_tree.rebuild(top=None if found else search.saved.top)

    def apply_filter(self, text: str) -> None:
        """Filter the tree now (live as the user types, or after a pause on big trees)."""
        self._filter_timer = None
        model = self.session.tree
        model.set_filter(text)
        self._filter_bar.set_error(model.filter_error)
        if model.filter_error is None:
            self.file_tree.rebuild()

    def on_input_bar_closed(self, event: InputBar.Closed) -> None:
        if event.bar.id == "filter":
            if self._filter_timer is not None or self.session.tree.filter_text != event.value:
                self.apply_filter(event.value)  # Enter before the pause, or before the last keys' Changed
            self._close_filter(keep=event.accepted)
            return
        search = self._search
        if search is not None and event.accepted and search.text != event.value:
            # Enter overtook the Changed messages of the keys typed just before it (a burst on a
            # loaded machine): search for what the prompt holds, not for what was seen so far.
            try:
                search.update(event.value)
            except FilterError:
                search.found = False
        self._close_search(accept=event.accepted)

    def action_next_match(self) -> None:
        self._jump(True)

    def action_previous_match(self) -> None:
        self._jump(False)

    def _jump(self, forward: bool) -> None:
        if not self.last_search:
            self.action_open_search()
            return
        try:
            found = self.session.tree.search(self.last_search, forward)
        except FilterError:
            return
        if found:
            self.file_tree.rebuild()
        else:
            self.notify(f"no match for {self.last_search!r}", severity="warning", timeout=2, markup=False)
