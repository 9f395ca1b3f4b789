"""Every hostile case, from the class modules, in one list (names are unique)."""

from __future__ import annotations

from tests.hostile import cases_archive, cases_cli, cases_tar
from tests.hostile.model import Case

ALL_CASES: list[Case] = [*cases_tar.CASES, *cases_archive.CASES, *cases_cli.CASES]

_names = [c.name for c in ALL_CASES]
assert len(_names) == len(set(_names)), sorted(n for n in _names if _names.count(n) > 1)
