"""The "why wasted" column: what made the last copy of each path in the inefficient-files table."""

from __future__ import annotations

from pathlib import Path

from dive_py.core.analysis.efficiency import analyse
from dive_py.core.analysis.hashing import ensure_hashes, hash_candidates
from dive_py.fixtures.builder import ImageSpec, write_archive
from dive_py.fixtures.demo import DEMO_PATH
from dive_py.viewmodel.waste_reasons import waste_reasons
from tests.helpers import loaded


def test_reasons_on_the_demo_image() -> None:
    with loaded(DEMO_PATH, hash_files=True) as image:
        ensure_hashes(image, hash_candidates(image))
        eff = analyse(image)
        got = dict(
            zip((w.path for w in eff.inefficient), waste_reasons(image, [w.path for w in eff.inefficient]), strict=True)
        )
    assert got == {
        "/app/static/logo.png": "deleted by layer 7",  # rm -rf /app/static
        "/var/cache/apk/APKINDEX.0a1b2c3d.tar.gz": "deleted by layer 6",
        "/app/.git/objects/pack/pack-5d41402abc4b.pack": "chown/chmod copy, layer 5",
        "/app/static/app.js": "deleted by layer 7",
        "/app/main.py": "chown/chmod copy, layer 5",  # chown -R: same bytes, new owner
        "/app/config.yaml": "rewritten by layer 6",  # sed -i
        "/app/.git/HEAD": "chown/chmod copy, layer 5",
        "/app/requirements.txt": "chown/chmod copy, layer 5",  # copied alone, by COPY ., then chowned
    }


def test_identical_copy_unknown_hash_and_unknown_path(tmp_path: Path) -> None:
    img = ImageSpec()
    img.layer("COPY a").file("a", "same").file("b", "one")
    img.layer("COPY a again").file("a", "same").file("b", "two")  # b: same size, other bytes
    with loaded(write_archive(img, tmp_path / "img.tar")) as image:
        assert waste_reasons(image, ["/a", "/b"]) == ["rewritten by layer 1", "rewritten by layer 1"]  # no hashes
        ensure_hashes(image, hash_candidates(image))
        assert waste_reasons(image, ["/a", "/b", "/nowhere"]) == [
            "same bytes again, layer 1",
            "rewritten by layer 1",
            "",
        ]
