"""The ``divepy`` command: load an image, then the TUI, a CI verdict, JSON or a listing.

Flags keep dive's names (``--ci``, ``--ci-config``, ``--json``,
``--lowestEfficiency`` ...) so existing scripts and ``.dive-ci`` files work.
Exit status: 0 success / rules passed, 1 a CI rule failed, 2 bad usage or
unusable input.  The Textual UI is imported only when it is about to run,
so ``--ci``, ``--json`` and ``--list`` never load it.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, NoReturn

import typer

from dive_py import __version__, messages
from dive_py.cli_checks import check_flags
from dive_py.errors import EXIT_RULES_FAILED, EXIT_USAGE, DiveError, UsageError
from dive_py.source_args import resolve_source

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _fail(message: str) -> NoReturn:
    messages.error(message)
    raise typer.Exit(EXIT_USAGE)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"divepy {__version__}\n")
        raise typer.Exit(0)


@app.command()
def run(
    image: Annotated[
        str | None,
        typer.Argument(
            help="Image archive (docker save, OCI, kaniko... optionally "
            "gzip/zstd-compressed), an OCI layout directory, or registry://NAME."
        ),
    ] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Open the small demo image shipped with divepy.")] = False,
    ci: Annotated[
        bool | None,
        typer.Option(
            "--ci/--no-ci",
            help="Skip the UI and evaluate the CI rules. Default: on when the CI environment variable "
            "is true (as in dive); --no-ci turns that off.",
            show_default=False,
        ),
    ] = None,
    ci_config: Annotated[str | None, typer.Option("--ci-config", help="Rules file (default: .dive-ci).")] = None,
    lowest_efficiency: Annotated[
        str | None,
        typer.Option(
            "--lowestEfficiency", "--lowest-efficiency", help="Fail if efficiency is below this ratio (default 0.9)."
        ),
    ] = None,
    highest_wasted_bytes: Annotated[
        str | None,
        typer.Option(
            "--highestWastedBytes",
            "--highest-wasted-bytes",
            help="Fail if wasted bytes exceed this size, e.g. 20MB (default: disabled).",
        ),
    ] = None,
    highest_user_wasted_percent: Annotated[
        str | None,
        typer.Option(
            "--highestUserWastedPercent",
            "--highest-user-wasted-percent",
            help="Fail if wasted/user bytes exceeds this ratio (default 0.1).",
        ),
    ] = None,
    highest_reclaimable_bytes: Annotated[
        str | None,
        typer.Option(
            "--highestReclaimableBytes",
            "--highest-reclaimable-bytes",
            help="Fail if a squash would save more than this size, e.g. 50MB (default: disabled).",
        ),
    ] = None,
    highest_reclaimable_percent: Annotated[
        str | None,
        typer.Option(
            "--highestReclaimablePercent",
            "--highest-reclaimable-percent",
            help="Fail if reclaimable bytes / image size exceeds this ratio (default: disabled).",
        ),
    ] = None,
    highest_junk_bytes: Annotated[
        str | None,
        typer.Option(
            "--highestJunkBytes",
            "--highest-junk-bytes",
            help="Fail if junk in the final image (caches, .git, temp files) exceeds this size (default: disabled).",
        ),
    ] = None,
    json_path: Annotated[
        str | None, typer.Option("-j", "--json", help="Write the analysis as JSON to FILE ('-' for stdout).")
    ] = None,
    ignore_path: Annotated[
        list[str] | None,
        typer.Option(
            "--ignore-path",
            help="Leave paths matching this glob (/tmp/**, **/node_modules/**) out of divepy's figures; repeatable.",
        ),
    ] = None,
    markdown_path: Annotated[
        str | None,
        typer.Option(
            "--markdown",
            help="Write the insights (and the CI verdict) as Markdown to FILE, e.g. for a pull-request comment.",
        ),
    ] = None,
    junit_path: Annotated[
        str | None, typer.Option("--junit", help="Write the CI rules as JUnit XML to FILE (one test case per rule).")
    ] = None,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain", help="Print how much smaller the image can be, where the bytes are and how to fix each."
        ),
    ] = False,
    base_layers: Annotated[
        int | None,
        typer.Option(
            "--base-layers",
            help="The bottom N layers are the base image (default: told from the history); "
            "figures for your layers count only the layers above.",
        ),
    ] = None,
    compare: Annotated[
        str | None,
        typer.Option(
            "--compare", help="Compare IMAGE (NEW) with this image (OLD, any source): layers, paths, figures."
        ),
    ] = None,
    list_files: Annotated[bool, typer.Option("--list", help="Print the merged filesystem and exit.")] = False,
    layer: Annotated[
        int | None,
        typer.Option("--layer", help="With --list: the filesystem after layer N (0-based; default: the top layer)."),
    ] = None,
    list_format: Annotated[str, typer.Option("--format", help="With --list: text or jsonl.")] = "text",
    extract_path: Annotated[
        str | None,
        typer.Option(
            "--extract",
            help="Write this file or directory of the "
            "merged filesystem (after --layer N, default: the top "
            "layer) to --output, and exit.",
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "-o",
            "--output",
            help="With --extract: where to write (must not exist; default: ./NAME; '-' writes a file to stdout).",
        ),
    ] = None,
    select: Annotated[
        str | None, typer.Option("--image", help="Which image of a multi-image archive (NAME:TAG or 0-based index).")
    ] = None,
    platform: Annotated[
        str | None,
        typer.Option("--platform", help="os/arch[/variant] of a multi-platform image (default: this machine's)."),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            help="docker or podman (the engine's image), docker-archive (a file; the default for paths), "
            "oci-archive, oci, or registry.",
        ),
    ] = None,
    plain_http: Annotated[
        bool, typer.Option("--plain-http", help="Allow plain HTTP to a registry that is not on this machine.")
    ] = False,
    cache_dir: Annotated[
        str | None,
        typer.Option(
            "--cache-dir", help="Where pulled registry images and layer metadata are kept (default: user cache)."
        ),
    ] = None,
    no_cache: Annotated[
        bool,
        typer.Option(
            "--no-cache",
            help="Read the image afresh and keep nothing: no layer metadata cache, registry pulls go to a "
            "temporary directory removed at exit.",
        ),
    ] = False,
    cache_list: Annotated[
        bool, typer.Option("--cache-list", help="List the registry cache's images and exit.")
    ] = False,
    cache_prune: Annotated[
        str | None,
        typer.Option("--cache-prune", help="Shrink the registry cache to SIZE (0 empties it), oldest use first."),
    ] = None,
    ignore_errors: Annotated[
        bool, typer.Option("-i", "--ignore-errors", help="Report broken entries as warnings instead of failing.")
    ] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colours (NO_COLOR is honoured too).")] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="No progress output on stderr.")] = False,
    config: Annotated[
        str | None, typer.Option("-c", "--config", help="divepy/dive UI config file (.dive.yaml keys).")
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Explore a container image layer by layer, and measure its wasted space."""
    from dive_py import main_flow

    try:
        if cache_list or cache_prune is not None:
            if image or demo:
                raise UsageError("--cache-list and --cache-prune work on the cache alone; give no IMAGE")
            from dive_py.pulling import cache_command

            raise typer.Exit(cache_command(cache_dir, cache_list, cache_prune))
        pickable = source in (None, "docker", "podman")
        if (
            not image
            and not demo
            and pickable
            and _explores(ci, json_path, list_files, extract_path, explain, markdown_path, junit_path)
        ):
            from dive_py.engine_lookup import pick_local_image

            image = pick_local_image(source)
            if image is None:  # left the picker: nothing to open
                raise typer.Exit(0)
            source = None
        resolved = resolve_source(image, demo, source)
        from dive_py.compare_flow import run_maybe_compare

        options = main_flow.Options(
            path=resolved.path,
            shown_name=image or "divepy-demo",
            registry=resolved.registry,
            engine=resolved.engine,
            engine_name=resolved.engine_name,
            plain_http=plain_http,
            cache_dir=cache_dir,
            no_cache=no_cache,
            ci=ci,
            ci_config=ci_config,
            rule_flags={
                "lowestEfficiency": lowest_efficiency,
                "highestWastedBytes": highest_wasted_bytes,
                "highestUserWastedPercent": highest_user_wasted_percent,
                "highestReclaimableBytes": highest_reclaimable_bytes,
                "highestReclaimablePercent": highest_reclaimable_percent,
                "highestJunkBytes": highest_junk_bytes,
            },
            json_path=json_path,
            list_files=list_files,
            layer=layer,
            list_format=list_format,
            select=select or resolved.tag,
            platform=platform,
            ignore_errors=ignore_errors,
            no_color=no_color,
            quiet=quiet,
            config=config,
            demo=demo,
            extract=extract_path,
            output=output,
            explain=explain,
            base_layers=base_layers,
            ignore_paths=tuple(ignore_path or ()),
            markdown_path=markdown_path,
            junit_path=junit_path,
        )
        check_flags(options, compare=compare is not None)
        code = run_maybe_compare(compare)(options)
    except DiveError as exc:
        _fail(exc.message)
    except KeyboardInterrupt:
        messages.note("interrupted")
        raise typer.Exit(130) from None
    except BrokenPipeError:  # caught here: Click would turn EPIPE into exit status 1
        _reader_left()
    raise typer.Exit(code)


