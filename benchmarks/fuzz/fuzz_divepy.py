#!/usr/bin/env python3
"""Coverage-guided fuzzing of divepy's parsers with atheris (libFuzzer), outside pytest.

Why it exists: divepy reads archives that anyone can hand it, and every problem
in them must end as a one-line :class:`dive_py.errors.DiveError`, never as a
traceback, a hang or a memory blow-up.  The unit tests check the cases someone
thought of; this harness looks for the others.  Anything raised that is not a
``DiveError`` propagates, so libFuzzer records a crash file.

Targets (``--target``):

``tar``
    The layer reader on the raw input: :func:`~dive_py.core.tar.tarscan.iter_headers`
    over a :class:`~dive_py.core.tar.tarwindow.FileWindow` (an unlinked file in /dev/shm,
    read at an unaligned start offset) and over a
    :class:`~dive_py.core.tar.tarwindow.StreamWindow` (``io.BytesIO``, and a reader
    that returns short reads), and :func:`~dive_py.core.tar.layerread.read_layer`
    with ``hash_files`` on and off.
``archive``
    End to end: the input minus its last byte is written to one file in
    /dev/shm (gzip- or zstd-compressed first when the last byte says so, which
    brings in :mod:`dive_py.core.archive.streamed`), then
    :func:`~dive_py.core.model.loader.load_image`,
    :func:`~dive_py.core.analysis.efficiency.analyse` and ``Image.close()``.
    Last byte: bit 0 ``hash_files``; bits 1-2 outer compression (0 none,
    1 gzip, 2 zstd, 3 gzip); bits 3-4 ``platform`` (none, linux/amd64, arm64,
    linux/arm/v7); bits 5-6 ``image`` (none, "0", "1", "multi:latest").
``manifest``
    :func:`~dive_py.core.oci.manifest.find_images`,
    :func:`~dive_py.core.oci.selection.select_image` and
    :func:`~dive_py.core.oci.imageconfig.parse_config` on an in-memory
    :class:`~dive_py.core.archive.Archive` of named members.  Input format
    (see :func:`encode_manifest_input`): one byte ``n``, ``n`` control bytes,
    then members ``name NUL content`` joined by ``SEP``; a name starting with
    ``@`` is a symlink whose content is its target.  The control bytes drive
    an :class:`atheris.FuzzedDataProvider` that mutates the members'
    JSON structurally (retyped values, dropped or added keys, swapped
    documents, symlink loops), replaces some with raw fuzzed bytes, and picks
    the ``--image``/``--platform`` arguments.  An input without members starts
    from built-in templates (the JSON of builder-made archives).

Extra oracle (``DIVEPY_FUZZ_DIFF=1``, ``tar`` only): the file and stream
windows must agree on success, on every header and on content hashes; a
disagreement raises ``AssertionError``.  Off by default: the crash definition
is exceptions that are not ``DiveError``.

Run (seeds from ``make_seeds.py``; everything after ``--target X`` goes to libFuzzer)::

    pip install atheris==2.3.0          # in the project's virtual environment
    python benchmarks/fuzz/make_seeds.py /tmp/fuzz-corpus
    mkdir -p /tmp/fuzz-crashes/tar /tmp/fuzz-work/tar
    python benchmarks/fuzz/fuzz_divepy.py --target tar /tmp/fuzz-work/tar /tmp/fuzz-corpus/tar \\
        -max_len=16384 -timeout=10 -rss_limit_mb=1024 -max_total_time=600 \\
        -artifact_prefix=/tmp/fuzz-crashes/tar/ -workers=1 -jobs=1

With ``-jobs=1`` libFuzzer runs the fuzzing in a child process (this same command line, so the
script must stay runnable as is), writes its output to ``./fuzz-0.log`` and stops at the first
crash, hang or OOM.

Reproduce a crash: ``python benchmarks/fuzz/fuzz_divepy.py --target tar CRASH_FILE``; confirm it
with ``DIVEPY_FUZZ_NO_INSTRUMENT=1`` too (see ``_INSTRUMENT``), as instrumentation has produced a
false crash before.  A crash prints ``DIVEPY-FUZZ-SIGNATURE: Type@file.py:line`` (innermost
dive_py frame); ``DIVEPY_FUZZ_IGNORE=sig1,sig2`` swallows known ones so a campaign goes on, and
``DIVEPY_FUZZ_MANUAL_GC=1`` sidesteps the cycle-collector hang described at ``MANUAL_GC``.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import copy
import gc
import gzip
import io
import json
import os
import shlex
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterable
from typing import Any

import atheris
import orjson
import xxhash
import zstandard

#: ``DIVEPY_FUZZ_NO_INSTRUMENT=1`` imports dive_py without coverage instrumentation, to confirm
#: a crash file: atheris 2.3.0 miscompiles some Python 3.11 loops (seen on ``Archive.resolve``
#: of a later divepy, where ``self.lookup`` was looked up on the loop's last ``member``).
_INSTRUMENT = os.environ.get("DIVEPY_FUZZ_NO_INSTRUMENT") != "1"

with atheris.instrument_imports(include=["dive_py"]) if _INSTRUMENT else contextlib.nullcontext():
    from dive_py.core.analysis.efficiency import analyse
    from dive_py.core.archive.base import Archive, Member, member_of
    from dive_py.core.kinds import CONTIGUOUS, REGULAR, SYMLINK
    from dive_py.core.model.loader import load_image
    from dive_py.core.oci import manifest as manifest_mod
    from dive_py.core.oci.imageconfig import assign_history, parse_config
    from dive_py.core.oci.manifest import find_images
    from dive_py.core.oci.selection import select_image
    from dive_py.core.tar.layerread import RawLayer, read_layer
    from dive_py.core.tar.tarscan import Header, iter_headers
    from dive_py.core.tar.tarwindow import FileWindow, StreamWindow
    from dive_py.errors import ArchiveError, DiveError

SHM = "/dev/shm"
DIFF = os.environ.get("DIVEPY_FUZZ_DIFF") == "1"
#: Crash signatures (as printed on a crash) to swallow, comma-separated: lets a campaign
#: go on past bugs it already reported without fixing them.  Empty by default.
IGNORE = frozenset(filter(None, os.environ.get("DIVEPY_FUZZ_IGNORE", "").split(",")))
#: ``DIVEPY_FUZZ_MANUAL_GC=1``: no automatic garbage collection; collect after each input
#: instead.  Works around a known hang (gzip reader threads left to the cycle collector
#: deadlock when it runs inside ``threading``'s bootstrap), so a campaign can look further.
MANUAL_GC = os.environ.get("DIVEPY_FUZZ_MANUAL_GC") == "1"

# -- scratch files ---------------------------------------------------------------------------

_scratch: dict[str, Any] = {}
_SCRATCH_PREFIX = "divepy-fuzz-"


def _scratch_dir() -> str:
    return SHM if os.path.isdir(SHM) else "/tmp"


def _remove_stale_scratch() -> None:
    """Delete scratch files of harness processes that died (libFuzzer exits without atexit)."""
    for name in os.listdir(_scratch_dir()):
        pid = name[len(_SCRATCH_PREFIX) : -4] if name.startswith(_SCRATCH_PREFIX) and name.endswith(".img") else ""
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(_scratch_dir(), name))
        except PermissionError:
            pass  # someone else's live process


def _scratch_path() -> str:
    """The one file per process the archive target writes its input to."""
    path: str | None = _scratch.get("path")
    if path is None:
        _remove_stale_scratch()
        path = os.path.join(_scratch_dir(), f"{_SCRATCH_PREFIX}{os.getpid()}.img")
        _scratch["path"] = path
        atexit.register(_remove_scratch)
    return path


def _remove_scratch() -> None:
    path = _scratch.pop("path", None)
    if path is not None and os.path.exists(path):
        os.unlink(path)


def _scratch_fd() -> int:
    """An unlinked file for the tar target's FileWindow: nothing is left behind, even on a crash."""
    fd: int | None = _scratch.get("fd")
    if fd is None:
        fd, path = tempfile.mkstemp(prefix="divepy-fuzz-tar-", dir=_scratch_dir())
        os.unlink(path)
        _scratch["fd"] = fd
    return fd


