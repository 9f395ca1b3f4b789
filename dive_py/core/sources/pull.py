"""``registry://NAME``: pull one image's manifest, config and layers into the cache, as an OCI layout.

The cache holds every verified blob once, by digest (``blobs/sha256/…``),
and one OCI image layout per pulled manifest (``images/<digest>/``) whose
blobs are hard links to those: the layout reader that opens ``skopeo copy
oci:`` directories opens a pull unchanged, so the analysis, the viewer and
extraction need nothing new.  Downloads go to a private temporary file,
are checked against their digest and size while they stream, and are
renamed into place only then (atomic: concurrent runs and interrupted
pulls never leave a partial blob under a digest).  A cached blob whose
size is wrong is discarded and fetched again.  Layers are fetched on a
few threads at once, and each compressed layer is parsed while it arrives
(:mod:`dive_py.core.sources.early_parse`): the loader takes those parses
instead of reading the blobs again.  After a pull the cache is pruned back to its cap,
least recently used images first (:mod:`dive_py.core.sources.blobcache`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from dive_py.core.archive import Archive
from dive_py.core.archive.base import LayerBlob, ProgressFn
from dive_py.core.archive.layoutdir import DirectoryArchive
from dive_py.core.oci.manifest import DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST
from dive_py.core.oci.selection import host_platform, normalise_platform, platform_matches
from dive_py.core.progress import NullProgress, Progress
from dive_py.core.sources.blobcache import DEFAULT_MAX_BYTES, prune, touch
from dive_py.core.sources.early_parse import EarlyParser
from dive_py.core.sources.reference import Reference
from dive_py.core.sources.registry import SHA256, Registry, RegistryError
from dive_py.core.text import printable

#: Layer downloads at once (registries throttle more).
PARALLEL = 4
#: Bigger than any real config blob.
MAX_CONFIG_BYTES = 64 << 20
MAX_LAYERS = 1000
#: The biggest blob a manifest may claim (a hostile one could claim a terabyte and fill the disk).
MAX_BLOB_BYTES = 64 << 30
#: Kept free on the cache's filesystem beyond what a pull needs.
SPARE_BYTES = 256 << 20


@dataclass(slots=True, frozen=True)
class Pulled:
    """Where the pulled image is and what it was."""

    layout: str  #: an OCI image layout directory
    digest: str  #: the manifest's digest
    platform: str | None  #: chosen from an index, when there was one
    downloaded: int  #: bytes fetched this time (0: everything came from the cache)
    #: The image as asked for (``HOST/REPO:TAG``): what the reports call it, not the cache's directory.
    name: str = ""
    #: Layers parsed while they downloaded, by member name (``blobs/sha256/…``); the first open takes them.
    parsed: dict[str, LayerBlob] = field(default_factory=dict, compare=False, repr=False)

    @property
    def label(self) -> str:
        """``registry://HOST/REPO:TAG``: the same on every run (a --no-cache pull's directory is not)."""
        return f"registry://{self.name}" if self.name else self.layout

    def open_archive(self, *, hash_files: bool, progress: ProgressFn | None = None, scan: bool = True) -> Archive:
        """The layout, read in place, with the layers the pull parsed (handed out once).

        ``scan=False`` is the metadata cache's reopen for file contents: the cache answered the
        load, so the pull's parses are dropped rather than held for the whole session.
        """
        del hash_files, progress  # a layout hashes lazily, and reports progress per layer
        parsed = dict(self.parsed) if scan else {}
        self.parsed.clear()
        return DirectoryArchive(self.layout, self.label, parsed)

    def identity(self) -> str:
        """The manifest's digest, which names every blob (each verified when it was fetched).

        Not the layout's file times: every pull of the image touches its blobs (the prune's grace
        period), which would make each open a new key for the metadata cache.
        """
        return hashlib.sha256(f"registry\0{self.digest}".encode()).hexdigest()


