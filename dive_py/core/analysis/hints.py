"""What to write instead: a fix for each finding, from the two build steps involved.

A finding names the step that stored the bytes and the step that made them
unreachable.  The history records those steps as the builder wrote them
(``/bin/sh -c #(nop) COPY …``, ``RUN |1 ARG=… /bin/sh -c …``, ``COPY . /app
# buildkit``), so :func:`instruction` first reduces each to a Dockerfile
verb and its text; the rules below then read like a reviewer's advice.
The rules are deliberately plain string checks: a hint that is wrong is
worse than a generic one, so anything unrecognised gets the generic advice
for its kind.
"""

from __future__ import annotations

import re

from dive_py.core.analysis.reclaim import IDENTICAL_COPY, METADATA_ONLY, OVERWRITTEN, REMOVED

_VERBS = ("ADD", "COPY", "RUN", "WORKDIR", "ENV", "ARG", "USER", "CMD", "ENTRYPOINT", "LABEL", "EXPOSE", "VOLUME")
_ARGS_PREFIX = re.compile(r"^\|\d+(?: [^ =]+=\S*)* ")
#: Build commands whose leftovers a multi-stage build would keep out of the final image.
_BUILDS = re.compile(r"\b(make|cmake|gcc|g\+\+|cc|go build|cargo build|npm run build|yarn build|mvn|gradle|tsc)\b")
#: Package-manager caches: (path fragment, the flag that avoids the cache, hint for a cache a later step removed).
#: When the storing step already passes the flag, the cache came from elsewhere and the generic hint applies.
CACHE_HINTS = (
    (
        "/.cache/pip/",
        "--no-cache-dir",
        "`pip install --no-cache-dir` (or `PIP_NO_CACHE_DIR=1`) instead of deleting the cache later",
    ),
    ("/var/lib/apt/lists/", "", "`rm -rf /var/lib/apt/lists/*` in the same `RUN` as `apt-get update`"),
    ("/var/cache/apt/", "", "`apt-get clean` in the same `RUN` as `apt-get install`"),
    ("/var/cache/apk/", "--no-cache", "`apk add --no-cache` instead of deleting the cache later"),
    ("/var/cache/dnf/", "", "`dnf clean all` in the same `RUN` as `dnf install`"),
    ("/var/cache/yum/", "", "`yum clean all` in the same `RUN` as `yum install`"),
    ("/.npm/", "", "`npm cache clean --force` in the same `RUN` as `npm ci` (or a `--mount=type=cache` for ~/.npm)"),
    ("/.cache/yarn/", "", "`yarn cache clean` in the same `RUN` as `yarn install`"),
    ("/.cache/go-build/", "", "`go clean -cache` in the same `RUN` (or build in another stage)"),
    ("/.cargo/registry/", "", "build in another stage, or a `--mount=type=cache` for the cargo registry"),
)


def instruction(created_by: str) -> tuple[str, str]:
    """``(verb, text)`` of a history entry: ``("RUN", "apt-get update && …")``, ``("COPY", ". /app")``."""
    text = created_by.strip()
    if text.endswith("# buildkit"):
        text = text[: -len("# buildkit")].rstrip()
    for prefix in ("/bin/sh -c #(nop) ", "#(nop) "):
        if text.startswith(prefix):
            text = text[len(prefix) :].strip()
            verb, _sp, rest = text.partition(" ")
            return (verb.upper(), rest.strip()) if verb.upper() in _VERBS else ("RUN", text)
    verb, _sp, rest = text.partition(" ")
    if verb in _VERBS:
        text, verb = rest.strip(), verb
    else:
        verb = "RUN"
    if verb == "RUN":
        text = _ARGS_PREFIX.sub("", text)
        for shell in ("/bin/sh -c ", "/bin/bash -c ", "sh -c "):
            if text.startswith(shell):
                text = text[len(shell) :]
                break
    return verb, text.strip()


def _cache_hint(path: str, stored_text: str) -> str | None:
    for fragment, flag, hint in CACHE_HINTS:
        if fragment in path + "/" and not (flag and flag in stored_text):
            return hint
    return None


def hint_for(kind: int, path: str, stored_by: str, hidden_by: str | None, example: str = "") -> str:
    """The fix for bytes of ``kind`` under ``path``, stored by one step and hidden by another.

    ``example`` is one file among the bytes (the biggest): ``/root/.cache`` is
    a pip cache when what it held was ``/root/.cache/pip/…``.
    """
    s_verb, s_text = instruction(stored_by)
    h_verb, h_text = instruction(hidden_by) if hidden_by is not None else ("", "")
    if kind == REMOVED:
        cache = _cache_hint(example or path, s_text)
        if cache is not None:
            return cache
        if s_verb in ("COPY", "ADD"):
            return (
                f"keep {path} out of the image: list it in .dockerignore or COPY only what the image needs "
                "(a later delete cannot take back what a COPY stored)"
            )
        if s_verb == "RUN" and _BUILDS.search(s_text):
            return "multi-stage build: build in one stage and COPY only the artefacts into the final one"
        if h_verb == "RUN" and re.match(r"(?:\S*/)?mv\b", h_text):
            return f"create {path} where it ends up: moving it in a later layer stores the bytes twice"
        if s_verb == "RUN" and h_verb == "RUN":
            return f"delete {path} in the same RUN that creates it (`… && rm -rf {path}`): a later layer only hides it"
        return f"do not create {path} in the step that stores it: a later layer only hides the bytes"
    if kind == METADATA_ONLY:
        if re.search(r"\bchown\b", h_text):
            return (
                "use `COPY --chown=…` (or create the files as that user) instead of `RUN chown`: "
                "changing the owner stores every file again"
            )
        if re.search(r"\bchmod\b", h_text):
            return "use `COPY --chmod=…` instead of `RUN chmod`: changing the mode stores every file again"
        return "set the mode and owner in the step that creates the files: changing them stores every file again"
    if kind == OVERWRITTEN:
        if s_verb in ("COPY", "ADD") and h_verb in ("COPY", "ADD"):
            return f"copy {path} once, in its final version"
        if re.search(r"\bsed\b", h_text):
            return (
                f"edit {path} in the step that creates it (or ship it in its final form): each rewrite stores it again"
            )
        return f"write {path} once, in its final form, or in the same RUN that rewrites it"
    if kind == IDENTICAL_COPY:
        if re.search(r"\btouch\b", h_text):
            return "do not `touch` files from earlier layers: the whole file is stored again for a new mtime"
        if h_verb in ("COPY", "ADD") and s_verb in ("COPY", "ADD") and s_text != h_text:
            # The layer-cache idiom: COPY requirements.txt, RUN pip install, COPY . -- the second copy is the cost.
            return (
                f"{path} is copied twice: on its own first (fine for the layer cache, before an install step), "
                f"then again by a wider {h_verb}; leave it out of the second one or accept the cost"
            )
        if h_verb in ("COPY", "ADD"):
            return f"{path} is copied again with the same content: drop the repeated {h_verb}"
        return "the same bytes are stored again (copy-up): avoid modifying files that earlier layers created"
    raise ValueError(f"unknown kind {kind}")


__all__ = ["CACHE_HINTS", "hint_for", "instruction"]
