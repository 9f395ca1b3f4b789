"""What the insights cost: ``--json`` (with ``insights``), ``--explain``, and the analysis in-process.

The target (issue 9): ``--explain`` on the 400k-entry image with a
``chown -R`` layer adds at most 30 % to ``--json``'s time, and hashing stays
lazy.  For each image (from ``make_images.py``, generated on first use) it
runs, as child processes with a warm page cache, ``divepy IMAGE --json OUT
-q`` and ``divepy IMAGE --explain -q``, ``--repeat`` times each (median
wall time and peak RSS), then times the insights' parts in-process once
(waste copies and kinds with their lazy hashing, findings, junk,
duplicates) beside the load and dive's analysis, and prints a Markdown table.

Run: ``python benchmarks/bench_insights.py [--images hard-400k.docker] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import make_images  # noqa: E402
from bench import find_divepy, measure, warm  # noqa: E402


def parts(path: str) -> dict[str, float]:
    """Seconds of each step, in this process (one run)."""
    from dive_py.core.analysis import findings, insights, junk, reclaim
    from dive_py.core.analysis.efficiency import analyse
    from dive_py.core.model.loader import load_image

    t = [time.perf_counter()]
    image = load_image(path, hash_files=False)
    t.append(time.perf_counter())
    analyse(image)
    t.append(time.perf_counter())
    waste = reclaim.find_waste(image)
    t.append(time.perf_counter())
    findings.group_findings(image, waste)
    t.append(time.perf_counter())
    junk.find_junk(image)
    t.append(time.perf_counter())
    insights.find_duplicates(image)
    t.append(time.perf_counter())
    image.close()
    names = ["load", "dive's analysis", "waste + kinds (hashing)", "findings", "junk", "duplicates"]
    return {name: t[i + 1] - t[i] for i, name in enumerate(names)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", default="hard-400k.docker", help=f"comma-separated: {', '.join(make_images.IMAGES)}")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--work", default=os.path.join(HERE, "work"), help="where generated images are kept")
    args = ap.parse_args()
    divepy = find_divepy()
    print("| image | --json wall | --json RSS | --explain wall | --explain RSS | explain / json |")
    print("|---|---:|---:|---:|---:|---:|")
    details = []
    for key in args.images.split(","):
        path = make_images.ensure_image(key, args.work)
        warm(path)
        with tempfile.TemporaryDirectory(prefix="bench-insights-") as tmp:
            log = os.path.join(tmp, "log")
            out = os.path.join(tmp, "out.json")
            json_runs = [measure([*divepy, path, "--json", out, "-q"], None, log, out) for _ in range(args.repeat)]
            explain_runs = [measure([*divepy, path, "--explain", "-q"], None, log) for _ in range(args.repeat)]
        jw = statistics.median(r.wall for r in json_runs)
        ew = statistics.median(r.wall for r in explain_runs)
        jr = statistics.median(r.rss_kib for r in json_runs) / 1024
        er = statistics.median(r.rss_kib for r in explain_runs) / 1024
        print(f"| {key} | {jw:.2f} s | {jr:.0f} MiB | {ew:.2f} s | {er:.0f} MiB | {ew / jw:.2f} |")
        details.append((key, parts(path)))
    for key, steps in details:
        print(f"\n{key}, in-process (one run):\n")
        print("| step | seconds |")
        print("|---|---:|")
        for name, seconds in steps.items():
            print(f"| {name} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
