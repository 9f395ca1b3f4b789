"""Find the images in an archive: docker ``manifest.json`` and OCI ``index.json``.

Layer order always comes from a manifest (``manifest.json`` ``Layers`` or an
OCI image manifest's ``layers``), never from archive order or a map: dive
reads OCI archives without ``manifest.json`` in random layer order, we must not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from dive_py.core.archive.base import Archive, normalise_member
from dive_py.core.limits import IMAGES, INDEX_DEPTH, LAYERS, check_count
from dive_py.errors import ManifestError

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = frozenset((OCI_INDEX, DOCKER_LIST))
MANIFEST_TYPES = frozenset((OCI_MANIFEST, DOCKER_MANIFEST))
CONFIG_TYPES = frozenset(("application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json"))
LAYER_TYPE_PREFIXES = ("application/vnd.oci.image.layer.", "application/vnd.docker.image.rootfs.")

FORMAT_DOCKER_LEGACY = "docker save (legacy layout)"
FORMAT_CONTAINERS_IMAGE = "docker-archive (containers/image: buildah, podman, skopeo)"
FORMAT_DOCKER25 = "docker save (Docker >= 25: OCI layout + manifest.json)"
FORMAT_KANIKO = "tarball with manifest.json (kaniko / crane)"
FORMAT_DOCKER_ARCHIVE = "docker-archive"
FORMAT_OCI = "OCI image layout"


@dataclass(slots=True)
class LayerRef:
    """Where a layer blob is and what the manifest says about it."""

    member: str
    digest: str | None = None
    media_type: str | None = None
    declared_size: int | None = None


@dataclass(slots=True)
class ImageRef:
    """One image (one platform of one name) found in the archive."""

    names: list[str]
    config_member: str
    layers: list[LayerRef]
    config_digest: str | None = None
    platform: str | None = None
    manifest_digest: str | None = None
    manifest_media_type: str | None = None
    group: int = 0  # images of one multi-platform index share a group

    @property
    def display_name(self) -> str:
        return self.names[0] if self.names else "(untagged)"


@dataclass(slots=True)
class ArchiveIndex:
    """Every image the archive holds, plus how the archive is laid out."""

    format: str
    images: list[ImageRef] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


#: The OCI digest grammar: ``algorithm:encoded``.  A digest names a file
#: (``blobs/<algorithm>/<encoded>``), so anything else -- a slash, ``..``,
#: a newline -- is refused before it becomes a path or a message.
_DIGEST = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")


def _blob_member(digest: str) -> str:
    if len(digest) > 256 or not _DIGEST.fullmatch(digest):
        raise ManifestError(f"invalid digest {digest[:100]!r}")
    algo, _, encoded = digest.partition(":")
    return f"blobs/{algo}/{encoded}"


def _expect_dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ManifestError(f"{what} is not a JSON object")
    return value


def _str_list(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ManifestError(f"{what} must be a list of strings")
    return list(value)


def _media_type(doc: dict[str, Any], what: str) -> str | None:
    """A descriptor's or document's ``mediaType``: a string or absent, nothing else."""
    media = doc.get("mediaType")
    if media is not None and not isinstance(media, str):
        raise ManifestError(f"{what}: 'mediaType' is not a string")
    return media


def _platform_of(desc: dict[str, Any]) -> str | None:
    plat = desc.get("platform")
    if not isinstance(plat, dict):
        return None
    os_ = plat.get("os")
    arch = plat.get("architecture")
    if not isinstance(os_, str) or not isinstance(arch, str):
        return None
    variant = plat.get("variant")
    return f"{os_}/{arch}/{variant}" if isinstance(variant, str) and variant else f"{os_}/{arch}"


def _is_attestation(desc: dict[str, Any]) -> bool:
    ann = desc.get("annotations")
    if isinstance(ann, dict) and ann.get("vnd.docker.reference.type") == "attestation-manifest":
        return True
    plat = desc.get("platform")
    return isinstance(plat, dict) and plat.get("os") == "unknown" and plat.get("architecture") == "unknown"


def _names_of(desc: dict[str, Any]) -> list[str]:
    ann = desc.get("annotations")
    if not isinstance(ann, dict):
        return []
    names: list[str] = []
    full = ann.get("io.containerd.image.name")
    ref = ann.get("org.opencontainers.image.ref.name")
    if isinstance(full, str) and full:
        names.append(full)
    if isinstance(ref, str) and ref and not any(n.endswith(":" + ref) or n == ref for n in names):
        names.append(ref)
    return names


def _layer_refs(manifest: dict[str, Any], what: str) -> list[LayerRef]:
    layers = manifest.get("layers")
    if layers is None:
        layers = []
    if not isinstance(layers, list):
        raise ManifestError(f"{what}: 'layers' is not a list")
    check_count(len(layers), LAYERS, what, "layers")
    refs: list[LayerRef] = []
    for i, desc in enumerate(layers):
        desc = _expect_dict(desc, f"{what}: layer {i}")
        digest = desc.get("digest")
        media = desc.get("mediaType")
        if not isinstance(digest, str):
            raise ManifestError(f"{what}: layer {i} has no digest")
        if not isinstance(media, str) or not media.startswith(LAYER_TYPE_PREFIXES):
            raise ManifestError(f"{what}: layer {i} has unknown media type {media!r}")
        size = desc.get("size")
        refs.append(LayerRef(_blob_member(digest), digest, media, size if isinstance(size, int) else None))
    return refs


class _IndexWalker:
    """Collects image manifests from an OCI index, recursing into nested indexes."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self.images: list[ImageRef] = []
        self.skipped: list[str] = []
        self._group = 0
        #: Top-level manifests with the same names are platforms of one image.
        self._by_names: dict[tuple[str, ...], int] = {}
        #: Indexes already walked and (manifest, names) pairs already added: an
        #: index that lists the same child twice adds nothing the second time,
        #: so a chain that lists each next index twelve times costs one walk each.
        self._walked: set[tuple[str, tuple[str, ...]]] = set()
        self._added: set[tuple[str, tuple[str, ...]]] = set()

    def walk(self, index: dict[str, Any], what: str, names: list[str], depth: int, group: int | None) -> None:
        if depth > INDEX_DEPTH:
            raise ManifestError(f"{what}: indexes nested more than {INDEX_DEPTH} deep (divepy's limit)")
        manifests = index.get("manifests")
        if manifests is None:  # Docker's `save IMAGE@DIGEST` wrote "manifests": null
            self.skipped.append(f"{what} lists no manifests")
            return
        if not isinstance(manifests, list):
            raise ManifestError(f"{what}: 'manifests' is not a list")
        check_count(len(manifests), IMAGES, what, "manifests")
        for i, desc in enumerate(manifests):
            desc = _expect_dict(desc, f"{what}: manifests[{i}]")
            if _is_attestation(desc):
                self.skipped.append("attestation manifest")
                continue
            digest = desc.get("digest")
            if not isinstance(digest, str):
                raise ManifestError(f"{what}: manifests[{i}] has no digest")
            member = _blob_member(digest)
            media = _media_type(desc, f"{what}: manifests[{i}]")
            here_names = _names_of(desc) or names
            if not self.archive.has(member):
                raise ManifestError(f"{what} refers to {digest}, which is not in the archive")
            doc = _expect_dict(self.archive.read_json(member, f"manifest {digest}"), f"manifest {digest}")
            if media is None:
                media = _media_type(doc, f"manifest {digest}") or (OCI_INDEX if "manifests" in doc else OCI_MANIFEST)
            if media in INDEX_TYPES:
                if (digest, tuple(here_names)) in self._walked:
                    continue
                self._walked.add((digest, tuple(here_names)))
                sub_group = group if group is not None else self._new_group()
                self.walk(doc, f"index {digest}", here_names, depth + 1, sub_group)
            elif media in MANIFEST_TYPES:
                if (digest, tuple(here_names)) in self._added:
                    continue
                self._added.add((digest, tuple(here_names)))
                if group is None:  # a flat multi-platform index: one image per set of names
                    key = tuple(here_names)
                    if key not in self._by_names:
                        self._by_names[key] = self._new_group()
                    self._add_manifest(doc, desc, digest, str(media), here_names, self._by_names[key])
                else:
                    self._add_manifest(doc, desc, digest, str(media), here_names, group)
            else:
                raise ManifestError(f"{what}: manifests[{i}] has unknown media type {media!r}")

    def _new_group(self) -> int:
        self._group += 1
        return self._group

    def _add_manifest(
        self, doc: dict[str, Any], desc: dict[str, Any], digest: str, media: str, names: list[str], group: int | None
    ) -> None:
        what = f"manifest {digest}"
        config = _expect_dict(doc.get("config"), f"{what}: config")
        cfg_media = config.get("mediaType")
        if isinstance(cfg_media, str) and cfg_media not in CONFIG_TYPES:
            self.skipped.append(f"{what} is an artifact ({cfg_media}), not an image")
            return
        cfg_digest = config.get("digest")
        if not isinstance(cfg_digest, str):
            raise ManifestError(f"{what}: config has no digest")
        layers = _layer_refs(doc, what)
        if not layers:
            self.skipped.append(f"{what} lists no layers")
            return
        check_count(len(self.images) + 1, IMAGES, "the archive", "images")
        self.images.append(
            ImageRef(
                names=list(names),
                config_member=_blob_member(cfg_digest),
                layers=layers,
                config_digest=cfg_digest,
                platform=_platform_of(desc),
                manifest_digest=digest,
                manifest_media_type=media,
                group=group if group is not None else self._new_group(),
            )
        )


