"""divepy: a container-image layer analyzer (a successor to wagoodman/dive).

The package root deliberately imports nothing: ``import dive_py`` must stay cheap
and must never pull in the UI stack (see ``tests/test_layering.py``).
"""

__version__ = "0.1.0"
