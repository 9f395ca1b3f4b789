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
import re
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

import orjson

from dive_py import __version__
from dive_py.core.analysis.efficiency import Efficiency
from dive_py.core.analysis.insights import Insights
from dive_py.core.analysis.layertree import NO_ENTRY, layer_nodes
from dive_py.core.kinds import DIR
from dive_py.core.model.image import Image
from dive_py.core.model.image_set import image_set
from dive_py.core.modes import go_file_mode
from dive_py.report.insights_json import insights_json

SCHEMA_VERSION = 2

_GO_ESCAPES = (
    (b"<", b"\\u003c"),
    (b">", b"\\u003e"),
    (b"&", b"\\u0026"),
    ("\u2028".encode(), b"\\u2028"),
    ("\u2029".encode(), b"\\u2029"),
)


_NEEDS_ESCAPE = re.compile(rb"[<>&]|\xe2\x80[\xa8\xa9]")


def _go_escape(data: bytes) -> bytes:
    """Go's encoding/json escapes <, >, & and U+2028/9 inside strings."""
    if _NEEDS_ESCAPE.search(data) is None:  # one scan for the usual case
        return data
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


_NODE = (
    b'        {\n          "path": %s,\n          "typeFlag": %d,\n          "linkName": %s,\n'
    b'          "size": %d,\n          "fileMode": %d,\n          "uid": %d,\n          "gid": %d,\n'
    b'          "isDir": %s\n        }'
)


def _file_list(image: Image, layer: int) -> Iterator[bytes]:
    e = image.entries
    tflags, fmodes, links, sizes, uids, gids = e.tflag, e.mode, e.link, e.size, e.uid, e.gid
    modes: dict[tuple[int, int], int] = {}  # (type flag, mode) -> Go FileMode: a few dozen distinct
    quoted_links: dict[str, bytes] = {"": b'""'}
    for node in layer_nodes(e, image.paths, layer):
        g = node.entry
        if g == NO_ENTRY:  # an implied parent: dive exports a zero FileInfo with an empty path; we keep the path
            yield _NODE % (_q(node.path), 0, b'""', 0, 0, 0, 0, b"false")
            continue
        tflag = tflags[g]
        key = (tflag, fmodes[g])
        mode = modes.get(key)
        if mode is None:
            mode = modes[key] = go_file_mode(tflag, fmodes[g])
        link = links[g]
        qlink = quoted_links.get(link)
        if qlink is None:
            qlink = _q(link)
            if len(quoted_links) < 4096:
                quoted_links[link] = qlink
        yield _NODE % (
            _q(node.path),
            tflag,
            qlink,
            sizes[g],
            mode,
            uids[g],
            gids[g],
            b"true" if tflag == DIR else b"false",
        )


def _layer_section(image: Image) -> Iterator[bytes]:
    yield b'  "layer": ['
    for i, layer in enumerate(image.layers):
        yield b",\n    {\n" if i else b"\n    {\n"
        yield (
            b'      "index": '
            + str(layer.index).encode()
            + b',\n      "id": '
            + _q(layer.id)
            + b',\n      "digestId": '
            + _q(layer.digest)
            + b',\n      "sizeBytes": '
            + str(layer.size).encode()
            + b',\n      "command": '
            + _q(layer.command)
            + b',\n      "fileList": ['
        )
        first = True
        for item in _file_list(image, i):
            yield (b"\n" if first else b",\n") + item
            first = False
        yield b"\n      ]\n    }" if not first else b"]\n    }"
    yield b"\n  ]" if image.layers else b"]"


