"""The true waste of an image (``reclaim.find_waste``): one image per way of wasting bytes, and a naive oracle.

Every figure in the table below is worked out by hand from the recipe (the
arithmetic is in the comments): ``stored`` is Σ of the layers' entry sizes,
``final`` the regular-file bytes of the final merged filesystem with
hardlinked content once, and each waste copy is ``(path, kind, stored in,
hidden by, bytes)``.  The findings of the same images are checked here too,
as ``(kind, path, bytes, files, stored in, hidden by)``.

The property test at the end stacks random layers into a plain dict, with no
divepy code, and classifies every stored copy by the rules of reclaim.py's
docstring: the final bytes and every copy must agree with divepy.  Its
files have distinct contents of equal sizes (test_merge_oracle's files are
``b"x" * size``, where the size decides everything, so its helpers are not
reused).  A copy's kind and ``hidden_by`` come from the layer that hid its
*entry*, also when a hardlink kept its bytes reachable longer (pinned by
``test_a_hidden_link_target_is_classified_by_the_layer_that_hid_its_entry``).
The generator writes no marker twice in one layer: that is a known bug
(``test_a_duplicated_whiteout_still_removes``).
"""

from __future__ import annotations

import random
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dive_py.core.analysis.findings import group_findings
from dive_py.core.analysis.reclaim import KIND_KEYS, Reclaim, find_waste
from dive_py.core.model.image import Image
from dive_py.fixtures.builder import ImageSpec, write_archive
from tests.helpers import loaded

#: A waste copy: (path, kind key, stored in, hidden by, bytes).
Copy = tuple[str, str, int, int, int]
#: A finding: (kind key, path, bytes, files, stored in, hidden by).
FindingRow = tuple[str, str, int, int, list[int], int | None]

NO_WASTE = {"removed": 0, "overwritten": 0, "metadataOnly": 0, "identicalCopy": 0}


def kinds(**totals: int) -> dict[str, int]:
    return {**NO_WASTE, **totals}


def copies_of(image: Image, waste: Reclaim) -> list[Copy]:
    names = image.paths.paths
    pid = image.entries.pid
    rows = zip(
        waste.entry.tolist(), waste.kind.tolist(), waste.stored_in.tolist(), waste.hidden_by.tolist(), strict=True
    )
    return sorted(
        (names[pid[g]], KIND_KEYS[k], s, h, int(z)) for (g, k, s, h), z in zip(rows, waste.size.tolist(), strict=True)
    )


def finding_rows(image: Image, waste: Reclaim) -> list[FindingRow]:
    return [
        (KIND_KEYS[f.kind], f.path, f.bytes, f.files, f.stored_in, f.hidden_by) for f in group_findings(image, waste)
    ]


@dataclass(frozen=True)
class Analysed:
    stored: int
    final: int
    reclaimable: int
    by_kind: dict[str, int]
    copies: list[Copy]
    findings: list[FindingRow]


def analyse_spec(spec: ImageSpec, directory: Path, layout: str = "docker") -> Analysed:
    path = write_archive(spec, directory / f"img-{layout}.tar", layout)
    with loaded(path) as image:
        waste = find_waste(image)
        return Analysed(
            waste.stored_bytes,
            waste.final_bytes,
            waste.reclaimable_bytes,
            waste.by_kind(),
            copies_of(image, waste),
            finding_rows(image, waste),
        )


# -- one image per way of wasting bytes --------------------------------------------------------------------------


def removed_dir() -> ImageSpec:
    img = ImageSpec()
    base = img.layer("RUN mkdir /keep /cache && make-cache")
    base.dir("keep").file("keep/k", b"k" * 10)
    base.dir("cache").file("cache/a", b"a" * 100).dir("cache/sub").file("cache/sub/b", b"b" * 50)
    img.layer("RUN rm -rf /cache").whiteout("cache")  # one whiteout entry hides two files
    return img


def removed_cache_only() -> ImageSpec:
    """The storing layer holds nothing but the cache: the finding stops at the whiteout's directory."""
    img = ImageSpec()
    pip = img.layer("RUN pip install flask")
    pip.dir("root").dir("root/.cache").dir("root/.cache/pip").dir("root/.cache/pip/http")
    pip.file("root/.cache/pip/http/x", b"x" * 7).file("root/.cache/pip/http/y", b"y" * 9)
    img.layer("RUN rm -rf /root/.cache/pip").whiteout("root/.cache/pip")
    return img


