"""httpx, imported on first use, for every source that speaks HTTP (registries, engines).

``import httpx`` loads Rich (for its own command line), and the core must
not load a UI library just by being imported (tests/test_layering.py):
the first attribute looked up on :data:`httpx` imports it.

On import the HTTP/1.1 reads are made 1 MiB instead of httpcore's 64 KiB
(:data:`READ_BYTES`).  divepy's bodies are blobs and image exports of up to
gigabytes, read on several threads: at 64 KiB a read, each chunk pays the
parser's Python and a GIL hand-over, and a 530 MB pull from a loopback
registry took 2.8 s and 3.4 s of CPU; at 1 MiB, 1.1 s and 1.8 s
(benchmarks/bench_sources.py).  A read returns what the socket has, so small
answers are not delayed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

#: Bytes asked of the socket per read of an HTTP/1.1 response.
READ_BYTES = 1 << 20


def bigger_reads() -> None:
    """Raise httpcore's per-read size to :data:`READ_BYTES` (a no-op if httpcore moved it)."""
    try:
        from httpcore._sync.http11 import HTTP11Connection
    except ImportError:  # pragma: no cover - another httpcore layout: keep its default
        return
    if isinstance(getattr(HTTP11Connection, "READ_NUM_BYTES", None), int):
        HTTP11Connection.READ_NUM_BYTES = max(HTTP11Connection.READ_NUM_BYTES, READ_BYTES)


if TYPE_CHECKING:
    import httpx
else:

    class _Lazy:
        def __getattr__(self, name: str) -> Any:
            import httpx as module

            bigger_reads()
            return getattr(module, name)

    httpx = _Lazy()

__all__ = ["READ_BYTES", "bigger_reads", "httpx"]