class BlobStore:
    """Verified blobs by digest under ``root/blobs/sha256``, written atomically."""

    def __init__(self, root: str, *, durable: bool = True) -> None:
        self.root = root
        #: fsync each blob before it is renamed into place (a cache must survive a crash; a
        #: --no-cache pull's directory is removed at the end of the run, so it need not).
        self.durable = durable
        self.blobs = os.path.join(root, "blobs", "sha256")
        self.tmp = os.path.join(root, "tmp")
        os.makedirs(self.blobs, exist_ok=True)
        os.makedirs(self.tmp, exist_ok=True)

    def path(self, digest: str) -> str:
        return os.path.join(self.blobs, digest.partition(":")[2])

    def has(self, digest: str, size: int) -> bool:
        """A cached blob of the right size; a wrong one (truncated, replaced) is discarded."""
        path = self.path(digest)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return False
        if st.st_size == size:
            with contextlib.suppress(OSError):
                os.utime(path)  # just used: a concurrent prune's grace period protects it now
            return True
        with contextlib.suppress(FileNotFoundError):  # another run may be discarding it too
            os.unlink(path)
        return False

    def fetch(self, registry: Registry, digest: str, size: int, parser: EarlyParser | None = None) -> int:
        """Make the blob present; returns the bytes downloaded.  ``parser`` reads it as it arrives."""
        if self.has(digest, size):
            return 0
        fd, tmp = tempfile.mkstemp(prefix="blob-", dir=self.tmp)
        spool = None
        try:
            # Its parser waits for the bytes; a failed download is never finished, and the pull's
            # end (EarlyParser.close) stops that parser.
            spool = parser.watch(digest, tmp, self.path(digest), size) if parser is not None else None

            def write(chunk: bytes) -> None:
                view = memoryview(chunk)
                while view:  # unbuffered: what the spool says is written must be in the file
                    view = view[os.write(fd, view) :]
                if spool is not None:
                    spool.grew(len(chunk))

            registry.blob(digest, size, write)
            if self.durable:
                os.fsync(fd)
            os.close(fd)
            fd = -1
            os.replace(tmp, self.path(digest))
        except BaseException:
            if fd >= 0:
                os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)  # ours, made above: nothing unverified stays
            raise
        if spool is not None:
            spool.finish()
        return size

    def put(self, digest: str, data: bytes) -> None:
        if self.has(digest, len(data)):
            return
        fd, tmp = tempfile.mkstemp(prefix="blob-", dir=self.tmp)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, self.path(digest))


def _descriptor(doc: Any, what: str, name: str) -> tuple[str, int, str]:
    if not isinstance(doc, dict):
        raise RegistryError(f"{name}: {what} is not a descriptor")
    digest, size, media = doc.get("digest"), doc.get("size"), doc.get("mediaType", "")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0 or not isinstance(media, str):
        raise RegistryError(f"{name}: {what} has no valid size")
    if not isinstance(digest, str) or not SHA256.match(digest):
        raise RegistryError(f"{name}: {what} has no sha256 digest (64 lowercase hex digits)")
    if size > MAX_BLOB_BYTES:
        raise RegistryError(f"{name}: {what} claims {size:,} bytes: refused (at most {MAX_BLOB_BYTES:,})")
    return digest, size, media


def _platform_of(entry: dict[str, Any]) -> str | None:
    plat = entry.get("platform")
    if not isinstance(plat, dict):
        return None
    parts = [plat.get("os"), plat.get("architecture"), plat.get("variant")]
    return "/".join(p for p in parts if isinstance(p, str) and p) or None


def _choose(index: dict[str, Any], wanted: str | None, name: str) -> tuple[str, int, str, str | None]:
    manifests = index.get("manifests")
    if not isinstance(manifests, list) or not manifests:
        raise RegistryError(f"{name}: the index lists no manifests")
    entries = []
    for i, entry in enumerate(manifests):
        digest, size, media = _descriptor(entry, f"manifests[{i}]", name)
        plat = _platform_of(entry)
        if plat in (None, "unknown/unknown"):
            continue  # attestations and other non-images
        entries.append((digest, size, media, plat))
    target = normalise_platform(wanted) if wanted else host_platform()
    for entry in entries:
        if platform_matches(target, entry[3]):
            return entry
    if wanted is None and len(entries) == 1:
        return entries[0]
    have = ", ".join(sorted({e[3] or "unknown" for e in entries})) or "none"
    raise RegistryError(f"{name}: no {target} image in the index; available: {have} (choose with --platform)")


