"""Waste copies grouped into findings (``findings.group_findings``), and the hints for each finding.

The images are small and every finding is worked out by hand as
``(kind, path, bytes, files, stored in, hidden by, partial)``.  The per-kind
images of ``test_reclaim.py`` check one finding each; here are the grouping
rules: the covered tree's root, the directory a whiteout named, one finding
per layer pair, merging across the layers that stored the bytes, and the fold
of scattered copies beyond ``MAX_PER_GROUP``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dive_py.core.analysis.findings import group_findings
from dive_py.core.analysis.hints import hint_for, instruction
from dive_py.core.analysis.reclaim import IDENTICAL_COPY, KIND_KEYS, METADATA_ONLY, OVERWRITTEN, REMOVED, find_waste
from dive_py.fixtures.builder import ImageSpec, write_archive
from tests.helpers import loaded

#: (kind, path, bytes, files, stored in, hidden by, partial)
Row = tuple[str, str, int, int, list[int], int | None, bool]


def findings_of(tmp_path: Path, spec: ImageSpec) -> list[Row]:
    path = write_archive(spec, tmp_path / "img.tar")
    with loaded(path) as image:
        waste = find_waste(image)
        found = group_findings(image, waste)
        assert sum(f.bytes for f in found) == waste.reclaimable_bytes  # every copy in one finding
        assert sum(f.files for f in found) == len(waste.entry)
        return [(KIND_KEYS[f.kind], f.path, f.bytes, f.files, f.stored_in, f.hidden_by, f.partial) for f in found]


def test_chown_r_gives_one_finding_per_layer_pair(tmp_path: Path) -> None:
    img = ImageSpec()
    img.layer("COPY app /app").dir("app").file("app/x", b"x" * 40).dir("app/lib").file("app/lib/z", b"z" * 30)
    first = img.layer("RUN chown -R 1000 /app && echo hi > /etc/motd")
    first.dir("app", uid=1000).file("app/x", b"x" * 40, uid=1000).dir("app/lib", uid=1000)
    first.file("app/lib/z", b"z" * 30, uid=1000).dir("etc").file("etc/motd", b"m" * 5)  # motd: not in the group
    again = img.layer("RUN chown -R 2000 /app")
    again.dir("app", uid=2000).file("app/x", b"x" * 40, uid=2000).dir("app/lib", uid=2000)
    again.file("app/lib/z", b"z" * 30, uid=2000)
    # 40 + 30 = 70 per chown; the tree's root is /app (layer 1 also stored /etc/motd, so not /)
    assert findings_of(tmp_path, img) == [
        ("metadataOnly", "/app", 70, 2, [0], 1, False),
        ("metadataOnly", "/app", 70, 2, [1], 2, False),
    ]


def test_a_finding_moves_down_to_the_deepest_directory_holding_all_its_files(tmp_path: Path) -> None:
    img = ImageSpec()
    img.layer("COPY tool /opt/tool").file("opt/tool/bin/a", b"a" * 8).file("opt/tool/lib/b", b"b" * 4)
    img.layer("RUN chmod -R g+w /opt").file("opt/tool/bin/a", b"a" * 8, mode=0o664).file(
        "opt/tool/lib/b", b"b" * 4, mode=0o664
    )
    # the layer stored nothing else: /, /opt and /opt/tool all hold the two files; /opt/tool is the deepest
    assert findings_of(tmp_path, img) == [("metadataOnly", "/opt/tool", 12, 2, [0], 1, False)]


def test_a_removal_stops_at_the_directory_the_whiteout_named(tmp_path: Path) -> None:
    img = ImageSpec()
    img.layer("COPY tool /opt/tool").file("opt/tool/bin/a", b"a" * 8).file("opt/tool/lib/b", b"b" * 4)
    img.layer("RUN rm -rf /opt").whiteout("opt")
    # /opt is gone after layer 1: the walk down from / stops there, not at /opt/tool
    assert findings_of(tmp_path, img) == [("removed", "/opt", 12, 2, [0], 1, False)]


def test_a_partly_removed_directory_gives_one_finding_per_file(tmp_path: Path) -> None:
    img = ImageSpec()
    img.layer("RUN fetch").file("cache/a", b"a" * 10).file("cache/b", b"b" * 20).file("cache/c", b"c" * 1)
    img.layer("RUN rm /cache/a").whiteout("cache/a")
    img.layer("RUN rm /cache/b").whiteout("cache/b")
    # /cache still holds c: neither removal covers /cache, and each names its layer
    assert findings_of(tmp_path, img) == [
        ("removed", "/cache/b", 20, 1, [0], 2, False),
        ("removed", "/cache/a", 10, 1, [0], 1, False),
    ]


def test_findings_of_one_path_and_hiding_layer_merge_across_storing_layers(tmp_path: Path) -> None:
    img = ImageSpec()
    img.layer("RUN fetch a").file("cache/a", b"a" * 10)
    img.layer("RUN fetch b").file("cache/b", b"b" * 20)
    img.layer("RUN rm -rf /cache").whiteout("cache")
    assert findings_of(tmp_path, img) == [("removed", "/cache", 30, 2, [0, 1], 2, False)]


def test_scattered_copies_fold_beyond_the_limit(tmp_path: Path) -> None:
    n = 14  # two more than MAX_PER_GROUP
    img = ImageSpec()
    pkg = img.layer("RUN pip install pkg")
    for i in range(n):  # each directory keeps its .py: only the .pyc files are removed
        pkg.file(f"pkg/m{i:02}/mod.py", b"p" * 5).file(f"pkg/m{i:02}/mod.pyc", b"c" * (100 + i))
    rm = img.layer("RUN find / -name '*.pyc' -delete")
    for i in range(n):
        rm.whiteout(f"pkg/m{i:02}/mod.pyc")
    kept = [("removed", f"/pkg/m{i:02}/mod.pyc", 100 + i, 1, [0], 1, False) for i in range(13, 1, -1)]  # 12
    # the two smallest (m01: 101, m00: 100) fold into /pkg; 201 bytes sort first
    assert findings_of(tmp_path, img) == [("removed", "/pkg", 201, 2, [0], 1, True), *kept]


def test_a_whole_layer_removed_is_one_finding_at_the_root(tmp_path: Path) -> None:
    img = ImageSpec()
    img.layer("COPY").file("b", b"b" * 5).file("a", b"a" * 5).file("c", b"c" * 9)
    img.layer("RUN rm /a /b /c").whiteout("a").whiteout("b").whiteout("c")
    # everything layer 0 stored was removed by layer 1: / is covered, and no child holds all three
    assert findings_of(tmp_path, img) == [("removed", "/", 19, 3, [0], 1, False)]


def test_findings_sort_biggest_first_then_by_path(tmp_path: Path) -> None:
    img2 = ImageSpec()
    img2.layer("COPY").file("b", b"b" * 5).file("a", b"a" * 5).file("c", b"c" * 9).file("keep", b"k")
    img2.layer("RUN rm /a /b /c").whiteout("a").whiteout("b").whiteout("c")
    assert findings_of(tmp_path, img2) == [
        ("removed", "/c", 9, 1, [0], 1, False),
        ("removed", "/a", 5, 1, [0], 1, False),
        ("removed", "/b", 5, 1, [0], 1, False),
    ]


# -- instruction(): the history spellings builders write ---------------------------------------------------------


@pytest.mark.parametrize(
    ("created_by", "want"),
    [
        # docker classic builder
        ("/bin/sh -c #(nop) COPY file:3c4d5e in /app/main.py ", ("COPY", "file:3c4d5e in /app/main.py")),
        ("/bin/sh -c #(nop) ADD file:5b1e8a5d in / ", ("ADD", "file:5b1e8a5d in /")),
        ('/bin/sh -c #(nop)  CMD ["/bin/sh"]', ("CMD", '["/bin/sh"]')),
        ('/bin/sh -c #(nop)  ENTRYPOINT ["/entrypoint.sh"]', ("ENTRYPOINT", '["/entrypoint.sh"]')),
        ("/bin/sh -c #(nop)  ENV PYTHONDONTWRITEBYTECODE=1", ("ENV", "PYTHONDONTWRITEBYTECODE=1")),
        ("/bin/sh -c #(nop) WORKDIR /app", ("WORKDIR", "/app")),
        ("#(nop) ADD file:abc in / ", ("ADD", "file:abc in /")),
        ("/bin/sh -c apt-get update && apt-get install -y curl", ("RUN", "apt-get update && apt-get install -y curl")),
        ("|1 PY=3.12 /bin/sh -c pip install flask", ("RUN", "pip install flask")),
        ("|2 A=1 B= /bin/sh -c make", ("RUN", "make")),
        # BuildKit
        ("RUN /bin/sh -c apt-get update # buildkit", ("RUN", "apt-get update")),
        ("RUN |1 PY=3.12 /bin/sh -c pip install flask # buildkit", ("RUN", "pip install flask")),
        (
            "RUN /bin/bash -c set -o pipefail && curl -fsS x | sh # buildkit",
            ("RUN", "set -o pipefail && curl -fsS x | sh"),
        ),
        ("COPY . /app # buildkit", ("COPY", ". /app")),
        ("COPY --chown=1000:1000 . /app # buildkit", ("COPY", "--chown=1000:1000 . /app")),
        ("ADD https://example.org/x.tgz /opt/ # buildkit", ("ADD", "https://example.org/x.tgz /opt/")),
        ("WORKDIR /app", ("WORKDIR", "/app")),
        ('CMD ["python" "app.py"]', ("CMD", '["python" "app.py"]')),
        ('ENTRYPOINT ["/docker-entrypoint.sh"]', ("ENTRYPOINT", '["/docker-entrypoint.sh"]')),
        ("USER 1000:1000", ("USER", "1000:1000")),
        # buildah / podman
        ("/bin/sh -c #(nop) COPY dir:8a9b0c in /app ", ("COPY", "dir:8a9b0c in /app")),
        ("/bin/sh -c dnf install -y python3", ("RUN", "dnf install -y python3")),
        ("|1 V=2 /bin/sh -c make install", ("RUN", "make install")),
        # kaniko and plain commands
        ("RUN apt-get update", ("RUN", "apt-get update")),
        ("/bin/sh -c cp /a /b", ("RUN", "cp /a /b")),
        ("sh -c rm -rf /tmp/*", ("RUN", "rm -rf /tmp/*")),
        ("", ("RUN", "")),
    ],
)
def test_instruction(created_by: str, want: tuple[str, str]) -> None:
    assert instruction(created_by) == want


# -- hint_for -------------------------------------------------------------------------------------------------------

GENERIC_METADATA = "set the mode and owner in the step that creates the files: changing them stores every file again"
COPY_UP = "the same bytes are stored again (copy-up): avoid modifying files that earlier layers created"


@pytest.mark.parametrize(
    ("kind", "path", "stored_by", "hidden_by", "want"),
    [
        (
            REMOVED,
            "/root/.cache/pip",
            "RUN /bin/sh -c pip install flask # buildkit",
            "RUN /bin/sh -c rm -rf /root/.cache/pip # buildkit",
            "`pip install --no-cache-dir` (or `PIP_NO_CACHE_DIR=1`) instead of deleting the cache later",
        ),
        (
            REMOVED,
            "/var/lib/apt/lists",
            "/bin/sh -c apt-get update",
            "/bin/sh -c rm -rf /var/lib/apt/lists/*",
            "`rm -rf /var/lib/apt/lists/*` in the same `RUN` as `apt-get update`",
        ),
        (
            REMOVED,
            "/var/cache/apk",
            "COPY cache /var/cache/apk # buildkit",  # a cache beats the COPY advice
            "RUN rm -rf /var/cache/apk # buildkit",
            "`apk add --no-cache` instead of deleting the cache later",
        ),
        (
            REMOVED,
            "/app/.git",
            "COPY . /app # buildkit",
            "RUN /bin/sh -c rm -rf /app/.git # buildkit",
            "keep /app/.git out of the image: list it in .dockerignore or COPY only what the image needs "
            "(a later delete cannot take back what a COPY stored)",
        ),
        (
            REMOVED,
            "/src/build",
            "|1 J=4 /bin/sh -c make -C /src",
            "/bin/sh -c rm -rf /src/build",
            "multi-stage build: build in one stage and COPY only the artefacts into the final one",
        ),
        (
            REMOVED,
            "/tmp/x.tgz",
            "/bin/sh -c curl -o /tmp/x.tgz https://example.org/x.tgz",
            "/bin/sh -c rm /tmp/x.tgz",
            "delete /tmp/x.tgz in the same RUN that creates it (`… && rm -rf /tmp/x.tgz`): a later layer only hides it",
        ),
        (
            REMOVED,
            "/x",
            "/bin/sh -c curl -o /x https://example.org/x",
            None,  # a visible link's claimed bytes: no hiding step
            "do not create /x in the step that stores it: a later layer only hides the bytes",
        ),
        (
            METADATA_ONLY,
            "/app",
            "COPY . /app # buildkit",
            "RUN /bin/sh -c chown -R 1000:1000 /app && chmod -R g+w /app # buildkit",  # chown first
            "use `COPY --chown=…` (or create the files as that user) instead of `RUN chown`: "
            "changing the owner stores every file again",
        ),
        (
            METADATA_ONLY,
            "/app",
            "COPY . /app # buildkit",
            "|1 M=g+w /bin/sh -c chmod -R $M /app",
            "use `COPY --chmod=…` instead of `RUN chmod`: changing the mode stores every file again",
        ),
        (METADATA_ONLY, "/app", "COPY . /app # buildkit", "RUN /bin/sh -c setfacl -R -m u:1:r /app", GENERIC_METADATA),
        (METADATA_ONLY, "/app", "COPY . /app", "/bin/sh -c ./fix-chmods.sh && rechown /app", GENERIC_METADATA),
        (
            OVERWRITTEN,
            "/etc/app.conf",
            "/bin/sh -c #(nop) COPY file:abc in /etc/app.conf ",
            "COPY app.conf /etc/app.conf # buildkit",
            "copy /etc/app.conf once, in its final version",
        ),
        (
            OVERWRITTEN,
            "/etc/app.conf",
            "COPY app.conf /etc/app.conf # buildkit",
            "RUN /bin/sh -c sed -i s/a/b/ /etc/app.conf # buildkit",
            "edit /etc/app.conf in the step that creates it (or ship it in its final form): "
            "each rewrite stores it again",
        ),
        (
            OVERWRITTEN,
            "/etc/app.conf",
            "COPY app.conf /etc/app.conf # buildkit",
            "RUN /bin/sh -c echo x >> /etc/app.conf # buildkit",
            "write /etc/app.conf once, in its final form, or in the same RUN that rewrites it",
        ),
        (
            IDENTICAL_COPY,
            "/etc/conf",
            "COPY conf /etc/conf # buildkit",
            "RUN /bin/sh -c touch /etc/conf # buildkit",
            "do not `touch` files from earlier layers: the whole file is stored again for a new mtime",
        ),
        (
            IDENTICAL_COPY,
            "/srv/a.txt",
            "COPY a.txt /srv/a.txt # buildkit",
            "/bin/sh -c #(nop) ADD file:abc in /srv/a.txt ",
            "/srv/a.txt is copied twice: on its own first (fine for the layer cache, before an install step), "
            "then again by a wider ADD; leave it out of the second one or accept the cost",
        ),
        (
            IDENTICAL_COPY,
            "/srv/a.txt",
            "/bin/sh -c #(nop) ADD file:abc in /srv/a.txt ",
            "/bin/sh -c #(nop) ADD file:abc in /srv/a.txt ",
            "/srv/a.txt is copied again with the same content: drop the repeated ADD",
        ),
        (
            IDENTICAL_COPY,
            "/srv/a.txt",
            "COPY a.txt /srv/a.txt # buildkit",
            "COPY a.txt /srv/a.txt # buildkit",
            "/srv/a.txt is copied again with the same content: drop the repeated COPY",
        ),
        (IDENTICAL_COPY, "/lib/x.so", "RUN /bin/sh -c make", "RUN /bin/sh -c strip --version", COPY_UP),
    ],
    ids=[
        "removed-pip-cache",
        "removed-apt-lists",
        "removed-cache-before-copy",
        "removed-copied",
        "removed-built",
        "removed-run-run",
        "removed-no-hider",
        "metadata-chown",
        "metadata-chmod",
        "metadata-other",
        "metadata-words-only",
        "overwritten-copy-copy",
        "overwritten-sed",
        "overwritten-other",
        "identical-touch",
        "identical-wider-add",
        "identical-add",
        "identical-copy",
        "identical-other",
    ],
)
def test_hint_for(kind: int, path: str, stored_by: str, hidden_by: str | None, want: str) -> None:
    assert hint_for(kind, path, stored_by, hidden_by) == want


def test_hint_for_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match=r"^unknown kind 9$"):
        hint_for(9, "/x", "RUN a", "RUN b")
