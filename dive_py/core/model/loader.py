"""Open an image archive and build the :class:`~dive_py.core.model.image.Image`.

The steps: open the archive (detecting its kind from content), find the
images, choose one, read its config, read every layer (each once, even if
referenced twice), intern paths, and stack the layers once into a timeline.
"""

from __future__ import annotations

import gc

from dive_py.core.archive import Archive, LayerBlob, OpensArchive, open_archive, reopen_archive
from dive_py.core.archive.metacache import MetaCache, file_identity
from dive_py.core.archive.snapshot_archive import SnapshotArchive, SnapshotMiss, snapshot_of
from dive_py.core.model.entries import EntryTable, PathTable
from dive_py.core.model.image import Image, Layer
from dive_py.core.model.merge import build_timeline
from dive_py.core.oci.imageconfig import assign_history, command_of, parse_config
from dive_py.core.oci.manifest import ArchiveIndex, ImageRef, find_images
from dive_py.core.oci.selection import normalise_platform, platform_matches, select_image
from dive_py.core.progress import NullProgress, Progress
from dive_py.errors import ManifestError, UsageError


def load_image(
    path: str | OpensArchive,
    *,
    image: str | None = None,
    platform: str | None = None,
    hash_files: bool = False,
    strict: bool = True,
    progress: Progress | None = None,
    position: int | None = None,
    cache: MetaCache | None = None,
) -> Image:
    """Load and stack one image from ``path`` (file or directory, or a source that opens itself).

    ``position`` opens exactly the archive's ``position``-th image (the
    explorer's images table), instead of choosing by ``image`` and ``platform``.
    ``hash_files`` hashes compressed layers' file contents while they stream
    past: every analysis compares contents, and decompressing a layer a second
    time costs far more than hashing it on the first pass (``--list`` and
    ``--extract`` need no hashes).  ``strict=False`` (``--ignore-errors``)
    turns per-entry problems into warnings.  ``cache`` answers a source
    read before (same identity) from its snapshot, and stores one after a load.
    """
    prog: Progress = progress or NullProgress()

    def outer_progress(done: int, total: int) -> None:
        prog.advance(done)

    prog.phase("Reading archive", 0)
    key = None
    if cache is not None:
        key = file_identity(path) if isinstance(path, str) else path.identity()
    snapshot = cache.get(key) if cache is not None and key is not None else None
    if snapshot is not None:
        label = path if isinstance(path, str) else path.label
        kind = snapshot.kind

        def reopen() -> Archive:
            if isinstance(path, str):
                return reopen_archive(path, kind)
            return path.open_archive(hash_files=False, scan=False)

        cached = SnapshotArchive(snapshot, label, reopen)
        try:
            from_cache, _ = _load(cached, label, image, platform, hash_files, strict, prog, position)
        except SnapshotMiss:
            cached.close()  # this load needs what the one pass did not keep: read the source again
        except BaseException:
            cached.close()
            raise
        else:
            if cache is not None and key is not None:
                _store_when_grown(from_cache, cache, key, cached)
            return from_cache
    if isinstance(path, str):
        archive, label = open_archive(path, hash_files=hash_files, progress=outer_progress), path
    else:
        archive, label = path.open_archive(hash_files=hash_files, progress=outer_progress), path.label
    try:
        loaded, blobs = _load(archive, label, image, platform, hash_files, strict, prog, position)
    except BaseException:
        archive.close()
        raise
    if cache is not None and key is not None:
        # From now on the image reads through the snapshot, so what is hashed later is stored at close.
        taken = snapshot_of(archive, blobs)
        cache.put(key, taken)
        wrapped = SnapshotArchive(taken, label, lambda: archive, live=archive)
        loaded.archive = wrapped
        _store_when_grown(loaded, cache, key, wrapped)
    return loaded


def _store_when_grown(image: Image, cache: MetaCache, key: str, archive: SnapshotArchive) -> None:
    """Add what was parsed or hashed after the load (the explorer's hashes) to the snapshot, at close.

    The archive keeps only those layers (:meth:`SnapshotArchive.release`); the rest is read back from
    the stored snapshot when there is something to add.
    """
    archive.release()

    def store() -> None:
        if not archive.grown_layers:
            return
        stored = cache.get(key)
        if stored is not None:
            stored.layers.update(archive.grown_layers)
            cache.put(key, stored)

    image.closers.append(store)