def opaque_dir() -> ImageSpec:
    img = ImageSpec()
    img.layer("COPY d /d").dir("d").file("d/a", b"a" * 20).file("d/b", b"b" * 10).file("o", b"o" * 3)
    img.layer("RUN rm -rf /d && mkdir /d && make new").dir("d").opaque("d").file("d/new", b"n" * 5)
    return img


def chown_tree() -> ImageSpec:
    img = ImageSpec()
    img.layer("COPY app /app").dir("app").file("app/x", b"x" * 40).file("app/y", b"y" * 60)
    chown = img.layer("RUN chown -R 1000 /app")  # the owner only
    chown.dir("app", uid=1000).file("app/x", b"x" * 40, uid=1000).file("app/y", b"y" * 60, uid=1000)
    return img


def chgrp_file() -> ImageSpec:
    img = ImageSpec()
    img.layer("COPY data /srv/data").dir("srv").file("srv/data", b"d" * 12)
    img.layer("RUN chgrp 50 /srv/data").file("srv/data", b"d" * 12, gid=50)  # the group only
    return img


def chmod_file() -> ImageSpec:
    img = ImageSpec()
    img.layer("COPY tool /bin/tool").dir("bin").file("bin/tool", b"t" * 70, mode=0o644)
    img.layer("RUN chmod +x /bin/tool").file("bin/tool", b"t" * 70, mode=0o755)
    return img


def touched() -> ImageSpec:
    img = ImageSpec()
    img.layer("COPY conf /etc/conf").dir("etc").file("etc/conf", b"c" * 25)
    img.layer("RUN touch /etc/conf").file("etc/conf", b"c" * 25, mtime=1_700_000_000)  # only the mtime changes
    return img


def copied_again() -> ImageSpec:
    img = ImageSpec()
    img.layer("COPY a.txt /srv/a.txt").dir("srv").file("srv/a.txt", b"A" * 33)
    img.layer("COPY a.txt /srv/a.txt").dir("srv").file("srv/a.txt", b"A" * 33)
    return img


def overwritten_same_size() -> ImageSpec:
    img = ImageSpec()
    img.layer("COPY f /f").file("f", b"a" * 40)
    img.layer("RUN sed -i s/a/b/g /f").file("f", b"b" * 40)  # same size: only the hash tells
    return img


def overwritten_other_size() -> ImageSpec:
    img = ImageSpec()
    img.layer("COPY f /f").file("f", b"a" * 50)
    img.layer("RUN truncate -s 20 /f").file("f", b"a" * 20)
    return img


def replaced_by_a_hardlink() -> ImageSpec:
    img = ImageSpec()
    img.layer("COPY a /a").file("a", b"X" * 30)
    img.layer("RUN cp /a /c && ln -f /c /a").file("c", b"X" * 30).hardlink("a", "c")  # a link to the same bytes
    return img


def file_becomes_dir() -> ImageSpec:
    img = ImageSpec()
    img.layer("COPY f /f").file("f", b"f" * 15)
    img.layer("RUN rm /f && mkdir /f").dir("f").file("f/inner", b"i" * 5)
    return img


def dir_becomes_file() -> ImageSpec:
    img = ImageSpec()
    img.layer("COPY d /d").dir("d").file("d/a", b"a" * 12).file("d/b", b"b" * 8)
    img.layer("RUN rm -rf /d && echo > /d").file("d", b"d" * 4)
    return img


def symlink_over_file() -> ImageSpec:
    img = ImageSpec()
    img.layer("COPY python /bin/python").dir("bin").file("bin/python", b"p" * 80)
    swap = img.layer("RUN ln -sf python3.11 /bin/python")
    swap.symlink("bin/python", "python3.11").file("bin/python3.11", b"q" * 90)
    return img


def hardlinks_same_layer() -> ImageSpec:
    img = ImageSpec()
    img.layer("RUN install a").dir("usr").dir("usr/bin").file("usr/bin/a", b"a" * 64).hardlink("usr/bin/b", "usr/bin/a")
    return img


def hardlink_to_lower_file() -> ImageSpec:
    img = ImageSpec()
    img.layer("COPY x /x").file("x", b"x" * 48)
    img.layer("RUN ln /x /y").hardlink("y", "x")
    return img


