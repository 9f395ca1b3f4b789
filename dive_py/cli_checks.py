"""Which flags go together: every combination that cannot mean anything is one usage line, before any work.

Kept apart from the option declarations in :mod:`dive_py.cli` so that each
rule reads as one line and the command's signature stays a list of flags.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dive_py.errors import UsageError

if TYPE_CHECKING:
    from dive_py.main_flow import Options


def _outputs(f: Options) -> list[tuple[str, bool]]:
    return [
        ("--list", f.list_files),
        ("--extract", f.extract is not None),
        ("--ci", bool(f.ci)),
        ("--markdown", f.markdown_path is not None),
        ("--junit", f.junit_path is not None),
        ("--explain", f.explain),
    ]


def check_flags(f: Options, *, compare: bool) -> None:
    """Raise :class:`UsageError` for the first combination that makes no sense (``compare``: --compare OLD)."""
    if f.registry is None and f.plain_http:
        raise UsageError("--plain-http applies to registry images (registry://NAME)")
    if f.cache_dir is not None and f.no_cache:
        raise UsageError("--cache-dir names the cache and --no-cache turns it off: give one of them")
    if f.list_format not in ("text", "jsonl"):
        raise UsageError(f"--format {f.list_format}: expected text or jsonl")
    if f.layer is not None and not (f.list_files or f.extract):
        raise UsageError("--layer only applies to --list and --extract")
    if f.output is not None and f.extract is None:
        raise UsageError("--output only applies to --extract")
    if f.list_files and (f.json_path is not None or f.ci):  # --list --no-ci is fine
        raise UsageError("--list prints the filesystem; it cannot be combined with --json or --ci")
    if (f.markdown_path is not None or f.junit_path is not None) and (f.list_files or f.extract is not None):
        raise UsageError("--markdown and --junit report on the image; they cannot be combined with --list or --extract")
    if "-" in (f.markdown_path, f.junit_path):
        raise UsageError("--markdown and --junit write files; '-' (standard output) is for --json")
    if f.extract is not None and (f.json_path is not None or f.ci or f.list_files):
        raise UsageError("--extract writes files; it cannot be combined with --json, --ci or --list")
    if f.explain and (f.list_files or f.extract is not None):
        raise UsageError("--explain reports on the image; it cannot be combined with --list or --extract")
    if f.ignore_paths:
        from dive_py.core.analysis.junk import glob_regex

        for glob in f.ignore_paths:
            glob_regex(glob, "--ignore-path")
    if compare:
        given = [flag for flag, on in _outputs(f) if on]
        if given:
            raise UsageError(
                f"--compare prints the comparison as text; it cannot be combined with {', '.join(given)} "
                "(compare each image with those on its own)"
            )
    if f.base_layers is not None and f.base_layers < 0:
        raise UsageError(f"--base-layers {f.base_layers}: expected 0 or more layers")


__all__ = ["check_flags"]