# -- tar target ------------------------------------------------------------------------------

#: FileWindow start offset inside the scratch file: unaligned, so absolute offsets are tested.
_FILE_PREFIX = b"pre"


class _ShortReads:
    """A stream that never returns more than ``step`` bytes per read (like a pipe)."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data = data
        self.step = step
        self.pos = 0

    def read(self, n: int = -1, /) -> bytes:
        left = len(self.data) - self.pos
        if n < 0 or n > left:
            n = left
        n = min(n, self.step)
        chunk = self.data[self.pos : self.pos + n]
        self.pos += len(chunk)
        return chunk


def _outcome(fn: Callable[[], Any]) -> tuple[bool, Any]:
    """``(True, result)``, or ``(False, error)`` for an expected DiveError."""
    try:
        return True, fn()
    except DiveError as exc:
        return False, exc


def _layer_view(layer: RawLayer) -> tuple[Any, ...]:
    return (
        layer.paths,
        bytes(layer.kinds),
        bytes(layer.tflags),
        list(layer.modes),
        list(layer.uids),
        list(layer.gids),
        list(layer.sizes),
        list(layer.mtimes),
        layer.links,
        layer.tar_bytes,
    )


def _file_hashes(fd: int, layer: RawLayer) -> list[int]:
    """Hash each regular file of a seekable layer from its recorded absolute offset."""
    out = []
    for i, off in enumerate(layer.offsets):
        if off < 0:
            out.append(0)
            continue
        out.append(xxhash.xxh3_64_intdigest(os.pread(fd, layer.sizes[i], off)))
    return out


def fuzz_tar(data: bytes) -> None:
    fd = _scratch_fd()
    os.ftruncate(fd, 0)
    os.pwrite(fd, _FILE_PREFIX + data, 0)
    start, size = len(_FILE_PREFIX), len(data)

    def file_win() -> FileWindow:
        return FileWindow(fd, start, size, "layer")

    def stream_win() -> StreamWindow:
        return StreamWindow(io.BytesIO(data), "layer")

    def short_win() -> StreamWindow:
        return StreamWindow(_ShortReads(data, 1 + len(data) % 1021), "layer")

    h_file = _outcome(lambda: list(iter_headers(file_win())))
    h_stream = _outcome(lambda: list(iter_headers(stream_win())))
    l_file = _outcome(lambda: read_layer(file_win(), hash_files=False))
    l_file_h = _outcome(lambda: read_layer(file_win(), hash_files=True))
    l_stream_h = _outcome(lambda: read_layer(stream_win(), hash_files=True))
    l_short = _outcome(lambda: read_layer(short_win(), hash_files=False))
    if DIFF:
        _diff_tar(fd, h_file, h_stream, l_file, l_file_h, l_stream_h, l_short)


def _diff_tar(
    fd: int,
    h_file: tuple[bool, Any],
    h_stream: tuple[bool, Any],
    l_file: tuple[bool, Any],
    l_file_h: tuple[bool, Any],
    l_stream_h: tuple[bool, Any],
    l_short: tuple[bool, Any],
) -> None:
    def same_success(a: tuple[bool, Any], b: tuple[bool, Any], what: str) -> bool:
        assert a[0] == b[0], f"{what}: one side failed: {a[1] if not a[0] else b[1]!r}"
        return a[0]

    if same_success(h_file, h_stream, "iter_headers file vs stream"):
        files: list[Header] = h_file[1]
        assert files == h_stream[1], "iter_headers: file and stream windows disagree"
    if same_success(l_file, l_short, "read_layer file vs short-read stream"):
        assert _layer_view(l_file[1]) == _layer_view(l_short[1]), "read_layer: file vs short-read stream"
    if same_success(l_file_h, l_stream_h, "read_layer hashing file vs stream"):
        a, b = l_file_h[1], l_stream_h[1]
        assert _layer_view(a) == _layer_view(b), "read_layer(hash_files): file vs stream entries"
        assert list(a.hashes or []) == list(b.hashes or []), "read_layer(hash_files): hashes differ"
    if l_file[0] and l_stream_h[0]:
        a, b = l_file[1], l_stream_h[1]
        want = [h if t in (REGULAR, CONTIGUOUS) and k == 0 else 0 for h, t, k in zip(b.hashes or [], b.tflags, b.kinds)]
        got = _file_hashes(fd, a)
        assert got == [w if o >= 0 else 0 for w, o in zip(want, a.offsets)], "data offsets point at other bytes"


# -- archive target -------------------------------------------------------------------------

_PLATFORMS = (None, "linux/amd64", "arm64", "linux/arm/v7")
_IMAGES = (None, "0", "1", "multi:latest")


def archive_options(ctrl: int) -> tuple[bool, str, str | None, str | None]:
    """``(hash_files, outer compression, platform, image)`` from the control byte."""
    outer = ("none", "gzip", "zstd", "gzip")[(ctrl >> 1) & 3]
    return bool(ctrl & 1), outer, _PLATFORMS[(ctrl >> 3) & 3], _IMAGES[(ctrl >> 5) & 3]


def fuzz_archive(data: bytes) -> None:
    if not data:
        return
    payload, ctrl = data[:-1], data[-1]
    hash_files, outer, platform, image = archive_options(ctrl)
    if outer == "gzip":
        payload = gzip.compress(payload, compresslevel=1, mtime=0)
    elif outer == "zstd":
        payload = zstandard.ZstdCompressor(level=1).compress(payload)
    path = _scratch_path()
    with open(path, "wb") as fh:
        fh.write(payload)
    try:
        img = load_image(path, image=image, platform=platform, hash_files=hash_files)
    except DiveError:
        return
    try:
        analyse(img)
    finally:
        img.close()


# -- manifest target ------------------------------------------------------------------------

SEP = b"\n\x00\x00\n"

#: A member: (name, content, symlink target or None).
MemberSpec = tuple[str, bytes, str | None]


def encode_manifest_input(members: Iterable[MemberSpec], control: bytes) -> bytes:
    """The manifest target's input for these members (``control`` drives the mutations)."""
    control = control[:255]
    parts = []
    for name, content, link in members:
        if link is not None:
            parts.append(b"@" + name.encode() + b"\x00" + link.encode())
        else:
            parts.append(name.encode() + b"\x00" + content)
    return bytes([len(control)]) + control + SEP.join(parts)