def removed_but_linked() -> ImageSpec:
    img = ImageSpec()
    img.layer("RUN echo > /a && ln /a /b").file("a", b"X" * 30).hardlink("b", "a")
    img.layer("RUN rm /a").whiteout("a")  # /b still holds the bytes: not waste
    return img


def removed_with_its_links() -> ImageSpec:
    img = ImageSpec()
    img.layer("RUN echo > /a && ln /a /b").file("a", b"X" * 30).hardlink("b", "a")
    img.layer("RUN rm /a /b").whiteout("a").whiteout("b")
    return img


def link_kept_to_overwritten_path() -> ImageSpec:
    img = ImageSpec()
    img.layer("RUN echo X > /a && ln /a /b").file("a", b"X" * 11).hardlink("b", "a")
    img.layer("COPY a /a").file("a", b"Y" * 11)  # /b keeps X, /a is Y: both are final content
    return img


def deleted_and_recreated() -> ImageSpec:
    img = ImageSpec()
    img.layer("COPY f /f").file("f", b"f" * 22)
    img.layer("RUN rm /f").whiteout("f")
    img.layer("COPY f /f").file("f", b"f" * 22)
    return img


def twice_in_one_layer() -> ImageSpec:
    img = ImageSpec()
    img.layer("RUN write /f twice").file("f", b"v1" * 5).file("f", b"v2" * 3)  # the later entry wins
    return img


def whiteout_with_bytes() -> ImageSpec:
    """A whiteout header that claims 7 bytes of data: stored, never reachable."""
    img = ImageSpec()
    img.layer("COPY x /x").file("x", b"x" * 5)
    marker = tarfile.TarInfo(".wh.x")
    marker.size = 7
    marker.mode = 0
    img.layer("RUN rm /x").raw(marker, b"1234567")
    return img


def link_claiming_bytes() -> ImageSpec:
    """A visible hardlink whose header claims 5 bytes: counted by dive's layer size, never content."""
    img = ImageSpec()
    layer = img.layer("RUN ln")
    layer.file("a", b"A" * 6)
    link = tarfile.TarInfo("b")
    link.type = tarfile.LNKTYPE
    link.linkname = "a"
    link.size = 5
    link.mode = 0o644
    layer.raw(link)
    return img


@dataclass(frozen=True)
class Case:
    build: Callable[[], ImageSpec]
    stored: int
    final: int
    by_kind: dict[str, int]
    copies: list[Copy]
    findings: list[FindingRow] = field(default_factory=list)


