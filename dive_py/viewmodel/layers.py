"""The layers pane: one row per layer, empty-layer steps beneath, compare ranges.

Like ``docker history``, build steps that made no layer (``ENV``, ``CMD``
...) are listed greyed under the layer they follow; the cursor only stops on
layers.  The compare bar marks which layers are stacked underneath (the
"bottom" range) and which are being compared (the "top" range), exactly as
dive's ``GetCompareIndexes`` with the compare start fixed at 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dive_py.core.model.image import Image
from dive_py.core.model.image_set import shared_layers
from dive_py.core.oci.imageconfig import command_of
from dive_py.core.text import printable
from dive_py.core.units import humanize_bytes

BOTTOM = "bottom"
TOP = "top"
#: Marks a layer that other images of the same archive use too.
SHARED_MARK = "◆"


@dataclass(slots=True, frozen=True)
class LayerRow:
    """A row of the layers pane: a layer, or an empty-layer history step."""

    layer: int | None  #: None for an empty-layer step
    size: str
    command: str
    shared: bool = False  #: another image of the archive uses this layer too
    share: float = 0.0  #: the layer's part of the image size (size bars)

    @property
    def mark(self) -> str:
        """One cell before the size: ``◆`` for a layer shared with another image."""
        return SHARED_MARK if self.shared else " "


def one_line(command: str) -> str:
    """Commands on one row: newlines shown as ``↵`` (dive), tabs as spaces, other controls escaped."""
    return printable(command.replace("\r\n", "↵").replace("\n", "↵").replace("\t", " "))


#: ``|2 A=1 B=2 `` -- the build arguments both builders put before a RUN's shell.
_BUILD_ARGS = re.compile(r"\|([0-9]{1,4}) ")
_BUILD_ARG = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*=\S* ?")
_SHELL = "/bin/sh -c "


def as_written(command: str) -> str:
    """A RUN command as the user wrote it: no ``|1 DEBIAN_FRONTEND=… /bin/sh -c`` in front.

    The classic builder writes ``|1 A=b /bin/sh -c cmd`` and BuildKit
    ``RUN |1 A=b /bin/sh -c cmd # buildkit`` (or ``RUN /bin/sh -c cmd``); the
    layers pane shows ``cmd`` and ``RUN cmd # buildkit``.  Anything that does
    not parse as that prefix is left as it is; details and JSON keep the raw text.
    The classic builder's ``#(nop) COPY …`` loses its ``#(nop)`` too.
    """
    if command.startswith("#(nop) "):  # the classic builder's COPY/ADD: "#(nop) COPY dir:… in /app"
        return command[len("#(nop) ") :].lstrip()
    run = "RUN " if command.startswith("RUN ") else ""
    text = command[len(run) :]
    args = _BUILD_ARGS.match(text)
    if args is not None:
        rest = text[args.end() :]
        for _ in range(int(args.group(1))):
            arg = _BUILD_ARG.match(rest)
            if arg is None:
                return command
            rest = rest[arg.end() :]
        if not rest.startswith(_SHELL):
            return command
        text = rest
    elif not run:
        return command
    return run + text[len(_SHELL) :] if text.startswith(_SHELL) else run + text


BAR_CELLS = 8


def size_bar(share: float, cells: int = BAR_CELLS) -> str:
    """``████▍   ``: a share in [0, 1] as a bar of eighth-cell blocks, then `` 42%``."""
    share = max(0.0, min(1.0, share))
    eighths = round(share * cells * 8)
    full, part = divmod(eighths, 8)
    bar = "█" * full + (" ▏▎▍▌▋▊▉"[part] if part else "")
    return f"{bar:<{cells}}{round(share * 100):>4}%"


def step_text(created_by: str) -> str:
    """An empty-layer step as a reader wants it: ``CMD ["sh"]``, not ``/bin/sh -c #(nop)  CMD ...``."""
    text = command_of(created_by).strip()
    if text.startswith("#(nop)"):
        text = text[len("#(nop)") :].strip()
    return one_line(text)


class LayerListModel:
    """Selected layer, compare mode and the rows of the layers pane."""

    def __init__(self, image: Image, *, aggregated: bool = False) -> None:
        self.image = image
        self.selected = 0
        self.aggregated = aggregated
        rows: list[LayerRow] = []
        self.shared = shared_layers(image)
        total = sum(layer.size for layer in image.layers)
        history = image.config.history
        before = [h for h in history if h.layer_index is None and h.after_layer < 0]
        rows.extend(LayerRow(None, "", step_text(h.created_by)) for h in before)
        for layer in image.layers:
            command = f"FROM {printable(layer.id[:15])}" if layer.index == 0 else one_line(as_written(layer.command))
            share = layer.size / total if total else 0.0
            rows.append(LayerRow(layer.index, humanize_bytes(layer.size), command, layer.index in self.shared, share))
            rows.extend(
                LayerRow(None, "", step_text(h.created_by))
                for h in history
                if h.layer_index is None and h.after_layer == layer.index
            )
        self.rows = rows
        self.row_of_layer = {row.layer: i for i, row in enumerate(rows) if row.layer is not None}

    @property
    def count(self) -> int:
        return len(self.image.layers)

    @property
    def cursor_row(self) -> int:
        return self.row_of_layer[self.selected]

    def select(self, layer: int) -> bool:
        """Select a layer (clamped); True if the selection changed."""
        layer = min(max(layer, 0), self.count - 1)
        if layer == self.selected:
            return False
        self.selected = layer
        return True

    def compare_range(self) -> tuple[int, int, int, int]:
        """(bottom start, bottom stop, top start, top stop), dive's compare indexes."""
        i = self.selected
        if i == 0:
            return (0, 0, 0, 0)
        if self.aggregated:
            return (0, 0, 1, i)
        return (0, i - 1, i, i)

    def bar(self, layer: int) -> str | None:
        """Which compare range ``layer`` falls in (for the coloured bar), if any."""
        b0, b1, t0, t1 = self.compare_range()
        if t0 <= layer <= t1 and self.selected > 0:
            return TOP
        if b0 <= layer <= b1:
            return BOTTOM
        return None

    def render_text(self) -> list[str]:
        """Plain text of the pane (golden tests): ``Cmp   Size  Command`` rows."""
        out = ["Cmp" + f"{'Size':>7}  Command"]
        for row in self.rows:
            if row.layer is None:
                out.append(f"   {'':>7}  {row.command}")
                continue
            mark = {TOP: "██", BOTTOM: "▒▒", None: "  "}[self.bar(row.layer)]
            out.append(f"{mark}{row.mark}{row.size:>7}  {row.command}")
        return out
