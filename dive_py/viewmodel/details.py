"""Text of the Layer details and Image details panes.

Long ``RUN`` scripts are split at ``&&``, ``||`` and ``;`` (outside quotes)
so a twenty-command layer reads as twenty lines instead of one cut-off row
(dive issues #356, #376).
"""

from __future__ import annotations

from dataclasses import dataclass

from dive_py.core.analysis.efficiency import Efficiency
from dive_py.core.model.image import Image, Layer
from dive_py.core.text import printable
from dive_py.core.units import humanize_bytes


def split_command(command: str) -> list[str]:
    """Split a shell command after ``&&``, ``||`` and ``;`` that are not quoted."""
    parts: list[str] = []
    buf: list[str] = []
    quote = ""
    i = 0
    n = len(command)
    while i < n:
        ch = command[i]
        if quote:
            buf.append(ch)
            if ch == "\\" and quote == '"' and i + 1 < n:
                buf.append(command[i + 1])
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
            buf.append(ch)
        elif ch == "\\" and i + 1 < n and command[i + 1] == "\n":
            i += 1  # a line continuation: the split below puts it on its own line anyway
        elif command.startswith(("&&", "||"), i):
            buf.append(command[i : i + 2])
            parts.append("".join(buf).strip())
            buf = []
            i += 1
        elif ch == ";" or ch == "\n":
            if ch == ";":
                buf.append(ch)
            parts.append("".join(buf).strip())
            buf = []
        else:
            buf.append(ch)
        i += 1
    tail = "".join(buf).strip()
    if tail:
        parts.append(tail)
    return [p for p in parts if p and p != ";"]


def command_lines(command: str) -> list[str]:
    """The command as display lines: first part flush, the rest indented."""
    parts = [printable(p) for p in split_command(command)]
    if not parts:
        return [""]
    return [parts[0]] + ["    " + p for p in parts[1:]]


@dataclass(slots=True, frozen=True)
class Field:
    """A labelled value; image-supplied text is escaped when the field is made."""

    label: str
    value: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", printable(self.value))


def layer_fields(image: Image, layer: Layer) -> list[Field]:
    """Labelled facts about a layer (the Layer details pane)."""
    size = humanize_bytes(layer.size)
    stored = humanize_bytes(layer.stored_size)
    compression = "uncompressed" if layer.compression == "tar" else layer.compression
    hist = layer.history
    fields = [
        Field("Tags", ", ".join(image.names) if image.names else "(none)"),
        Field("Id", layer.id),
        Field("Digest", layer.digest or "(unknown)"),
    ]
    if layer.blob_digest and layer.blob_digest != layer.digest:
        fields.append(Field("Blob", layer.blob_digest))
    if layer.media_type:
        fields.append(Field("Type", layer.media_type))
    fields.append(Field("Size", f"{size} of files ({layer.size:,} bytes), {layer.entry_count:,} entries"))
    fields.append(Field("Stored", f"{stored} {compression}"))
    if hist is not None and hist.created:
        fields.append(Field("Created", hist.created))
    if hist is not None and hist.comment:
        fields.append(Field("Comment", hist.comment))
    return fields


@dataclass(slots=True, frozen=True)
class ImageSummary:
    name: str
    total_size: str
    wasted: str
    efficiency: str
    user_wasted: str
    platform: str
    archive_format: str


def image_summary(image: Image, eff: Efficiency) -> ImageSummary:
    """The Image details figures, worded like dive's pane."""
    return ImageSummary(
        name=printable(image.display_name),
        total_size=humanize_bytes(eff.size_bytes),
        wasted=humanize_bytes(eff.wasted_bytes),
        efficiency=f"{int(100 * eff.score)} %",
        user_wasted=f"{eff.user_wasted_percent * 100:.2f} %",
        platform=printable(image.config.platform or image.ref.platform or "unknown"),
        archive_format=image.archive_format,
    )
