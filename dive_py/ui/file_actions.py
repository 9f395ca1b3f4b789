"""What the explorer does with the path under the cursor: view, extract, copy, page, edit.

A mixin of :class:`~dive_py.ui.main_screen.MainScreen`.  Every action
means the same file: the path as it is after the selected layer or, for a
path that layer (or, aggregated, a layer below it) removed, as it was just
before the removal -- what ``v`` shows is what Ctrl+E writes and what
``p`` pages.

``p`` and ``e`` hand the file to ``$PAGER`` (default ``less``) or
``$EDITOR`` (default ``vi``) with the explorer suspended.  The program gets
a read-only copy in a private temporary directory made for it, removed
again afterwards -- only that directory and what divepy put in it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from typing import TYPE_CHECKING

from textual.screen import Screen

from dive_py.core.analysis.compare import MODIFIED, REMOVED
from dive_py.core.text import printable
from dive_py.errors import DiveError

if TYPE_CHECKING:
    from dive_py.viewmodel.session import Session


class FileActionsMixin(Screen[None]):
    """``v``, Ctrl+E, ``y``, ``p`` and ``e`` on the file tree's selected path."""

    session: Session
    keymap: dict[str, str]

    def _selected(self) -> tuple[str, int] | None:
        """(absolute path, layer whose state holds it) for the cursor's path."""
        from dive_py.viewmodel.file_view import last_layer_with

        s = self.session
        pid = s.tree.selected
        if pid is None:
            return None
        path = "/" + s.image.paths.paths[pid]
        layer = s.layers.selected
        if s.tree.diff_of(pid) == REMOVED:
            before = last_layer_with(s.image, path, layer)
            if before is None:
                return None
            layer = before
        return path, layer

    def action_view_file(self) -> None:
        """``v``: the content of the path under the cursor, or what this layer changed in it."""
        from dive_py.ui.viewer import ViewerScreen

        s = self.session
        pid = s.tree.selected
        if pid is None:
            return
        # A yellow or red row raises "what happened here?": open on the changes.
        changed = s.tree.diff_of(pid) in (MODIFIED, REMOVED) and s.layers.selected > 0
        self.app.push_screen(
            ViewerScreen(
                s.image,
                "/" + s.image.paths.paths[pid],
                s.layers.selected,
                "changes" if changed else "content",
                keymap=self.keymap,
            )
        )

    def action_extract_file(self) -> None:
        """Ctrl+E: write the path under the cursor, as it is after the selected layer."""
        from dive_py.core.content.extract import entries_under
        from dive_py.ui.extract_dialog import ExtractDialog, describe

        s = self.session
        chosen = self._selected()
        if chosen is None:
            return
        path, layer = chosen
        removed_by = layer + 1 if layer != s.layers.selected else None
        try:
            entries = entries_under(s.image, path, layer)
        except DiveError as exc:
            self.notify(printable(exc.message), severity="warning", timeout=4, markup=False)
            return
        dialog = ExtractDialog(s.image, path, layer, describe(s.image, entries, path), removed_by=removed_by)
        self.app.push_screen(dialog, self._extracted)

    def _extracted(self, result: object) -> None:
        from dive_py.core.content.extract import ExtractResult

        if isinstance(result, ExtractResult):
            self.notify(
                printable(f"Wrote {result.dest}: {result.summary()}"), title="Extracted", timeout=6, markup=False
            )

    def action_copy_path(self) -> None:
        """``y``: the selected path to the clipboard (OSC 52: works over SSH and in tmux)."""
        s = self.session
        pid = s.tree.selected
        if pid is None:
            return
        path = "/" + s.image.paths.paths[pid]
        self.app.copy_to_clipboard(path)
        self.notify(printable(f"Copied {path}"), timeout=3, markup=False)

    def action_page_file(self) -> None:
        self._hand_over("PAGER", "less")

    def action_edit_file(self) -> None:
        self._hand_over("EDITOR", "vi")

    def _hand_over(self, variable: str, default: str) -> None:
        """Suspend the explorer and run ``$PAGER``/``$EDITOR`` on a read-only copy of the file."""
        from dive_py.core.content.extract import write_file

        chosen = self._selected()
        if chosen is None:
            return
        path, layer = chosen
        image = self.session.image
        g = image.entry_at(path, layer)
        if g is None or not image.has_bytes(g):
            kind = "a directory" if g is not None and image.entries.is_dir(g) else "not a regular file"
            self.notify(
                printable(f"${variable} opens files; {path} is {kind}"), severity="warning", timeout=4, markup=False
            )
            return
        try:
            command = shlex.split(os.environ.get(variable) or default)
        except ValueError as exc:  # an unbalanced quote in $PAGER
            self.notify(printable(f"${variable}: {exc}"), severity="warning", timeout=4, markup=False)
            return
        if not command or shutil.which(command[0]) is None:
            self.notify(
                printable(f"${variable}: {command[0] if command else '(empty)'} not found"),
                severity="warning",
                timeout=4,
                markup=False,
            )
            return
        made = tempfile.mkdtemp(prefix="divepy-")  # 0700, new: ours to remove
        try:
            name = os.path.basename(path)
            copy = os.path.join(made, name if name not in ("", ".", "..") else "file")  # always inside ``made``
            fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                write_file(self.session.image, path, layer, out)
            os.chmod(copy, 0o400)
            with self.app.suspend():
                subprocess.run([*command, copy], check=False)
        except DiveError as exc:
            self.notify(printable(exc.message), severity="warning", timeout=4, markup=False)
        except OSError as exc:
            self.notify(printable(f"${variable}: {exc.strerror or exc}"), severity="warning", timeout=4, markup=False)
        finally:
            shutil.rmtree(made, ignore_errors=True)
