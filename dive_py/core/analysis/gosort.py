"""Go's ``sort.Sort`` (pattern-defeating quicksort), re-implemented in Python.

Why: dive orders its inefficient-files list with ``sort.Sort``, which is not
stable, and then iterates the result backwards.  Files with equal wasted
bytes therefore come out in an order only Go's exact algorithm reproduces,
and ``jq`` scripts that diff dive's ``fileReference`` list against ours
need the same order.  For up to 12 items Go uses insertion sort (stable);
above that, pdqsort with a deterministic xorshift seeded by the length.

This follows the published algorithm (Orson Peters' pdqsort as adapted in
Go 1.19+); it is written from the algorithm's description.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_MAX_INSERTION = 12
_INCREASING, _DECREASING, _UNKNOWN = 1, 2, 0
_MASK64 = (1 << 64) - 1


def go_sort_by_key(items: list[T], key: Callable[[T], Any]) -> None:
    """Sort ``items`` in place as Go's ``sort.Sort`` would with ``Less = key(a) < key(b)``."""
    n = len(items)
    if n > 1:
        _Sorter([key(x) for x in items], items).pdqsort(0, n, n.bit_length())


def go_sort(items: list[T], less: Callable[[T, T], bool]) -> None:
    """Sort ``items`` in place exactly as Go's ``sort.Sort`` would with this ``Less``."""
    n = len(items)
    if n > 1:
        _Sorter([_LessKey(x, less) for x in items], items).pdqsort(0, n, n.bit_length())


class _LessKey:
    """Adapts a ``less(a, b)`` function to the ``<`` the sorter compares keys with."""

    __slots__ = ("less", "value")

    def __init__(self, value: Any, less: Callable[[Any, Any], bool]) -> None:
        self.value = value
        self.less = less

    def __lt__(self, other: _LessKey) -> bool:
        return self.less(self.value, other.value)


