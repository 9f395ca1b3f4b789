"""Speed and memory of ``divepy --extract`` on the generated benchmark images.

What it measures, and why
-------------------------
Extraction reads file contents back from the blobs (loading kept none), so
its cost is the load plus the bytes written.  For each image it times, as
separate child processes (wall, CPU, peak RSS via ``os.wait4``, median of
``--repeat`` runs, warm page cache):

* ``--extract / -o DIR``: the whole merged filesystem after the top layer;
* ``--extract PATH -o -``: one file from the top layer (the largest one),
  which in a compressed layer means decompressing that layer again;
* ``tar -xf`` of a plain tar holding exactly the tree divepy wrote: the
  floor of creating those files (GNU tar, C, no layers to merge).

Trees are written to tmpfs (``/dev/shm``) by default: on the benchmark VM's
ext4 a file creation costs 0.4-4 ms depending on writeback state, which
swamps everything else and varies 5x between runs.  ``--dest DIR`` measures
a real disk instead.
* ``cat IMAGE > /dev/null``: the floor of reading the archive once.

Nothing here is compared with dive: its Ctrl+E never writes anything.

Examples::

    python benchmarks/bench_extract.py
    python benchmarks/bench_extract.py --images big-30k.oci-gzip --repeat 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench import Run, find_divepy, measure, warm
from make_images import IMAGES, ensure_image

DEFAULT_IMAGES = ["big-30k.docker", "big-30k.oci-gzip", "hard-200k.docker"]


def largest_top_file(path: str) -> tuple[str, int]:
    """The biggest regular file of the merged filesystem (from the JSON-lines listing)."""
    import orjson

    from dive_py.core.model.loader import load_image
    from dive_py.report.listing import iter_listing

    image = load_image(path, hash_files=False)
    try:
        best = ("", -1)
        for line in iter_listing(image, len(image.layers) - 1, "jsonl"):
            doc = orjson.loads(line)
            if doc["type"] == "file" and doc["size"] > best[1]:
                best = (doc["path"], doc["size"])
        return best
    finally:
        image.close()


def tree_bytes(root: str) -> tuple[int, int]:
    files = size = 0
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            full = os.path.join(dirpath, name)
            if not os.path.islink(full):
                files += 1
                size += os.path.getsize(full)
    return files, size


def tar_floor(divepy: list[str], path: str, tmp: str, log: str, repeat: int) -> float:
    """Median wall time of ``tar -xf`` recreating the tree divepy writes (a plain tar, page-cached)."""
    tree = os.path.join(tmp, "tree")
    measure([*divepy, path, "--extract", "/", "-o", tree, "-q"], None, log)
    tarball = os.path.join(tmp, "tree.tar")
    measure(["tar", "-cf", tarball, "-C", tmp, "tree"], None, log)
    shutil.rmtree(tree)
    warm(tarball)
    walls = []
    for _ in range(repeat):
        walls.append(measure(["tar", "-xf", tarball, "-C", tmp], None, log).wall)
        shutil.rmtree(tree)
    os.unlink(tarball)
    return statistics.median(walls)


def median(runs: list[Run], attr: str) -> float:
    values: list[float] = [getattr(r, attr) for r in runs]
    return statistics.median(values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", nargs="*", default=DEFAULT_IMAGES, choices=sorted(IMAGES))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--work", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "work"))
    parser.add_argument(
        "--dest",
        default="/dev/shm" if os.path.isdir("/dev/shm") else None,
        help="where extracted trees go (default: tmpfs, so the figures are divepy's and not "
        "the disk's writeback; name a disk directory to include it)",
    )
    args = parser.parse_args(argv)
    divepy = find_divepy()
    rows = []
    for key in args.images:
        path = ensure_image(key, args.work, log=lambda msg: print(msg, file=sys.stderr))
        warm(path)
        big_path, big_size = largest_top_file(path)
        with tempfile.TemporaryDirectory(dir=args.dest or args.work) as tmp:
            log = os.path.join(tmp, "log.txt")
            whole: list[Run] = []
            written = (0, 0)
            for _ in range(args.repeat):
                dest = os.path.join(tmp, "rootfs")
                run = measure([*divepy, path, "--extract", "/", "-o", dest, "-q"], None, log)
                if run.code != 0:
                    print(Path(log).read_text(), file=sys.stderr)
                    return 1
                written = tree_bytes(dest)
                shutil.rmtree(dest)
                whole.append(run)
            one = [
                measure([*divepy, path, "--extract", big_path, "-o", "-", "-q"], None, log, out_path=None)
                for _ in range(args.repeat)
            ]
            cat = [measure(["sh", "-c", 'cat "$0" > /dev/null', path], None, log) for _ in range(args.repeat)]
            floor = tar_floor(divepy, path, tmp, log, args.repeat)
        size_gib = os.path.getsize(path) / 2**30
        rows.append(
            (
                key,
                size_gib,
                written,
                median(whole, "wall"),
                median(whole, "cpu"),
                median(whole, "rss_kib") / 1024,
                big_path,
                big_size,
                median(one, "wall"),
                median(one, "rss_kib") / 1024,
                median(cat, "wall"),
                floor,
            )
        )
    print(
        "| image | archive | extract / : files, bytes | wall | CPU | peak RSS | tar -x of that tree "
        "| largest file | -o - wall | -o - RSS | cat wall |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for key, gib, (files, size), wall, cpu, rss, big, big_size, one_wall, one_rss, cat_wall, floor in rows:
        print(
            f"| {key} | {gib:.2f} GiB | {files:,} files, {size / 2**20:,.0f} MiB | {wall:.2f} s | {cpu:.2f} s "
            f"| {rss:.0f} MiB | {floor:.2f} s | {big} ({big_size / 2**20:.1f} MiB) | {one_wall:.2f} s "
            f"| {one_rss:.0f} MiB | {cat_wall:.2f} s |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