CASES: dict[str, Case] = {
    # stored 10 + 100 + 50 = 160, final 10 (keep/k): 150 removed, one finding at the whiteout's /cache
    "removed-dir": Case(
        removed_dir,
        160,
        10,
        kinds(removed=150),
        [("cache/a", "removed", 0, 1, 100), ("cache/sub/b", "removed", 0, 1, 50)],
        [("removed", "/cache", 150, 2, [0], 1)],
    ),
    # stored 7 + 9 = 16, final 0; the layer stored only /root/.cache/pip/http/*, but the finding names the
    # directory the whiteout removed, not the deeper one that holds the files
    "removed-cache-only": Case(
        removed_cache_only,
        16,
        0,
        kinds(removed=16),
        [("root/.cache/pip/http/x", "removed", 0, 1, 7), ("root/.cache/pip/http/y", "removed", 0, 1, 9)],
        [("removed", "/root/.cache/pip", 16, 2, [0], 1)],
    ),
    # stored 20 + 10 + 3 + 5 = 38, final 3 + 5 = 8: the opaque marker removed d/a and d/b (30)
    "opaque-dir": Case(
        opaque_dir,
        38,
        8,
        kinds(removed=30),
        [("d/a", "removed", 0, 1, 20), ("d/b", "removed", 0, 1, 10)],
        [("removed", "/d", 30, 2, [0], 1)],
    ),
    # stored (40 + 60) * 2 = 200, final 100: the chown copy-up wastes the first 100, one finding at /app
    "chown-tree": Case(
        chown_tree,
        200,
        100,
        kinds(metadataOnly=100),
        [("app/x", "metadataOnly", 0, 1, 40), ("app/y", "metadataOnly", 0, 1, 60)],
        [("metadataOnly", "/app", 100, 2, [0], 1)],
    ),
    # stored 12 * 2 = 24, final 12: same bytes, group 0 -> 50
    "chgrp-file": Case(
        chgrp_file,
        24,
        12,
        kinds(metadataOnly=12),
        [("srv/data", "metadataOnly", 0, 1, 12)],
        [("metadataOnly", "/srv/data", 12, 1, [0], 1)],
    ),
    # stored 70 * 2 = 140, final 70: same bytes, mode 0644 -> 0755
    "chmod-file": Case(
        chmod_file,
        140,
        70,
        kinds(metadataOnly=70),
        [("bin/tool", "metadataOnly", 0, 1, 70)],
        [("metadataOnly", "/bin/tool", 70, 1, [0], 1)],
    ),
    # stored 25 * 2 = 50, final 25: same bytes, mode and owner (the mtime is not compared)
    "touch": Case(
        touched,
        50,
        25,
        kinds(identicalCopy=25),
        [("etc/conf", "identicalCopy", 0, 1, 25)],
        [("identicalCopy", "/etc/conf", 25, 1, [0], 1)],
    ),
    # stored 33 * 2 = 66, final 33
    "copied-again": Case(
        copied_again,
        66,
        33,
        kinds(identicalCopy=33),
        [("srv/a.txt", "identicalCopy", 0, 1, 33)],
        [("identicalCopy", "/srv/a.txt", 33, 1, [0], 1)],
    ),
    # stored 40 * 2 = 80, final 40: sizes equal, contents differ
    "overwritten-same-size": Case(
        overwritten_same_size,
        80,
        40,
        kinds(overwritten=40),
        [("f", "overwritten", 0, 1, 40)],
        [("overwritten", "/f", 40, 1, [0], 1)],
    ),
    # stored 50 + 20 = 70, final 20
    "overwritten-other-size": Case(
        overwritten_other_size,
        70,
        20,
        kinds(overwritten=50),
        [("f", "overwritten", 0, 1, 50)],
        [("overwritten", "/f", 50, 1, [0], 1)],
    ),
    # stored 30 * 2 = 60 (the link stores nothing), final 30 (/a and /c are one file): the hardlink that
    # replaced /a stands for /c's bytes, the same as the old /a's, with the same mode and owner
    "replaced-by-a-hardlink": Case(
        replaced_by_a_hardlink,
        60,
        30,
        kinds(identicalCopy=30),
        [("a", "identicalCopy", 0, 1, 30)],
        [("identicalCopy", "/a", 30, 1, [0], 1)],
    ),
    # stored 15 + 5 = 20, final 5: a directory is no regular file, so the old file was removed
    "file-becomes-dir": Case(
        file_becomes_dir,
        20,
        5,
        kinds(removed=15),
        [("f", "removed", 0, 1, 15)],
        [("removed", "/f", 15, 1, [0], 1)],
    ),
    # stored 12 + 8 + 4 = 24, final 4: the directory's two files were removed
    "dir-becomes-file": Case(
        dir_becomes_file,
        24,
        4,
        kinds(removed=20),
        [("d/a", "removed", 0, 1, 12), ("d/b", "removed", 0, 1, 8)],
        [("removed", "/d", 20, 2, [0], 1)],
    ),
    # stored 80 + 90 = 170, final 90: a symlink holds no content, so the old file was removed
    "symlink-over-file": Case(
        symlink_over_file,
        170,
        90,
        kinds(removed=80),
        [("bin/python", "removed", 0, 1, 80)],
        [("removed", "/bin/python", 80, 1, [0], 1)],
    ),
    # stored 64 (a link stores no bytes), final 64 (the content once): nothing to reclaim
    "hardlinks-same-layer": Case(hardlinks_same_layer, 64, 64, kinds(), []),
    # stored 48, final 48
    "hardlink-to-lower-file": Case(hardlink_to_lower_file, 48, 48, kinds(), []),
    # stored 30, final 30: /a is gone but /b still reaches its bytes
    "removed-but-linked": Case(removed_but_linked, 30, 30, kinds(), []),
    # stored 30, final 0: the last link gone too
    "removed-with-its-links": Case(
        removed_with_its_links,
        30,
        0,
        kinds(removed=30),
        [("a", "removed", 0, 1, 30)],
        [("removed", "/a", 30, 1, [0], 1)],
    ),
    # stored 11 + 11 = 22, final 11 (X through /b) + 11 (Y at /a) = 22: nothing to reclaim
    "link-kept-to-overwritten-path": Case(link_kept_to_overwritten_path, 22, 22, kinds(), []),
    # stored 22 * 2 = 44, final 22: the layer that hid the first copy (the rm) stored nothing there
    "deleted-and-recreated": Case(
        deleted_and_recreated,
        44,
        22,
        kinds(removed=22),
        [("f", "removed", 0, 1, 22)],
        [("removed", "/f", 22, 1, [0], 1)],
    ),
    # stored 10 + 6 = 16, final 6: the shadowed first entry is hidden by its own layer's second one
    "twice-in-one-layer": Case(
        twice_in_one_layer,
        16,
        6,
        kinds(overwritten=10),
        [("f", "overwritten", 0, 0, 10)],
        [("overwritten", "/f", 10, 1, [0], 0)],
    ),
    # stored 5 + 7 = 12, final 0: the file removed by layer 1, and the marker's own 7 bytes (hidden by its layer)
    "whiteout-with-bytes": Case(
        whiteout_with_bytes,
        12,
        0,
        kinds(removed=12),
        [("x", "removed", 0, 1, 5), ("x", "removed", 1, 1, 7)],
        [("removed", "/x", 12, 2, [0, 1], 1)],
    ),
    # stored 6 + 5 = 11, final 6: the visible link's claimed bytes are removed, hidden by no layer (-1)
    "link-claiming-bytes": Case(
        link_claiming_bytes,
        11,
        6,
        kinds(removed=5),
        [("b", "removed", 0, -1, 5)],
        [("removed", "/b", 5, 1, [0], None)],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_figures_and_copies(tmp_path: Path, name: str) -> None:
    case = CASES[name]
    got = analyse_spec(case.build(), tmp_path)
    assert (got.stored, got.final) == (case.stored, case.final)
    assert got.reclaimable == case.stored - case.final
    assert got.by_kind == case.by_kind
    assert sum(got.by_kind.values()) == got.reclaimable
    assert got.copies == sorted(case.copies)


@pytest.mark.parametrize("name", list(CASES))
def test_findings_of_each_case(tmp_path: Path, name: str) -> None:
    case = CASES[name]
    got = analyse_spec(case.build(), tmp_path)
    assert got.findings == case.findings
    # every waste copy is in exactly one finding
    assert sum(f[2] for f in got.findings) == got.reclaimable
    assert sum(f[3] for f in got.findings) == len(got.copies)


@pytest.mark.parametrize("layout", ["oci", "kaniko", "docker25"])
def test_layouts_give_the_same_copies(tmp_path: Path, layout: str) -> None:
    for name in ("removed-dir", "chown-tree", "link-kept-to-overwritten-path", "twice-in-one-layer"):
        case = CASES[name]
        assert analyse_spec(case.build(), tmp_path, layout) == analyse_spec(case.build(), tmp_path), name


def test_empty_image_has_no_waste(tmp_path: Path) -> None:
    img = ImageSpec()
    img.layer("RUN true")
    got = analyse_spec(img, tmp_path)
    assert (got.stored, got.final, got.by_kind, got.copies, got.findings) == (0, 0, kinds(), [], [])


def test_a_duplicated_whiteout_still_removes(tmp_path: Path) -> None:
    img = ImageSpec()
    img.layer("COPY f /f").file("f", b"f" * 30)
    img.layer("RUN rm /f").whiteout("f").whiteout("f")  # the same marker twice (the later one wins)
    got = analyse_spec(img, tmp_path)
    assert got.copies == [("f", "removed", 0, 1, 30)]  # stored 30, final 0


def test_a_hidden_link_target_is_classified_by_the_layer_that_hid_its_entry(tmp_path: Path) -> None:
    """L0 a=X, b->a; L1 a=Y; L2 rm b.  X stays reachable through b until layer 2, but its kind and
    ``hidden_by`` come from the layer that hid the entry at /a (layer 1, other content: overwritten).

    stored 11 + 11 = 22, final 11 (Y): 11 reclaimable.
    """
    img = link_kept_to_overwritten_path()
    img.layer("RUN rm /b").whiteout("b")
    got = analyse_spec(img, tmp_path)
    assert (got.stored, got.final, got.by_kind) == (22, 11, kinds(overwritten=11))
    assert got.copies == [("a", "overwritten", 0, 1, 11)]


# -- the naive oracle -------------------------------------------------------------------------------------------

#: Eight paths, nested three deep, so that paths collide all the time.
PATHS = ("a", "b", "c", "a/a", "a/b", "b/a", "a/a/a", "a/a/b")
ENTRY_KINDS = ("file", "dir", "symlink", "hardlink")
FILE_SIZES = (0, 4, 4, 9, 9)
COPY_UPS = ("same", "mode", "owner", "content")


@dataclass(frozen=True)
class Op:
    """One tar member, in archive order: an entry, a whiteout (of ``path``) or an opaque marker (in ``path``)."""

    kind: str
    path: str
    content: int = 0  # a file's bytes are bytes([97 + content]) * size
    size: int = 0
    mode: int = 0o644
    uid: int = 0
    link: str = ""  # a symlink's target or a hardlink's target path


@dataclass(eq=False)
class Stored:
    """One regular-file entry: the bytes a layer stores."""

    size: int
    content: int


@dataclass(eq=False)
class Ent:
    """One entry of the filesystem (implied directories too), and the layer that hid it (None: final)."""

    layer: int
    seq: int  # archive position in its layer; implied directories come after every member
    kind: str  # file | dir | symlink | hardlink | implicit
    path: str
    mode: int = 0
    uid: int = 0
    stored: Stored | None = None  # a file's own bytes, or the bytes a hardlink shares
    end: int | None = None

    @property
    def is_dir(self) -> bool:
        return self.kind in ("dir", "implicit")


def is_under(path: str, top: str) -> bool:
    return top == "" or path.startswith(top + "/")


def ancestors(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:k]) for k in range(1, len(parts))]