def _explores(ci: bool | None, *outputs: object) -> bool:
    """Would this run open the explorer, in a terminal?  (Then a missing IMAGE means: pick one.)"""
    from dive_py.config import ci_env_enabled

    if ci or (ci is None and ci_env_enabled()) or any(o not in (None, False) for o in outputs):
        return False
    return sys.stdin.isatty() and sys.stdout.isatty()


def _reader_left() -> NoReturn:
    """``divepy --list IMAGE | head``: the reader is gone, which is not an error."""
    try:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the interpreter's flush at exit
    finally:
        os._exit(0)


def main() -> None:
    """Console-script entry point: every way a run can end becomes an exit status and at most one line.

    Click's own usage errors (``--layer abc``, a misspelt flag) would print a
    usage block and ``Error: …`` in another format; they are caught here and
    said as ``divepy: error: …`` like every other bad input.  Anything that
    escapes as an unexpected exception is a bug in divepy, not in the input:
    it is still one line (``DIVEPY_DEBUG=1`` shows the traceback).
    """
    sys.exit(_main(sys.argv[1:]))


def _main(argv: list[str]) -> int:
    try:
        code = app(args=argv, prog_name="divepy", standalone_mode=False)
    except typer.Abort:
        messages.note("interrupted")
        return 130
    except BrokenPipeError:  # `divepy --list img | head`
        _reader_left()
    except KeyboardInterrupt:
        messages.note("interrupted")
        return 130
    except MemoryError:
        messages.error("out of memory (see the limits in docs/user-guide.md)")
        return EXIT_USAGE
    except RecursionError:
        messages.error("the input is nested too deeply (a bug in divepy: please report it)")
        return EXIT_USAGE
    except Exception as exc:  # the last line of defence: one line, never a traceback
        usage = _usage_error(exc)
        if usage is not None:
            messages.error(usage)
            return EXIT_USAGE
        if os.environ.get("DIVEPY_DEBUG"):
            raise
        messages.error(
            f"internal error: {type(exc).__name__}: {exc} (a bug in divepy: please report it; "
            "DIVEPY_DEBUG=1 shows where)"
        )
        return EXIT_USAGE
    return code if isinstance(code, int) else 0


def _usage_error(exc: Exception) -> str | None:
    """The message of a command-line parsing error (Click's, vendored by Typer or not), else None.

    Typer >= 0.29 ships its own copy of Click, so the classes are matched by
    what they offer (``format_message`` and ``exit_code``), not by import.
    """
    fmt = getattr(exc, "format_message", None)
    if not callable(fmt) or getattr(exc, "exit_code", None) != EXIT_USAGE:
        return None
    return _lower_first(str(fmt()).rstrip(".")) + " (see divepy --help)"


def _lower_first(text: str) -> str:
    """Click says "Invalid value for …"; divepy's lines continue in lower case after ``error:``."""
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


__all__ = ["EXIT_RULES_FAILED", "app", "main"]
