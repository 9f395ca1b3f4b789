"""``--compare`` on the real images: small-mixed and its child (one more RUN), from make-real-images.sh."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dive_py.core.archive import open_archive
from dive_py.core.oci.manifest import find_images
from tests.clitools import run_divepy
from tests.conftest import real_image

pytestmark = pytest.mark.real

ARCHIVE = "small-mixed+child.docker-save.tar"


def test_the_child_against_its_parent_exactly(tmp_path: Path) -> None:
    both = real_image(ARCHIVE)
    parent = real_image("small-mixed.docker-save.tar")
    child = f"docker-archive:{both}:fixtures/small-mixed-child:latest"  # skopeo's spelling picks the image
    res = run_divepy(child, "--compare", parent, "--json", "-", "-q", cwd=tmp_path)
    assert res.code == 0, res.stderr
    doc = json.loads(res.out)
    layers = doc["layers"]
    assert (layers["shared"], layers["reused"], layers["gone"]) == (7, [], [])
    assert [(la["index"], la["sizeBytes"]) for la in layers["new"]] == [(7, 6)]
    assert "echo child > /app/child.txt && rm /app/overwrite-me.txt" in layers["new"][0]["command"]
    changes = {(i["path"], i["change"], i["deltaBytes"]) for i in doc["paths"]["items"]}
    assert changes == {
        ("/app/child.txt", "added", 6),
        ("/app/overwrite-me.txt", "removed", -40),
        # The parent's VOLUME /app/state has no entry in its layers; the child's RUN ran with the
        # volume mounted, and Docker stored the mount point in the new layer.
        ("/app/state", "added", 0),
    }
    figures = {f["key"]: f["delta"] for f in doc["figures"]}
    assert figures["image.sizeBytes"] == 6 and figures["layerCount"] == 1 and figures["fileCount"] == 0
    assert figures["insights.byKind.removed"] == 40  # the file the child deleted is still stored below
    assert doc["verdict"] == {"result": "ok", "line": "verdict: ok (+6 B, +<0.1%)"}
    # The same parent read from the two-image archive, by its index there, gives the same comparison
    # (the order of the images differs between runs of the script: it is looked up).
    archive = open_archive(str(both), hash_files=False)
    try:
        names = [ref.names for ref in find_images(archive).images]
    finally:
        archive.close()
    index = next(i for i, n in enumerate(names) if "fixtures/small-mixed:latest" in n)
    again = run_divepy(child, "--compare", f"docker-archive:{both}:@{index}", "--json", "-", "-q", cwd=tmp_path)
    assert again.code == 0, again.stderr
    assert json.loads(again.out)["paths"] == doc["paths"]