def path_key(path: str) -> tuple[str, ...]:
    return tuple(path.split("/"))


class World:
    """The merged filesystem as a dict, and every entry any layer made, per path."""

    def __init__(self) -> None:
        self.state: dict[str, Ent] = {}
        self.history: dict[str, list[Ent]] = {}
        self.all_files: list[Ent] = []

    def record(self, ent: Ent) -> Ent:
        self.history.setdefault(ent.path, []).append(ent)
        if ent.kind == "file":
            self.all_files.append(ent)
        return ent

    def remove(self, top: str, layer: int) -> None:
        for p in [p for p in self.state if p == top or is_under(p, top)]:
            self.state.pop(p).end = layer

    def after_markers(self, ops: list[Op]) -> dict[str, Ent]:
        """What the lower layers leave once this layer's whiteouts and opaque markers apply."""
        state = dict(self.state)
        for op in ops:
            if op.kind == "whiteout":
                for p in [p for p in state if p == op.path or is_under(p, op.path)]:
                    del state[p]
        for op in ops:
            d = op.path
            if op.kind == "opaque" and (d == "" or (d in state and state[d].is_dir)):
                for p in [p for p in state if p != d and is_under(p, d)]:
                    del state[p]
        return state

    def bound(self, ops: list[Op], i: int, lower: dict[str, Ent], made: dict[int, Ent]) -> Stored | None:
        """The bytes hardlink ``ops[i]`` shares: the latest earlier member at its target, else the lower layers'."""
        target = ops[i].link
        earlier = [j for j in range(i) if ops[j].kind in ENTRY_KINDS and ops[j].path == target]
        ent = made.get(earlier[-1]) if earlier else lower.get(target)
        if ent is None or ent.kind not in ("file", "hardlink"):
            return None
        return ent.stored

    def stack(self, ops: list[Op], layer: int) -> None:
        """Apply one layer (rules: OCI image spec, changesets)."""
        lower = self.after_markers(ops)
        for p in [p for p in self.state if p not in lower]:
            self.state.pop(p).end = layer  # 1. whiteouts and 2. opaque markers
        made: dict[int, Ent] = {}
        for i, op in enumerate(ops):
            if op.kind not in ENTRY_KINDS:
                continue
            ent = Ent(layer, i, op.kind, op.path, op.mode, op.uid)
            if op.kind == "file":
                ent.stored = Stored(op.size, op.content)
            elif op.kind == "hardlink":
                ent.stored = self.bound(ops, i, lower, made)
                assert ent.stored is not None, "the generator only links to content"
            made[i] = self.record(ent)
        winners: dict[str, Ent] = {}
        for ent in made.values():
            if ent.path in winners:
                winners[ent.path].end = layer  # the same path twice in one layer: the later one wins
            winners[ent.path] = ent
        implied = 0
        for path in sorted(winners, key=path_key):  # 3. parents first
            for q in ancestors(path):
                cur = self.state.get(q)
                if cur is not None and cur.is_dir:
                    continue
                if cur is not None:
                    self.remove(q, layer)  # a non-directory in the way is replaced
                implied += 1
                self.state[q] = self.record(Ent(layer, 10**6 + implied, "implicit", q, 0o755))
            new = winners[path]
            old = self.state.get(path)
            if old is not None and old.is_dir and not new.is_dir:
                self.remove(path, layer)  # a directory replaced by a non-directory goes with its subtree
            elif old is not None:
                old.end = layer
            self.state[path] = new

    def figures(self, n_layers: int) -> tuple[int, int, list[Copy]]:
        """(stored, final, waste copies), by the rules of reclaim.py's docstring."""
        # What an independent squash holds: each final regular file once, each hardlinked content once.
        reached = {id(e.stored): e.stored.size for e in self.state.values() if e.stored is not None}
        final = sum(reached.values())
        stored = sum(e.stored.size for e in self.all_files if e.stored is not None)
        copies: list[Copy] = []
        for ent in self.all_files:
            assert ent.stored is not None
            if ent.stored.size == 0 or id(ent.stored) in reached:
                continue
            assert ent.end is not None and ent.end < n_layers
            line = sorted(self.history[ent.path], key=lambda e: (e.layer, e.seq))
            after = line[line.index(ent) + 1 :]
            nxt = after[0] if after else None
            kind = "removed"
            if nxt is not None and nxt.layer == ent.end and nxt.stored is not None:
                if (nxt.stored.size, nxt.stored.content) != (ent.stored.size, ent.stored.content):
                    kind = "overwritten"
                elif (nxt.mode, nxt.uid) != (ent.mode, ent.uid):
                    kind = "metadataOnly"
                else:
                    kind = "identicalCopy"
            copies.append((ent.path, kind, ent.layer, ent.end, ent.stored.size))
        return stored, final, sorted(copies)


