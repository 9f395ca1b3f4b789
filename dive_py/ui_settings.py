"""UI preferences from dive's config file (``.dive.yaml``) and ``DIVE_*`` variables.

Lookup, first found wins: ``--config FILE``; ``$DIVE_CONFIG``; ``./.dive.yaml``
(or ``.yml``); ``./.dive/config.yaml``; ``~/.dive.yaml``;
``$XDG_CONFIG_HOME/dive/*.yaml``; ``~/.config/dive/*.yaml``;
``<each $XDG_CONFIG_DIRS entry>/dive/*.yaml``.  Keys used: ``keybinding.*``,
``diff.hide``, ``filetree.collapse-dir``, ``filetree.pane-width``,
``filetree.show-attributes``, ``layer.show-aggregated-changes``; each also as
an environment variable (``DIVE_FILETREE_PANE_WIDTH`` ...).  Unlike dive,
``pane-width`` and ``diff.hide`` are actually applied.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from typing import Any

import yaml

from dive_py.config import read_yaml_file
from dive_py.errors import UsageError
from dive_py.viewmodel.bindings import BY_ID, keymap_from_config

DIFF_WORDS = {"added": 2, "removed": 3, "modified": 1, "unmodified": 0}


@dataclass(slots=True)
class UiSettings:
    keymap: dict[str, str] = field(default_factory=dict)
    hidden: set[int] = field(default_factory=set)
    collapse_dir: bool = False
    pane_width: float = 0.5
    show_attributes: bool = True
    aggregated: bool = False
    source: str | None = None
    warnings: list[str] = field(default_factory=list)


def _candidates() -> list[str]:
    home = os.path.expanduser("~")
    xdg_home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    found = [
        ".dive.yaml",
        ".dive.yml",
        os.path.join(".dive", "config.yaml"),
        os.path.join(home, ".dive.yaml"),
        os.path.join(home, ".dive.yml"),
    ]
    for base in [xdg_home, os.path.join(home, ".config")]:
        found.extend(sorted(glob.glob(os.path.join(base, "dive", "*.yaml"))))
    for base in (os.environ.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(":"):
        if base:
            found.extend(sorted(glob.glob(os.path.join(base, "dive", "*.yaml"))))
    return found


def find_config(explicit: str | None) -> str | None:
    if explicit:
        if not os.path.isfile(explicit):
            raise UsageError(f"--config {explicit}: file not found")
        return explicit
    env = os.environ.get("DIVE_CONFIG")
    if env:
        if not os.path.isfile(env):
            raise UsageError(f"DIVE_CONFIG={env}: file not found")
        return env
    for path in _candidates():
        if os.path.isfile(path):
            return path
    return None


def _bool(value: Any, key: str, warnings: list[str]) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    warnings.append(f"{key}: expected true or false, got {value!r}; ignored")
    return None


def load_ui_settings(explicit: str | None = None, environ: dict[str, str] | None = None) -> UiSettings:
    """Read the config file and environment into :class:`UiSettings`."""
    env = os.environ if environ is None else environ
    settings = UiSettings()
    doc: dict[str, Any] = {}
    path = find_config(explicit)
    if path is not None:
        loaded = read_yaml_file(path, "config", yaml.SafeLoader)
        if loaded is not None and not isinstance(loaded, dict):
            raise UsageError(f"{path}: expected a mapping of settings")
        doc = loaded or {}
        settings.source = path
    warn = settings.warnings

    def section(name: str) -> dict[str, Any]:
        value = doc.get(name)
        return value if isinstance(value, dict) else {}

    keys = {k: str(v) for k, v in section("keybinding").items() if v is not None}
    for key_id in BY_ID:
        env_value = env.get("DIVE_KEYBINDING_" + key_id.upper().replace("-", "_"))
        if env_value:
            keys[key_id] = env_value
    settings.keymap = keymap_from_config(keys, warn)

    hide = section("diff").get("hide", [])
    if env.get("DIVE_DIFF_HIDE"):
        hide = env["DIVE_DIFF_HIDE"].split(",")
    if isinstance(hide, str):
        hide = [hide]
    for word in hide if isinstance(hide, list) else []:
        kind = DIFF_WORDS.get(str(word).strip().lower())
        if kind is None:
            warn.append(f"diff.hide: unknown diff type {word!r}; ignored")
        else:
            settings.hidden.add(kind)

    tree = section("filetree")
    raw = env.get("DIVE_FILETREE_COLLAPSE_DIR", tree.get("collapse-dir"))
    if raw is not None and (b := _bool(raw, "filetree.collapse-dir", warn)) is not None:
        settings.collapse_dir = b
    raw = env.get("DIVE_FILETREE_SHOW_ATTRIBUTES", tree.get("show-attributes"))
    if raw is not None and (b := _bool(raw, "filetree.show-attributes", warn)) is not None:
        settings.show_attributes = b
    raw = env.get("DIVE_FILETREE_PANE_WIDTH", tree.get("pane-width"))
    if raw is not None:
        try:
            width = float(raw)
        except (TypeError, ValueError):
            width = -1.0
        if 0 < width < 1:
            settings.pane_width = width
        else:
            warn.append(f"filetree.pane-width: must be between 0 and 1 (got {raw!r}); using 0.5")
    raw = env.get("DIVE_LAYER_SHOW_AGGREGATED_CHANGES", section("layer").get("show-aggregated-changes"))
    if raw is not None and (b := _bool(raw, "layer.show-aggregated-changes", warn)) is not None:
        settings.aggregated = b
    return settings