def decode_manifest_input(data: bytes) -> tuple[bytes, list[MemberSpec]]:
    if not data:
        return b"", []
    n = data[0]
    control, rest = data[1 : 1 + n], data[1 + n :]
    members: list[MemberSpec] = []
    if rest:
        for part in rest.split(SEP):
            raw_name, _, content = part.partition(b"\x00")
            name = raw_name.decode("utf-8", "replace")
            if name.startswith("@"):
                members.append((name[1:], b"", content.decode("utf-8", "replace")))
            else:
                members.append((name, content, None))
    return control, members


class MemArchive(Archive):
    """An archive held in memory; member names and symlinks are normalised as in a tar archive."""

    def __init__(self, members: Iterable[MemberSpec]) -> None:
        super().__init__()
        self.label = self.path = "fuzz.tar"
        self._data: dict[str, bytes] = {}
        for name, content, link in members:
            if link is not None:
                member = member_of(name, SYMLINK, 0, link, -1)
            else:
                member = member_of(name, REGULAR, len(content), "", 0)
            if member is None:
                continue
            self.members[member.name] = member
            if member.is_file:
                self._data[member.name] = content

    def read_bytes(self, name: str) -> bytes:
        member: Member | None = self.resolve(name)
        if member is None:
            raise ArchiveError(f"{self.label}: member {name!r} is missing")
        return self._data[member.name]


