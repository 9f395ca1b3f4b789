"""Each limit in ``core.limits`` stops the input it is for, with a message naming it.

Small inputs hit the real limits in the hostile suite; limits that need
millions of entries are checked here with the limit itself made small.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from dive_py.core import limits
from dive_py.core.model.entries import PathTable
from dive_py.core.model.loader import load_image
from dive_py.core.tar.layerread import read_layer
from dive_py.errors import LimitError
from tests.helpers import docker_archive, gz, member, read_members, stream_window, tar_of


def _many(n: int) -> bytes:
    return tar_of([member(f"f{i}") for i in range(n)])


def test_the_entry_budget_stops_a_layer_soon_after_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "IMAGE_ENTRIES", 10_000)
    with pytest.raises(LimitError, match=r"the image holds more than 10,000 entries \(divepy's limit\)"):
        read_layer(stream_window(_many(20_000)), hash_files=False)
    budget = limits.Budget()
    read_layer(stream_window(_many(9_000)), hash_files=False, budget=budget)
    assert budget.entries == 9_000
    with pytest.raises(LimitError):  # the same budget across layers: the second layer tips it over
        read_layer(stream_window(_many(2_000)), hash_files=False, budget=budget)


def test_the_name_budget_counts_paths_and_link_targets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "NAME_CHARS", 50_000)
    links = tar_of([member(f"l{i}", tarfile.SYMTYPE, linkname="t" * 100) for i in range(600)])
    with pytest.raises(LimitError, match=r"paths and link targets exceed 50,000 characters"):
        read_layer(stream_window(links), hash_files=False)


def test_interning_parents_is_charged_and_not_recursive() -> None:
    table = PathTable()
    deep = "/".join(["d"] * 3000)
    pid = table.intern(deep)  # 3,000 parents: a recursive intern overflowed the stack
    assert table.paths[pid] == deep and len(table) == 3001
    assert table.chars == sum(len("/".join(["d"] * k)) for k in range(1, 3001))
    assert table.paths[table.parent[pid]] == deep[:-2]


def test_streamed_archives_hold_metadata_up_to_the_total(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from dive_py.core.archive import streamed

    good = tar_of([member("etc/os", data=b"ok")])
    plain = Path(docker_archive(tmp_path / "img.tar", [good]))
    big = tmp_path / "big.tar.gz"
    big.write_bytes(gz(plain.read_bytes()))
    config = next(len(data) for name, data in _members(plain) if name.endswith(".json") and name != "manifest.json")
    monkeypatch.setattr(streamed, "HELD_MEMBER_BYTES", config + 10)  # the config fits, the manifest does not
    with pytest.raises(
        LimitError,
        match=r"member 'manifest.json' was not kept: the archive's metadata members "
        rf"exceed divepy's limit of {config + 10:,} bytes in total",
    ):
        load_image(str(big))
    monkeypatch.setattr(streamed, "HELD_MEMBER_BYTES", 1 << 20)
    load_image(str(big)).close()


def _members(path: Path) -> list[tuple[str, bytes]]:
    return [(info.name, data) for info, data in read_members(path) if info.isreg()]


def test_json_documents_are_capped_in_number_and_bytes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from dive_py.core.archive import base as archive

    path = docker_archive(tmp_path / "img.tar", [tar_of([member("a")])])
    monkeypatch.setattr(archive, "JSON_DOCUMENTS", 1)  # manifest.json, then the config is one too many
    with pytest.raises(LimitError, match=r"more than 1 JSON documents \(divepy's limit\)"):
        load_image(path)
    monkeypatch.setattr(archive, "JSON_DOCUMENTS", 10)
    monkeypatch.setattr(archive, "JSON_TOTAL_BYTES", 100)
    with pytest.raises(
        LimitError,
        match=r"the JSON documents read of \d+ bytes is over divepy's limit of "
        r"100 bytes",
    ):
        load_image(path)


def test_archive_members_are_capped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from dive_py.core.archive import base as archive

    path = docker_archive(tmp_path / "img.tar", [tar_of([member("a")])])
    monkeypatch.setattr(archive, "ARCHIVE_MEMBERS", 2)
    with pytest.raises(LimitError, match=r"more than 2 members \(divepy's limit\)"):
        load_image(path)


def test_binary_sizes_read_naturally() -> None:
    assert limits.binary_size(16 << 20) == "16 MiB"
    assert limits.binary_size(1 << 30) == "1 GiB"
    assert limits.binary_size(1000) == "1,000 bytes"


def test_a_limit_in_an_unreferenced_blob_still_stops_a_streamed_archive(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Memory is spent whichever blob it goes to: the limit ends the load even for a blob no manifest uses."""
    from tests.helpers import file_member, write_members

    plain = Path(docker_archive(tmp_path / "img.tar", [tar_of([member("a")])]))
    members = read_members(plain)
    extra = file_member("unreferenced/layer.tar", _many(3000))
    write_members(tmp_path / "with-extra.tar", [*members, extra])  # after everything the image uses
    packed = tmp_path / "with-extra.tar.gz"
    packed.write_bytes(gz((tmp_path / "with-extra.tar").read_bytes()))
    load_image(str(packed)).close()
    monkeypatch.setattr(limits, "IMAGE_ENTRIES", 1000)
    with pytest.raises(LimitError, match=r"more than 1,000 entries"):
        load_image(str(packed))


def test_only_json_looking_members_are_held(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A streamed archive keeps what may be a manifest or config; a signature or an SBOM blob costs nothing."""
    from dive_py.core.archive import streamed
    from tests.helpers import file_member, write_members

    plain = Path(docker_archive(tmp_path / "img.tar", [tar_of([member("a")])]))
    members = read_members(plain)
    binary = file_member("signature.bin", b"\x00\x01binary" * 1000)
    write_members(tmp_path / "signed.tar", [binary, *members])
    packed = tmp_path / "signed.tar.gz"
    packed.write_bytes(gz((tmp_path / "signed.tar").read_bytes()))
    json_bytes = sum(len(d) for n, d in _members(plain) if n.endswith(".json"))
    monkeypatch.setattr(streamed, "HELD_MEMBER_BYTES", json_bytes + 10)  # no room for the 8 kB binary member
    load_image(str(packed)).close()
