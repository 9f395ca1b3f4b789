"""How long a run takes before its first output: the fixed cost of a process, and a warm-cache re-open.

A warm re-open reads nothing of the image: the layer metadata cache answers
(issue 10's goal: at most 0.3 s to the first analysis output).  What is left
is the process itself, which this benchmark splits into the parts a run
always pays:

* ``divepy --version``: Python, the CLI's imports and the argument parser;
* ``divepy MISSING.tar``: the same plus the loader's imports (numpy), to a
  one-line error;
* ``--ci`` and ``--json -`` on a warm cache: the time to the first byte on
  stdout (the report is written once the analysis is done) and to the end;
* the same with ``--no-cache``, for the difference the cache makes.

Each command runs ``--repeat`` times as a child process with stdout on a
pipe; medians are printed as a Markdown table.  The images come from
``make_images.py`` (generated on first use): ``big-30k.docker`` (1 GB,
uncompressed layers) and ``big-30k.oci-gzip`` (the same, gzip layers).

Run: ``python benchmarks/bench_startup.py [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import make_images  # noqa: E402
from bench import find_divepy  # noqa: E402

IMAGES = ("big-30k.docker", "big-30k.oci-gzip")


def first_byte(cmd: list[str], repeat: int) -> tuple[float, float, int]:
    """Medians of (seconds to the first stdout byte, seconds to the exit), and the exit status."""
    firsts, totals, code = [], [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert proc.stdout is not None
        proc.stdout.read(1)
        firsts.append(time.perf_counter() - start)
        while proc.stdout.read(1 << 20):
            pass
        code = proc.wait()
        totals.append(time.perf_counter() - start)
    return statistics.median(firsts), statistics.median(totals), code


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--work", default=os.path.join(HERE, "work"), help="where generated images are kept")
    args = ap.parse_args()
    divepy = find_divepy()
    rows: list[tuple[str, float, float, int]] = []
    cache = tempfile.mkdtemp(prefix="bench-startup-")
    try:
        rows.append(("divepy --version", *first_byte([*divepy, "--version"], args.repeat)))
        missing = os.path.join(cache, "missing.tar")
        rows.append(("divepy MISSING.tar (error)", *first_byte([*divepy, missing], args.repeat)))
        for key in IMAGES:
            path = make_images.ensure_image(key, args.work)
            for out in (["--ci"], ["--json", "-"]):
                warm = [*divepy, path, *out, "-q", "--cache-dir", cache]
                subprocess.run(warm, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)  # fills it
                label = " ".join(out)
                rows.append((f"{key} {label}, warm cache", *first_byte(warm, args.repeat)))
                cold = [*divepy, path, *out, "-q", "--no-cache"]
                rows.append((f"{key} {label}, --no-cache", *first_byte(cold, args.repeat)))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    print(f"medians of {args.repeat} runs\n")
    print("| command | first output | exit | status |")
    print("|---|---:|---:|---:|")
    for label, first, total, code in rows:
        print(f"| {label} | {first:.3f} s | {total:.3f} s | {code} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
