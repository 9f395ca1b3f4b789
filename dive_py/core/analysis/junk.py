"""Junk in the final image: files the image does not need, found by a rule table shipped as data.

Not waste in dive's sense (these bytes are the final copy), but removable:
package-manager caches, VCS folders, temp files, logs.  The rules live in
``junk_rules.yaml`` beside this module (users add their own from the
config file); each is a list of globs on absolute paths.  All globs are
compiled into one anchored regular expression with a named group per
pattern, so the final filesystem is matched in one pass, one ``match`` per
file, whatever the number of rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml

from dive_py.core.analysis.findings import common_dir
from dive_py.core.kinds import CONTIGUOUS, ENTRY, REGULAR
from dive_py.core.model.image import Image
from dive_py.errors import UsageError

#: Hits kept per rule before the rest fold into their common directory.
MAX_HITS_PER_RULE = 12
_FALSE = {"", "0", "false", "no", "off"}


@dataclass(frozen=True, slots=True)
class JunkRule:
    id: str
    what: str
    patterns: tuple[str, ...]
    hint: str
    exclude: tuple[str, ...] = ()
    optional: bool = False
    when_env: str | None = None


@dataclass(slots=True)
class JunkHit:
    """Files of one rule under one root."""

    rule: str
    path: str  #: the root: the directory a ``/**`` pattern names, or a matched file's directory
    bytes: int
    files: int
    layer: int  #: the layer that added most of the bytes
    hint: str
    optional: bool = False
    partial: bool = False  #: the scattered rest of the rule's hits, folded into their common directory
    _per_layer: dict[int, int] = field(default_factory=dict, repr=False)


def glob_regex(pattern: str, what: str) -> tuple[str, bool]:
    """The regex of one glob, and whether it names a directory root (a trailing ``/**``)."""
    if not pattern.startswith(("/", "**/")):
        raise UsageError(f"{what}: pattern {pattern!r} must be an absolute path or start with **/")
    glob = pattern if pattern.startswith("/") else "/" + pattern
    tree = glob.endswith("/**")
    if tree:
        glob = glob[:-3]
    out = []
    i = 0
    while i < len(glob):
        if glob.startswith("/**/", i):
            out.append("/(?:[^/]+/)*")
            i += 4
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        elif glob[i] == "[" and "]" in glob[i + 1 :]:
            j = glob.index("]", i + 1)
            body = glob[i + 1 : j].replace("\\", "\\\\")
            out.append(f"[{body}]")
            i = j + 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    body = "".join(out)
    return (f"({body})/.+" if tree else f"({body})"), tree


def _prefilter(pattern: str) -> tuple[str, str]:
    """A name every match of ``pattern`` has as a path component (or "") and, failing that, a name-only regex."""
    segments = [seg for seg in pattern.strip("/").split("/") if seg]
    literal = [seg for seg in segments if seg != "**" and not any(c in seg for c in "*?[")]
    if literal:
        return literal[-1], ""  # the deepest literal name is the rarest: "lists" for /var/lib/apt/lists
    if len(segments) == 2 and segments[0] == "**":  # "**/NAME-GLOB": any file whose name matches
        return "", glob_regex("/" + segments[1], pattern)[0][2:-1]  # the body of "(/…)" without the "/"
    return "", ""


def parse_rules(data: Any, what: str) -> list[JunkRule]:
    """Rules from YAML data; a malformed rule is one clear error."""
    if not isinstance(data, list):
        raise UsageError(f"{what}: junk rules must be a list")
    rules = []
    for n, item in enumerate(data):
        where = f"{what}: junk rule {n + 1}"
        if not isinstance(item, dict):
            raise UsageError(f"{where} must be a mapping")
        unknown = set(item) - {"id", "what", "patterns", "exclude", "hint", "optional", "when_env"}
        if unknown:
            raise UsageError(f"{where}: unknown keys {sorted(unknown)}")
        patterns = item.get("patterns")
        if not isinstance(item.get("id"), str) or not isinstance(patterns, list) or not patterns:
            raise UsageError(f"{where} needs an id and a list of patterns")
        exclude = item.get("exclude", [])
        if not isinstance(exclude, list):
            raise UsageError(f"{where}: exclude must be a list of patterns")
        if not all(isinstance(p, str) for p in [*patterns, *exclude]):
            raise UsageError(f"{where}: patterns must be strings")
        for pattern in [*patterns, *exclude]:
            glob_regex(pattern, f"{what}: junk rule {item['id']}")  # a bad glob is refused here, naming the file
        rules.append(
            JunkRule(
                id=item["id"],
                what=str(item.get("what", item["id"])),
                patterns=tuple(patterns),
                hint=str(item.get("hint", "")),
                exclude=tuple(exclude),
                optional=_flag(item.get("optional", False), f"{where}: optional"),
                when_env=str(item["when_env"]) if item.get("when_env") else None,
            )
        )
    return rules


def _flag(value: Any, what: str) -> bool:
    """A YAML boolean, or its spelling as a string (``"false"`` is false, not a non-empty string)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "on", "false", "no", "off"):
        return value.strip().lower() in ("true", "yes", "on")
    raise UsageError(f"{what} must be true or false")


def builtin_rules() -> list[JunkRule]:
    text = resources.files("dive_py.core.analysis").joinpath("junk_rules.yaml").read_text(encoding="utf-8")
    return parse_rules(yaml.safe_load(text), "junk_rules.yaml")


def _env_set(image: Image, name: str) -> bool:
    for item in image.config.env:
        key, _eq, value = item.partition("=")
        if key == name:
            return value.strip().lower() not in _FALSE
    return False


#: Characters the pattern regexes may scan per image (pattern × path length): legit images use a few
#: million; a hostile one with 260k paths of 4,096 characters, each holding every rule's trigger name,
#: would otherwise keep the matcher busy for minutes.  Beyond it the junk search stops, with a warning.
JUNK_SCAN_CHARS = 200_000_000


class _Matcher:
    """The active rules' patterns, each tried only on paths that hold its trigger name."""

    def __init__(self, rules: list[JunkRule]) -> None:
        self.rules = rules
        #: Per pattern, in rule order: (rule index, full-path regex, names a directory root).
        self.patterns: list[tuple[int, re.Pattern[str], bool]] = []
        self.by_trigger: dict[str, list[int]] = {}
        self.by_name: list[tuple[int, re.Pattern[str]]] = []
        self.always: list[int] = []
        for r, rule in enumerate(rules):
            for pattern in rule.patterns:
                regex, tree = glob_regex(pattern, f"junk rule {rule.id}")
                k = len(self.patterns)
                self.patterns.append((r, re.compile(regex + r"\Z"), tree))
                # The prefilter: a path can only match when it has the pattern's most telling literal
                # name as a component, or its file name matches a name-only pattern (``**/*.swp``).
                trigger, name = _prefilter(pattern)
                if trigger:
                    self.by_trigger.setdefault(trigger, []).append(k)
                elif name:
                    self.by_name.append((k, re.compile(name + r"\Z")))
                else:
                    self.always.append(k)
        self.triggers = frozenset(self.by_trigger)
        self.excludes = [
            re.compile("(?:" + "|".join(glob_regex(x, f"junk rule {rule.id}")[0] for x in rule.exclude) + r")\Z")
            if rule.exclude
            else None
            for rule in rules
        ]
        self.budget = JUNK_SCAN_CHARS
        self.exhausted = False

    def match(self, path: str) -> tuple[int, str] | None:
        """``(rule index, root)`` for an absolute path, or None; the first rule that matches wins."""
        found = self.triggers.intersection(path.split("/"))
        candidates = [k for t in found for k in self.by_trigger[t]]
        if self.by_name:
            base = path.rfind("/") + 1
            candidates += [k for k, regex in self.by_name if regex.match(path, base)]
        candidates += self.always
        if not candidates:
            return None
        if len(candidates) > 1:
            candidates = sorted(set(candidates))
        for k in candidates:
            self.budget -= len(path)
            if self.budget < 0:
                self.exhausted = True
                return None
            r, regex, tree = self.patterns[k]
            m = regex.match(path)
            if m is None:
                continue
            exclude = self.excludes[r]
            if exclude is not None and exclude.match(path):
                return None
            return r, (m.group(1) if tree else path.rsplit("/", 1)[0] or "/")
        return None


def find_junk(
    image: Image, rules: list[JunkRule] | None = None, ignored: npt.NDArray[np.bool_] | None = None
) -> list[JunkHit]:
    """Junk among the final regular files (hardlinks and waste excluded), biggest first."""
    active = [
        r
        for r in (rules if rules is not None else builtin_rules())
        if r.when_env is None or _env_set(image, r.when_env)
    ]
    matcher = _Matcher(active)
    e = image.entries
    end = image.timeline.end
    n_layers = len(image.layers)
    names = image.paths.paths
    hits: dict[tuple[int, str], JunkHit] = {}
    kind = np.frombuffer(bytes(e.kind), dtype=np.uint8)
    tflag = np.frombuffer(bytes(e.tflag), dtype=np.uint8)
    final = (
        (np.asarray(end, dtype=np.int64) == n_layers) & (kind == ENTRY) & ((tflag == REGULAR) | (tflag == CONTIGUOUS))
    )
    if ignored is not None:
        final &= ~ignored[np.asarray(e.pid, dtype=np.int64)]
    ids = np.flatnonzero(final[: e.layer_start[-1]])
    layers = np.searchsorted(np.asarray(e.layer_start, dtype=np.int64), ids, side="right") - 1
    pid = e.pid
    size_of = e.size
    match = matcher.match
    for g, layer in zip(ids.tolist(), layers.tolist(), strict=True):
        found = match("/" + names[pid[g]])
        if found is None:
            if matcher.exhausted:
                image.warnings.append(
                    f"the junk search stopped: its patterns scanned {JUNK_SCAN_CHARS:,} characters "
                    "(divepy's limit); junk figures count only the paths before that point"
                )
                break
            continue
        r, root = found
        hit = hits.get((r, root))
        if hit is None:
            rule = active[r]
            hit = hits[(r, root)] = JunkHit(rule.id, root, 0, 0, layer, rule.hint, rule.optional)
        size = size_of[g]
        hit.bytes += size
        hit.files += 1
        hit._per_layer[layer] = hit._per_layer.get(layer, 0) + size
    out: list[JunkHit] = []
    by_rule: dict[str, list[JunkHit]] = {}
    for hit in hits.values():
        hit.layer = max(hit._per_layer.items(), key=lambda kv: (kv[1], kv[0]))[0]
        by_rule.setdefault(hit.rule, []).append(hit)
    for group in by_rule.values():
        group.sort(key=lambda h: (-h.bytes, h.path))
        out.extend(group[:MAX_HITS_PER_RULE])
        rest = group[MAX_HITS_PER_RULE:]
        if rest:
            common = common_dir([h.path for h in rest])
            biggest = max(rest, key=lambda h: h.bytes)
            out.append(
                JunkHit(
                    biggest.rule,
                    common,
                    sum(h.bytes for h in rest),
                    sum(h.files for h in rest),
                    biggest.layer,
                    biggest.hint,
                    biggest.optional,
                    True,
                )
            )
    out.sort(key=lambda h: (h.optional, -h.bytes, h.path))
    return out


__all__ = ["JunkHit", "JunkRule", "builtin_rules", "find_junk", "glob_regex", "parse_rules"]
