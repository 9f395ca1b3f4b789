"""A pull parses its compressed layers while they download, and the loader takes those parses unchanged."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dive_py.core.archive.base import LayerBlob, read_fd_layer
from dive_py.core.archive.layoutdir import DirectoryArchive
from dive_py.core.limits import Budget
from dive_py.core.model.loader import load_image
from dive_py.core.sources import early_parse
from dive_py.core.sources.early_parse import EarlyParser, SharedBudget
from dive_py.core.sources.pull import Pulled, pull
from dive_py.core.sources.reference import parse_reference
from dive_py.core.sources.registry import Registry, RegistryError
from dive_py.core.sources.spool import Spool, SpoolReader
from dive_py.core.tar.layerread import read_layer
from dive_py.errors import ArchiveError, LayerError, LimitError
from tests.sources.servers import Scripted, scripted_registry, sha


def layer_tar(files: dict[str, bytes], *, bad_name: str | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
        if bad_name is not None:
            tar.addfile(tarfile.TarInfo(bad_name), io.BytesIO(b""))
    return buf.getvalue()


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def columns(blob: LayerBlob) -> tuple[object, ...]:
    raw = blob.raw
    hashes = list(raw.hashes) if raw.hashes is not None else None
    return (raw.paths, bytes(raw.kinds), list(raw.sizes), list(raw.modes), raw.links, hashes, raw.tar_bytes)


def on_disk(path: str, hash_files: bool = True) -> LayerBlob:
    fd = os.open(path, os.O_RDONLY)
    try:
        return read_fd_layer(
            fd, 0, os.path.getsize(path), hash_files=hash_files, what="x", progress=None, budget=Budget()
        )
    finally:
        os.close(fd)


# -- the spool: a file read while it is written ----------------------------------------------------------------


def test_a_reader_follows_the_writer_and_waits_for_it(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    data = os.urandom(3 << 20)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    spool = Spool(str(path), len(data))
    reader = SpoolReader(spool, str(tmp_path / "renamed"))

    def write() -> None:
        for start in range(0, len(data), 100_000):
            chunk = data[start : start + 100_000]
            os.write(fd, chunk)
            spool.grew(len(chunk))
            time.sleep(0.001)
        os.close(fd)
        os.replace(path, tmp_path / "renamed")  # the reader's descriptor outlives the rename
        spool.finish()

    writer = threading.Thread(target=write)
    writer.start()
    got = bytearray()
    while chunk := reader.read(65536):
        got += chunk
    writer.join()
    reader.close()
    assert bytes(got) == data and spool.verified


def test_a_failed_download_stops_the_reader(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_bytes(b"abc")
    spool = Spool(str(path), 10)
    reader = SpoolReader(spool, str(tmp_path / "final"))
    spool.grew(3)
    assert reader.read(10) == b"abc"
    threading.Timer(0.05, spool.fail, ["RegistryError"]).start()
    with pytest.raises(ArchiveError, match=r"the download stopped \(RegistryError\)"):
        reader.read(10)  # was waiting for more
    reader.close()
    assert not spool.verified


def test_an_aborted_pull_stops_a_reader_of_a_whole_file_and_a_late_reader_opens_the_renamed_one(
    tmp_path: Path,
) -> None:
    (tmp_path / "final").write_bytes(b"0123456789")
    spool = Spool(str(tmp_path / "gone-tmp"), 10)  # renamed before the parse started
    spool.grew(10)
    spool.finish()
    reader = SpoolReader(spool, str(tmp_path / "final"))
    assert reader.read(4) == b"0123"
    spool.abort()  # Ctrl+C, or another layer failed: inflating the rest would be for nothing
    with pytest.raises(ArchiveError, match="the pull stopped"):
        reader.read(4)
    reader.close()
    with pytest.raises(FileNotFoundError):  # neither file: the download failed and was removed
        SpoolReader(Spool(str(tmp_path / "x"), 1), str(tmp_path / "y"))


# -- the early parser ------------------------------------------------------------------------------------------


def feed(parser: EarlyParser, digest: str, blob: bytes, tmp: Path) -> None:
    path = tmp / digest[7:]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    spool = parser.watch(digest, str(path), str(path), len(blob))
    assert spool is not None
    for start in range(0, len(blob), 4096):
        chunk = blob[start : start + 4096]
        os.write(fd, chunk)
        spool.grew(len(chunk))
    os.close(fd)
    spool.finish()


def test_the_early_parse_is_the_parse_from_disk(tmp_path: Path) -> None:
    files = {f"dir/f{i}.txt": os.urandom(i * 97) for i in range(300)}
    blob = gz(layer_tar(files))
    parser = EarlyParser({sha(blob)})
    feed(parser, sha(blob), blob, tmp_path)
    got = parser.results()
    parser.close()
    assert set(got) == {sha(blob)}
    assert columns(got[sha(blob)]) == columns(on_disk(str(tmp_path / sha(blob)[7:])))
    assert got[sha(blob)].compression == "gzip" and got[sha(blob)].stored_size == len(blob)


def test_only_verified_well_formed_compressed_layers_are_kept(tmp_path: Path) -> None:
    good = gz(layer_tar({"a": b"1"}))
    unverified = gz(layer_tar({"b": b"2"}))
    plain = layer_tar({"c": b"3"})  # read in place by the layout reader, with file offsets
    hostile = gz(layer_tar({"d": b"4"}, bad_name="../../escape"))
    corrupt = good[:20] + bytes(40) + good[60:]
    digests = {sha(b) for b in (good, unverified, plain, hostile, corrupt)}
    parser = EarlyParser(digests | {"sha256:" + "0" * 64})
    assert parser.watch(sha(b"config"), str(tmp_path / "cfg"), str(tmp_path / "cfg"), 6) is None  # not a layer
    feed(parser, sha(good), good, tmp_path)
    feed(parser, sha(unverified), unverified, tmp_path)
    # Its last byte arrived and its parse may be complete, but the digest did not match after all.
    parser._jobs[sha(unverified)][0].verified = False
    for blob in (plain, hostile, corrupt):
        feed(parser, sha(blob), blob, tmp_path)
    got = parser.results()
    parser.close()
    assert set(got) == {sha(good)}
    assert not [t for t in threading.enumerate() if t.name.startswith("divepy-parse")]


def test_parsers_share_one_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Four parsers charge one budget; its limit is the image's (the lock matters without a GIL)."""
    budget = SharedBudget()

    def charge() -> None:
        for _ in range(20_000):
            budget.spend(1, 2, "x")

    threads = [threading.Thread(target=charge) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (budget.entries, budget.chars) == (80_000, 160_000)
    monkeypatch.setattr("dive_py.core.limits.IMAGE_ENTRIES", 10)
    with pytest.raises(LimitError):
        budget.spend(11, 0, "x")


# -- a pull hands its parses to the loader ---------------------------------------------------------------------

CONFIG = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'


@pytest.fixture
def scripted() -> Iterator[Scripted]:
    with scripted_registry() as reg:
        yield reg


def pull_from(reg: Scripted, tmp: Path) -> Pulled:
    ref = parse_reference(f"{reg.host}/app:1")
    registry = Registry(ref, plain_http=True, sleep=lambda s: None)
    try:
        return pull(registry, ref, str(tmp / "cache"))
    finally:
        registry.close()


def test_the_loader_takes_the_pulls_parses_and_gives_the_same_image(
    scripted: Scripted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layers = [
        gz(layer_tar({f"a/{i}": os.urandom(50) for i in range(200)})),
        layer_tar({"plain.txt": b"uncompressed"}),
        gz(layer_tar({"a/7": b"changed", ".wh.gone": b""})),
    ]
    scripted.image("app", "1", layers, config=CONFIG)
    pulled = pull_from(scripted, tmp_path)
    names = {f"blobs/sha256/{sha(b)[7:]}" for b in (layers[0], layers[2])}
    assert set(pulled.parsed) == names  # the compressed two, parsed while they arrived
    early = dict(pulled.parsed)

    read_from_disk: list[int] = []
    real = read_fd_layer

    def counting(fd: int, *args: object, **kwargs: object) -> LayerBlob:
        read_from_disk.append(fd)
        return real(fd, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("dive_py.core.archive.layoutdir.read_fd_layer", counting)
    image = load_image(pulled, hash_files=True)
    assert len(read_from_disk) == 1  # only the uncompressed layer
    assert image.source == f"registry://{scripted.host}/app:1"  # not the cache's (or a temporary) directory
    assert pulled.parsed == {}  # handed out once
    again = load_image(DirectoryArchiveOpener(pulled.layout), hash_files=True)
    assert len(read_from_disk) == 4
    for column in ("pid", "kind", "size", "mode", "offset", "hash"):
        assert getattr(image.entries, column) == getattr(again.entries, column), column
    assert [(la.size, la.tar_size, la.entry_count, la.compression) for la in image.layers] == [
        (la.size, la.tar_size, la.entry_count, la.compression) for la in again.layers
    ]
    for name, blob in early.items():
        assert columns(blob) == columns(on_disk(os.path.join(pulled.layout, name)))
    image.archive.close()
    again.archive.close()


class DirectoryArchiveOpener:
    """The pulled layout opened without the pull's parses (what a later run does)."""

    def __init__(self, layout: str) -> None:
        self.label = layout
        self.layout = layout

    def open_archive(self, *, hash_files: bool, progress: object = None, scan: bool = True) -> DirectoryArchive:
        return DirectoryArchive(self.layout, self.layout)

    def identity(self) -> str | None:
        return None


def test_a_layer_the_early_parse_refused_is_reported_by_the_loader_as_ever(scripted: Scripted, tmp_path: Path) -> None:
    layers = [gz(layer_tar({"ok": b"1"})), gz(layer_tar({"x": b"2"}, bad_name="/abs/name"))]
    scripted.image("app", "1", layers, config=CONFIG)
    pulled = pull_from(scripted, tmp_path)
    assert list(pulled.parsed) == [f"blobs/sha256/{sha(layers[0])[7:]}"]
    with pytest.raises(LayerError, match=r"layer 1 \(blobs/sha256/[0-9a-f]{64}\): absolute entry name '/abs/name'"):
        load_image(pulled, hash_files=True)


def test_the_pulls_parses_count_against_the_image_limit(
    scripted: Scripted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layers = [gz(layer_tar({f"f{i}": b"" for i in range(30)})), gz(layer_tar({f"g{i}": b"" for i in range(30)}))]
    scripted.image("app", "1", layers, config=CONFIG)
    pulled = pull_from(scripted, tmp_path)
    assert len(pulled.parsed) == 2
    monkeypatch.setattr("dive_py.core.limits.IMAGE_ENTRIES", 45)  # each layer fits; the two do not
    with pytest.raises(LimitError, match=r"more than 45 entries"):
        load_image(pulled, hash_files=True)


def test_a_bad_digest_stops_the_parsers_and_keeps_nothing(scripted: Scripted, tmp_path: Path) -> None:
    big = gz(layer_tar({f"f{i}": os.urandom(2000) for i in range(400)}))
    scripted.image("app", "1", [big], config=CONFIG)
    scripted.routes[f"/v2/app/blobs/{sha(big)}"] = (200, {}, big[:-1] + b"X")
    with pytest.raises(RegistryError, match=r"does not match its digest: refused$"):
        pull_from(scripted, tmp_path)
    assert not [t for t in threading.enumerate() if t.name.startswith(("divepy-parse", "divepy-pull"))]
    assert list((tmp_path / "cache" / "tmp").iterdir()) == []
    assert early_parse.PARSERS >= 1


def test_close_aborts_every_spool_even_a_finished_one(tmp_path: Path) -> None:
    blob = gz(layer_tar({"a": b"1"}))
    parser = EarlyParser({sha(blob)})
    feed(parser, sha(blob), blob, tmp_path)
    spool = parser._jobs[sha(blob)][0]
    parser.close()
    assert spool.aborted


def test_a_pull_of_many_layers_holds_a_descriptor_per_parser_not_per_layer(
    scripted: Scripted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layers = [gz(layer_tar({f"l{n}/f": bytes([n])})) for n in range(16)]
    scripted.image("app", "1", layers, config=CONFIG)
    open_now = peak = 0
    lock = threading.Lock()
    real_init, real_close = SpoolReader.__init__, SpoolReader.close

    def init(self: SpoolReader, spool: Spool, final: str) -> None:
        nonlocal open_now, peak
        real_init(self, spool, final)
        with lock:
            open_now += 1
            peak = max(peak, open_now)

    def close(self: SpoolReader) -> None:
        nonlocal open_now
        if not self.closed:
            with lock:
                open_now -= 1
        real_close(self)

    real_read_layer = read_layer

    def slow_read_layer(*args: object, **kwargs: object) -> object:
        time.sleep(0.05)  # parsers slower than the downloads: layers queue up behind them
        return real_read_layer(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(SpoolReader, "__init__", init)
    monkeypatch.setattr(SpoolReader, "close", close)
    monkeypatch.setattr("dive_py.core.sources.early_parse.read_layer", slow_read_layer)
    pulled = pull_from(scripted, tmp_path)
    assert len(pulled.parsed) == 16
    assert peak <= early_parse.PARSERS and open_now == 0


def test_a_reopen_for_contents_drops_the_pulls_parses(scripted: Scripted, tmp_path: Path) -> None:
    scripted.image("app", "1", [gz(layer_tar({"a": b"1"}))], config=CONFIG)
    pulled = pull_from(scripted, tmp_path)
    assert pulled.parsed
    archive = pulled.open_archive(hash_files=False, scan=False)  # the metadata cache answered the load
    assert isinstance(archive, DirectoryArchive) and archive._preparsed == {} and pulled.parsed == {}
    archive.close()


def test_the_limit_named_is_the_one_reading_from_disk_names(
    scripted: Scripted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each layer fits; together they cross both limits, and the characters limit is crossed first."""
    first = gz(layer_tar({f"a/{i:08d}": b"" for i in range(5000)}))
    second = gz(layer_tar({f"b/{i:018d}": b"" for i in range(10000)}))
    scripted.image("app", "1", [first, second], config=CONFIG)
    pulled = pull_from(scripted, tmp_path)
    assert len(pulled.parsed) == 2
    monkeypatch.setattr("dive_py.core.limits.IMAGE_ENTRIES", 14_000)
    monkeypatch.setattr("dive_py.core.limits.NAME_CHARS", 200_000)
    messages = []
    for source in (pulled, DirectoryArchiveOpener(pulled.layout)):
        with pytest.raises(LimitError) as info:
            load_image(source, hash_files=True)
        messages.append(str(info.value))
    assert messages[0] == messages[1] and "characters" in messages[0]


def test_http_reads_are_a_mebibyte_once_httpx_is_used() -> None:
    """64 KiB reads cost a 530 MB pull 2.8 s instead of 1.1 s (GIL hand-overs per chunk): see lazyhttp."""
    import subprocess
    import sys

    code = (
        "from dive_py.core.sources.lazyhttp import READ_BYTES, httpx\n"
        "httpx.Client\n"
        "from httpcore._sync.http11 import HTTP11Connection as C\n"
        "assert C.READ_NUM_BYTES == READ_BYTES == 1 << 20, C.READ_NUM_BYTES\n"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


@pytest.mark.parametrize("durable", [True, False])
def test_only_a_cache_that_outlives_the_run_is_synced(
    scripted: Scripted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, durable: bool
) -> None:
    scripted.image("app", "1", [gz(layer_tar({"a": b"1"})), gz(layer_tar({"b": b"2"}))], config=CONFIG)
    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", synced.append)
    ref = parse_reference(f"{scripted.host}/app:1")
    registry = Registry(ref, plain_http=True, sleep=lambda s: None)
    try:
        pull(registry, ref, str(tmp_path / "cache"), durable=durable)
    finally:
        registry.close()
    assert len(synced) == (3 if durable else 0)  # the config and two layers; --no-cache: none


@pytest.mark.parametrize("no_cache", [True, False])
def test_a_no_cache_run_pulls_without_syncing(
    scripted: Scripted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_cache: bool
) -> None:
    from dive_py.main_flow import Options
    from dive_py.pulling import pulled_image

    scripted.image("app", "1", [gz(layer_tar({"a": b"1"}))], config=CONFIG)
    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", synced.append)
    opts = Options(path="", shown_name="", registry=f"{scripted.host}/app:1", quiet=True, no_cache=no_cache)
    opts.cache_dir = None if no_cache else str(tmp_path / "cache")
    with pulled_image(opts) as pulled:
        assert pulled.label == f"registry://{scripted.host}/app:1"
    assert bool(synced) is not no_cache