class _Sorter:
    """pdqsort over ``keys`` (compared with ``<``), moving ``items`` along.

    Comparing precomputed keys inline in the hot loops is several times
    faster than calling a comparison function; :func:`go_sort` wraps a
    comparison function in keys so both entry points share this one
    implementation, and therefore the same comparisons and swaps as Go.
    """

    def __init__(self, keys: list[Any], items: list[Any]) -> None:
        self.k = keys
        self.d = items

    def less(self, i: int, j: int) -> bool:
        k = self.k
        return bool(k[i] < k[j])

    def swap(self, i: int, j: int) -> None:
        k = self.k
        d = self.d
        k[i], k[j] = k[j], k[i]
        d[i], d[j] = d[j], d[i]

    def insertion_sort(self, a: int, b: int) -> None:
        k = self.k
        d = self.d
        for i in range(a + 1, b):
            j = i
            while j > a and k[j] < k[j - 1]:
                k[j], k[j - 1] = k[j - 1], k[j]
                d[j], d[j - 1] = d[j - 1], d[j]
                j -= 1

    def partition(self, a: int, b: int, pivot: int) -> tuple[int, bool]:
        k = self.k
        d = self.d
        k[a], k[pivot] = k[pivot], k[a]
        d[a], d[pivot] = d[pivot], d[a]
        p = k[a]  # the pivot stays at a until the final swap
        i, j = a + 1, b - 1
        while i <= j and k[i] < p:
            i += 1
        while i <= j and not k[j] < p:
            j -= 1
        if i > j:
            k[j], k[a] = k[a], k[j]
            d[j], d[a] = d[a], d[j]
            return j, True
        k[i], k[j] = k[j], k[i]
        d[i], d[j] = d[j], d[i]
        i += 1
        j -= 1
        while True:
            while i <= j and k[i] < p:
                i += 1
            while i <= j and not k[j] < p:
                j -= 1
            if i > j:
                break
            k[i], k[j] = k[j], k[i]
            d[i], d[j] = d[j], d[i]
            i += 1
            j -= 1
        k[j], k[a] = k[a], k[j]
        d[j], d[a] = d[a], d[j]
        return j, False

    def partition_equal(self, a: int, b: int, pivot: int) -> int:
        k = self.k
        d = self.d
        k[a], k[pivot] = k[pivot], k[a]
        d[a], d[pivot] = d[pivot], d[a]
        p = k[a]
        i, j = a + 1, b - 1
        while True:
            while i <= j and not p < k[i]:
                i += 1
            while i <= j and p < k[j]:
                j -= 1
            if i > j:
                break
            k[i], k[j] = k[j], k[i]
            d[i], d[j] = d[j], d[i]
            i += 1
            j -= 1
        return i

    def partial_insertion_sort(self, a: int, b: int) -> bool:
        k = self.k
        d = self.d
        max_steps, shortest_shifting = 5, 50
        i = a + 1
        for _ in range(max_steps):
            while i < b and not k[i] < k[i - 1]:
                i += 1
            if i == b:
                return True
            if b - a < shortest_shifting:
                return False
            k[i], k[i - 1] = k[i - 1], k[i]
            d[i], d[i - 1] = d[i - 1], d[i]
            if i - a >= 2:
                j = i - 1
                while j >= 1:
                    if not k[j] < k[j - 1]:
                        break
                    k[j], k[j - 1] = k[j - 1], k[j]
                    d[j], d[j - 1] = d[j - 1], d[j]
                    j -= 1
            if b - i >= 2:
                j = i + 1
                while j < b:
                    if not k[j] < k[j - 1]:
                        break
                    k[j], k[j - 1] = k[j - 1], k[j]
                    d[j], d[j - 1] = d[j - 1], d[j]
                    j += 1
        return False

    def sift_down(self, lo: int, hi: int, first: int) -> None:
        root = lo
        while True:
            child = 2 * root + 1
            if child >= hi:
                return
            if child + 1 < hi and self.less(first + child, first + child + 1):
                child += 1
            if not self.less(first + root, first + child):
                return
            self.swap(first + root, first + child)
            root = child

    def heap_sort(self, a: int, b: int) -> None:
        first, lo, hi = a, 0, b - a
        for i in range((hi - 1) // 2, -1, -1):
            self.sift_down(i, hi, first)
        for i in range(hi - 1, -1, -1):
            self.swap(first, first + i)
            self.sift_down(lo, i, first)

    def pdqsort(self, a: int, b: int, limit: int) -> None:
        was_balanced = True
        was_partitioned = True
        while True:
            length = b - a
            if length <= _MAX_INSERTION:
                self.insertion_sort(a, b)
                return
            if limit == 0:
                self.heap_sort(a, b)
                return
            if not was_balanced:
                self.break_patterns(a, b)
                limit -= 1
            pivot, hint = self.choose_pivot(a, b)
            if hint == _DECREASING:
                self.reverse_range(a, b)
                pivot = (b - 1) - (pivot - a)
                hint = _INCREASING
            if was_balanced and was_partitioned and hint == _INCREASING and self.partial_insertion_sort(a, b):
                return
            if a > 0 and not self.less(a - 1, pivot):
                a = self.partition_equal(a, b, pivot)
                continue
            mid, already = self.partition(a, b, pivot)
            was_partitioned = already
            left_len, right_len = mid - a, b - mid
            balance_threshold = length // 8
            if left_len < right_len:
                was_balanced = left_len >= balance_threshold
                self.pdqsort(a, mid, limit)
                a = mid + 1
            else:
                was_balanced = right_len >= balance_threshold
                self.pdqsort(mid + 1, b, limit)
                b = mid

    def break_patterns(self, a: int, b: int) -> None:
        length = b - a
        if length >= 8:
            state = length
            modulus = 1 << length.bit_length()
            idx = a + (length // 4) * 2 - 1  # Go: for idx := a+(length/4)*2-1; idx <= a+(length/4)*2+1
            for k in range(3):
                state ^= (state << 13) & _MASK64
                state ^= state >> 7
                state ^= (state << 17) & _MASK64
                other = state & (modulus - 1)
                if other >= length:
                    other -= length
                self.swap(idx + k, a + other)

    def choose_pivot(self, a: int, b: int) -> tuple[int, int]:
        shortest_ninther, max_swaps = 50, 4 * 3
        n = b - a
        swaps = [0]
        i = a + n // 4 * 1
        j = a + n // 4 * 2
        k = a + n // 4 * 3
        if n >= 8:
            if n >= shortest_ninther:
                i = self.median_adjacent(i, swaps)
                j = self.median_adjacent(j, swaps)
                k = self.median_adjacent(k, swaps)
            j = self.median(i, j, k, swaps)
        if swaps[0] == 0:
            return j, _INCREASING
        if swaps[0] == max_swaps:
            return j, _DECREASING
        return j, _UNKNOWN

    def order2(self, a: int, b: int, swaps: list[int]) -> tuple[int, int]:
        if self.less(b, a):
            swaps[0] += 1
            return b, a
        return a, b

    def median(self, a: int, b: int, c: int, swaps: list[int]) -> int:
        a, b = self.order2(a, b, swaps)
        b, c = self.order2(b, c, swaps)
        a, b = self.order2(a, b, swaps)
        return b

    def median_adjacent(self, a: int, swaps: list[int]) -> int:
        return self.median(a - 1, a, a + 1, swaps)

    def reverse_range(self, a: int, b: int) -> None:
        i, j = a, b - 1
        while i < j:
            self.swap(i, j)
            i += 1
            j -= 1
