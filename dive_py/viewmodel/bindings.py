"""Every key binding as data: one table for the app, the key bar and the help screen.

Ids are dive's ``keybinding.*`` config keys where dive has the action, so a
``.dive.yaml`` keybinding section remaps our keys too.  Key strings use
Textual's names (``ctrl+a``, ``pageup``); :func:`parse_dive_keys` converts
dive's spelling (``ctrl+c,q``, ``pgup``, ``esc``).

Differences from dive, on purpose: Ctrl+M (hide modified) is Ctrl+N,
because terminals send Ctrl+M as Enter and dive silently hid modified files
whenever Enter was pressed; ``q`` quits, as in dive 0.13.1.
"""

from __future__ import annotations

from dataclasses import dataclass

APP = "app"  #: bound on the application: works on every screen, even dialogs
GLOBAL = "global"
LAYERS = "layers"
TREE = "tree"
NAV = "nav"  #: cursor keys, bound by every scrolling pane
INPUT = "input"
VIEWER = "viewer"  #: the file viewer (``v``)


@dataclass(slots=True, frozen=True)
class KeySpec:
    id: str  #: stable id; dive's config key when dive has the action
    keys: str  #: comma-separated Textual key names; the first is shown
    action: str  #: Textual action name
    description: str
    scope: str
    show: bool = True  #: listed in the key bar (all are listed in help)
    toggle: str | None = None  #: name of the state shown as "on" in the key bar
    #: Checked before the focused pane sees the key.  The prompt-opening keys need it: the
    #: prompt must have the focus before the next key of a burst (a paste, fast typing)
    #: is dispatched, or ``/xq`` runs ``q`` instead of typing it.
    priority: bool = False
    short: str = ""  #: label in the key bar when it differs from the description

    @property
    def label(self) -> str:
        return self.short or self.description


KEYS: tuple[KeySpec, ...] = (
    KeySpec("quit", "ctrl+c", "app.quit", "Quit", APP, priority=True),
    KeySpec("quit-key", "q", "app.quit", "Quit", GLOBAL, show=False),
    KeySpec("toggle-view", "tab", "focus_next_pane", "Switch view", GLOBAL, short="Switch"),
    KeySpec("toggle-view-back", "shift+tab", "focus_previous_pane", "Previous view", GLOBAL, show=False),
    KeySpec("filter-files", "ctrl+f", "open_filter", "Filter", GLOBAL, toggle="filter", priority=True),
    KeySpec("search", "slash", "open_search", "Search", GLOBAL, priority=True),
    KeySpec("help", "question_mark", "help", "Help", GLOBAL),
    #: In the key bar only when the archive holds more than one image.
    KeySpec("images", "I", "images", "Images in the archive (switch image)", GLOBAL, show=False, short="Images"),
    KeySpec(
        "toggle-size-bars",
        "percent_sign",
        "toggle_bars",
        "Size bars: share of the layer or image",
        GLOBAL,
        toggle="bars",
        short="Bars",
    ),
    KeySpec("insights", "i", "insights", "Insights: waste explained, junk, duplicates", GLOBAL, short="Insights"),
    KeySpec("suspend", "ctrl+z", "app.suspend_process", "Suspend", GLOBAL, show=False),
    KeySpec(
        "compare-layer",
        "ctrl+l",
        "compare_layer",
        "Show layer changes",
        LAYERS,
        toggle="layer_changes",
        short="Layer changes",
    ),
    KeySpec(
        "compare-all",
        "ctrl+a",
        "compare_all",
        "Show aggregated changes",
        LAYERS,
        toggle="aggregated",
        short="Aggregated",
    ),
    KeySpec("up", "up,k", "cursor_up", "Up", NAV, show=False),
    KeySpec("down", "down,j", "cursor_down", "Down", NAV, show=False),
    KeySpec("left", "left,h", "cursor_left", "Parent dir", TREE, show=False),
    KeySpec("right", "right,l", "cursor_right", "Open dir", TREE, show=False),
    KeySpec("page-up", "pageup,u", "page_up", "Page up", NAV, show=False),
    KeySpec("page-down", "pagedown,d", "page_down", "Page down", NAV, show=False),
    KeySpec("home", "home,g", "cursor_home", "First row", NAV, show=False),
    KeySpec("end", "end,G", "cursor_end", "Last row", NAV, show=False),
    KeySpec("toggle-collapse-dir", "space,enter", "toggle_collapse", "Collapse dir", TREE, short="Collapse"),
    KeySpec(
        "toggle-collapse-all-dir", "ctrl+space,ctrl+@", "toggle_collapse_all", "Collapse all dir", TREE, short="All"
    ),
    KeySpec("extract-file", "ctrl+e", "screen.extract_file", "Extract file or directory", TREE, short="Extract"),
    KeySpec("view-file", "v", "screen.view_file", "View file content and changes", TREE, short="View"),
    KeySpec(
        "toggle-sort-order", "ctrl+o", "toggle_sort", "Sort by size", TREE, toggle="sort_by_size", short="Size sort"
    ),
    KeySpec("toggle-added-files", "ctrl+a", "toggle_added", "Added", TREE, toggle="show_added"),
    KeySpec("toggle-removed-files", "ctrl+r", "toggle_removed", "Removed", TREE, toggle="show_removed"),
    KeySpec("toggle-modified-files", "ctrl+n", "toggle_modified", "Modified", TREE, toggle="show_modified"),
    KeySpec("toggle-unmodified-files", "ctrl+u", "toggle_unmodified", "Unmodified", TREE, toggle="show_unmodified"),
    KeySpec(
        "toggle-filetree-attributes",
        "ctrl+b",
        "toggle_attributes",
        "Attributes",
        TREE,
        toggle="show_attributes",
        short="Attrs",
    ),
    KeySpec("toggle-wrap-tree", "ctrl+p", "toggle_wrap", "Wrap", TREE, toggle="wrap"),
    KeySpec("copy-path", "y", "screen.copy_path", "Copy the path to the clipboard (OSC 52)", TREE, short="Copy"),
    KeySpec("page-file", "p", "screen.page_file", "Open the file in $PAGER", TREE, short="Pager"),
    KeySpec("edit-file", "e", "screen.edit_file", "Open a read-only copy in $EDITOR", TREE, short="Editor"),
    KeySpec("next-match", "n", "screen.next_match", "Next match", TREE, show=False),
    KeySpec("previous-match", "N", "screen.previous_match", "Previous match", TREE, show=False),
    # Priority, like the keys that open a prompt: the focus leaves the prompt before the
    # next key of a burst is dispatched ("Enter /host" opens the search, not types "/host").
    KeySpec("close-filter-files", "escape", "close_input", "Close", INPUT, priority=True),
    KeySpec(
        "accept-prompt",
        "enter",
        "accept_input",
        "Keep the filter, or the search's match",
        INPUT,
        priority=True,
        show=False,
    ),
    KeySpec("close-viewer", "escape,q", "close", "Close the viewer", VIEWER),
    KeySpec("toggle-viewer-mode", "tab,c", "toggle_mode", "Switch between content and changes", VIEWER),
)