# -- random layers ------------------------------------------------------------------------------------------------

EntrySpec = tuple[str, int, int, int]  # kind, content, size, mode
RawLayer = tuple[list[tuple[str, EntrySpec, int]], list[str], list[str], random.Random]

entry_specs = st.one_of(
    st.tuples(st.just("file"), st.integers(0, 1), st.sampled_from(FILE_SIZES), st.sampled_from([0o644, 0o755])),
    st.tuples(st.just("dir"), st.just(0), st.just(0), st.sampled_from([0o755, 0o700])),
    st.tuples(st.just("symlink"), st.just(0), st.just(0), st.just(0o777)),
    st.tuples(st.just("hardlink"), st.just(0), st.just(0), st.sampled_from([0o644, 0o755])),
)
raw_layers: st.SearchStrategy[RawLayer] = st.tuples(
    st.lists(st.tuples(st.sampled_from(PATHS), entry_specs, st.sampled_from([0, 1000])), max_size=6),
    st.lists(st.sampled_from(PATHS), max_size=2, unique=True),  # whiteouts
    st.lists(st.sampled_from(["", *PATHS]), max_size=2, unique=True),  # opaque markers
    st.randoms(use_true_random=False),  # where the markers go in the archive
)


def links_to_content(earlier: list[Op], target: str, lower: dict[str, Ent]) -> bool:
    """Would a link after ``earlier`` bind to content (a file or a link), the way the oracle binds?"""
    at = [o for o in earlier if o.kind in ENTRY_KINDS and o.path == target]
    if at:
        return at[-1].kind in ("file", "hardlink")
    ent = lower.get(target)
    return ent is not None and ent.kind in ("file", "hardlink")


