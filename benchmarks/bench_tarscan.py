"""The tar header parser against the standard library's ``tarfile``, per entry.

What it measures, and why
-------------------------
docs/architecture.md claims the hand-written header reader
(``dive_py.core.tar.tarscan.iter_headers``) costs about 1–2.5 µs per entry
where ``tarfile`` costs about 14 µs, and that this is why divepy parses its
own headers.  This script checks the claim on this machine.

It writes one uncompressed layer tar (``--entries`` members, default
200,000: directories, empty and small files, symlinks, hardlinks, and one
member in 20 with a PAX long name, as ``pip``/``npm`` trees have) to a
temporary file, warms the page cache, and times, each ``--repeat`` times
(median reported):

* ``tarfile``: ``for info in tarfile.open(path): pass`` — a ``TarInfo`` per
  member, contents skipped;
* ``iter_headers``: the raw header tuples from a ``FileWindow``;
* ``read_layer``: the whole layer reader divepy uses (names normalised,
  whiteouts classified, columns appended, memory budget charged).

It prints a Markdown table of seconds and µs per entry, and the speed-up.
Run: ``python benchmarks/bench_tarscan.py [--entries N] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import tarfile
import tempfile
import time
from collections.abc import Callable

from dive_py.core.tar.layerread import read_layer
from dive_py.core.tar.tarscan import iter_headers
from dive_py.core.tar.tarwindow import FileWindow


def write_layer(path: str, entries: int) -> None:
    """A deterministic layer tar with every common member kind."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        dirs = 0
        for i in range(entries):
            kind = i % 10
            if kind == 0:
                info = tarfile.TarInfo(f"usr/lib/pkg{i // 10}")
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                dirs = i // 10
            else:
                long = "x" * 120 if i % 20 == 1 else ""
                info = tarfile.TarInfo(f"usr/lib/pkg{dirs}/{long}file{i}.py")
                if kind == 8:
                    info.type = tarfile.SYMTYPE
                    info.linkname = f"file{i - 1}.py"
                elif kind == 9:
                    info.type = tarfile.LNKTYPE
                    info.linkname = f"usr/lib/pkg{dirs}/file{i - 2}.py"
                else:
                    info.size = 0 if kind < 5 else 100
            info.mtime = 1_600_000_000
            tar.addfile(info, io.BytesIO(b"#" * info.size) if info.size else None)


def timed(run: Callable[[], int], repeat: int) -> tuple[float, int]:
    """Median seconds of ``repeat`` runs, and the entry count the run saw."""
    times = []
    count = 0
    for _ in range(repeat):
        start = time.perf_counter()
        count = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-tarscan-") as tmp:
        path = os.path.join(tmp, "layer.tar")
        write_layer(path, args.entries)
        size = os.path.getsize(path)
        with open(path, "rb") as fh:  # warm the page cache: the parse is measured, not the disk
            while fh.read(1 << 20):
                pass
        fd = os.open(path, os.O_RDONLY)
        try:

            def with_tarfile() -> int:
                with tarfile.open(path) as tar:
                    return sum(1 for _ in tar)

            def with_iter_headers() -> int:
                return sum(1 for _ in iter_headers(FileWindow(fd, 0, size, "layer")))

            def with_read_layer() -> int:
                return len(read_layer(FileWindow(fd, 0, size, "layer"), hash_files=False).paths)

            rows = [
                ("tarfile (standard library)", *timed(with_tarfile, args.repeat)),
                ("tarscan.iter_headers", *timed(with_iter_headers, args.repeat)),
                ("layerread.read_layer", *timed(with_read_layer, args.repeat)),
            ]
        finally:
            os.close(fd)

    base = rows[0][1]
    print(f"{args.entries:,} entries, {size / 2**20:.0f} MiB tar, median of {args.repeat} runs\n")
    print("| reader | seconds | µs per entry | vs tarfile |")
    print("|---|---:|---:|---:|")
    for name, seconds, count in rows:
        if count != args.entries:
            raise SystemExit(f"{name} saw {count} entries, expected {args.entries}")
        print(f"| {name} | {seconds:.3f} | {seconds / count * 1e6:.2f} | {base / seconds:.1f}× |")


if __name__ == "__main__":
    main()
