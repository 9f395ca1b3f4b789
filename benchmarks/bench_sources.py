"""Reading an image from the Docker engine and from a registry, against the tools users would use instead.

The targets (issue 10), on the 1 GB image (``big-30k.docker`` from
``make_images.py``):

* from the engine, divepy's time to the analysis (``divepy docker://NAME
  --json OUT``) is at most 1.2x the time of ``docker save -o`` alone, and at
  least 10x less than ``dive --source docker`` on the same engine;
* from a loopback registry, ``divepy registry://NAME --no-cache --json``
  takes at most 1.5x the time ``skopeo copy`` needs to fetch the image to a
  directory;
* re-opening it from a warm cache takes at most 0.3 s to the first
  analysis output.

Cold runs pass ``--no-cache``; the warm rows run once to fill a private
``--cache-dir`` first.

It starts its own ``dockerd`` (``overlay2``, on a private socket, data root
in a temporary directory) and Debian's ``docker-registry`` on loopback (the
same helpers the tests use), loads and pushes the image once, then runs
every command ``--repeat`` times (medians; dive once unless ``--dive-repeat``).
Needs root, ``docker.io``, ``docker-registry`` and ``skopeo``.

Run: ``sudo python benchmarks/bench_sources.py [--repeat 3] [--no-dive]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import make_images  # noqa: E402
from bench import Run, find_divepy, find_tool, measure  # noqa: E402

from tests.sources.engines import real_dockerd  # noqa: E402
from tests.sources.servers import real_registry  # noqa: E402

IMAGE = "big-30k.docker"
NAME = "bench/big-30k:latest"


def timed(label: str, cmd: list[str], repeat: int, tmp: str, out: str | None = None) -> tuple[str, list[Run]]:
    runs = []
    for _ in range(repeat):
        run = measure(cmd, 1800, os.path.join(tmp, "log"), out)
        if run.code != 0:
            log = Path(tmp, "log").read_text(errors="replace")[-800:]
            raise SystemExit(f"{label} failed (exit {run.code}):\n{log}")
        runs.append(run)
    return label, runs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dive-repeat", type=int, default=1)
    ap.add_argument("--no-dive", action="store_true")
    ap.add_argument("--work", default=os.path.join(HERE, "work"), help="where generated images are kept")
    args = ap.parse_args()
    path = make_images.ensure_image(IMAGE, args.work)
    divepy = find_divepy()
    rows: list[tuple[str, list[Run]]] = []
    tmp = tempfile.mkdtemp(prefix="bench-sources-", dir="/var/tmp")  # overlay2 needs a real filesystem
    for sub in ("dockerd", "registry"):
        os.mkdir(os.path.join(tmp, sub))
    try:
        with real_dockerd(Path(tmp, "dockerd"), storage_driver="overlay2") as engine:
            os.environ.update(engine.env)
            engine.run("load", "-i", path, timeout=1800)
            saved = os.path.join(tmp, "saved.tar")
            out = os.path.join(tmp, "out.json")
            rows.append(timed("docker save -o", ["docker", "save", "-o", saved, NAME], args.repeat, tmp))
            cold = ["--json", out, "-q", "--no-cache"]
            rows.append(timed("divepy docker://", [*divepy, f"docker://{NAME}", *cold], args.repeat, tmp))
            rows.append(timed("divepy on the saved archive", [*divepy, saved, *cold], args.repeat, tmp))
            meta = os.path.join(tmp, "meta-cache")
            warm_engine = [*divepy, f"docker://{NAME}", "--json", out, "-q", "--cache-dir", meta]
            measure(warm_engine, 1800, os.path.join(tmp, "log"))  # fills the metadata cache
            rows.append(timed("divepy docker:// warm cache", warm_engine, args.repeat, tmp))
            dive = find_tool("dive")
            if dive and not args.no_dive:
                rows.append(
                    timed(
                        "dive --source docker", [dive, "--source", "docker", NAME, "--json", out], args.dive_repeat, tmp
                    )
                )
            with real_registry(Path(tmp, "registry")) as reg:
                reg.push(f"docker-archive:{saved}", "bench/big-30k:latest")
                ref = f"{reg.host}/{NAME}"
                dest = os.path.join(tmp, "skopeo-dir")

                def skopeo() -> list[str]:
                    return [
                        "sh",
                        "-c",
                        f"rm -rf {dest} && skopeo copy -q --src-tls-verify=false docker://{ref} dir:{dest}",
                    ]

                rows.append(timed("skopeo copy to dir:", skopeo(), args.repeat, tmp))
                rows.append(
                    timed(
                        "divepy registry:// --no-cache",
                        [*divepy, f"registry://{ref}", "--no-cache", "--json", out, "-q"],
                        args.repeat,
                        tmp,
                    )
                )
                cache = os.path.join(tmp, "cache")
                measure(
                    [*divepy, f"registry://{ref}", "--cache-dir", cache, "--json", out, "-q"],
                    1800,
                    os.path.join(tmp, "log"),
                )
                rows.append(
                    timed(
                        "divepy registry:// warm cache",
                        [*divepy, f"registry://{ref}", "--cache-dir", cache, "--json", out, "-q"],
                        args.repeat,
                        tmp,
                    )
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{IMAGE}: {os.path.getsize(path) / 2**20:.0f} MiB, medians of {args.repeat} runs\n")
    print("| command | wall | peak RSS |")
    print("|---|---:|---:|")
    wall = {}
    for label, runs in rows:
        wall[label] = statistics.median(r.wall for r in runs)
        rss = statistics.median(r.rss_kib for r in runs) / 1024
        print(f"| {label} | {wall[label]:.2f} s | {rss:.0f} MiB |")
    print()
    ratio = wall["divepy docker://"] / wall["docker save -o"]
    print(f"- engine: divepy / docker save = {ratio:.2f} (target <= 1.2)")
    if "dive --source docker" in wall:
        print(
            f"- engine: dive / divepy = {wall['dive --source docker'] / wall['divepy docker://']:.1f}x (target >= 10x)"
        )
    pulled = wall["divepy registry:// --no-cache"] / wall["skopeo copy to dir:"]
    print(f"- registry: divepy / skopeo = {pulled:.2f} (target <= 1.5)")
    print(f"- warm cache, registry: {wall['divepy registry:// warm cache']:.2f} s (target <= 0.3 s)")
    print(f"- warm cache, engine: {wall['divepy docker:// warm cache']:.2f} s (target <= 0.3 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
