"""What one ``divepy`` run does once the flags are parsed.

Load the image (with Rich progress on stderr), then: ``--list`` prints the
merged filesystem; ``--json`` writes the export; ``--ci`` (or ``CI=true``)
prints the rules report; both together do both.  Otherwise the Textual UI
starts; it is imported here, inside the function, and nowhere else outside
``dive_py.ui``.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from dive_py import messages
from dive_py.config import ci_env_enabled, load_rules, use_color
from dive_py.errors import EXIT_OK, EXIT_RULES_FAILED, InputError, UsageError
from dive_py.report.output import check_target, write_to

if TYPE_CHECKING:
    from dive_py.core.analysis.efficiency import Efficiency
    from dive_py.core.analysis.insights import Insights
    from dive_py.core.archive import OpensArchive
    from dive_py.core.model.image import Image
    from dive_py.report.ci import RuleResult


@dataclass(slots=True)
class Options:
    path: str
    shown_name: str
    ci: bool | None = None  # None: follow the CI environment variable, as dive does
    ci_config: str | None = None
    rule_flags: dict[str, str | None] = field(default_factory=dict)
    json_path: str | None = None
    list_files: bool = False
    layer: int | None = None
    list_format: str = "text"
    select: str | None = None
    platform: str | None = None
    ignore_errors: bool = False
    no_color: bool = False
    quiet: bool = False
    config: str | None = None
    #: The run is on the shipped demo image: the CI variable does not gate it.
    demo: bool = False
    extract: str | None = None
    output: str | None = None
    explain: bool = False
    #: ``--base-layers N``: the bottom N layers are the base image (default: told from the history).
    base_layers: int | None = None
    #: ``--ignore-path`` globs (with ``ignorePaths`` from ``.dive-ci`` in CI mode).
    ignore_paths: tuple[str, ...] = ()
    markdown_path: str | None = None
    junit_path: str | None = None
    #: ``registry://NAME``: pulled into the cache (or a temporary directory) before the run.
    registry: str | None = None
    plain_http: bool = False
    cache_dir: str | None = None
    no_cache: bool = False
    #: ``docker://NAME``, ``podman://NAME`` or a bare NAME ("auto"): read from the engine's export stream.
    engine: str | None = None
    engine_name: str = ""
    #: The engine's image, once found (set by :func:`run`).
    opener: OpensArchive | None = None


def run(opts: Options) -> int:
    """Execute one run; returns the exit status."""
    with opened(opts) as ready:
        return _run(ready)


@contextmanager
def opened(opts: Options) -> Iterator[Options]:
    """``opts`` with its image ready to load: a registry image pulled, an engine's found (until the end)."""
    if opts.engine is not None:
        from dive_py.engine_lookup import find_engine_image

        source = find_engine_image(opts.engine_name, opts.engine, opts.platform)
        try:
            yield replace(opts, opener=source, path=source.label)
        finally:
            source.close()
        return
    if opts.registry is None:
        yield opts
        return
    from dive_py.pulling import pulled_image

    with pulled_image(opts) as pulled:
        yield replace(opts, path=pulled.label, opener=pulled)


def load(opts: Options, *, hash_files: bool) -> Image:
    """Load the image ``opts`` names (made ready by :func:`opened`), with progress on stderr."""
    if opts.opener is None and not os.path.lexists(opts.path):  # said before numpy and the readers load
        raise InputError(f"{opts.path}: no such file or directory")
    from dive_py.cache_dirs import meta_cache
    from dive_py.cli_progress import RichLoadProgress
    from dive_py.core.model.loader import load_image, settle

    with RichLoadProgress(enabled=not opts.quiet) as progress:
        image = load_image(
            opts.opener or opts.path,
            image=opts.select,
            platform=opts.platform,
            hash_files=hash_files,
            strict=not opts.ignore_errors,
            progress=progress,
            cache=meta_cache(opts.cache_dir, opts.no_cache),
        )
    settle()
    return image


