"""Settings that come from flags, the environment and files, with their precedence.

CI rules: command-line flags beat ``DIVE_RULES_*`` environment variables,
which beat the ``.dive-ci`` file, which beats dive's defaults (0.9 /
disabled / 0.1).  (dive lets the file silently override the flags; that is
a bug we do not copy.)  ``.dive-ci`` keys may be camelCase (dive's) or
kebab-case; unknown keys are ignored, as dive ignores them.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import Any

import yaml

from dive_py.core.limits import SETTINGS_FILE_BYTES, check_size
from dive_py.core.units import parse_bytes
from dive_py.errors import UsageError

DEFAULT_CI_CONFIG = ".dive-ci"
DISABLED_WORDS = frozenset(("disabled", "off", "false", ""))

#: rule name -> (kebab-case key, env var, default)
RULES: dict[str, tuple[str, str, str]] = {
    "lowestEfficiency": ("lowest-efficiency", "DIVE_RULES_LOWEST_EFFICIENCY", "0.9"),
    "highestWastedBytes": ("highest-wasted-bytes", "DIVE_RULES_HIGHEST_WASTED_BYTES", "disabled"),
    "highestUserWastedPercent": ("highest-user-wasted-percent", "DIVE_RULES_HIGHEST_USER_WASTED_PERCENT", "0.1"),
}
#: divepy's own rules, on the true figures (docs/metrics.md); off unless set, so dive's report stays dive's.
INSIGHT_RULES: dict[str, tuple[str, str, str]] = {
    "highestReclaimableBytes": ("highest-reclaimable-bytes", "DIVE_RULES_HIGHEST_RECLAIMABLE_BYTES", "disabled"),
    "highestReclaimablePercent": ("highest-reclaimable-percent", "DIVE_RULES_HIGHEST_RECLAIMABLE_PERCENT", "disabled"),
    "highestJunkBytes": ("highest-junk-bytes", "DIVE_RULES_HIGHEST_JUNK_BYTES", "disabled"),
}
#: Rules whose value is a size (the others are ratios).
SIZE_RULES = frozenset(("highestWastedBytes", "highestReclaimableBytes", "highestJunkBytes"))


@dataclass(slots=True, frozen=True)
class Rule:
    """A rule as configured: the text the user wrote and the parsed threshold."""

    name: str
    text: str
    threshold: float | None  #: None = disabled
    origin: str


@dataclass(slots=True, frozen=True)
class RuleSettings:
    lowest_efficiency: Rule
    highest_wasted_bytes: Rule
    highest_user_wasted_percent: Rule
    source_file: str | None
    #: divepy's rules (:data:`INSIGHT_RULES`) by name; absent or disabled ones are not reported.
    insight_rules: tuple[Rule, ...] = ()
    #: ``ignorePaths``: globs left out of divepy's figures (dive's stay dive's).
    ignore_paths: tuple[str, ...] = ()
    #: ``baseLayers`` from the file (``--base-layers`` wins).
    base_layers: int | None = None


def parse_rule(name: str, text: str, origin: str) -> Rule:
    """Validate one rule value; raises :class:`UsageError` naming the origin."""
    value = text.strip()
    if value.lower() in DISABLED_WORDS:
        return Rule(name, value or "disabled", None, origin)
    if name in SIZE_RULES:
        try:
            return Rule(name, value, float(parse_bytes(value)), origin)
        except ValueError:
            raise UsageError(
                f"{origin}: {name} must be a size like 20MB or 1KiB, or 'disabled' (got {text!r})"
            ) from None
    try:
        ratio = float(value)
    except ValueError:
        raise UsageError(f"{origin}: {name} must be a ratio between 0 and 1, or 'disabled' (got {text!r})") from None
    if not 0.0 <= ratio <= 1.0:
        raise UsageError(f"{origin}: {name} must be between 0 and 1 (got {text!r})")
    return Rule(name, value, ratio, origin)


def read_yaml_file(path: str, what: str, loader: Any) -> Any:
    """Parse a small YAML settings file; every way it can be bad is one :class:`UsageError`.

    Opened without blocking (a fifo named ``.dive-ci`` must not hang the run),
    only if it is a regular file, at most ``SETTINGS_FILE_BYTES``, and only
    as UTF-8.  Deep nesting (which PyYAML meets with recursion) is refused too.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read {what} ({exc.strerror})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UsageError(f"{path}: {what} is not a regular file")
        check_size(st.st_size, SETTINGS_FILE_BYTES, f"{path}", what)
        data = os.read(fd, SETTINGS_FILE_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read {what} ({exc.strerror})") from None
    finally:
        os.close(fd)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: {what} is not UTF-8 text (byte {exc.start + 1})") from None
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise UsageError(f"{path}: {what} is not valid YAML{where}") from None
    except RecursionError:
        raise UsageError(f"{path}: {what} is nested too deeply") from None


def _read_ci_file(path: str) -> tuple[dict[str, str], list[str], str | None]:
    """``(rule values, ignorePaths, baseLayers)`` of a ``.dive-ci`` file (dive reads only the first)."""
    doc: Any = read_yaml_file(path, "CI config", yaml.BaseLoader)
    if doc is None:
        return {}, [], None
    if not isinstance(doc, dict):
        raise UsageError(f"{path}: expected a mapping with a 'rules' section")
    rules = doc.get("rules", {})
    if rules in (None, ""):
        rules = {}
    if not isinstance(rules, dict):
        raise UsageError(f"{path}: 'rules' must be a mapping")
    out: dict[str, str] = {}
    for name, (kebab, _env, _default) in {**RULES, **INSIGHT_RULES}.items():
        for key in (name, kebab):
            if key in rules:
                value = rules[key]
                if not isinstance(value, str):
                    raise UsageError(f"{path}: rules.{key} must be a single value")
                out[name] = value
    ignore: list[str] = []
    base: str | None = None
    for where in (doc, rules):  # beside `rules` or inside it: dive ignores both
        for key in ("ignorePaths", "ignore-paths"):
            value = where.get(key)
            if value in (None, ""):
                continue
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
                raise UsageError(f"{path}: {key} must be a list of path globs")
            ignore.extend(items)
        for key in ("baseLayers", "base-layers"):
            if where.get(key) not in (None, ""):
                if not isinstance(where[key], str):
                    raise UsageError(f"{path}: {key} must be a number of layers")
                base = where[key]
    return out, ignore, base


def load_rules(flags: dict[str, str | None], ci_config: str | None) -> RuleSettings:
    """Merge flags > env > file > defaults into validated rules.

    ``ci_config`` is the ``--ci-config`` value; ``None`` means the default
    ``.dive-ci``, which may be absent.  An explicitly named file must exist.
    """
    path = ci_config if ci_config is not None else DEFAULT_CI_CONFIG
    from_file: dict[str, str] = {}
    ignore: list[str] = []
    base_text: str | None = None
    source_file = None
    if ci_config is not None and not os.path.lexists(path):
        raise UsageError(f"{ci_config}: CI config file not found")
    if ci_config is not None or os.path.isfile(path):  # a default .dive-ci that is a directory is ignored
        from_file, ignore, base_text = _read_ci_file(path)
        source_file = path
    rules: list[Rule] = []
    for name, (_kebab, env, default) in {**RULES, **INSIGHT_RULES}.items():
        flag = flags.get(name)
        if flag is not None:
            rules.append(parse_rule(name, flag, f"--{name}"))
        elif os.environ.get(env) is not None:
            rules.append(parse_rule(name, os.environ[env], env))
        elif name in from_file:
            rules.append(parse_rule(name, from_file[name], f"{path}: rules.{name}"))
        else:
            rules.append(parse_rule(name, default, "default"))
    if ignore:
        from dive_py.core.analysis.junk import glob_regex  # here: the CLI must not load numpy to parse flags

        for glob in ignore:
            glob_regex(glob, f"{path}: ignorePaths")
    base = None
    if base_text is not None:
        if not base_text.strip().isdigit():
            raise UsageError(f"{path}: baseLayers must be a number of layers (got {base_text!r})")
        base = int(base_text)
    return RuleSettings(rules[0], rules[1], rules[2], source_file, tuple(rules[3:]), tuple(ignore), base)


def ci_env_enabled(environ: dict[str, str] | None = None) -> bool:
    """dive's rule: ``CI`` set to true/1/yes (and Go's ParseBool spellings)."""
    env = os.environ if environ is None else environ
    return env.get("CI", "").strip().lower() in ("true", "1", "yes", "t")


def use_color(stream_isatty: bool, no_color_flag: bool, environ: dict[str, str] | None = None) -> bool:
    """NO_COLOR (any non-empty value) wins, then FORCE_COLOR, then TTY and TERM."""
    env = os.environ if environ is None else environ
    if no_color_flag or env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR") or env.get("CLICOLOR_FORCE"):
        return True
    return stream_isatty and env.get("TERM", "") != "dumb"
