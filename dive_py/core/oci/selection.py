"""Choose one image from an archive: by ``--image`` (name or index), then by platform.

Platforms of one image form a group (a nested index, or manifests with the
same names in a flat one).  Without ``--platform``, a group with several
platforms opens this machine's; with a single one, that one.
"""

from __future__ import annotations

import platform as _platform
from collections.abc import Callable

from dive_py.core.oci.manifest import ArchiveIndex, ImageRef
from dive_py.errors import UsageError


def host_platform() -> str:
    """The platform to prefer in a multi-platform index (``linux/amd64`` style)."""
    machine = _platform.machine().lower()
    arch = {
        "x86_64": "amd64",
        "amd64": "amd64",
        "aarch64": "arm64",
        "arm64": "arm64",
        "armv7l": "arm/v7",
        "armv6l": "arm/v6",
        "i686": "386",
        "i386": "386",
        "ppc64le": "ppc64le",
        "s390x": "s390x",
        "riscv64": "riscv64",
    }.get(machine, machine)
    return f"linux/{arch}"


def normalise_platform(spec: str) -> str:
    """``amd64`` → ``linux/amd64``; ``linux/arm64/v8`` stays as it is."""
    spec = spec.strip().lower()
    if not spec:
        raise UsageError("--platform needs a value like linux/amd64")
    return spec if "/" in spec else f"linux/{spec}"


def platform_matches(wanted: str, have: str | None) -> bool:
    if have is None:
        return False
    w = wanted.split("/")
    h = have.split("/")
    if w[:2] != h[:2]:
        return False
    if len(w) > 2 and len(h) > 2:
        return w[2] == h[2]
    if len(w) > 2:  # "arm64/v8" and "arm/v7" are the implied variants of plain arm64 and arm (containerd)
        return (w[2] == "v8" and h[1] == "arm64") or (w[2] == "v7" and h[1] == "arm")
    return True


def select_image(found: ArchiveIndex, image: str | None = None, platform: str | None = None) -> ImageRef:
    """Pick one image: by ``--image`` (name or 0-based index), then by platform."""
    groups: dict[int, list[ImageRef]] = {}
    for img in found.images:
        groups.setdefault(img.group, []).append(img)
    ordered = list(groups.values())
    chosen: list[ImageRef]
    if image is None:
        chosen = ordered[0]
    elif image.isascii() and image.isdigit():  # "²" and "٣" are digits to str.isdigit, not to int()
        idx = int(image) if len(image) < 10 else len(ordered)
        if idx >= len(ordered):
            raise UsageError(f"--image {image}: the archive holds {len(ordered)} image(s) (0..{len(ordered) - 1})")
        chosen = ordered[idx]
    else:
        # An exact (normalised) name wins over skopeo's bare-tag spelling wherever the two
        # images stand: `--image redis` is redis:latest even after an image tagged tools:redis.
        chosen = _first_group(ordered, lambda n: _name_matches(image, n)) or _first_group(
            ordered, lambda n: _tag_matches(image, n)
        )
        if not chosen:
            available = ", ".join(sorted({n for img in found.images for n in img.names})) or "(no names)"
            raise UsageError(f"--image {image}: no such image in the archive; available: {available}")
    platforms = [img.platform for img in chosen]
    if platform is not None and all(p is None for p in platforms):
        return chosen[0]  # no platform in the manifest: the loader checks the config's
    if platform is not None:
        wanted = normalise_platform(platform)
        for img in chosen:
            if platform_matches(wanted, img.platform):
                return img
        have = ", ".join(p or "unknown" for p in platforms)
        raise UsageError(f"--platform {wanted}: not in this image; available: {have}")
    if len(chosen) == 1:
        return chosen[0]
    host = host_platform()
    for img in chosen:
        if platform_matches(host, img.platform):
            return img
    have = ", ".join(p or "unknown" for p in platforms)
    raise UsageError(f"the image has no {host} variant; choose one with --platform ({have})")


def _name_matches(wanted: str, have: str) -> bool:
    def norm(ref: str) -> str:
        for prefix in ("docker.io/library/", "docker.io/", "localhost/"):
            if ref.startswith(prefix):
                ref = ref[len(prefix) :]
                break
        last = ref.rsplit("/", 1)[-1]
        if ":" not in last and "@" not in last:
            ref += ":latest"
        return ref

    return wanted == have or norm(wanted) == norm(have)


def _tag_matches(wanted: str, have: str) -> bool:
    """skopeo's ``oci:DIR:TAG`` names an image by its bare ref name (``latest``)."""
    return ":" not in wanted and "/" not in wanted and have.rsplit(":", 1)[-1] == wanted and ":" in have


def _first_group(groups: list[list[ImageRef]], matches: Callable[[str], bool]) -> list[ImageRef]:
    """The first group with a name ``matches`` accepts, or an empty list."""
    for group in groups:
        if any(matches(n) for img in group for n in img.names):
            return group
    return []
