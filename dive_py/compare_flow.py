"""``divepy NEW --compare OLD``: both images loaded, compared, and the comparison printed.

Each side is any source divepy reads (an archive, a layout, an engine's
image, a registry's), made ready and loaded exactly as a single run's image
(:func:`dive_py.main_flow.opened`, :func:`dive_py.main_flow.load`), and
analysed with the same settings: ``--base-layers``, ``--ignore-path`` and
the config's junk rules apply to both.  The report goes to stdout
(:mod:`dive_py.report.compare_text`), or to stderr when ``--json -`` puts
the JSON there (:mod:`dive_py.report.compare_json`); the exit status is 0.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace

from dive_py.errors import EXIT_OK
from dive_py.main_flow import Options, load, opened, run
from dive_py.source_args import resolve_source


def run_compare(opts: Options, old_image: str) -> int:
    """Compare the image ``opts`` names (NEW) with ``old_image`` (OLD, any IMAGE spelling)."""
    from dive_py.core.analysis.efficiency import analyse
    from dive_py.core.analysis.image_deltas import figure_deltas, growth
    from dive_py.core.analysis.image_diff import diff_images
    from dive_py.core.analysis.insights import analyse_insights
    from dive_py.insight_settings import load_junk_rules
    from dive_py.report.compare_text import render_compare, verdict_line

    resolved = resolve_source(old_image, False, None)
    old_opts = replace(
        opts,
        path=resolved.path,
        shown_name=old_image,
        registry=resolved.registry,
        engine=resolved.engine,
        engine_name=resolved.engine_name,
        select=resolved.tag,
        opener=None,
        demo=False,
    )
    from dive_py.report.compare_json import compare_json
    from dive_py.report.output import check_target, write_to

    if opts.json_path is not None:
        check_target(opts.json_path, "--json")  # before a gigabyte is read, as for one image
    junk_rules = load_junk_rules(opts.config)
    with opened(opts) as new_ready, opened(old_opts) as old_ready:
        new = load(new_ready, hash_files=True)
        try:
            old = load(old_ready, hash_files=True)
            try:
                base, ignore = opts.base_layers, opts.ignore_paths
                new_ins, old_ins = (
                    analyse_insights(img, base_override=base, ignore=ignore, junk_rules=junk_rules)
                    for img in (new, old)
                )
                diff = diff_images(old, new)
                figures = figure_deltas(old, analyse(old), old_ins, new, analyse(new), new_ins)
                size = next(f for f in figures if f.key == "image.sizeBytes")
                grew = growth(diff, new, new_ins, old_ins)
                verdict = verdict_line(size, [])
                text = render_compare(old, new, diff, figures, grew, verdict)
                data = compare_json(old, new, diff, figures, grew, verdict) if opts.json_path else b""
            finally:
                old.close()
        finally:
            new.close()
    if opts.json_path == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    elif opts.json_path is not None:
        write_to(opts.json_path, "--json", lambda fh: fh.write(data))
    out = sys.stderr if opts.json_path == "-" else sys.stdout
    out.write(text)
    out.flush()
    return EXIT_OK


def run_maybe_compare(old_image: str | None) -> Callable[[Options], int]:
    """The run for these options: a comparison with ``old_image``, or the usual single-image run."""
    if old_image is None:
        return run
    return lambda opts: run_compare(opts, old_image)


__all__ = ["run_compare", "run_maybe_compare"]
