"""The image config: runtime settings and the build history.

History entries map to layers by skipping ``empty_layer`` entries (dive's
rule).  ``history[0]`` may itself be empty (an ``ARG`` before the first
``ADD``), so layer *i* is never simply ``history[i]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dive_py.core.limits import HISTORY_ENTRIES, check_count
from dive_py.errors import ManifestError

SHELL_PREFIX = "/bin/sh -c "


@dataclass(slots=True)
class HistoryEntry:
    """One build step, with or without a layer of its own."""

    created_by: str
    created: str | None = None
    author: str | None = None
    comment: str | None = None
    empty_layer: bool = False
    #: The layer this step produced; ``None`` for empty-layer steps.
    layer_index: int | None = None
    #: For empty-layer steps: the layer they follow (-1: before the first layer).
    after_layer: int = -1


@dataclass(slots=True)
class ImageConfig:
    """What the config JSON says, typed.  Unknown fields are ignored."""

    os: str | None = None
    architecture: str | None = None
    variant: str | None = None
    created: str | None = None
    author: str | None = None
    env: list[str] = field(default_factory=list)
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    user: str | None = None
    working_dir: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    exposed_ports: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    stop_signal: str | None = None
    healthcheck: dict[str, Any] | None = None
    history: list[HistoryEntry] = field(default_factory=list)
    diff_ids: list[str] = field(default_factory=list)

    @property
    def platform(self) -> str | None:
        if not self.os or not self.architecture:
            return None
        return f"{self.os}/{self.architecture}" + (f"/{self.variant}" if self.variant else "")


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _str_list(value: Any) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    if isinstance(value, str):
        return [value]
    return None


_HEALTHCHECK_DURATIONS = ("Interval", "Timeout", "StartPeriod", "StartInterval")


def _healthcheck(value: Any) -> dict[str, Any] | None:
    """The healthcheck's known fields with the types Docker writes; anything else is dropped.

    Keeping the raw object would pass any nesting the JSON allows to every
    output (the JSON writer refuses depth beyond 255 after half a document).
    """
    if not isinstance(value, dict):
        return None
    out: dict[str, Any] = {}
    test = _str_list(value.get("Test"))
    if test is not None:
        out["Test"] = test
    for key in (*_HEALTHCHECK_DURATIONS, "Retries"):
        number = value.get(key)
        if isinstance(number, int) and not isinstance(number, bool):
            out[key] = number
    return out


def parse_config(doc: Any, what: str) -> ImageConfig:
    """Build an :class:`ImageConfig` from parsed JSON, validating what we rely on."""
    if not isinstance(doc, dict):
        raise ManifestError(f"{what} is not a JSON object")
    rootfs = doc.get("rootfs")
    if not isinstance(rootfs, dict):
        raise ManifestError(f"{what} has no rootfs section (is it an image config?)")
    diff_ids = rootfs.get("diff_ids")
    if diff_ids is None:
        diff_ids = []
    if not isinstance(diff_ids, list) or not all(isinstance(d, str) for d in diff_ids):
        raise ManifestError(f"{what}: rootfs.diff_ids must be a list of digests")
    run_doc = doc.get("config")
    run: dict[str, Any] = run_doc if isinstance(run_doc, dict) else {}
    cfg = ImageConfig(
        os=_opt_str(doc.get("os")),
        architecture=_opt_str(doc.get("architecture")),
        variant=_opt_str(doc.get("variant")),
        created=_opt_str(doc.get("created")),
        author=_opt_str(doc.get("author")),
        env=_str_list(run.get("Env")) or [],
        entrypoint=_str_list(run.get("Entrypoint")),
        cmd=_str_list(run.get("Cmd")),
        user=_opt_str(run.get("User")),
        working_dir=_opt_str(run.get("WorkingDir")),
        labels={k: v for k, v in (run.get("Labels") or {}).items() if isinstance(v, str)}
        if isinstance(run.get("Labels"), dict)
        else {},
        exposed_ports=sorted(run["ExposedPorts"]) if isinstance(run.get("ExposedPorts"), dict) else [],
        volumes=sorted(run["Volumes"]) if isinstance(run.get("Volumes"), dict) else [],
        stop_signal=_opt_str(run.get("StopSignal")),
        healthcheck=_healthcheck(run.get("Healthcheck")),
        diff_ids=list(diff_ids),
    )
    history = doc.get("history")
    if isinstance(history, list):
        check_count(len(history), HISTORY_ENTRIES, what, "history entries")
        for item in history:
            if not isinstance(item, dict):
                continue
            cfg.history.append(
                HistoryEntry(
                    created_by=_opt_str(item.get("created_by")) or "",
                    created=_opt_str(item.get("created")),
                    author=_opt_str(item.get("author")),
                    comment=_opt_str(item.get("comment")),
                    empty_layer=item.get("empty_layer") is True,
                )
            )
    return cfg


def assign_history(cfg: ImageConfig, layer_count: int) -> list[HistoryEntry | None]:
    """Give each layer the next non-empty history entry (dive's rule).

    Returns, per layer, its history entry or ``None`` when the history runs
    out (dive then shows ``(missing)``).  Also records on every entry which
    layer it made or follows, for "docker history"-style listings.
    """
    per_layer: list[HistoryEntry | None] = [None] * layer_count
    next_layer = 0
    for entry in cfg.history:
        if entry.empty_layer or next_layer >= layer_count:
            entry.after_layer = next_layer - 1
            continue
        entry.layer_index = next_layer
        per_layer[next_layer] = entry
        next_layer += 1
    return per_layer


def command_of(created_by: str) -> str:
    """dive's layer command: ``created_by`` minus a leading ``/bin/sh -c ``."""
    return created_by[len(SHELL_PREFIX) :] if created_by.startswith(SHELL_PREFIX) else created_by