_KEYS = (
    "schemaVersion",
    "mediaType",
    "manifests",
    "layers",
    "config",
    "digest",
    "size",
    "platform",
    "annotations",
    "os",
    "architecture",
    "variant",
    "Config",
    "Layers",
    "RepoTags",
    "LayerSources",
    "rootfs",
    "diff_ids",
    "history",
    "created_by",
    "empty_layer",
    "created",
    "author",
    "comment",
    "Env",
    "Cmd",
    "Entrypoint",
    "User",
    "WorkingDir",
    "Labels",
    "ExposedPorts",
    "Volumes",
    "StopSignal",
    "Healthcheck",
    "io.containerd.image.name",
    "org.opencontainers.image.ref.name",
    "vnd.docker.reference.type",
)
_STRINGS = (
    manifest_mod.OCI_INDEX,
    manifest_mod.DOCKER_LIST,
    manifest_mod.OCI_MANIFEST,
    manifest_mod.DOCKER_MANIFEST,
    *sorted(manifest_mod.CONFIG_TYPES),
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.in-toto+json",
    "attestation-manifest",
    "unknown",
    "linux",
    "amd64",
    "arm64",
    "arm",
    "v7",
    "v8",
    "windows",
    "",
    "sha256:",
    ":",
    "sha256:/",
    "sha256:..",
    "sha256:a/b",
    "blobs/sha256/",
    "blobs/sha256/../../manifest.json",
    "manifest.json",
    "index.json",
    "/manifest.json",
    "./index.json",
    "x/layer.tar",
    "layer.tar",
    "../x.tar",
    "latest",
    "docker.io/library/tiny:latest",
    "localhost/multi",
    "multi:latest",
    "a:b:c",
    "\x00",
    "☃",
    "/bin/sh -c #(nop) ",
    "/bin/sh -c ",
)