def layer_ops(world: World, raw: RawLayer, draw: st.DrawFn) -> list[Op]:
    """A layer a runtime can unpack, from random parts.

    Kept: one type per path (only a file may come twice), nothing below a non-directory of the
    layer, opaque markers only in a directory the layer declares (or the root) and not below
    another, hardlinks only to something holding content (an earlier member, or what the lower
    layers leave once the markers apply) and never to their own subtree.
    """
    entries, whiteouts, opaques, rnd = raw
    # Copy-ups of visible files (same bytes, another mode or owner, or other bytes of the same size),
    # so that every kind of waste comes up often.
    visible = sorted(p for p, e in world.state.items() if e.kind == "file" and e.stored is not None)
    if visible:
        for path, change in draw(st.lists(st.tuples(st.sampled_from(visible), st.sampled_from(COPY_UPS)), max_size=3)):
            ent = world.state[path]
            assert ent.stored is not None
            content, mode, uid = ent.stored.content, ent.mode, ent.uid
            if change == "content":
                content = 1 - content
            elif change == "mode":
                mode = 0o755 if mode == 0o644 else 0o644
            elif change == "owner":
                uid = 1000 - uid
            entries = [*entries, (path, ("file", content, ent.stored.size, mode), uid)]
    entries = rnd.sample(entries, len(entries))
    first_kind: dict[str, str] = {}
    ops: list[Op] = []
    for path, (kind, content, size, mode), uid in entries:
        if path in first_kind and (first_kind[path] != kind or kind != "file"):
            continue
        first_kind[path] = kind
        if kind == "hardlink":
            ops.append(Op(kind, path, mode=mode))
        else:
            ops.append(Op(kind, path, content, size, mode, uid, "x" if kind == "symlink" else ""))
    nondirs = {op.path for op in ops if op.kind != "dir"}
    ops = [op for op in ops if not any(is_under(op.path, f) for f in nondirs if f != op.path)]
    dirs = {op.path for op in ops if op.kind == "dir"}
    kept: list[str] = []
    for d in sorted(opaques, key=path_key):
        if (d == "" or d in dirs) and not any(d == k or is_under(d, k) for k in kept):
            kept.append(d)
    markers = [Op("whiteout", w) for w in whiteouts if not any(is_under(w, f) for f in nondirs)]
    markers += [Op("opaque", d) for d in kept]
    for marker in markers:
        ops.insert(rnd.randint(0, len(ops)), marker)
    lower = world.after_markers(ops)
    out: list[Op] = []
    for op in ops:
        if op.kind == "hardlink":
            targets = [
                t for t in PATHS if t != op.path and not is_under(t, op.path) and links_to_content(out, t, lower)
            ]
            if not targets:
                continue
            op = Op("hardlink", op.path, mode=op.mode, link=draw(st.sampled_from(targets)))
        out.append(op)
    return out