def _run(opts: Options) -> int:
    # The demo image fails the default rules on purpose; CI=true in a pipeline
    # should not turn a try-out of the tool into exit 1 (an explicit --ci does).
    env_ci = ci_env_enabled() and not (opts.list_files or opts.extract is not None or opts.demo)
    ci_mode = opts.ci if opts.ci is not None else env_ci
    reports = opts.json_path is not None or opts.markdown_path is not None or opts.junit_path is not None
    interactive = not (ci_mode or reports or opts.list_files or opts.extract is not None or opts.explain)
    summary = interactive and not _has_terminal()
    # --junit reports the rules, so it evaluates them; only --ci (or CI=true) gates the exit status.
    rules = load_rules(opts.rule_flags, opts.ci_config) if ci_mode or opts.junit_path is not None else None
    for target, flag in ((opts.json_path, "--json"), (opts.markdown_path, "--markdown"), (opts.junit_path, "--junit")):
        if target is not None:
            check_target(target, flag)
    if interactive and not summary:
        from dive_py.ui.launch import launch  # the only import of the UI outside dive_py.ui

        return launch(opts)

    # Every analysis compares contents (unmodified copies, duplicates): a compressed layer is hashed
    # on its one decompressing pass, not decompressed again afterwards.  --list and --extract need no hashes.
    image = load(opts, hash_files=not (opts.list_files or opts.extract is not None))
    from dive_py.core.model.loader import settle

    try:
        for warning in image.warnings:
            messages.warning(warning)
        if opts.list_files:
            return _list(image, opts)
        if opts.extract is not None:
            return _extract(image, opts)
        from dive_py.core.analysis.efficiency import analyse

        eff = analyse(image)
        insights = None
        if reports or opts.explain or rules is not None or summary:
            from dive_py.core.analysis.insights import analyse_insights

            base, source = opts.base_layers, "flag"
            if base is None and rules is not None and rules.base_layers is not None:
                base, source = rules.base_layers, "config"
            ignore = opts.ignore_paths + (rules.ignore_paths if rules else ())
            from dive_py.insight_settings import load_junk_rules

            junk_rules = load_junk_rules(opts.config)
            insights = analyse_insights(
                image, base_override=base, base_source=source, ignore=ignore, junk_rules=junk_rules
            )
        settle(collect=False)
        if opts.json_path is not None:
            from dive_py.report.export import write_export

            assert insights is not None
            ins = insights
            if opts.json_path == "-":
                with _stdout("--json -"):
                    write_export(image, eff, ins, sys.stdout.buffer)
                    sys.stdout.buffer.flush()
            else:  # replaced only once the new export is complete (dive writes over it in place)
                write_to(opts.json_path, "--json", lambda fh: write_export(image, eff, ins, fh))
        if opts.explain:
            from dive_py.report.explain import render_explain

            assert insights is not None
            out = sys.stderr if opts.json_path == "-" else sys.stdout
            with _stdout("the explanation"):
                out.write(render_explain(image, eff, insights, color=use_color(out.isatty(), opts.no_color)))
                out.flush()
        if summary:
            from dive_py.report.summary import render_summary

            if not opts.quiet:
                messages.note(
                    "not a terminal, so no explorer: printing a summary (--ci, --json or --list choose an output)"
                )
            color = use_color(sys.stdout.isatty(), opts.no_color)
            with _stdout("the summary"):
                sys.stdout.write(
                    render_summary(image, eff, color=color, archive_note=_archive_note(image), insights=insights)
                )
                sys.stdout.flush()
        results = None
        behind: dict[str, list[str]] = {}
        if rules is not None:
            from dive_py.report.ci import behind_by_rule, evaluate, evaluate_insights

            assert insights is not None
            own = evaluate_insights(rules, insights)
            results = sorted([*evaluate(rules, eff), *own], key=lambda r: r.name)
            behind = behind_by_rule(own, insights)
        if insights is not None and (opts.markdown_path is not None or opts.junit_path is not None or ci_mode):
            _write_reports(image, eff, insights, results, behind, opts, ci_mode)
        if ci_mode and rules is not None and results is not None:
            from dive_py.report.ci import behind_failures, passed, render_report

            out = sys.stderr if opts.json_path == "-" else sys.stdout
            color = use_color(out.isatty(), opts.no_color)
            section = behind_failures(behind)
            with _stdout("the CI report"):
                out.write(render_report(eff, results, color=color, archive_note=_archive_note(image), behind=section))
                out.flush()
            return EXIT_OK if passed(results) else EXIT_RULES_FAILED
        return EXIT_OK
    finally:
        image.close()