def _collect_strings(doc: Any, out: list[str]) -> None:
    if isinstance(doc, str):
        if len(out) < 64 and doc not in out:
            out.append(doc)
    elif isinstance(doc, dict):
        for key, value in doc.items():
            _collect_strings(key, out)
            _collect_strings(value, out)
    elif isinstance(doc, list):
        for value in doc:
            _collect_strings(value, out)


class _Mutator:
    """Structural JSON mutations driven by a FuzzedDataProvider."""

    def __init__(self, fdp: atheris.FuzzedDataProvider, docs: list[Any]) -> None:
        self.fdp = fdp
        self.docs = docs
        strings: list[str] = []
        for doc in docs:
            _collect_strings(doc, strings)
        self.strings = strings + list(_STRINGS)

    def pick(self, seq: list[Any] | tuple[Any, ...]) -> Any:
        return seq[self.fdp.ConsumeIntInRange(0, len(seq) - 1)]

    def string(self) -> str:
        if self.fdp.ConsumeBool():
            text: str = self.fdp.ConsumeUnicodeNoSurrogates(self.fdp.ConsumeIntInRange(0, 40))
            return text
        s: str = self.pick(self.strings)
        return s

    def value(self, depth: int = 0) -> Any:
        fdp = self.fdp
        kind = fdp.ConsumeIntInRange(0, 11)
        if kind == 0:
            return None
        if kind == 1:
            return fdp.ConsumeBool()
        if kind == 2:
            return fdp.ConsumeIntInRange(-2, 2)
        if kind == 3:
            return fdp.ConsumeIntInRange(-(1 << 63), (1 << 63) - 1)
        if kind == 4:
            return fdp.ConsumeRegularFloat()
        if kind in (5, 6, 7):
            return self.string()
        if kind == 8 and depth < 3:
            return [self.value(depth + 1) for _ in range(fdp.ConsumeIntInRange(0, 3))]
        if kind == 9 and depth < 3:
            return {self.pick(_KEYS): self.value(depth + 1) for _ in range(fdp.ConsumeIntInRange(0, 3))}
        if kind == 10 and self.docs:
            return copy.deepcopy(self.pick(self.docs))
        return [self.string()]

    def mutate(self, doc: Any) -> Any:
        """Return ``doc`` with one mutation applied at a node chosen by the provider."""
        fdp = self.fdp
        parent: Any = None
        key: Any = None
        node = doc
        depth = 0
        while isinstance(node, (dict, list)) and node and depth < 12 and fdp.ConsumeBool():
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            parent, key = node, self.pick(keys)
            node = node[key]
            depth += 1
        op = fdp.ConsumeIntInRange(0, 5)
        if op == 0:  # replace
            new: Any = self.value()
        elif op == 1:  # delete
            if parent is None:
                return self.value()
            del parent[key]
            return doc
        elif op == 2 and isinstance(node, dict):  # add a key
            node[self.pick(_KEYS) if fdp.ConsumeBool() else self.string()] = self.value()
            return doc
        elif op == 2 and isinstance(node, list):  # insert an element
            elem = copy.deepcopy(self.pick(node)) if node and fdp.ConsumeBool() else self.value()
            node.insert(fdp.ConsumeIntInRange(0, len(node)), elem)
            return doc
        elif op == 3:  # wrap
            new = [node] if fdp.ConsumeBool() else {self.pick(_KEYS): node}
        elif op == 4 and self.docs:  # another whole document
            new = copy.deepcopy(self.pick(self.docs))
        else:  # retype: same content, another JSON type
            new = json.dumps(node) if not isinstance(node, str) else [node]
        if parent is None:
            return new
        parent[key] = new
        return doc


