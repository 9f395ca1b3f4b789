"""What the file viewer shows: a file's content, or what a layer changed in it.

dive has no way to look inside a file; users unpack layers by hand to see
why a file counts as "modified" or wasted.  The viewer answers both
questions for the path under the cursor at the selected layer:

* **content**: text with its line structure, or a hex dump when the bytes
  are not UTF-8 text; the first :data:`READ_LIMIT` bytes only, said so;
* **changes**: the metadata a layer changed (type, mode, owner, size, link
  target, content) and a unified diff of the text against the version the
  layer below had.  A ``chown -R`` copy-up reads "content: identical" —
  the bytes were stored twice for an owner change, which is the waste.

Rows are plain strings with a kind the UI maps to a style; no Textual here.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from dive_py.core.content.reading import content_entry, read_content
from dive_py.core.model.entries import type_name
from dive_py.core.model.image import Image
from dive_py.core.modes import octal_mode
from dive_py.core.text import printable
from dive_py.core.units import humanize_bytes
from dive_py.errors import UsageError

#: Bytes read for display; enough for any config file or script, bounded for a 2 GB blob.
READ_LIMIT = 1 << 20
#: Lines of a diff shown; a diff longer than this is cut with a note.
DIFF_LINE_LIMIT = 20_000
HEX_WIDTH = 16

TEXT = "text"
HEX = "hex"
NOTE = "note"
HEADER = "header"
HUNK = "hunk"
ADDED = "added"
REMOVED = "removed"
CONTEXT = "context"
CHANGE = "change"  #: a metadata line of the changes view


@dataclass(slots=True, frozen=True)
class Row:
    text: str
    kind: str
    number: int | None = None  #: line number for TEXT rows


@dataclass(slots=True)
class FileView:
    path: str
    layer: int
    mode: str  #: "content" or "changes"
    summary: str  #: one line: type, size, what the layer did
    rows: list[Row] = field(default_factory=list)
    can_show_changes: bool = False


@dataclass(slots=True, frozen=True)
class _Version:
    entry: int
    layer: int


def _version(image: Image, path: str, layer: int) -> _Version | None:
    if layer < 0:
        return None
    g = image.entry_at(path, layer)
    return None if g is None else _Version(g, image.entries.layer_of(g))


def last_layer_with(image: Image, path: str, layer: int) -> int | None:
    """The last layer at or below ``layer`` after which ``path`` exists (None: never).

    For a path removed by ``layer`` (or, in the aggregated view, by any layer
    up to it) this is the state just before the removing layer: what the
    viewer shows and what Ctrl+E writes, so the two always mean the same file.
    """
    path = "/" + path.strip("/")
    for k in range(min(layer, len(image.layers) - 1), -1, -1):
        if image.entry_at(path, k) is not None:
            return k
    return None


def describe_entry(image: Image, g: int) -> str:
    """``file, 87 B``, ``symlink → /bin/busybox``: the viewer's summary and the extract dialog's."""
    e = image.entries
    kind = type_name(e.tflag[g])
    if kind == "symlink":
        return f"symlink → {printable(e.link[g])}"
    if kind == "hardlink":
        return f"hardlink to /{printable(e.link[g].lstrip('/'))}, {humanize_bytes(image.content_size(g))}"
    if kind == "file":
        return f"file, {humanize_bytes(e.size[g])}"
    return kind


def decode_text(data: bytes, truncated: bool) -> str | None:
    """``data`` as text, or None if it looks binary (a NUL, or not UTF-8)."""
    if b"\x00" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if truncated and exc.start >= len(data) - 3:  # a character cut by the read limit
            return data[: exc.start].decode("utf-8", errors="strict")
        return None


def hex_rows(data: bytes) -> list[Row]:
    """``xxd``-style rows: offset, 16 bytes in two groups, ASCII."""
    rows = []
    for off in range(0, len(data), HEX_WIDTH):
        chunk = data[off : off + HEX_WIDTH]
        left = " ".join(f"{b:02x}" for b in chunk[:8])
        right = " ".join(f"{b:02x}" for b in chunk[8:])
        ascii_ = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        rows.append(Row(f"{off:08x}  {left:<23}  {right:<23}  |{ascii_}|", HEX))
    return rows


def text_lines(text: str) -> list[str]:
    """Lines for display: tabs expanded, other control characters escaped."""
    return [printable(line.expandtabs(8)) for line in text.splitlines()]


def _read(image: Image, g: int) -> tuple[bytes, bool]:
    c = content_entry(image, g)
    size = image.entries.size[c]
    return read_content(image, g, limit=READ_LIMIT), size > READ_LIMIT


def _content_rows(image: Image, g: int) -> list[Row]:
    e = image.entries
    if not image.has_bytes(g):
        if e.is_dir(g):
            return [Row("A directory: expand it in the tree to see what it holds.", NOTE)]
        if type_name(e.tflag[g]) == "symlink":
            return [Row(f"A symbolic link to {printable(e.link[g])}.", NOTE)]
        if type_name(e.tflag[g]) == "hardlink":  # to a symlink, fifo or device (legal in tar), or to nothing
            t = image.timeline.hardlink_target.get(g)
            target = printable(e.link[g].lstrip("/"))
            if t is None:
                return [Row(f"A hardlink to /{target}, which does not exist.", NOTE)]
            return [Row(f"A hardlink to the {type_name(e.tflag[t])} /{target}, which has no content.", NOTE)]
        return [Row(f"A {type_name(e.tflag[g])} node has no content.", NOTE)]
    data, truncated = _read(image, g)
    rows: list[Row] = []
    if not data:
        return [Row("The file is empty.", NOTE)]
    text = decode_text(data, truncated)
    if text is None:
        rows.append(Row("Binary content (not UTF-8 text), as a hex dump:", NOTE))
        rows.extend(hex_rows(data))
    else:
        rows.extend(Row(line, TEXT, n) for n, line in enumerate(text_lines(text), 1))
    if truncated:
        total = image.content_size(g)
        rows.append(
            Row(
                f"… the first {humanize_bytes(READ_LIMIT)} of {humanize_bytes(total)} are shown. "
                "Extract the file (Ctrl+E) to see all of it.",
                NOTE,
            )
        )
    return rows


def _change_rows(image: Image, path: str, old: _Version | None, new: _Version | None, layer: int) -> list[Row]:
    e = image.entries
    rows: list[Row] = []
    if old is None and new is None:
        return [Row(f"{path} exists neither before nor after layer {layer}.", NOTE)]
    if old is None:
        assert new is not None
        rows.append(Row(f"Added by layer {layer}: {describe_entry(image, new.entry)}.", CHANGE))
        return rows
    if new is None:
        rows.append(Row(f"Removed by layer {layer}; before it: {describe_entry(image, old.entry)}.", CHANGE))
        return rows
    a, b = old.entry, new.entry
    if a == b:
        rows.append(Row(f"Unchanged by layer {layer}: last written by layer {new.layer}.", CHANGE))
        return rows
    rows.append(Row(f"Written again by layer {layer} (before: layer {old.layer}).", CHANGE))
    changes = [
        ("type", type_name(e.tflag[a]), type_name(e.tflag[b])),
        ("mode", octal_mode(e.mode[a]), octal_mode(e.mode[b])),
        ("owner", f"{e.uid[a]}:{e.gid[a]}", f"{e.uid[b]}:{e.gid[b]}"),
        ("size", humanize_bytes(image.content_size(a)), humanize_bytes(image.content_size(b))),
        ("link target", printable(e.link[a]), printable(e.link[b])),
    ]
    for name, before, after in changes:
        if before != after:
            rows.append(Row(f"  {name}: {before} → {after}", CHANGE))
    if not (image.has_bytes(a) and image.has_bytes(b)):
        return rows
    old_data, old_cut = _read(image, a)
    new_data, new_cut = _read(image, b)
    same_size = image.content_size(a) == image.content_size(b)
    if old_data == new_data and not old_cut and same_size:
        rows.append(Row("  content: identical; this layer stored the same bytes again.", CHANGE))
        return rows
    rows.append(Row("  content: changed", CHANGE))
    old_text = decode_text(old_data, old_cut)
    new_text = decode_text(new_data, new_cut)
    if old_text is None or new_text is None:
        rows.append(Row("Binary content: no line diff.", NOTE))
        return rows
    rows.append(Row("", CONTEXT))
    diff = difflib.unified_diff(
        text_lines(old_text),
        text_lines(new_text),
        fromfile=f"{path} (layer {old.layer})",
        tofile=f"{path} (layer {new.layer})",
        lineterm="",
    )
    for n, line in enumerate(diff):
        if n >= DIFF_LINE_LIMIT:
            rows.append(Row(f"… the diff goes on; the first {DIFF_LINE_LIMIT:,} lines are shown.", NOTE))
            break
        if line.startswith(("---", "+++")) and n < 2:
            kind = HEADER
        elif line.startswith("@@"):
            kind = HUNK
        elif line.startswith("+"):
            kind = ADDED
        elif line.startswith("-"):
            kind = REMOVED
        else:
            kind = CONTEXT
        rows.append(Row(line, kind))
    if old_cut or new_cut:
        rows.append(Row(f"… compared the first {humanize_bytes(READ_LIMIT)} of each version only.", NOTE))
    return rows


def build_view(image: Image, path: str, layer: int, mode: str = "content") -> FileView:
    """The viewer's rows for ``path`` (absolute) as it is after ``layer``.

    ``mode`` is ``"content"`` or ``"changes"``.  A path the layer removed
    shows the content it had before and, in the changes view, the removal.
    """
    if mode not in ("content", "changes"):
        raise ValueError(mode)
    path = "/" + path.strip("/")
    new = _version(image, path, layer)
    old = _version(image, path, layer - 1)
    if new is None and old is None:  # removed further down (the aggregated view shows it)
        before = last_layer_with(image, path, layer)
        old = None if before is None else _version(image, path, before)
    shown = new or old
    if shown is None:
        raise UsageError(f"{path} does not exist at layer {layer} or below it")
    if new is None:
        gone = (last_layer_with(image, path, layer) or 0) + 1
        summary = f"{describe_entry(image, shown.entry)} · removed by layer {gone}; showing the version before it"
    elif old is None:
        summary = f"{describe_entry(image, new.entry)} · added by layer {layer}"
    elif old.entry == new.entry:
        summary = f"{describe_entry(image, new.entry)} · from layer {new.layer}, not changed by layer {layer}"
    else:
        summary = f"{describe_entry(image, new.entry)} · changed by layer {layer}"
    view = FileView(path, layer, mode, summary, can_show_changes=layer > 0)
    if mode == "content":
        view.rows = _content_rows(image, shown.entry)
    else:
        view.rows = _change_rows(image, path, old, new, layer)
    return view
