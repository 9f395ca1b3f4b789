"""``--json``: dive's export byte for byte, then our extra top-level keys (reference §6, §10.2).

Our file is dive's object with more keys appended: the bytes up to the
first extra key (``,\\n  "schemaVersion"``) equal dive's whole output minus
its closing ``\\n}``.  Without dive the structural facts of §10.2 pin the
same sections down.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dive_py.fixtures.builder import ImageSpec, write_archive
from tests.clitools import dive_json, divepy_json, run_divepy
from tests.conftest import peer_image

EXTRA_START = b',\n  "schemaVersion": 2,\n'

# index, id prefix, digest prefix, sizeBytes, fileList entries, command prefix
DOCKER_LAYERS = [
    (0, "28cfe03618aa", "sha256:23bc2b70b201", 1154361, 415, "#(nop) ADD file:ce026b62"),
    (1, "1871059774ab", "sha256:a65b7d7ac139", 6405, 1, "#(nop) ADD file:139c3708"),
    (2, "49fe2a475548", "sha256:93e208d47175", 0, 4, "mkdir -p /root/example/really/nested"),
    (3, "80cd2ca1ffc8", "sha256:4abad3abe3cb", 6405, 3, "cp /somefile.txt /root/example/somefile1.txt"),
    (4, "c99e2f8d3f62", "sha256:14c9a6ffcb6a", 6405, 3, "chmod 444 /root/example/somefile1.txt"),
    (5, "5eca617bdc3b", "sha256:778fb5770ef4", 6405, 3, "cp /somefile.txt /root/example/somefile2.txt"),
    (6, "f07c3eb88757", "sha256:f275b8a31a71", 6405, 3, "cp /somefile.txt /root/example/somefile3.txt"),
    (7, "461885fc2258", "sha256:dd1effc5eb19", 6405, 4, "mv /root/example/somefile3.txt /root/saved.txt"),
    (8, "a10327f68ffe", "sha256:8d1869a0a066", 6405, 2, "cp /root/saved.txt /root/.saved.txt"),
    (9, "f2fc54e25cb7", "sha256:bc2e36423fa3", 0, 2, "rm -rf /root/example/"),
    (10, "aad36d0b05e7", "sha256:7f648d45ee7b", 2187, 4, "#(nop) ADD dir:7ec14b81"),
    (11, "3d4ad907517a", "sha256:a4b8f95f266d", 6405, 2, "cp /root/saved.txt /tmp/saved.again1.txt"),
    (12, "81b1b002d4b4", "sha256:22a44d45780a", 6405, 3, "cp /root/saved.txt /root/.data/saved.again2.txt"),
    (13, "cfb35bb5c127", "sha256:ba689cac6a98", 6405, 2, "chmod +x /root/saved.txt"),
]


@pytest.fixture(scope="module")
def docker_export(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    work = tmp_path_factory.mktemp("export")
    return divepy_json(peer_image("test-docker-image.tar"), work)


def split_extras(raw: bytes) -> tuple[bytes, bytes]:
    at = raw.index(EXTRA_START)
    return raw[:at], raw[at:]


@pytest.mark.dive
@pytest.mark.parametrize("name", ["test-docker-image.tar", "test-kaniko-image.tar"])
def test_dive_sections_are_byte_identical(tmp_path: Path, name: str) -> None:
    archive = peer_image(name)
    theirs = dive_json(archive, tmp_path)
    ours = divepy_json(archive, tmp_path)
    assert theirs.endswith(b"\n  }\n}")
    head, _extras = split_extras(ours)
    assert head == theirs[:-2]


def test_layers_match_dives_snapshot(docker_export: bytes) -> None:
    doc = json.loads(docker_export)
    assert list(doc)[:2] == ["layer", "image"]
    layers = doc["layer"]
    assert len(layers) == 14
    for layer, (index, id_, digest, size, count, command) in zip(layers, DOCKER_LAYERS, strict=True):
        assert list(layer) == ["index", "id", "digestId", "sizeBytes", "command", "fileList"]
        assert layer["index"] == index
        assert layer["id"].startswith(id_) and len(layer["id"]) == 64
        assert layer["digestId"].startswith(digest) and len(layer["digestId"]) == 71
        assert layer["sizeBytes"] == size
        assert len(layer["fileList"]) == count
        assert layer["command"].startswith(command)
    assert sum(len(layer["fileList"]) for layer in layers) == 451
    assert layers[0]["command"].endswith(" in / ")  # only the "/bin/sh -c " prefix is stripped


def test_file_lists(docker_export: bytes) -> None:
    layers = json.loads(docker_export)["layer"]
    base = {f["path"]: f for f in layers[0]["fileList"]}
    assert base["bin/["] == {
        "path": "bin/[",
        "typeFlag": 48,
        "linkName": "",
        "size": 1075464,
        "fileMode": 493,
        "uid": 0,
        "gid": 0,
        "isDir": False,
    }
    assert base["bin/[["] == {
        "path": "bin/[[",
        "typeFlag": 49,
        "linkName": "bin/[",
        "size": 0,
        "fileMode": 493,
        "uid": 0,
        "gid": 0,
        "isDir": False,
    }
    assert base["bin"]["fileMode"] == 2147484141  # ModeDir | 0755
    assert base["bin"]["typeFlag"] == 53 and base["bin"]["isDir"] is True
    assert base["root"]["fileMode"] == 2147484096  # ModeDir | 0700
    assert base["tmp"]["fileMode"] == 2148532735  # ModeDir | ModeSticky | 0777
    assert [f["path"] for f in layers[7]["fileList"]] == [
        "root/example/.wh.somefile3.txt",
        "root/example",
        "root/saved.txt",
        "root",
    ]
    assert layers[7]["fileList"][0] == {
        "path": "root/example/.wh.somefile3.txt",
        "typeFlag": 48,
        "linkName": "",
        "size": 0,
        "fileMode": 0,
        "uid": 0,
        "gid": 0,
        "isDir": False,
    }
    assert [f["path"] for f in layers[9]["fileList"]] == ["root/.wh.example", "root"]
    # children first, siblings by name: every directory comes right after its subtree
    paths = [f["path"] for f in layers[0]["fileList"]]
    assert [p for p in paths if "/" not in p] == ["bin", "dev", "etc", "home", "root", "tmp", "usr", "var"]
    assert paths[-1] == "var"
    for i, path in enumerate(paths):
        assert not any(p.startswith(path + "/") for p in paths[i + 1 :]), path


def test_image_section(docker_export: bytes) -> None:
    image = json.loads(docker_export)["image"]
    assert image == {
        "sizeBytes": 1220598,
        "inefficientBytes": 32025,
        "efficiencyScore": 0.9844212134184309,
        "fileReference": [
            {"count": 2, "sizeBytes": 12810, "file": "/root/saved.txt"},
            {"count": 2, "sizeBytes": 12810, "file": "/root/example/somefile1.txt"},
            {"count": 2, "sizeBytes": 6405, "file": "/root/example/somefile3.txt"},
        ],
    }
    assert b'  "image": {\n    "sizeBytes": 1220598,\n    "inefficientBytes": 32025,\n' in docker_export


def test_format_is_go_marshal_indent(docker_export: bytes) -> None:
    head, _ = split_extras(docker_export)
    assert head.startswith(b'{\n  "layer": [\n    {\n      "index": 0,\n      "id": "28cfe03618aa')
    assert not docker_export.endswith(b"\n")  # like dive: no trailing newline
    assert docker_export.endswith(b"\n}")
    assert b"\t" not in docker_export


def test_extra_keys(docker_export: bytes) -> None:
    doc = json.loads(docker_export)
    assert list(doc) == [
        "layer",
        "image",
        "schemaVersion",
        "generator",
        "analysis",
        "insights",
        "inefficientFiles",
        "imageInfo",
        "layerInfo",
        "history",
        "archive",
        "warnings",
    ]
    assert doc["schemaVersion"] == 2
    assert doc["generator"].startswith("divepy ")
    assert doc["analysis"] == {
        "userSizeBytes": 66237,
        "userWastedPercent": 0.4834911001404049,
        "reclaimableBytes": 32025,  # 1,220,598 stored − 1,188,573 in the final files (docs/metrics.md)
        "allButSmallestCopyBytes": 19215,
        "minimumBytesTotal": 1214193,
        "cumulativeBytesTotal": 1233408,
    }
    insights = doc["insights"]
    assert (insights["schemaVersion"], insights["storedBytes"], insights["finalBytes"]) == (1, 1220598, 1188573)
    assert insights["byKind"] == {"removed": 19215, "overwritten": 0, "metadataOnly": 12810, "identicalCopy": 0}
    assert [
        (f["kind"], f["path"], f["bytes"], f["files"], f["storedIn"], f["hiddenBy"]) for f in insights["findings"]
    ] == [
        ("removed", "/root/example", 12810, 2, [4, 5], 9),
        ("metadataOnly", "/root/example/somefile1.txt", 6405, 1, [3], 4),
        ("removed", "/root/example/somefile3.txt", 6405, 1, [6], 7),
        ("metadataOnly", "/root/saved.txt", 6405, 1, [7], 13),
    ]
    assert [(j["rule"], j["path"], j["bytes"], j["layer"]) for j in insights["junk"]] == [
        ("temp-files", "/tmp", 6405, 11)
    ]
    assert insights["squash"] == {"squashedBytes": 1188573, "savingBytes": 32025, "aboveBaseSavingBytes": 32025}
    assert insights["baseLayers"] == {"count": 1, "source": "history"}
    assert doc["inefficientFiles"][2] == {
        "file": "/root/example/somefile3.txt",
        "count": 2,
        "sizeBytes": 6405,
        "minimumBytes": 0,
        "reclaimableBytes": 6405,
        "layers": [6, 7],
    }
    info = doc["imageInfo"]
    assert info["names"] == ["dive-test:latest"]
    assert info["platform"] == "linux/amd64"
    assert info["config"]["cmd"] == ["sh"]
    assert info["config"]["env"] == ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    assert len(doc["layerInfo"]) == 14
    first = doc["layerInfo"][0]
    assert (first["compression"], first["mediaType"], first["sizeBytes"], first["entryCount"]) == (
        "tar",
        None,
        1154361,
        415,
    )
    assert first["storedSizeBytes"] >= first["tarSizeBytes"] > first["sizeBytes"]
    assert first["diffId"] == doc["layer"][0]["digestId"]
    assert first["createdBy"].startswith("/bin/sh -c #(nop) ADD file:")  # unstripped, unlike "command"
    history = doc["history"]
    assert len(history) == 15
    empty = [h for h in history if h["emptyLayer"]]
    assert empty == [
        {
            "createdBy": '/bin/sh -c #(nop)  CMD ["sh"]',
            "created": "2018-12-26T08:20:42.831353376Z",
            "author": None,
            "comment": None,
            "emptyLayer": True,
            "layerIndex": None,
            "afterLayer": 0,
        }
    ]
    assert [h["layerIndex"] for h in history if not h["emptyLayer"]] == list(range(14))
    stored = doc["archive"]["layerBytesStored"]
    assert doc["archive"]["images"] == [
        {
            "names": ["dive-test:latest"],
            "platform": None,
            "layers": 14,
            "selected": True,
            "sizeBytes": stored,
            "sharedBytes": 0,
            "uniqueBytes": stored,
        }
    ]
    assert doc["archive"]["imageBytesTotal"] == stored
    assert doc["archive"]["archiveBytes"] == os.path.getsize(peer_image("test-docker-image.tar"))
    assert doc["warnings"] == []


def test_oci_layer_info_and_go_float() -> None:
    res = run_divepy(peer_image("test-oci-gzip-image.tar"), "--json", "-", "-q")
    assert res.code == 0, res.stderr
    assert b'    "efficiencyScore": 1,\n' in res.out  # Go prints 1, not 1.0
    doc = json.loads(res.out)
    assert doc["image"] == {"sizeBytes": 11189, "inefficientBytes": 0, "efficiencyScore": 1, "fileReference": []}
    assert doc["analysis"]["userWastedPercent"] == 0  # dive: NaN, which JSON cannot carry
    assert b'"userWastedPercent": 0,' in res.out
    layer = doc["layerInfo"][0]
    assert layer["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip"
    assert layer["compression"] == "gzip"
    assert layer["storedSizeBytes"] == 4132
    assert layer["blobDigest"] == "sha256:" + layer["id"]
    assert doc["layer"][0]["digestId"] == "sha256:356d5e7f4012d87cb1078ac1f480e90528eec4940ce45c50380321436db38758"
    assert doc["layer"][0]["fileList"] == [
        {
            "path": "README.md",
            "typeFlag": 48,
            "linkName": "",
            "size": 11189,
            "fileMode": 420,
            "uid": 0,
            "gid": 0,
            "isDir": False,
        }
    ]


def test_stdout_equals_file(tmp_path: Path) -> None:
    archive = peer_image("test-kaniko-image.tar")
    to_file = divepy_json(archive, tmp_path)
    res = run_divepy(archive, "--json", "-", "-q", cwd=tmp_path)
    assert res.code == 0
    assert res.out == to_file
    assert res.err == b""


def test_existing_longer_file_is_truncated(tmp_path: Path) -> None:
    """dive opens the file without O_TRUNC and leaves stale bytes after its JSON; we do not."""
    out = tmp_path / "out.json"
    out.write_bytes(b"x" * 500_000)
    res = run_divepy(peer_image("test-oci-gzip-image.tar"), "--json", out, "-q", cwd=tmp_path)
    assert res.code == 0, res.stderr
    raw = out.read_bytes()
    assert b"x" * 10 not in raw
    assert raw.endswith(b"\n}")
    json.loads(raw)


def odd_names_image() -> ImageSpec:
    img = ImageSpec(tags=["odd<&>:latest"])
    for i in range(2):
        layer = img.layer(f"RUN echo '<b>' && true & wait {i}")
        layer.dir("web").file("web/a<b>&c.html", f"<p>{i}</p>").file("web/line\u2028sep", "x" * (i + 1))
        layer.symlink("web/link&", "a<b>&c.html")
    return img


def test_html_characters_are_escaped_like_go(tmp_path: Path) -> None:
    archive = write_archive(odd_names_image(), tmp_path / "odd.tar")
    raw = divepy_json(archive, tmp_path)
    assert b'"path": "web/a\\u003cb\\u003e\\u0026c.html"' in raw
    assert b'"linkName": "a\\u003cb\\u003e\\u0026c.html"' in raw
    assert b'"command": "RUN echo \'\\u003cb\\u003e\' \\u0026\\u0026 true \\u0026 wait 0"' in raw
    assert b'"file": "/web/a\\u003cb\\u003e\\u0026c.html"' in raw
    assert b'"path": "web/line\\u2028sep"' in raw
    for char in (b"<", b">", b"&", "\u2028".encode()):
        assert char not in raw
    doc = json.loads(raw)
    assert doc["imageInfo"]["names"] == ["odd<&>:latest"]
    assert {r["file"] for r in doc["image"]["fileReference"]} == {
        "/web/a<b>&c.html",
        "/web/line\u2028sep",
        "/web/link&",
    }


@pytest.mark.dive
def test_html_escaping_matches_dive(tmp_path: Path) -> None:
    archive = write_archive(odd_names_image(), tmp_path / "odd.tar")
    head, _ = split_extras(divepy_json(archive, tmp_path))
    assert head == dive_json(archive, tmp_path)[:-2]


def test_missing_directory_fails_before_analysis(tmp_path: Path) -> None:
    """The image is garbage: an error about --json proves the check ran before loading."""
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar at all" * 100)
    target = tmp_path / "nope" / "out.json"
    res = run_divepy(junk, "--json", target, cwd=tmp_path)
    assert res.code == 2
    assert res.stderr == f"divepy: error: --json {target}: directory {target.parent} does not exist\n"
    assert res.out == b""
    assert not target.parent.exists()


def test_json_into_a_directory_fails(tmp_path: Path) -> None:
    res = run_divepy("--demo", "--json", tmp_path, cwd=tmp_path)
    assert res.code == 2
    assert res.stderr == f"divepy: error: --json {tmp_path}: is a directory\n"
