"""Go's ``sort.Sort`` (pdqsort) re-implemented: sorted, stable up to 12 items, deterministic above.

dive sorts the inefficient-files list with the unstable ``sort.Sort`` and
prints it reversed, so the order of equal-sized files is whatever Go's
pdqsort leaves.  The dive-marked tests build images whose lists are full of
ties and require our ``fileReference`` to equal dive 0.13.1's, item for item.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dive_py.core.analysis.gosort import _LessKey, _Sorter, go_sort
from dive_py.fixtures.builder import ImageSpec, write_archive
from tests.clitools import dive_json, divepy_json


def _sorter(items, less):  # type: ignore[no-untyped-def]
    """The sorter the public functions build, for testing its parts directly."""
    return _Sorter([_LessKey(x, less) for x in items], items)


def by_key(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[0]


def tagged(keys: list[int]) -> list[tuple[int, int]]:
    """(key, original position): the position shows what a sort did to ties."""
    return [(k, i) for i, k in enumerate(keys)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=6), max_size=400))
def test_result_is_sorted_permutation(keys: list[int]) -> None:
    items = tagged(keys)
    go_sort(items, by_key)
    assert [k for k, _ in items] == sorted(keys)
    assert sorted(i for _, i in items) == list(range(len(keys)))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=3), max_size=12))
def test_up_to_twelve_items_is_stable(keys: list[int]) -> None:
    items = tagged(keys)
    go_sort(items, by_key)
    assert items == sorted(tagged(keys))  # ties keep their input order


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=4), min_size=13, max_size=300))
def test_deterministic(keys: list[int]) -> None:
    first, second = tagged(keys), tagged(keys)
    go_sort(first, by_key)
    go_sort(second, by_key)
    assert first == second


def test_ties_are_reordered_above_twelve_items() -> None:
    """Go's sort is not stable; a stable sort here would break dive's order."""
    rng = random.Random(1234)
    unstable = 0
    for _ in range(200):
        keys = [rng.randrange(3) for _ in range(rng.randrange(13, 60))]
        items = tagged(keys)
        go_sort(items, by_key)
        unstable += items != sorted(tagged(keys))
    assert unstable > 50


def test_already_sorted_and_reversed_and_equal_inputs() -> None:
    for n in (13, 49, 50, 51, 200, 1000):
        items = tagged(list(range(n)))
        go_sort(items, by_key)
        assert items == tagged(list(range(n)))
        rev = tagged(list(range(n, 0, -1)))
        go_sort(rev, by_key)
        assert [k for k, _ in rev] == list(range(1, n + 1))
        same = tagged([7] * n)
        go_sort(same, by_key)
        assert same == tagged([7] * n)  # pdqsort sees "already sorted" and stops


def test_heap_sort_fallback_sorts() -> None:
    rng = random.Random(7)
    for n in (2, 3, 13, 100, 257):
        keys = [rng.randrange(10) for _ in range(n)]
        items = tagged(keys)
        _sorter(items, by_key).heap_sort(0, n)
        assert [k for k, _ in items] == sorted(keys)
        items = tagged(keys)
        _sorter(items, by_key).pdqsort(0, n, 0)  # recursion budget spent: heap sort
        assert [k for k, _ in items] == sorted(keys)


def test_adversarial_patterns_stay_sorted() -> None:
    n = 4096
    organ = list(range(n // 2)) + list(range(n // 2, 0, -1))
    sawtooth = [i % 17 for i in range(n)]
    for keys in (organ, sawtooth, [0, 1] * (n // 2)):
        items = tagged(keys)
        go_sort(items, by_key)
        assert [k for k, _ in items] == sorted(keys)


def test_empty_and_single() -> None:
    empty: list[tuple[int, int]] = []
    go_sort(empty, by_key)
    assert empty == []
    one = [(1, 0)]
    go_sort(one, by_key)
    assert one == [(1, 0)]


# --- against dive 0.13.1 ---------------------------------------------------------------------------------------


def ties_image(n: int, seed: int) -> ImageSpec:
    """``n`` files each written in 2 or 3 layers, with 3 sizes: lots of equal cumulative sizes."""
    rng = random.Random(seed)
    img = ImageSpec(tags=[f"ties{n}:latest"])
    layers = [img.layer(f"RUN step {i}") for i in range(3)]
    for i in range(n):
        size = rng.choice((100, 100, 100, 200, 300))
        copies = rng.choice((2, 2, 3))
        name = f"d{rng.randrange(3)}/f{i:02d}"
        for layer in layers[:copies]:
            layer.file(name, bytes(size))
    return img


CASES = [(12, 1), (13, 1), (13, 2), (20, 3), (24, 4), (29, 5), (33, 6), (40, 7), (40, 8)]


@pytest.mark.dive
@pytest.mark.parametrize(("n", "seed"), CASES)
def test_inefficient_order_matches_dive(tmp_path: Path, n: int, seed: int) -> None:
    archive = write_archive(ties_image(n, seed), tmp_path / "ties.tar")
    theirs = json.loads(dive_json(archive, tmp_path))["image"]["fileReference"]
    ours = json.loads(divepy_json(archive, tmp_path))["image"]["fileReference"]
    assert len(ours) == n
    assert ours == theirs


def test_tie_cases_really_reorder(tmp_path: Path) -> None:
    """The dive cases above only prove something if Go's sort visibly reorders ties in them.

    Every path is first seen twice in layer 1, so the discovery order is path
    order; a stable sort would print ties in reverse path order.
    """
    reordered = 0
    for n, seed in CASES:
        archive = write_archive(ties_image(n, seed), tmp_path / f"t{n}-{seed}.tar")
        refs = json.loads(divepy_json(archive, tmp_path))["image"]["fileReference"]
        sizes = [r["sizeBytes"] for r in refs]
        assert sizes == sorted(sizes, reverse=True)
        discovered = sorted(refs, key=lambda r: r["file"])
        stable = sorted(discovered, key=lambda r: r["sizeBytes"])[::-1]  # stable ascending, then reversed
        if n <= 12:
            assert refs == stable
        reordered += refs != stable
    assert reordered >= 5


def test_break_patterns_by_hand() -> None:
    """Length 8: positions 3, 4, 5 swap with xorshift picks 8-8=0, 12-8=4, 8-8=0 (worked out by hand).

    The old off-by-one (positions 2, 3, 4) gives [3, 1, 0, 4, 2, 5, 6, 7] instead.
    """
    data = list(range(8))
    _sorter(data, lambda x, y: x < y).break_patterns(0, 8)
    assert data == [5, 1, 2, 0, 4, 3, 6, 7]
    data = list(range(13))
    _sorter(data, lambda x, y: x < y).break_patterns(0, 13)
    assert data == [5, 1, 2, 3, 4, 7, 11, 0, 8, 9, 10, 6, 12]
