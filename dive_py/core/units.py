"""Byte sizes written and parsed exactly as dive (go-humanize) does.

``humanize_bytes`` reproduces ``humanize.Bytes``: base 1000, ``N B`` below
10 bytes, one decimal below 10 units, none above (``6.4 kB``, ``13 kB``,
``1.2 MB``).  ``parse_bytes`` reproduces ``humanize.ParseBytes``, so CI rule
values such as ``20MB``, ``19Mb`` (= 19,000,000) and ``1KiB`` mean what they
mean to dive.
"""

from __future__ import annotations

import math

_SI = ("B", "kB", "MB", "GB", "TB", "PB", "EB")
_TABLE = {
    "b": 1,
    "": 1,
    "kib": 1 << 10,
    "kb": 10**3,
    "ki": 1 << 10,
    "k": 10**3,
    "mib": 1 << 20,
    "mb": 10**6,
    "mi": 1 << 20,
    "m": 10**6,
    "gib": 1 << 30,
    "gb": 10**9,
    "gi": 1 << 30,
    "g": 10**9,
    "tib": 1 << 40,
    "tb": 10**12,
    "ti": 1 << 40,
    "t": 10**12,
    "pib": 1 << 50,
    "pb": 10**15,
    "pi": 1 << 50,
    "p": 10**15,
    "eib": 1 << 60,
    "eb": 10**18,
    "ei": 1 << 60,
    "e": 10**18,
}


def humanize_bytes(size: int) -> str:
    """``humanize.Bytes(size)``: e.g. 6405 -> ``6.4 kB``, 1220598 -> ``1.2 MB``."""
    if size < 10:
        return f"{size} B"
    exp = math.floor(math.log(size) / math.log(1000))
    exp = min(exp, len(_SI) - 1)
    val = math.floor(size / math.pow(1000, exp) * 10 + 0.5) / 10
    fmt = "{:.1f} {}" if val < 10 else "{:.0f} {}"
    return fmt.format(val, _SI[exp])


def parse_bytes(text: str) -> int:
    """``humanize.ParseBytes``: digits (commas allowed), optional unit, any case."""
    digits = 0
    has_comma = False
    for ch in text:
        if ch not in "0123456789.,":  # ASCII only, as Go's ParseFloat accepts
            break
        has_comma = has_comma or ch == ","
        digits += 1
    number = text[:digits].replace(",", "") if has_comma else text[:digits]
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"not a size: {text!r}") from None
    unit = text[digits:].strip().lower()
    if unit not in _TABLE:
        raise ValueError(f"unknown size unit {unit!r} in {text!r}")
    result = value * _TABLE[unit]
    if result >= 2.0**64:
        raise ValueError(f"size too large: {text!r}")
    return int(result)
