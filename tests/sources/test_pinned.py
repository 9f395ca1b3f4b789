"""An image named by digest and whole in the cache opens without the registry; anything less asks it."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from dive_py.core.sources.pinned import cached_by_digest
from dive_py.core.sources.pull import pull
from dive_py.core.sources.reference import parse_reference
from dive_py.core.sources.registry import Registry
from tests.clitools import run_divepy
from tests.sources.servers import Scripted, scripted_registry, sha
from tests.sources.test_early_parse import CONFIG, layer_tar


@pytest.fixture
def scripted() -> Iterator[Scripted]:
    with scripted_registry() as reg:
        yield reg


def filled(reg: Scripted, cache: Path) -> str:
    """Serve a two-layer image, pull it by tag into ``cache``; returns its manifest digest."""
    layers = [gzip.compress(layer_tar({"a.txt": b"one"}), mtime=0), layer_tar({"b.txt": b"two"})]
    digest = reg.image("app", "1", layers, config=CONFIG)
    ref = parse_reference(f"{reg.host}/app:1")
    registry = Registry(ref, plain_http=True, sleep=lambda s: None)
    try:
        pull(registry, ref, str(cache))
    finally:
        registry.close()
    return digest


def test_a_pinned_image_in_the_cache_needs_no_registry(scripted: Scripted, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    digest = filled(scripted, cache)
    asked = len(scripted.seen)
    scripted.routes.clear()  # the registry now knows nothing: any request would fail
    res = run_divepy(f"registry://{scripted.host}/app@{digest}", "--cache-dir", cache, "--json", "-", "-q")
    assert res.code == 0, res.stderr
    doc = json.loads(res.out)
    assert doc["imageInfo"]["source"] == f"registry://{scripted.host}/app@{digest}"
    assert [row["sizeBytes"] for row in doc["layer"]] == [3, 3]
    assert len(scripted.seen) == asked  # not one request
    by_tag = run_divepy(f"registry://{scripted.host}/app:1", "--cache-dir", cache, "--json", "-", "-q")
    assert by_tag.code == 2 and len(scripted.seen) > asked  # a tag may have moved: always asked


@pytest.mark.parametrize("damage", ["blob-missing", "blob-truncated", "manifest-edited", "no-index"])
def test_a_layout_that_is_not_whole_goes_back_to_the_registry(scripted: Scripted, tmp_path: Path, damage: str) -> None:
    cache = tmp_path / "cache"
    digest = filled(scripted, cache)
    layout = cache / "images" / digest[7:]
    ref = parse_reference(f"{scripted.host}/app@{digest}")
    assert cached_by_digest(ref, str(cache)) is not None
    blobs = layout / "blobs" / "sha256"
    manifest = json.loads((blobs / digest[7:]).read_bytes())
    layer = blobs / manifest["layers"][0]["digest"][7:]
    if damage == "blob-missing":
        layer.unlink()
    elif damage == "blob-truncated":
        os.truncate(layer, 3)
    elif damage == "manifest-edited":
        path = blobs / digest[7:]
        path.unlink()  # a hard link to the store: replaced, not written through
        path.write_bytes(json.dumps({**manifest, "layers": []}).encode())
    else:
        (layout / "index.json").unlink()
    assert cached_by_digest(ref, str(cache)) is None


def test_only_a_sha256_digest_is_looked_up(tmp_path: Path) -> None:
    for name in ("reg.example/app:1", "reg.example/app@sha256:" + "A" * 64):
        assert cached_by_digest(parse_reference(name), str(tmp_path)) is None
    assert not (tmp_path / "images").exists()  # a lookup creates nothing
    assert sha(b"x").startswith("sha256:")
