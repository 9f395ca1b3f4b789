"""Run the ``divepy`` command in this process and record its peak memory.

The hostile-input tests start this script instead of ``python -m dive_py``:
it calls the same ``main()``, then writes the process's peak resident set
size (bytes) to ``$DIVEPY_RSS_FILE``, so each case is measured on its own.
"""

from __future__ import annotations

import os
import resource
import sys


def _record() -> None:
    path = os.environ.get("DIVEPY_RSS_FILE")
    if path:
        with open(path, "w") as fh:
            fh.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024))


def main() -> None:
    sys.argv[0] = "divepy"
    from dive_py.cli import main as divepy_main

    code: str | int | None = 0
    try:
        divepy_main()
    except SystemExit as exc:
        code = exc.code
    finally:
        _record()
    sys.exit(code)


if __name__ == "__main__":
    main()