def extras(image: Image, eff: Efficiency, insights: Insights, *, with_files: bool = True) -> dict[str, Any]:
    """Everything we export beyond dive's schema (additional top-level keys).

    ``with_files=False`` leaves ``inefficientFiles`` empty (the writer streams it).
    """
    cfg = image.config
    return {
        "schemaVersion": SCHEMA_VERSION,
        "generator": f"divepy {__version__}",
        "analysis": {
            "userSizeBytes": eff.user_size_bytes,
            "userWastedPercent": go_float(eff.user_wasted_percent),
            "reclaimableBytes": insights.reclaimable_bytes,
            "allButSmallestCopyBytes": eff.reclaimable_bytes,
            "minimumBytesTotal": eff.min_total,
            "cumulativeBytesTotal": eff.cumulative_total,
        },
        "insights": insights_json(insights),
        "inefficientFiles": list(_inefficient_files(eff)) if with_files else [],
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
                "env": cfg.env,
                "entrypoint": cfg.entrypoint,
                "cmd": cfg.cmd,
                "user": cfg.user,
                "workingDir": cfg.working_dir,
                "labels": cfg.labels,
                "exposedPorts": cfg.exposed_ports,
                "volumes": cfg.volumes,
                "stopSignal": cfg.stop_signal,
                "healthcheck": cfg.healthcheck,
            },
        },
        "layerInfo": [
            {
                "index": layer.index,
                "id": layer.id,
                "diffId": layer.digest,
                "blobDigest": layer.blob_digest,
                "mediaType": layer.media_type,
                "compression": layer.compression,
                "storedSizeBytes": layer.stored_size,
                "tarSizeBytes": layer.tar_size,
                "sizeBytes": layer.size,
                "entryCount": layer.entry_count,
                "createdBy": layer.created_by,
                "created": layer.history.created if layer.history else None,
                "comment": layer.history.comment if layer.history else None,
            }
            for layer in image.layers
        ],
        "history": [
            {
                "createdBy": h.created_by,
                "created": h.created,
                "author": h.author,
                "comment": h.comment,
                "emptyLayer": h.empty_layer,
                "layerIndex": h.layer_index,
                "afterLayer": None if h.layer_index is not None else h.after_layer,
            }
            for h in cfg.history
        ],
        "archive": archive_summary(image),
        "warnings": image.warnings,
    }


def _inefficient_files(eff: Efficiency) -> Iterator[dict[str, Any]]:
    for w in eff.inefficient:
        yield {
            "file": w.path,
            "count": w.count,
            "sizeBytes": w.cumulative,
            "minimumBytes": w.minimum,
            "reclaimableBytes": w.reclaimable,
            "layers": w.layers,
        }


def archive_summary(image: Image) -> dict[str, Any]:
    """The images an archive holds, the layers they share, and the bytes stored."""
    found = image_set(image)
    return {
        "format": image.archive_format,
        "images": [
            {
                "names": r.names,
                "platform": r.platform,
                "layers": r.layers,
                "selected": r.selected,
                "sizeBytes": r.size,
                "sharedBytes": r.shared,
                "uniqueBytes": r.unique,
            }
            for r in found.rows
        ],
        "sharedLayers": found.shared_members,  # blobs used by two or more images, stored once
        "layerBytesStored": found.stored,
        "imageBytesTotal": found.sum_of_sizes,
        "archiveBytes": found.archive_bytes,
    }


def _stream_list(out: BinaryIO, items: Iterable[dict[str, Any]], indent: int) -> None:
    """Write a JSON list exactly as ``orjson.dumps(..., OPT_INDENT_2)`` nests it at ``indent``.

    One item at a time: the inefficient-files lists of a node_modules image
    have ~400k items (a 140 MB document built whole, then copied twice).
    """
    pad = b" " * (indent + 2)
    sep = b"\n" + pad
    first = True
    out.write(b"[")
    for item in items:
        body = orjson.dumps(item, option=orjson.OPT_INDENT_2).replace(b"\n", sep)
        out.write((sep if first else b"," + sep) + _go_escape(body))
        first = False
    out.write(b"]" if first else b"\n" + b" " * indent + b"]")


_FILE_REFERENCE = "\x00fileReference\x00"
_INEFFICIENT_FILES = "\x00inefficientFiles\x00"


def write_export(image: Image, eff: Efficiency, insights: Insights, out: BinaryIO) -> None:
    """Write the whole export to ``out``; the big lists are streamed item by item.

    Everything that could fail to serialise (the config's values) is dumped
    before the first byte goes out, so ``--json -`` never stops half-way.
    """
    image_part = {
        "sizeBytes": eff.size_bytes,
        "inefficientBytes": eff.wasted_bytes,
        "efficiencyScore": go_float(eff.score),
        "fileReference": _FILE_REFERENCE,  # placeholders, replaced by the streamed lists
    }
    rest_doc = {"image": image_part, **extras(image, eff, insights, with_files=False)}
    rest_doc["inefficientFiles"] = _INEFFICIENT_FILES
    rest = _go_escape(orjson.dumps(rest_doc, option=orjson.OPT_INDENT_2))
    head, _, tail = rest.partition(orjson.dumps(_FILE_REFERENCE))
    middle, _, tail = tail.partition(orjson.dumps(_INEFFICIENT_FILES))
    out.write(b"{\n")
    for chunk in _layer_section(image):
        out.write(chunk)
    out.write(b",\n")
    out.write(head[2:])  # drop the "{\n" of the nested dump
    _stream_list(out, ({"count": w.count, "sizeBytes": w.cumulative, "file": w.path} for w in eff.inefficient), 4)
    out.write(middle)
    _stream_list(out, _inefficient_files(eff), 2)
    out.write(tail)
