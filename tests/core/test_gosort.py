"""Go's ``sort.Sort`` (pdqsort) re-implemented: sorted, stable up to 12 items, Go's exact order above.

dive sorts the inefficient-files list with the unstable ``sort.Sort`` and
prints it reversed, so the order of equal-sized files is whatever Go's
pdqsort leaves.  Golden orders recorded from Go (through dive 0.13.1) pin
that order without dive installed; the dive-marked tests build images whose
lists are full of ties and require our ``fileReference`` to equal dive
0.13.1's, item for item.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dive_py.core.analysis.gosort import _LessKey, _Sorter, go_sort, go_sort_by_key
from dive_py.fixtures.builder import ImageSpec, write_archive
from tests.clitools import dive_json, divepy_json


def _sorter(items: list[Any], less: Callable[[Any, Any], bool]) -> _Sorter:
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


#: (keys in input order, input positions in the order Go's ``sort.Sort`` leaves them).
#: Recorded from Go itself: dive 0.13.1 on an image whose inefficient paths are discovered in input
#: order with cumulative sizes 2 * (key + 1) (its ``fileReference``, read backwards, is
#: ``sort.Sort``'s output). The 13-item case is also traced by hand in
#: ``test_golden_order_traced_by_hand``. Lengths: just above insertion sort, a median-of-three
#: pivot, and 64 (>= 50: Tukey's ninther pivot, and more than one partition round).
GOLDEN = [
    (
        "1 0 2 0 1 2 0 1 0 2 1 0 1",
        "6 1 3 8 11 4 0 7 10 12 2 5 9",
    ),
    (
        "1 0 2 2 1 0 2 1 2 1 2 0 2 2 1 1 1 2 2 2",
        "5 1 11 15 14 16 0 7 4 9 8 2 12 13 10 6 3 17 18 19",
    ),
    (
        "1 2 2 0 1 3 1 1 3 0 2 3 3 0 1 2 3 2 2 1 2 3 3 2 1 3 1 1 0 1 0 2 2",
        "9 28 13 3 30 6 29 7 0 24 26 27 4 19 14 10 15 17 18 2 20 1 31 23 32 8 25 22 21 16 12 11 5",
    ),
    (
        "4 3 4 0 2 4 1 1 3 2 1 1 2 3 4 1 2 3 4 2 2 3 1 1 2 1 4 0 0 1 0 1"
        " 3 1 2 1 0 1 2 1 3 4 2 3 4 3 3 1 0 2 2 2 1 4 2 4 0 3 1 1 3 1 4 1",
        "27 56 48 3 36 30 28 47 7 63 10 11 61 59 58 15 52 37 39 35 33 31 22 23 29 25 6 50 42 24 9 12"
        " 54 20 34 16 51 19 38 49 4 46 57 43 40 45 21 60 13 1 17 32 8 53 44 55 18 41 14 2 0 26 62 5",
    ),
]


def ints(text: str) -> list[int]:
    return [int(word) for word in text.split()]


@pytest.mark.parametrize(("keys_text", "order_text"), GOLDEN, ids=[f"n={len(k.split())}" for k, _ in GOLDEN])
def test_golden_orders_recorded_from_go(keys_text: str, order_text: str) -> None:
    keys, order = ints(keys_text), ints(order_text)
    assert sorted(order) == list(range(len(keys)))  # the golden itself is a permutation...
    assert [keys[i] for i in order] == sorted(keys)  # ...that sorts the keys
    assert order != [i for _, i in sorted(tagged(keys))]  # and not the stable one: ties really move
    for sort in ("less", "key"):
        items = tagged(keys)
        if sort == "less":
            go_sort(items, by_key)
        else:
            go_sort_by_key(items, lambda item: item[0])
        assert [i for _, i in items] == order


def test_golden_order_traced_by_hand() -> None:
    """Go's pdqsort on the 13 keys of ``GOLDEN[0]``, step by step (limit = bits.Len(13) = 4).

    1. choosePivot: 13 >= 8, so the median of positions 3, 6, 9 (keys 0, 0, 2): no swap in
       order2, pivot 6, swaps = 0: increasingHint.
    2. partialInsertionSort: position 1 (key 0) < position 0 (key 1), and 13 < 50: give up.
    3. partition(0, 13, 6): swap positions 0 and 6, pivot key 0. No key is < 0, so i stops at 1
       and j runs down to 0; i > j: swap(0, 0), mid = 0, already partitioned.
    4. Left part [0, 0) is empty (unbalanced, 0 < 13 / 8); loop on [1, 13): 12 items, insertion
       sort, stable in *position* order, where item 0 now sits at position 6:
       key 0 -> 1, 3, 8, 11; key 1 -> 4, 0, 7, 10, 12; key 2 -> 2, 5, 9.
    """
    keys, order = ints(GOLDEN[0][0]), ints(GOLDEN[0][1])
    after_partition = [6, 1, 2, 3, 4, 5, 0, 7, 8, 9, 10, 11, 12]
    rest = sorted(after_partition[1:], key=lambda i: keys[i])  # Python's sort is stable too
    assert rest == [1, 3, 8, 11, 4, 0, 7, 10, 12, 2, 5, 9]
    assert order == [6, *rest]


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