def _dumps(doc: Any) -> bytes:
    try:
        return orjson.dumps(doc)
    except TypeError:  # orjson.JSONEncodeError: e.g. a string with a lone surrogate
        return json.dumps(doc).encode("utf-8", "surrogatepass")


_templates: list[list[MemberSpec]] = []


def _manifest_templates() -> list[list[MemberSpec]]:
    """Member lists of a few builder-made archives (uncompressed, one per layout)."""
    if not _templates:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from make_seeds import archive_members, compact_tars, images

        from dive_py.fixtures.builder import LAYOUTS, archive_bytes

        sets = images()
        with compact_tars():
            for layout in LAYOUTS:
                for set_name in ("tiny", "arches"):
                    comp = "gzip" if layout == "kaniko" else "none"
                    data = archive_bytes(
                        sets[set_name],
                        layout,
                        compression=comp,
                        platforms=set_name == "arches",
                        attestation=set_name == "tiny",
                    )
                    _templates.append(archive_members(data))
    return _templates


def _json_or_none(content: bytes) -> Any:
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return None


def build_members(data: bytes) -> tuple[list[MemberSpec], str | None, str | None]:
    """Decode the input and apply its mutations: ``(members, image, platform)``."""
    control, members = decode_manifest_input(data)
    fdp = atheris.FuzzedDataProvider(control)
    if not members:
        templates = _manifest_templates()
        members = list(templates[fdp.ConsumeIntInRange(0, len(templates) - 1)])
    parsed = [_json_or_none(content) if link is None else None for _, content, link in members]
    mut = _Mutator(fdp, [d for d in parsed if isinstance(d, (dict, list))])
    current: list[list[Any]] = [[name, content, link, doc] for (name, content, link), doc in zip(members, parsed)]
    for _ in range(fdp.ConsumeIntInRange(0, 8)):
        if fdp.remaining_bytes() == 0:
            break
        op = fdp.ConsumeIntInRange(0, 9)
        if op <= 4 and current:  # structural mutation of one member's JSON
            entry = mut.pick(current)
            if entry[2] is None:
                doc = entry[3] if entry[3] is not None else mut.value()
                entry[3] = mut.mutate(doc)
                entry[1] = _dumps(entry[3])
        elif op == 5 and current:  # raw fuzzed bytes
            entry = mut.pick(current)
            entry[1] = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 200))
            entry[2] = entry[3] = None
        elif op == 6 and current:  # drop a member
            current.remove(mut.pick(current))
        elif op == 7:  # a new member: a known name, another document or raw bytes
            name = (
                mut.pick(["manifest.json", "index.json", *(e[0] for e in current)])
                if fdp.ConsumeBool()
                else _blob_name(mut.string())
            )
            doc = mut.value()
            current.append([name, _dumps(doc), None, doc])
        elif op == 8:  # a symlink (possibly a loop)
            names = [e[0] for e in current] or ["manifest.json"]
            current.append([mut.pick([*names, "manifest.json", "index.json"]), b"", mut.pick(names), None])
        elif current:  # rename a member
            entry = mut.pick(current)
            entry[0] = mut.pick([e[0] for e in current]) if fdp.ConsumeBool() else _blob_name(mut.string())
    image = _choose(fdp, mut, ("0", "1", "7"))
    platform = _choose(fdp, mut, ("linux/amd64", "arm64", "linux/arm64/v8", "arm/v7", "amd64", " "))
    return [(e[0], e[1], e[2]) for e in current], image, platform


