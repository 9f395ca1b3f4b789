"""httpx, imported on first use, for every source that speaks HTTP (registries, engines).

``import httpx`` loads Rich (for its own command line), and the core must
not load a UI library just by being imported (tests/test_layering.py):
the first attribute looked up on :data:`httpx` imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx
else:

    class _Lazy:
        def __getattr__(self, name: str) -> Any:
            import httpx as module

            return getattr(module, name)

    httpx = _Lazy()

__all__ = ["httpx"]