def _docker_manifest(archive: Archive, has_index: bool) -> ArchiveIndex:
    doc = archive.read_json("manifest.json")
    if doc is None:
        doc = []
    if not isinstance(doc, list):
        raise ManifestError("manifest.json is not a JSON list")
    check_count(len(doc), IMAGES, "manifest.json", "images")
    images: list[ImageRef] = []
    kinds: set[str] = set()
    links_to_layers = archive.has_layer_tar_links()
    for i, entry in enumerate(doc):
        entry = _expect_dict(entry, f"manifest.json entry {i}")
        config = entry.get("Config")
        if not isinstance(config, str) or not config:
            raise ManifestError(f"manifest.json entry {i} has no Config")
        layer_paths = _str_list(entry.get("Layers"), f"manifest.json entry {i} Layers")
        check_count(len(layer_paths), LAYERS, f"manifest.json entry {i}", "layers")
        raw_sources = entry.get("LayerSources")
        sources: dict[str, Any] = raw_sources if isinstance(raw_sources, dict) else {}
        refs: list[LayerRef] = []
        for path in layer_paths:
            member = archive.resolve(path)
            if member is None:
                raise ManifestError(f"manifest.json refers to layer {path!r}, which is not in the archive")
            if path.startswith("blobs/"):
                kinds.add("docker25")
            elif path.endswith("/layer.tar"):
                kinds.add("legacy")
            elif "/" not in normalise_member(path) and path.endswith(".tar") and links_to_layers:
                kinds.add("containers-image")  # <digest>.tar plus <id>/layer.tar symlinks
            else:
                kinds.add("flat")
            digest = None
            media = None
            size = None
            if path.startswith("blobs/"):
                parts = path.split("/")
                if len(parts) == 3:
                    digest = f"{parts[1]}:{parts[2]}"
            if digest and digest in sources and isinstance(sources[digest], dict):
                src = sources[digest]
                media = src.get("mediaType") if isinstance(src.get("mediaType"), str) else None
                size = src.get("size") if isinstance(src.get("size"), int) else None
            refs.append(LayerRef(member.name, digest, media, size))
        if not archive.has(config):
            raise ManifestError(f"manifest.json refers to config {config!r}, which is not in the archive")
        config_digest = None
        if config.startswith("blobs/"):
            parts = config.split("/")
            config_digest = f"{parts[1]}:{parts[-1]}" if len(parts) == 3 else None
        elif config.startswith("sha256:"):
            config_digest = config
            kinds.add("kaniko")
        elif config.endswith(".json") and len(config) == 69:
            config_digest = "sha256:" + config[:-5]
        images.append(
            ImageRef(
                names=_str_list(entry.get("RepoTags"), f"manifest.json entry {i} RepoTags"),
                config_member=config,
                layers=refs,
                config_digest=config_digest,
                group=i,
            )
        )
    if "docker25" in kinds or has_index:
        fmt = FORMAT_DOCKER25 if "docker25" in kinds else FORMAT_DOCKER_ARCHIVE
    elif "kaniko" in kinds:
        fmt = FORMAT_KANIKO
    elif "containers-image" in kinds:
        fmt = FORMAT_CONTAINERS_IMAGE
    elif "legacy" in kinds:
        fmt = FORMAT_DOCKER_LEGACY
    elif "flat" in kinds:
        fmt = FORMAT_KANIKO
    else:
        fmt = FORMAT_DOCKER_ARCHIVE
    return ArchiveIndex(fmt, images)


