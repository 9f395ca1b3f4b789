"""The images one archive holds and the layers they share (``docker system df -v``).

``docker save a b`` and ``podman save -m`` store every layer blob once,
however many of the archive's images use it.  Per image this says how
many bytes of stored layers it uses (``size``), how many of those another
image of the archive uses too (``shared``), and how many are its own
(``unique``); for the archive, the bytes actually stored against the sum
of the image sizes, which counts every shared layer once per image.

Sizes are stored bytes (the blob as it lies in the archive: compressed
when the layer is), known from the archive's index without reading a
layer -- which is what the archive costs on disk and what a registry
would transfer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from dive_py.core.model.image import Image
from dive_py.core.oci.manifest import ImageRef


@dataclass(slots=True, frozen=True)
class ImageSetRow:
    """One image of the archive (one platform of one name)."""

    names: list[str]
    platform: str | None
    layers: int
    size: int  #: stored bytes of the distinct layer blobs it uses
    shared: int  #: the part of ``size`` in blobs that another image uses too
    selected: bool
    choice: str  #: what ``--image`` takes to open its name (the index of its group)
    position: int  #: its place among the archive's images: what opens exactly this one

    @property
    def unique(self) -> int:
        return self.size - self.shared

    @property
    def display_name(self) -> str:
        return ", ".join(self.names) if self.names else "(untagged)"


@dataclass(slots=True, frozen=True)
class ImageSet:
    rows: list[ImageSetRow]
    shared_members: list[str]  #: layer blobs used by two or more images, sorted
    stored: int  #: bytes of the distinct layer blobs, each once
    archive_bytes: int | None  #: the archive on disk (file, or the layout directory's files)

    @property
    def sum_of_sizes(self) -> int:
        return sum(r.size for r in self.rows)


def image_set(image: Image) -> ImageSet:
    """The images of ``image``'s archive, with their shared and unique layer bytes."""
    refs = image.index.images
    users: dict[str, int] = {}
    for ref in refs:
        for member in _members(ref):
            users[member] = users.get(member, 0) + 1
    sizes = {m: _stored(image, m) for m in users}
    groups: dict[int, int] = {}
    for ref in refs:
        groups.setdefault(ref.group, len(groups))
    rows = []
    for position, ref in enumerate(refs):
        members = _members(ref)
        rows.append(
            ImageSetRow(
                names=list(ref.names),
                platform=ref.platform,
                layers=len(ref.layers),
                size=sum(sizes[m] for m in members),
                shared=sum(sizes[m] for m in members if users[m] > 1),
                selected=ref is image.ref,
                choice=str(groups[ref.group]),
                position=position,
            )
        )
    shared = sorted(m for m, n in users.items() if n > 1)
    return ImageSet(rows, shared, image.archive_layer_bytes, _archive_bytes(image.source))


def shared_layers(image: Image) -> set[int]:
    """Indexes of ``image``'s layers whose blob another image of the archive uses too."""
    others = {m for ref in image.index.images if ref is not image.ref for m in _members(ref)}
    return {layer.index for layer in image.layers if layer.member in others}


def _members(ref: ImageRef) -> set[str]:
    return {lr.member for lr in ref.layers}


def _stored(image: Image, member: str) -> int:
    found = image.archive.resolve(member)
    return found.size if found is not None else 0


def _archive_bytes(source: str) -> int | None:
    """Bytes of the archive file, or of the regular files of a layout directory (links not followed)."""
    try:
        if not os.path.isdir(source):
            return os.stat(source).st_size
        total = 0
        for root, _dirs, files in os.walk(source):
            for name in files:
                st = os.lstat(os.path.join(root, name))
                total += st.st_size if not os.path.islink(os.path.join(root, name)) else 0
        return total
    except OSError:
        return None


__all__ = ["ImageSet", "ImageSetRow", "image_set", "shared_layers"]