def pull(
    registry: Registry,
    ref: Reference,
    cache_dir: str,
    *,
    platform: str | None = None,
    progress: Progress | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    durable: bool = True,
) -> Pulled:
    """Fetch ``ref`` into the cache at ``cache_dir`` and return its layout directory (``durable``: fsync each blob)."""
    prog = progress or NullProgress()
    name = str(ref)
    store = BlobStore(cache_dir, durable=durable)
    prog.phase("Fetching the manifest", 0)
    data, media, digest = registry.manifest(ref.reference)
    chosen_platform: str | None = None
    doc = _json(data, name, "the manifest")
    if media in (OCI_INDEX, DOCKER_LIST) or (not media and "manifests" in doc):
        digest_m, _size, _media, chosen_platform = _choose(doc, platform, name)
        data, media, digest = registry.manifest(digest_m)
        doc = _json(data, name, "the manifest")
    if "layers" not in doc or "config" not in doc:
        raise RegistryError(f"{name}: the registry sent no image manifest (media type {media or 'none'})")
    config_digest, config_size, _ = _descriptor(doc["config"], "config", name)
    if config_size > MAX_CONFIG_BYTES:
        raise RegistryError(f"{name}: the config is {config_size:,} bytes: refused")
    layers = doc["layers"]
    if not isinstance(layers, list) or len(layers) > MAX_LAYERS:
        raise RegistryError(f"{name}: the manifest's layers are not a list of at most {MAX_LAYERS}")
    listed = [(config_digest, config_size)] + [_descriptor(d, f"layers[{i}]", name)[:2] for i, d in enumerate(layers)]
    wanted = list(dict.fromkeys(listed))  # an image may list the same (empty) layer twice: fetched once
    if len({d for d, _ in wanted}) != len(wanted):
        raise RegistryError(f"{name}: the manifest gives one digest two sizes")
    _check_space(store, [(d, size) for d, size in wanted if not store.has(d, size)], name)
    prog.phase("Fetching layers", sum(size for _, size in wanted))
    parser = EarlyParser({d for d, _ in listed[1:]})
    try:
        downloaded = _fetch_all(registry, store, wanted, prog, parser)
        prog.phase("Reading layers", 0)
        parsed = {f"blobs/sha256/{d.partition(':')[2]}": blob for d, blob in parser.results().items()}
    finally:
        parser.close()
    store.put(digest, data)
    kind = doc.get("mediaType") if doc.get("mediaType") in (OCI_MANIFEST, DOCKER_MANIFEST) else None
    kind = kind or (media if media in (OCI_MANIFEST, DOCKER_MANIFEST) else OCI_MANIFEST)
    try:
        layout = _layout(store, digest, kind, len(data), [d for d, _ in wanted], ref)
    except FileNotFoundError:  # a concurrent prune took a blob between the fetch and the link: once more
        downloaded += _fetch_all(registry, store, wanted, prog)
        store.put(digest, data)
        layout = _layout(store, digest, kind, len(data), [d for d, _ in wanted], ref)
    touch(layout)
    prune(cache_dir, max_bytes, keep=digest)
    return Pulled(layout, digest, chosen_platform, downloaded, printable(name), parsed)


def _check_space(store: BlobStore, missing: list[tuple[str, int]], name: str) -> None:
    need = sum(size for _, size in missing)
    free = shutil.disk_usage(store.root).free
    if need + SPARE_BYTES > free:
        raise RegistryError(
            f"{name}: the layers need {need:,} bytes and {store.root} has {free:,} free: "
            "refused (--cache-dir elsewhere?)"
        )


def _fetch_all(
    registry: Registry,
    store: BlobStore,
    wanted: list[tuple[str, int]],
    prog: Progress,
    parser: EarlyParser | None = None,
) -> int:
    """Fetch the blobs on a few threads; the first failure (or Ctrl+C) stops the others at their next chunk."""
    done = downloaded = 0
    pool = ThreadPoolExecutor(max_workers=PARALLEL, thread_name_prefix="divepy-pull")
    try:
        futures = [pool.submit(store.fetch, registry, d, size, parser) for d, size in wanted]
        for (_d, size), future in zip(wanted, futures, strict=True):
            downloaded += future.result()
            done += size
            prog.advance(done)
    except BaseException:
        registry.cancelled.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return downloaded


def _json(data: bytes, name: str, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except ValueError:
        raise RegistryError(f"{name}: {what} is not JSON") from None
    if not isinstance(doc, dict):
        raise RegistryError(f"{name}: {what} is not a JSON object")
    return doc


def _layout(store: BlobStore, digest: str, media: str, size: int, blobs: list[str], ref: Reference) -> str:
    """An OCI layout for the manifest: hard links to the store, built aside and renamed into place."""
    images = os.path.join(store.root, "images")
    os.makedirs(images, exist_ok=True)
    final = os.path.join(images, digest.partition(":")[2])
    if os.path.isfile(os.path.join(final, "index.json")) and all(
        os.path.exists(os.path.join(final, "blobs", "sha256", d.partition(":")[2])) for d in [digest, *blobs]
    ):
        return final
    work = tempfile.mkdtemp(prefix="layout-", dir=store.tmp)
    os.makedirs(os.path.join(work, "blobs", "sha256"))
    for d in [digest, *blobs]:
        os.link(store.path(d), os.path.join(work, "blobs", "sha256", d.partition(":")[2]))
    with open(os.path.join(work, "oci-layout"), "w") as fh:
        json.dump({"imageLayoutVersion": "1.0.0"}, fh)
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {
                "mediaType": media,
                "digest": digest,
                "size": size,
                "annotations": {
                    "io.containerd.image.name": str(ref),
                    "org.opencontainers.image.ref.name": ref.tag or ref.reference,
                },
            }
        ],
    }
    with open(os.path.join(work, "index.json"), "w") as fh:
        json.dump(index, fh)
    try:
        os.rename(work, final)
    except OSError:  # another run put it there first
        shutil.rmtree(work)  # ours, made above
        if not os.path.isfile(os.path.join(final, "index.json")):
            raise RegistryError(f"{final}: a damaged cache entry; remove it, or pass --no-cache") from None
    return final


__all__ = ["BlobStore", "Pulled", "pull"]