def _blob_name(s: str) -> str:
    algo, _, hexpart = s.partition(":")
    return f"blobs/{algo}/{hexpart}" if hexpart else s


def _choose(fdp: atheris.FuzzedDataProvider, mut: _Mutator, fixed: tuple[str, ...]) -> str | None:
    kind = fdp.ConsumeIntInRange(0, 7)
    if kind < 4:
        return None
    if kind < 6:
        s: str = mut.pick(fixed)
        return s
    return mut.string()


def fuzz_manifest(data: bytes) -> None:
    members, image, platform = build_members(data)
    archive = MemArchive(members)
    try:
        found = find_images(archive)
        ref = select_image(found, image, platform)
        _ = ref.display_name
        what = f"config {ref.config_member}"
        cfg = parse_config(archive.read_json(ref.config_member, what), what)
        _ = cfg.platform
        assign_history(cfg, len(ref.layers))
    except DiveError:
        pass
    for name, content, link in members:
        if link is None:
            doc = _json_or_none(content)
            if doc is not None:
                with contextlib.suppress(DiveError):
                    assign_history(parse_config(doc, name), 3)


# -- main ---------------------------------------------------------------------------------------

TARGETS: dict[str, Callable[[bytes], None]] = {"tar": fuzz_tar, "archive": fuzz_archive, "manifest": fuzz_manifest}


def crash_signature(exc: BaseException) -> str:
    """``Type@path/in/dive_py.py:line`` of the innermost dive_py frame (or of the last frame)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f"{os.sep}dive_py{os.sep}" in f.filename] or frames[-1:]
    if not ours:
        return type(exc).__name__
    frame = ours[-1]
    path = frame.filename.rsplit(f"{os.sep}dive_py{os.sep}", 1)[-1]
    return f"{type(exc).__name__}@{path}:{frame.lineno}"


def guarded(target: Callable[[bytes], None]) -> Callable[[bytes], None]:
    """Print each crash's signature before libFuzzer sees it; swallow those in ``DIVEPY_FUZZ_IGNORE``."""

    count = 0

    def run(data: bytes) -> None:
        nonlocal count
        try:
            target(data)
        except Exception as exc:
            sig = crash_signature(exc)
            if sig in IGNORE:
                return
            print(f"\nDIVEPY-FUZZ-SIGNATURE: {sig}", file=sys.stderr, flush=True)
            raise
        finally:
            if MANUAL_GC:
                count += 1
                gc.collect(0 if count % 1000 else 2)

    return run


def main() -> None:
    # No short options: libFuzzer's "-timeout=10" must not be read as "-t imeout=10".
    parser = argparse.ArgumentParser(
        description="divepy fuzzing harness; other arguments go to libFuzzer", add_help=False, allow_abbrev=False
    )
    parser.add_argument("--target", choices=sorted(TARGETS), required=True)
    parser.add_argument("--help", action="help", help="show this help (libFuzzer's own: -help=1)")
    args, rest = parser.parse_known_args()
    target = guarded(TARGETS[args.target])
    if MANUAL_GC:
        gc.disable()
    if args.target == "manifest":
        _manifest_templates()  # built before fuzzing starts, not inside the first input
    # libFuzzer ignores "--" flags, so "--target=X" can stay in its argv: -jobs/-fork children
    # re-run this command line.  argv[0] names the interpreter too (libFuzzer joins it with spaces).
    argv0 = shlex.join([sys.executable, os.path.abspath(sys.argv[0])])
    atheris.Setup([argv0, f"--target={args.target}", *rest], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
