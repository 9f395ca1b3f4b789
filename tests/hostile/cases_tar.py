"""Hostile layer contents: tar headers, PAX records, names, links, types and in-layer order."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

from tests.helpers import pax_record
from tests.hostile import layers as L
from tests.hostile.archives import LAYOUTS, image_in
from tests.hostile.harness import Outcome
from tests.hostile.model import Case, Expect, fails, ok_everywhere


def _img(make: Callable[[], bytes], layout: str = "docker") -> Callable[[Path], list[str]]:
    return lambda box: [image_in(box, [L.good(), make()], layout)]


def _bad(
    name: str,
    cls: str,
    make: Callable[[], bytes],
    message: str,
    layout: str = "docker",
    modes: tuple[str, ...] = ("json", "ci", "list", "extract"),
) -> Case:
    return Case(name, cls, _img(make, layout), fails(message), modes)


def _listed(*want: str, absent: tuple[str, ...] = ()) -> Callable[[Outcome, Path], None]:
    def check(out: Outcome, box: Path) -> None:
        text = out.stdout.decode()
        for w in want:
            assert w in text, f"{w!r} not in the listing:\n{text}"
        for a in absent:
            assert a not in text, f"{a!r} should not be listed:\n{text}"

    return check


def _json_ok(out: Outcome, box: Path) -> None:
    json.loads(out.stdout)


PAX_SIZE = r"layer 1 \(.*\): corrupt PAX header for 'f' \(size="
HANG = "hang"

CASES: list[Case] = [
    # -- no hang: sizes that point backwards or nowhere --------------------------------------
    _bad("pax-size-negative", HANG, lambda: L.with_pax({"size": b"-1536"}), PAX_SIZE),
    _bad("pax-size-negative-zstd", HANG, lambda: L.with_pax({"size": b"-1536"}), PAX_SIZE, "oci-zstd"),
    _bad("pax-size-negative-gzip-outer", HANG, lambda: L.with_pax({"size": b"-1536"}), PAX_SIZE, "docker-gzip"),
    _bad("pax-size-2-to-the-70", HANG, lambda: L.with_pax({"size": str(1 << 70).encode()}), PAX_SIZE),
    _bad("pax-size-not-a-number", HANG, lambda: L.with_pax({"size": b"12a"}), PAX_SIZE),
    _bad("pax-size-with-plus", HANG, lambda: L.with_pax({"size": b"+5"}), PAX_SIZE),
    _bad("pax-size-empty", HANG, lambda: L.with_pax({"size": b""}), PAX_SIZE),
    _bad(
        "pax-uid-beyond-64-bits",
        HANG,
        lambda: L.with_pax({"uid": str(1 << 64).encode()}),
        r"corrupt PAX header for 'f' \(uid=",
    ),
    _bad("pax-gid-negative", HANG, lambda: L.with_pax({"gid": b"-1"}), r"corrupt PAX header for 'f' \(gid="),
    *[
        _bad(f"pax-mtime-{label}", HANG, partial(L.with_pax, {"mtime": value}), r"corrupt PAX header for 'f' \(mtime=")
        for label, value in (
            ("inf", b"inf"),
            ("nan", b"nan"),
            ("exponent", b"1e400"),
            ("minus-inf", b"-inf"),
            ("thirty-digits", b"9" * 30),
            ("hex", b"0x10"),
            ("two-dots", b"1.2.3"),
        )
    ],
    _bad("pax-record-length-zero", HANG, lambda: L.raw_pax(b"0 path=x\n"), r"corrupt PAX header \(record overruns\)"),
    _bad(
        "pax-record-length-huge",
        HANG,
        lambda: L.raw_pax(b"99999999999999999999 path=x\n"),
        r"corrupt PAX header \((bad record length|record overruns)\)",
    ),
    _bad(
        "pax-record-length-backwards",
        HANG,
        lambda: L.raw_pax(b"3 a=b\n"),
        r"corrupt PAX header \(record (overruns|without '=')\)",
    ),
    _bad("pax-record-length-signed", HANG, lambda: L.raw_pax(b"-5 a=b\n"), r"corrupt PAX header \(bad record length\)"),
    _bad(
        "pax-record-without-equals",
        HANG,
        lambda: L.raw_pax(pax_record("path", b"x").replace(b"=", b":")),
        r"record without '='",
    ),
    _bad(
        "base256-size-negative",
        HANG,
        lambda: L.patched(L.SIZE, L.base256(-1536, 12)),
        r"corrupt tar header at offset 0 \(size -1536 is out of range\)",
    ),
    _bad(
        "base256-size-2-to-the-90", HANG, lambda: L.patched(L.SIZE, L.base256(1 << 90, 12)), r"size \d+ is out of range"
    ),
    _bad("octal-size-with-sign", HANG, lambda: L.patched(L.SIZE, b"-0000000012\x00"), r"bad number|out of range"),
    _bad("octal-size-garbage", HANG, lambda: L.patched(L.SIZE, b"12x45\x00"), r"bad number"),
    _bad(
        "base256-mtime-2-to-the-80",
        HANG,
        lambda: L.patched(L.MTIME, L.base256(1 << 80, 12)),
        r"corrupt tar header for 'f' \(mtime \d+ is out of range\)",
    ),
    _bad(
        "base256-gid-negative",
        HANG,
        lambda: L.patched(L.GID, L.base256(-1, 8)),
        r"corrupt tar header for 'f' \(gid -1 is out of range\)",
    ),
    _bad(
        "base256-mode-huge",
        HANG,
        lambda: L.patched(L.MODE, L.base256(1 << 40, 8)),
        r"corrupt tar header for 'f' \(mode \d+ is out of range\)",
    ),
    # -- bounded memory: extension records that claim a gigabyte ---------------------------
    _bad(
        "pax-header-claims-1-gib",
        "memory",
        lambda: L.claimed(b"x", L.GIB),
        r"a PAX extended header of 1,073,741,824 bytes is over divepy's limit of 1 MiB",
    ),
    _bad(
        "pax-header-claims-1-gib-zstd",
        "memory",
        lambda: L.claimed(b"x", L.GIB),
        r"a PAX extended header of 1,073,741,824 bytes is over divepy's limit of 1 MiB",
        "oci-zstd",
    ),
    _bad(
        "gnu-long-name-claims-1-gib",
        "memory",
        lambda: L.claimed(b"L", L.GIB),
        r"a GNU long name of 1,073,741,824 bytes is over divepy's limit of 1 MiB",
        "oci-zstd",
    ),
    _bad(
        "gnu-long-link-claims-1-gib",
        "memory",
        lambda: L.claimed(b"K", L.GIB),
        r"a GNU long link name of 1,073,741,824 bytes is over divepy's limit of 1 MiB",
        "oci-gzip",
    ),
    _bad("path-over-path-max", "memory", lambda: L.long_path(5000), r"more than 4,096 characters in one path"),
    _bad(
        "link-target-over-path-max",
        "memory",
        lambda: L.long_link(5000),
        r"more than 4,096 characters in one link target",
    ),
    _bad("path-of-3000-components", "memory", lambda: L.deep_path(3000), r"more than 4,096 characters in one path"),
    Case(
        "path-of-1500-components",
        "traceback",
        _img(lambda: L.deep_path(1500)),
        ok_everywhere({"list": _listed("/a/a/a/a")}),
        ("json", "ci", "list", "extract", "explorer"),
    ),
    # -- one line, never a traceback: malformed headers and odd types ----------------------
    _bad("bad-checksum-second-header", "traceback", L.bad_checksum_second, r"bad tar header checksum at offset 1024"),
    _bad("ends-inside-a-header", "traceback", L.truncated_header, r"ends inside a tar header"),
    _bad("ends-after-a-pax-header", "traceback", L.truncated_after_pax, r"ends after an extended header"),
    _bad("data-past-the-end", "traceback", L.data_past_end, r"is truncated"),
    _bad("gnu-sparse-type", "traceback", lambda: L.typed(b"S"), r"holds a GNU sparse file"),
    _bad("pax-gnu-sparse", "traceback", lambda: L.with_pax({"GNU.sparse.major": b"1"}), r"holds a GNU sparse file"),
    _bad("pax-global-header", "traceback", lambda: L.typed(b"g"), r"holds a PAX global header"),
    _bad("unknown-type-Q", "traceback", lambda: L.typed(b"Q"), r"entry 'odd' has type 'Q', which no runtime unpacks"),
    Case(
        "gnu-volume-label-is-skipped",
        "semantics",
        _img(L.volume_label),
        ok_everywhere({"list": _listed("/etc/os-release", absent=("TAPE",))}),
        ("json", "list"),
    ),
    _bad(
        "hardlink-to-a-directory",
        "messages",
        lambda: L.hardlinks(b"5"),
        r"hardlink /h points to /t, which is a directory \(hardlinks to directories are not allowed\)",
    ),
    _bad(
        "hardlink-to-itself",
        "messages",
        lambda: L.hardlinks(b"0", link_to=b"h"),
        r"hardlink /h points to /h, which does not exist",
    ),
    _bad("hardlink-loop", "messages", L.hardlink_loop, r"hardlink /(a|b) points to /(b|a), which does not exist"),
    *[
        Case(
            f"hardlink-to-a-{kind}",
            "traceback",
            _img(partial(L.hardlinks, flag)),
            ok_everywhere({"list": _listed("/h")}),
            ("json", "ci", "list", "extract", "explorer"),
        )
        for kind, flag in (("symlink", b"2"), ("fifo", b"6"), ("char-device", b"3"), ("block-device", b"4"))
    ],
    # -- tar semantics ----------------------------------------------------------------------
    Case(
        "file-then-symlink-over-its-directory",
        "semantics",
        _img(L.replaced_by_symlink),
        ok_everywhere({"list": _listed("/etc -> /elsewhere", absent=("/etc/passwd",))}),
        ("list", "json"),
    ),
    Case(
        "deep-tree-replaced-by-a-file",
        HANG,
        _img(lambda: L.deep_tree_replaced(1500, 20_000)),
        ok_everywhere({"list": _listed("/top\n", absent=("/top/d",))}),
        ("list",),
    ),
    Case(
        "file-then-symlink-over-its-directory-gzip",
        "semantics",
        _img(L.replaced_by_symlink, "oci-gzip"),
        ok_everywhere({"list": _listed("/etc -> /elsewhere", absent=("/etc/passwd",))}),
        ("list",),
    ),
    _bad(
        "layer-name-with-nul-in-pax",
        "traceback",
        lambda: L.with_pax({"path": b"a\x00b"}),
        r"entry name contains a NUL byte",
    ),
    _bad("absolute-name", "traceback", lambda: L.named(b"/etc/shadow"), r"absolute entry name '/etc/shadow'"),
    _bad("dotdot-name", "traceback", lambda: L.named(b"a/../../etc/evil"), r"climbs out of the root with '\.\.'"),
    _bad("non-utf8-name", "traceback", lambda: L.named(b"caf\xe9"), r"entry name is not valid UTF-8"),
]

# The same hostile layers in every layout: the reader of each must refuse them the same way.
MATRIX = {
    "negative-pax-size": (lambda: L.with_pax({"size": b"-1536"}), PAX_SIZE),
    "pax-header-claims-1-gib": (lambda: L.claimed(b"x", L.GIB), r"over divepy's limit of 1 MiB"),
    "mtime-nan": (lambda: L.with_pax({"mtime": b"nan"}), r"\(mtime='nan'\)"),
    "hardlink-to-directory": (lambda: L.hardlinks(b"5"), r"which is a directory"),
}
for _layout in LAYOUTS:
    for _name, (_make, _message) in MATRIX.items():
        if _layout in ("docker", "oci-zstd") and _name in ("negative-pax-size", "pax-header-claims-1-gib"):
            continue  # already above
        CASES.append(_bad(f"{_name}-in-{_layout}", "formats", _make, _message, _layout, ("json",)))


def _hardlink_to_symlink_extracts_a_symlink(out: Outcome, box: Path) -> None:
    assert os.readlink(box / "h-out") == "elsewhere"


def _h_keeps_version_one(out: Outcome, box: Path) -> None:
    assert (box / "h-out").read_bytes() == b"version one\n"


def _extract_relinked(layout: str) -> Callable[[Path], list[str]]:
    def build(box: Path) -> list[str]:
        return [image_in(box, [L.good(), L.relinked_versions()], layout), "--extract", "/h", "-o", "h-out"]

    return build


for _layout in ("docker", "oci-gzip", "docker-gzip"):
    CASES.append(
        Case(
            f"hardlink-keeps-the-earlier-version-{_layout}",
            "semantics",
            _extract_relinked(_layout),
            Expect(0, creates=("h-out",), check=_h_keeps_version_one),
            ("raw",),
        )
    )
CASES.append(
    Case(
        "hardlink-to-a-symlink-extracts-as-a-symlink",
        "semantics",
        lambda box: [image_in(box, [L.good(), L.hardlinks(b"2")]), "--extract", "/h", "-o", "h-out"],
        Expect(0, creates=("h-out",), check=_hardlink_to_symlink_extracts_a_symlink),
        ("raw",),
    )
)
CASES.append(
    Case(
        "hardlink-to-a-fifo-cannot-be-extracted",
        "semantics",
        lambda box: [image_in(box, [L.good(), L.hardlinks(b"6")]), "--extract", "/h", "-o", "h-out"],
        fails(r"/h is a fifo: there is nothing to write"),
        ("raw",),
    )
)