@st.composite
def random_images(draw: st.DrawFn) -> list[list[Op]]:
    world = World()
    layers: list[list[Op]] = []
    for i in range(draw(st.integers(1, 5))):
        ops = layer_ops(world, draw(raw_layers), draw)
        world.stack(ops, i)
        layers.append(ops)
    return layers


def spec_of(layers: list[list[Op]]) -> ImageSpec:
    img = ImageSpec(tags=["reclaim-oracle:latest"])
    for i, ops in enumerate(layers):
        layer = img.layer(f"RUN step {i}")
        for op in ops:
            if op.kind == "file":
                layer.file(op.path, bytes([97 + op.content]) * op.size, mode=op.mode, uid=op.uid)
            elif op.kind == "dir":
                layer.dir(op.path, mode=op.mode, uid=op.uid)
            elif op.kind == "symlink":
                layer.symlink(op.path, op.link, uid=op.uid)
            elif op.kind == "hardlink":
                layer.hardlink(op.path, op.link, mode=op.mode)
            elif op.kind == "whiteout":
                layer.whiteout(op.path)
            else:
                layer.opaque(op.path)
    return img


def oracle(layers: list[list[Op]]) -> tuple[int, int, list[Copy]]:
    world = World()
    for i, ops in enumerate(layers):
        world.stack(ops, i)
    return world.figures(len(layers))


def totals(copies: list[Copy]) -> dict[str, int]:
    out = kinds()
    for _path, kind, _stored, _hidden, size in copies:
        out[kind] += size
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layers=random_images(), layout=st.sampled_from(["docker", "oci"]))
def test_waste_matches_a_naive_oracle(layers: list[list[Op]], layout: str) -> None:
    stored, final, copies = oracle(layers)
    for kind, size in totals(copies).items():
        if size:
            event(f"has {kind}")
    for kind in ("hardlink", "whiteout", "opaque", "symlink"):
        if any(op.kind == kind for ops in layers for op in ops):
            event(f"has {kind}")
    if any(len(files) > len(set(files)) for files in ([o.path for o in ops if o.kind == "file"] for ops in layers)):
        event("a path twice in one layer")
    with tempfile.TemporaryDirectory() as tmp:
        got = analyse_spec(spec_of(layers), Path(tmp), layout)
    assert (got.stored, got.final) == (stored, final)
    assert got.by_kind == totals(copies)
    assert got.copies == copies
    assert sum(got.by_kind.values()) == got.reclaimable == stored - final