def _write_reports(
    image: Image,
    eff: Efficiency,
    insights: Insights,
    results: list[RuleResult] | None,
    behind: dict[str, list[str]],
    opts: Options,
    ci_mode: bool,
) -> None:
    """``--markdown``, ``--junit``, and in CI mode the Markdown appended to ``$GITHUB_STEP_SUMMARY``."""
    from dive_py.report.markdown import render_markdown

    summary = os.environ.get("GITHUB_STEP_SUMMARY") if ci_mode else None
    text = render_markdown(image, eff, insights, results).encode() if opts.markdown_path or summary else b""
    if opts.markdown_path is not None:
        write_to(opts.markdown_path, "--markdown", lambda fh: fh.write(text))
    if opts.junit_path is not None and results is not None:
        from dive_py.report.junit import render_junit

        xml = render_junit(image.display_name, results, behind)
        write_to(opts.junit_path, "--junit", lambda fh: fh.write(xml))
    if summary:
        _append_step_summary(summary, text)


def _append_step_summary(path: str, text: bytes) -> None:
    """Append to the file the runner made for it; never create or truncate one (a warning if it is not there)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK)
    except OSError as exc:
        messages.warning(f"GITHUB_STEP_SUMMARY {path}: not written ({exc.strerror})")
        return
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            messages.warning(f"GITHUB_STEP_SUMMARY {path}: not a regular file, not written")
            return
        os.write(fd, text + b"\n")
    except OSError as exc:
        messages.warning(f"GITHUB_STEP_SUMMARY {path}: not written ({exc.strerror})")
    finally:
        os.close(fd)


@contextmanager
def _stdout(what: str) -> Iterator[None]:
    """Write errors on standard output (``> /dev/full``) as one line; a closed pipe is not an error."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        _discard_stdout()
        raise UsageError(f"cannot write {what} to standard output ({exc.strerror})") from None


def _discard_stdout() -> None:
    """Point descriptor 1 at /dev/null, so the interpreter's last flush of what is still buffered succeeds."""
    fd = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(fd, 1)
    finally:
        os.close(fd)


def _chosen_layer(image: Image, opts: Options, what: str) -> int:
    """``--layer N`` (default: the top layer), checked against the image."""
    top = len(image.layers) - 1
    if top < 0:
        raise UsageError(f"the image has no layers: there is nothing to {what}")
    layer = top if opts.layer is None else opts.layer
    if not 0 <= layer <= top:
        raise UsageError(f"--layer {layer}: the image has layers 0..{top}")
    return layer


def _extract(image: Image, opts: Options) -> int:
    from dive_py.core.content.extract import default_destination, extract, write_file

    assert opts.extract is not None
    layer = _chosen_layer(image, opts, "extract")
    if opts.output == "-":
        with _stdout("the file"):
            write_file(image, opts.extract, layer, sys.stdout.buffer)
            sys.stdout.buffer.flush()
        return EXIT_OK
    dest = opts.output if opts.output is not None else default_destination(opts.extract)
    result = extract(image, opts.extract, layer, dest)
    if not opts.quiet:
        shown = "/" + opts.extract.strip("/")
        messages.note(f"extracted {shown} (after layer {layer}) to {dest}: {result.summary()}")
    return EXIT_OK


def _has_terminal() -> bool:
    """The explorer needs keys from a terminal and a terminal to draw on."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def _list(image: Image, opts: Options) -> int:
    from dive_py.report.listing import iter_listing

    layer = _chosen_layer(image, opts, "list")
    write = sys.stdout.write
    with _stdout("the listing"):
        for line in iter_listing(image, layer, opts.list_format):
            write(line)
            write("\n")
        sys.stdout.flush()
    return EXIT_OK


def _archive_note(image: Image) -> str | None:
    """For multi-image archives: the images, what they share, and what is stored (``docker system df -v``)."""
    from dive_py.report.images_table import images_table

    if len(image.index.images) < 2:
        return None
    return "\n".join(images_table(image))
