"""``--json``: dive's export, key for key, plus our extra top-level keys.

The ``layer`` and ``image`` sections match dive 0.13.1 byte for byte where
dive is right: struct key order, two-space indent, Go's HTML-safe string
escaping, Go ``FileMode`` numbers, tar type-flag codes, children-first file
lists, and the inefficient-files order of Go's unstable sort.  Existing
``jq`` scripts keep working.  What dive never exported (user size, user
wasted percent, compressed sizes, the image config, the full history) lives
in additional top-level keys, versioned by ``schemaVersion``.

File lists of large images have millions of nodes, so the ``layer`` section
is streamed to the output in pieces instead of built as one object.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, BinaryIO

import orjson

from dive_py import __version__
from dive_py.core.efficiency import Efficiency
from dive_py.core.image import Image
from dive_py.core.layertree import NO_ENTRY, layer_nodes
from dive_py.core.modes import go_file_mode
from dive_py.core.tarscan import DIR

SCHEMA_VERSION = 1

_GO_ESCAPES = ((b"<", b"\\u003c"), (b">", b"\\u003e"), (b"&", b"\\u0026"),
               ("\u2028".encode(), b"\\u2028"), ("\u2029".encode(), b"\\u2029"))


def _go_escape(data: bytes) -> bytes:
    """Go's encoding/json escapes <, >, & and U+2028/9 inside strings."""
    for raw, esc in _GO_ESCAPES:
        if raw in data:
            data = data.replace(raw, esc)
    return data


def _q(text: str) -> bytes:
    return _go_escape(orjson.dumps(text))


def go_float(value: float) -> float | int | None:
    """Go prints a whole float64 without a fraction (``1``, not ``1.0``)."""
    if math.isnan(value) or math.isinf(value):
        return None
    return int(value) if value.is_integer() and abs(value) < 1e21 else value


def _file_list(image: Image, layer: int) -> Iterator[bytes]:
    e = image.entries
    for node in layer_nodes(e, image.paths, layer):
        g = node.entry
        if g == NO_ENTRY:  # an implied parent: dive exports a zero FileInfo with an empty path; we keep the path
            fields = (node.path, 0, "", 0, 0, 0, 0, False)
        else:
            tflag = e.tflag[g]
            mode = go_file_mode(tflag, e.mode[g])
            fields = (node.path, tflag, e.link[g], e.size[g], mode, e.uid[g], e.gid[g], tflag == DIR)
        path, tflag, link, size, mode, uid, gid, is_dir = fields
        yield (b'        {\n          "path": ' + _q(path)
               + b',\n          "typeFlag": ' + str(tflag).encode()
               + b',\n          "linkName": ' + _q(link)
               + b',\n          "size": ' + str(size).encode()
               + b',\n          "fileMode": ' + str(mode).encode()
               + b',\n          "uid": ' + str(uid).encode()
               + b',\n          "gid": ' + str(gid).encode()
               + b',\n          "isDir": ' + (b"true" if is_dir else b"false")
               + b"\n        }")


def _layer_section(image: Image) -> Iterator[bytes]:
    yield b'  "layer": ['
    for i, layer in enumerate(image.layers):
        yield b",\n    {\n" if i else b"\n    {\n"
        yield (b'      "index": ' + str(layer.index).encode()
               + b',\n      "id": ' + _q(layer.id)
               + b',\n      "digestId": ' + _q(layer.digest)
               + b',\n      "sizeBytes": ' + str(layer.size).encode()
               + b',\n      "command": ' + _q(layer.command)
               + b',\n      "fileList": [')
        first = True
        for item in _file_list(image, i):
            yield (b"\n" if first else b",\n") + item
            first = False
        yield b"\n      ]\n    }" if not first else b"]\n    }"
    yield b"\n  ]" if image.layers else b"]"


def extras(image: Image, eff: Efficiency) -> dict[str, Any]:
    """Everything we export beyond dive's schema (additional top-level keys)."""
    cfg = image.config
    return {
        "schemaVersion": SCHEMA_VERSION,
        "generator": f"divepy {__version__}",
        "analysis": {
            "userSizeBytes": eff.user_size_bytes,
            "userWastedPercent": go_float(eff.user_wasted_percent),
            "reclaimableBytes": eff.reclaimable_bytes,
            "minimumBytesTotal": eff.min_total,
            "cumulativeBytesTotal": eff.cumulative_total,
        },
        "inefficientFiles": [
            {"file": w.path, "count": w.count, "sizeBytes": w.cumulative, "minimumBytes": w.minimum,
             "reclaimableBytes": w.reclaimable, "layers": w.layers}
            for w in eff.inefficient
        ],
        "imageInfo": {
            "source": image.source,
            "names": image.names,
            "archiveFormat": image.archive_format,
            "platform": cfg.platform or image.ref.platform,
            "created": cfg.created,
            "author": cfg.author,
            "manifestDigest": image.ref.manifest_digest,
            "configDigest": image.ref.config_digest,
            "config": {
                "env": cfg.env, "entrypoint": cfg.entrypoint, "cmd": cfg.cmd, "user": cfg.user,
                "workingDir": cfg.working_dir, "labels": cfg.labels, "exposedPorts": cfg.exposed_ports,
                "volumes": cfg.volumes, "stopSignal": cfg.stop_signal, "healthcheck": cfg.healthcheck,
            },
        },
        "layerInfo": [
            {"index": layer.index, "id": layer.id, "diffId": layer.digest, "blobDigest": layer.blob_digest,
             "mediaType": layer.media_type, "compression": layer.compression,
             "storedSizeBytes": layer.stored_size, "tarSizeBytes": layer.tar_size, "sizeBytes": layer.size,
             "entryCount": layer.entry_count, "createdBy": layer.created_by,
             "created": layer.history.created if layer.history else None,
             "comment": layer.history.comment if layer.history else None}
            for layer in image.layers
        ],
        "history": [
            {"createdBy": h.created_by, "created": h.created, "author": h.author, "comment": h.comment,
             "emptyLayer": h.empty_layer, "layerIndex": h.layer_index,
             "afterLayer": None if h.layer_index is not None else h.after_layer}
            for h in cfg.history
        ],
        "archive": archive_summary(image),
        "warnings": image.warnings,
    }


def archive_summary(image: Image) -> dict[str, Any]:
    """The images an archive holds, the layers they share, and the bytes stored."""
    images = image.index.images
    users: dict[str, int] = {}
    for img in images:
        for member in {lr.member for lr in img.layers}:
            users[member] = users.get(member, 0) + 1
    shared = {member for member, count in users.items() if count > 1}
    return {
        "format": image.archive_format,
        "images": [{"names": img.names, "platform": img.platform, "layers": len(img.layers),
                    "selected": img is image.ref} for img in images],
        "sharedLayers": sorted(shared),  # blobs used by two or more images, stored once
        "layerBytesStored": image.archive_layer_bytes,
    }


def write_export(image: Image, eff: Efficiency, out: BinaryIO) -> None:
    """Write the whole export to ``out``."""
    out.write(b"{\n")
    for chunk in _layer_section(image):
        out.write(chunk)
    image_part = {
        "sizeBytes": eff.size_bytes,
        "inefficientBytes": eff.wasted_bytes,
        "efficiencyScore": go_float(eff.score),
        "fileReference": [{"count": w.count, "sizeBytes": w.cumulative, "file": w.path} for w in eff.inefficient],
    }
    rest = orjson.dumps({"image": image_part, **extras(image, eff)}, option=orjson.OPT_INDENT_2)
    out.write(b",\n" + _go_escape(rest[2:]))  # drop the "{\n" of the nested dump
