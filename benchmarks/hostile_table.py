"""Run the hostile-input corpus and print, per class, how many cases pass and the worst peak RSS.

    python benchmarks/hostile_table.py                 # this checkout
    python benchmarks/hostile_table.py --target DIR    # another checkout (e.g. the commit before a fix)

The cases and the judging are exactly those of ``tests/hostile`` (a case
passes when every mode it lists passes); this script only adds the table,
so a fix can be reported as "before -> after".  ``--failures`` lists what
failed and why.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.hostile.corpus import ALL_CASES
from tests.hostile.test_hostile import execute, remove_tree, verdict


def _run_one(index: int) -> tuple[str, str, bool, int, str]:
    case = ALL_CASES[index]
    problems: list[str] = []
    worst = 0
    with tempfile.TemporaryDirectory() as tmp:
        for mode in case.modes:
            box = Path(tmp) / f"box-{mode}"
            try:
                out = execute(case, mode, box)
                worst = max(worst, out.rss)
                problems += [f"[{mode}] {p}" for p in verdict(case, mode, out, box)]
            except Exception as exc:  # a skip or a builder problem: report, do not stop
                problems.append(f"[{mode}] {type(exc).__name__}: {exc}")
            finally:
                if box.exists():
                    remove_tree(box)
    return case.cls, case.name, not problems, worst, "; ".join(problems)[:300]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", help="checkout whose dive_py to run (default: this one)")
    parser.add_argument("--failures", action="store_true", help="list every failing case")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    if args.target:
        os.environ["DIVEPY_UNDER_TEST"] = os.path.abspath(args.target)
    with ProcessPoolExecutor(args.jobs) as pool:
        results = list(pool.map(_run_one, range(len(ALL_CASES))))
    by_class: dict[str, list[tuple[str, bool, int, str]]] = defaultdict(list)
    for cls, name, ok, rss, why in results:
        by_class[cls].append((name, ok, rss, why))
    print(f"{'class':<12} {'cases':>5} {'pass':>5} {'fail':>5} {'worst RSS':>10}")
    total = passed = 0
    for cls in sorted(by_class):
        rows = by_class[cls]
        n_ok = sum(1 for r in rows if r[1])
        total += len(rows)
        passed += n_ok
        print(f"{cls:<12} {len(rows):>5} {n_ok:>5} {len(rows) - n_ok:>5} {max(r[2] for r in rows) >> 20:>7} MiB")
    worst = max(results, key=lambda r: r[3])
    print(f"{'all':<12} {total:>5} {passed:>5} {total - passed:>5} {worst[3] >> 20:>7} MiB  (worst: {worst[1]})")
    if args.failures:
        for cls, name, ok, _rss, why in results:
            if not ok:
                print(f"FAIL {cls}/{name}: {why}")


if __name__ == "__main__":
    main()