def settle(*, collect: bool = True) -> None:
    """Tell the cyclic GC that everything alive now lives long (after a load, after the analysis).

    An image is millions of long-lived, acyclic objects; without this every
    full collection during analysis, export or a key press rescans them all
    (measured on a 400k-file image: ~6 s of a 24 s ``--json`` run, and ~0.3 s
    felt as a frozen key press in the explorer).
    """
    if collect:
        gc.collect()
    gc.freeze()


def _layer_id(member: str, digest: str | None) -> str:
    """dive's id (first path segment of the member) unless that is ``blobs``."""
    if member.startswith("blobs/"):
        return member.rsplit("/", 1)[-1]
    return member.split("/", 1)[0]


def _load(
    archive: Archive,
    path: str,
    image: str | None,
    platform: str | None,
    hash_files: bool,
    strict: bool,
    prog: Progress,
    position: int | None = None,
) -> tuple[Image, dict[str, LayerBlob]]:
    found: ArchiveIndex = find_images(archive)
    if position is not None:
        if not 0 <= position < len(found.images):
            raise UsageError(f"the archive holds {len(found.images)} image(s); there is no image {position}")
        ref: ImageRef = found.images[position]
        platform = None  # the exact image asked for: no platform check against the config
    else:
        ref = select_image(found, image, platform)
    config = parse_config(
        archive.read_json(ref.config_member, f"config {ref.config_member}"), f"config {ref.config_member}"
    )
    if platform is not None and ref.platform is None and config.platform is not None:
        wanted = normalise_platform(platform)
        if not platform_matches(wanted, config.platform):
            raise UsageError(f"--platform {wanted}: this image is {config.platform}")
    if config.diff_ids and len(config.diff_ids) != len(ref.layers):
        raise ManifestError(
            f"the config lists {len(config.diff_ids)} layer digests but the manifest has {len(ref.layers)} layers"
        )
    stored_total = 0
    for lr in ref.layers:
        member = archive.resolve(lr.member)
        stored_total += member.size if member is not None else 0
    prog.phase("Reading layers", stored_total)
    blobs: dict[str, LayerBlob] = {}
    done = 0
    files = 0
    for i, lr in enumerate(ref.layers):
        if lr.member not in blobs:
            member = archive.resolve(lr.member)
            stored = member.size if member is not None else 0
            step = f"layer {i + 1}/{len(ref.layers)}, {files:,} files"

            def within(offset: int, base: int = done, cap: int = stored, step: str = step) -> None:
                prog.advance(base + min(offset, cap), step)

            blobs[lr.member] = archive.read_layer(
                lr.member, hash_files=hash_files, what=f"layer {i} ({lr.member})", progress=within
            )
            done += blobs[lr.member].stored_size
        files += len(blobs[lr.member].raw)
        prog.advance(done, f"layer {i + 1}/{len(ref.layers)}, {files:,} files")

    prog.phase("Stacking layers", len(ref.layers))
    paths = PathTable()
    entries = EntryTable()
    for lr in ref.layers:
        entries.add_layer(blobs[lr.member].raw, paths, lr.member)
    warnings: list[str] = []
    timeline = build_timeline(entries, paths, strict=strict, warn=warnings)

    history = assign_history(config, len(ref.layers))
    layers: list[Layer] = []
    seen_ids: set[str] = set()
    for i, lr in enumerate(ref.layers):
        blob = blobs[lr.member]
        lid = _layer_id(lr.member, lr.digest)
        if lid in seen_ids:  # the same blob twice (e.g. two empty layers): keep ids unique
            lid = f"{lid}@{i}"
        seen_ids.add(lid)
        hist = history[i]
        layers.append(
            Layer(
                index=i,
                id=lid,
                digest=config.diff_ids[i] if i < len(config.diff_ids) else "",
                member=lr.member,
                blob_digest=lr.digest,
                media_type=lr.media_type,
                compression=blob.compression,
                stored_size=blob.stored_size,
                size=sum(blob.raw.sizes),
                tar_size=blob.raw.tar_bytes,
                entry_count=len(blob.raw),
                history=hist,
                command=command_of(hist.created_by) if hist else "(missing)",
            )
        )
    all_members = {lr.member for img in found.images for lr in img.layers}
    archive_bytes = 0
    for m in all_members:
        member = archive.resolve(m)
        archive_bytes += member.size if member else 0
    names = list(ref.names)
    built = Image(
        source=path,
        archive_format=found.format,
        names=names,
        ref=ref,
        config=config,
        layers=layers,
        paths=paths,
        entries=entries,
        timeline=timeline,
        archive=archive,
        index=found,
        archive_layer_bytes=archive_bytes,
        warnings=warnings,
    )
    return built, blobs