def _enrich_from_index(archive: Archive, result: ArchiveIndex) -> None:
    """Docker >= 25 saves carry OCI manifests too: take media types and sizes from them."""
    try:
        walker = _IndexWalker(archive)
        walker.walk(_expect_dict(archive.read_json("index.json"), "index.json"), "index.json", [], 0, None)
    except ManifestError:
        return  # the docker manifest alone is enough; the index is optional detail
    by_config = {img.config_digest: img for img in walker.images}
    for img in result.images:
        oci = by_config.get(img.config_digest)
        if oci is None or len(oci.layers) != len(img.layers):
            continue
        img.platform = oci.platform
        img.manifest_digest = oci.manifest_digest
        img.manifest_media_type = oci.manifest_media_type
        for mine, theirs in zip(img.layers, oci.layers, strict=True):
            if mine.member == theirs.member or mine.digest is None:
                mine.digest = mine.digest or theirs.digest
                mine.media_type = mine.media_type or theirs.media_type
                mine.declared_size = mine.declared_size if mine.declared_size is not None else theirs.declared_size


def find_images(archive: Archive) -> ArchiveIndex:
    """Every image in the archive, in the archive's own order."""
    has_manifest = archive.has("manifest.json")
    has_index = archive.has("index.json")
    if has_manifest:
        result = _docker_manifest(archive, has_index)
        if result.images:
            if has_index:
                _enrich_from_index(archive, result)
            return result
        if not has_index:
            raise ManifestError("manifest.json lists no images")
    if has_index:
        index = _expect_dict(archive.read_json("index.json"), "index.json")
        walker = _IndexWalker(archive)
        walker.walk(index, "index.json", [], 0, None)
        if not walker.images:
            why = "; ".join(dict.fromkeys(walker.skipped)) or "it lists no manifests"
            raise ManifestError(f"index.json holds no usable image ({why})")
        return ArchiveIndex(FORMAT_OCI, walker.images, walker.skipped)
    raise ManifestError(
        f"{archive.label} is not a container image archive: no manifest.json or index.json "
        "(a plain filesystem tar? create images with `docker save`, `podman save` or `skopeo copy`)"
    )