BY_ID = {spec.id: spec for spec in KEYS}

#: dive key names that Textual spells differently.
_DIVE_KEY_NAMES = {
    "pgup": "pageup",
    "pgdn": "pagedown",
    "esc": "escape",
    "ctrl+slash": "ctrl+underscore",
    "ctrl+/": "ctrl+underscore",
    "/": "slash",
    "?": "question_mark",
    " ": "space",
    "ctrl+ ": "ctrl+space",
}
#: Keys a terminal cannot tell apart from another key, so binding them would fire by accident.
AMBIGUOUS = {"ctrl+m": "enter", "ctrl+i": "tab", "ctrl+j": "newline"}


#: What terminals send for a key, when Textual names it differently from the key pressed:
#: xterm, tmux and the Linux console send NUL for Ctrl+Space, which Textual reports as
#: ``ctrl+@`` (the kitty protocol sends a real ``ctrl+space``).  A binding of the key
#: also binds what the terminal sends.
TERMINAL_ALIASES = {"ctrl+space": "ctrl+@"}


def with_terminal_aliases(keys: list[str]) -> list[str]:
    """``keys`` plus what a terminal sends instead of each (``ctrl+space`` -> also ``ctrl+@``)."""
    out = list(keys)
    for key in keys:
        alias = TERMINAL_ALIASES.get(key)
        if alias is not None and alias not in out:
            out.append(alias)
    return out


def keys_for(key_id: str, keymap: dict[str, str]) -> list[str]:
    """The keys bound to an action: the user's keymap, else the default."""
    return (keymap.get(key_id) or BY_ID[key_id].keys).split(",")


def parse_dive_keys(text: str) -> list[str]:
    """dive's key spec (``ctrl+c,q``; ``ctrl c``; ``pgdn``) as Textual key names."""
    out: list[str] = []
    for raw in text.split(","):
        token = raw.strip().lower() if len(raw.strip()) > 1 else raw.strip()
        if not token:
            continue
        token = "+".join(part for part in token.replace(" ", "+").split("+") if part)
        out.append(_DIVE_KEY_NAMES.get(token, token))
    return out


#: Ids of earlier divepy versions, still read from config files.
RENAMED_IDS = {"image-details": "insights"}


def keymap_from_config(section: dict[str, str], warnings: list[str]) -> dict[str, str]:
    """Turn a ``keybinding:`` config section into a Textual keymap (id -> keys)."""
    keymap: dict[str, str] = {}
    for key_id, value in section.items():
        key_id = RENAMED_IDS.get(key_id, key_id)
        spec = BY_ID.get(key_id)
        if spec is None:
            warnings.append(f"keybinding.{key_id}: unknown action, ignored")
            continue
        keys = []
        for k in parse_dive_keys(str(value)):
            if k in AMBIGUOUS:
                warnings.append(f"keybinding.{key_id}: {k} is the same key as {AMBIGUOUS[k]} in a terminal; ignored")
                continue
            keys.append(k)
        keys = with_terminal_aliases(keys)
        if key_id == "quit":  # plain letters must not be priority keys (they would break typing)
            letters = [k for k in keys if len(k) == 1]
            keys = [k for k in keys if len(k) > 1]
            if letters:
                keymap["quit-key"] = ",".join(letters)
        if keys:
            keymap[key_id] = ",".join(keys)
    return keymap


def display_key(key: str) -> str:
    """dive's style for the key bar: ``^A``, ``Tab``, ``Space``, ``PgUp``."""
    names = {
        "question_mark": "?",
        "percent_sign": "%",
        "slash": "/",
        "pageup": "PgUp",
        "pagedown": "PgDn",
        "escape": "Esc",
        "space": "Space",
        "tab": "Tab",
        "enter": "Enter",
        "shift+tab": "⇧Tab",
        "ctrl+space": "^Space",
        "ctrl+@": "^Space",
        "ctrl+underscore": "^/",
    }
    if key in names:
        return names[key]
    if key.startswith("ctrl+"):
        rest = key[5:]
        return "^" + (rest.upper() if len(rest) == 1 else rest.capitalize())
    return key if len(key) == 1 else key.capitalize()
