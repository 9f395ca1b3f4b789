"""Byte sizes: go-humanize's ``Bytes`` and ``ParseBytes``, as dive prints and reads them.

Expectations follow the algorithm (reference §1.5): below 10 bytes ``N B``;
otherwise ``e = floor(log1000(n))``, ``val = floor(n / 1000**e * 10 + 0.5) / 10``,
printed ``%.1f`` when ``val < 10`` else ``%.0f`` (Go rounds a tie to even, so
12.5 prints ``12``).  The dive-marked tests check the same tables against
dive 0.13.1 itself: its CI report humanizes every inefficient file's size and
prints the parsed ``highestWastedBytes`` threshold in bytes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dive_py.core.units import humanize_bytes, parse_bytes
from dive_py.fixtures.builder import ImageSpec, write_archive
from tests.clitools import dive_ci
from tests.conftest import peer_image

HUMANIZED = {
    0: "0 B",
    1: "1 B",
    9: "9 B",
    10: "10 B",
    999: "999 B",
    1000: "1.0 kB",
    1049: "1.0 kB",
    1050: "1.1 kB",
    2500: "2.5 kB",
    6405: "6.4 kB",
    9949: "9.9 kB",
    9950: "10 kB",  # rounds to 10.0, which is no longer < 10: no decimal
    12500: "12 kB",  # 12.5 -> %.0f rounds half to even
    12810: "13 kB",
    13500: "14 kB",
    32025: "32 kB",
    122500: "122 kB",
    999_999: "1000 kB",  # e = 1, 999.999 rounds to 1000.0 but the unit stays kB
    10**6: "1.0 MB",
    1220598: "1.2 MB",
    5_242_880: "5.2 MB",
    15728824: "16 MB",
    10**9: "1.0 GB",
    123_456_789_012: "124 GB",  # 123.5 -> 124 (half to even)
    10**12: "1.0 TB",
    2**40: "1.1 TB",
}


@pytest.mark.parametrize(("size", "text"), sorted(HUMANIZED.items()))
def test_humanize_bytes(size: int, text: str) -> None:
    assert humanize_bytes(size) == text


PARSED = {
    "20MB": 20_000_000,
    "20mb": 20_000_000,
    "19Mb": 19_000_000,  # case-insensitive: NOT megabits
    "50kB": 50_000,
    "50KB": 50_000,
    "1B": 1,
    "1b": 1,
    "1000": 1000,
    "0": 0,
    "1KiB": 1024,
    "1kib": 1024,
    "1Ki": 1024,
    "1k": 1000,
    "1M": 1_000_000,
    "1Mi": 1 << 20,
    "1,000": 1000,
    "1,000,000 B": 1_000_000,
    "1.5 GB": 1_500_000_000,
    "1.5GiB": 1_610_612_736,
    "2TB": 2 * 10**12,
    "1PiB": 1 << 50,
    "1EB": 10**18,
    "10 kB ": 10_000,  # the unit is trimmed
    ".5kB": 500,
    "2.01kB": 2009,  # 2.01 * 1000 = 2009.9999999999998, truncated like Go's uint64()
    "9.95KiB": 10188,
}


@pytest.mark.parametrize(("text", "value"), sorted(PARSED.items()))
def test_parse_bytes(text: str, value: int) -> None:
    assert parse_bytes(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "",
        "MB",
        " 5MB",
        "not_a_size",
        "5 XB",
        "5 bytes",
        "5MBs",
        "1e3",
        "1..5kB",
        "-1kB",
        "5 M B",
        "16EiB",
        "20EB",
        "١٢MB",
        "²MB",
        "1²",  # digits to str.isdigit, not to Go's ParseFloat
    ],
)
def test_parse_bytes_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_bytes(text)


def test_parse_bytes_error_names_the_input() -> None:
    with pytest.raises(ValueError, match=re.escape("unknown size unit 'xb' in '5 XB'")):
        parse_bytes("5 XB")
    with pytest.raises(ValueError, match=re.escape("not a size: 'not_a_size'")):
        parse_bytes("not_a_size")


def test_humanize_round_trips_through_parse_within_rounding() -> None:
    for size in (1000, 6405, 1220598, 15728824, 10**9):
        back = parse_bytes(humanize_bytes(size).replace(" ", ""))
        assert abs(back - size) <= size * 0.05


_ROW = re.compile(r"^\s+(\d+)\s{2}(.{12})\s{2}/(\S+)$")


@pytest.mark.dive
@pytest.mark.slow
def test_humanize_matches_dive(tmp_path: Path) -> None:
    """Each file ``s<N>`` is written twice (halves of N), so dive reports it as wasting exactly N bytes."""
    img = ImageSpec(tags=["units:latest"])
    low, high = img.layer("ADD low"), img.layer("ADD high")
    for size in HUMANIZED:
        if size > 20_000_000:
            continue  # real bytes have to be written; stay small
        low.file(f"s{size}", bytes(size // 2))
        high.file(f"s{size}", bytes(size - size // 2))
    archive = write_archive(img, tmp_path / "units.tar")
    _code, report = dive_ci(
        archive, tmp_path, "--highestUserWastedPercent", "disabled", "--lowestEfficiency", "disabled"
    )
    seen = {}
    for line in report.splitlines():
        m = _ROW.match(line)
        if m:
            seen[int(m.group(3)[1:])] = m.group(2).strip()
    expected = {s: t for s, t in HUMANIZED.items() if s <= 20_000_000}
    assert seen == expected
    assert {s: humanize_bytes(s) for s in seen} == seen


@pytest.mark.dive
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1B", 1),
        ("1000", 1000),
        ("1KiB", 1024),
        ("1,000", 1000),
        ("1.5kB", 1500),
        ("2.01kB", 2009),
        ("9.95KiB", 10188),
        ("31kb", 31000),
        ("0.03 MB", 30000),
    ],
)
def test_parse_bytes_matches_dive(tmp_path: Path, text: str, value: int) -> None:
    """test-docker-image wastes 32025 bytes, so dive fails each threshold and prints it in bytes."""
    archive = peer_image("test-docker-image.tar")
    (tmp_path / "rules.yaml").write_text(f"rules:\n  highestWastedBytes: '{text}'\n")
    code, report = dive_ci(archive, tmp_path, "--ci-config", "rules.yaml")
    assert code == 1
    assert f"(wasted-bytes=32025 > threshold={value})" in report
    assert parse_bytes(text) == value
