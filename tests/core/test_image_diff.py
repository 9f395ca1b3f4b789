"""Two images compared: layers matched by diff_id, final filesystems path by path (exact, and against an oracle)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from dive_py.core.analysis.image_diff import (
    ADDED,
    CONTENT,
    LINK,
    MODE,
    MODIFIED,
    OWNER,
    REMOVED,
    SIZE,
    TYPE,
    diff_images,
    final_paths,
)
from dive_py.core.analysis.insights import analyse_insights
from dive_py.core.tar.layerread import hardlink_path
from dive_py.fixtures.builder import ImageSpec, write_archive
from tests.core.test_merge_oracle import LNK, REG, SYM, Layer, Node, Unmodelled, image_spec, oracle_images, stack_layer
from tests.helpers import loaded


def base() -> ImageSpec:
    img = ImageSpec(tags=["app:1"])
    img.layer("ADD rootfs").dir("etc").file("etc/os-release", "debian 12\n").file("bin/sh", "#!" + "s" * 500)
    img.layer("RUN apt-get install").file("usr/lib/libfoo.so", "f" * 4000).file("usr/lib/libbar.so", "b" * 100)
    img.layer("COPY . /app").file("app/main.py", "print('v1')\n").file("app/config.yaml", "level: info\n")
    img.layer("RUN chmod").file("app/run.sh", "#!/bin/sh\n", mode=0o644).symlink("app/current", "main.py")
    return img


def variant() -> ImageSpec:
    """The same two bottom layers, then a changed app."""
    img = ImageSpec(tags=["app:2"])
    img.layer("ADD rootfs").dir("etc").file("etc/os-release", "debian 12\n").file("bin/sh", "#!" + "s" * 500)
    img.layer("RUN apt-get install").file("usr/lib/libfoo.so", "f" * 4000).file("usr/lib/libbar.so", "b" * 100)
    app = img.layer("COPY . /app")
    app.file("app/main.py", "print('v2')\n")  # same size, other bytes
    app.file("app/config.yaml", "level: debug\n")  # one byte more
    app.file("app/node_modules/big.js", "j" * 30_000)
    app.dir("app/current")  # a symlink before, a directory now
    tweaks = img.layer("RUN chmod && chown")
    tweaks.file("app/run.sh", "#!/bin/sh\n", mode=0o755, uid=1000, gid=1000)
    tweaks.whiteout("usr/lib/libbar.so")
    tweaks.hardlink("app/sh", "bin/sh")
    return img


def test_every_kind_of_change_with_its_reason(tmp_path: Path) -> None:
    with (
        loaded(write_archive(base(), tmp_path / "old.tar")) as old,
        loaded(write_archive(variant(), tmp_path / "new.tar", "oci")) as new,
    ):
        diff = diff_images(old, new)
        got = {(c.path, c.change, c.reasons, c.delta) for c in diff.changes}
        assert got == {
            ("/app/node_modules", ADDED, (), 0),
            ("/app/node_modules/big.js", ADDED, (), 30_000),
            ("/app/sh", ADDED, (), 0),  # a hardlink: its bytes are /bin/sh's
            ("/app/main.py", MODIFIED, (CONTENT,), 0),
            ("/app/config.yaml", MODIFIED, (SIZE,), 1),
            ("/app/current", MODIFIED, (TYPE, MODE), 0),  # lrwxrwxrwx -> drwxr-xr-x
            ("/app/run.sh", MODIFIED, (MODE, OWNER), 0),
            ("/usr/lib/libbar.so", REMOVED, (), -100),
        }
        assert [c.path for c in diff.changes[:2]] == ["/app/node_modules/big.js", "/usr/lib/libbar.so"]
        assert diff.file_delta == 30_000 + 1 - 100
        assert (diff.count(ADDED), diff.bytes_of(ADDED), diff.bytes_of(REMOVED)) == (3, 30_000, -100)
        # The file-level total is the difference of the two final contents, measured independently.
        assert diff.file_delta == analyse_insights(new).squashed_bytes - analyse_insights(old).squashed_bytes
        layers = diff.layers
        assert (layers.shared, layers.reused, layers.new_only, layers.old_only) == (2, (), (2, 3), (2, 3))


def test_a_reordered_build_reuses_layers_above_the_shared_base(tmp_path: Path) -> None:
    def image(order: list[str]) -> ImageSpec:
        img = ImageSpec(tags=["r:1"])
        img.layer("ADD base").file("etc/base", "b")
        for name in order:
            img.layer(f"COPY {name}").file(f"srv/{name}", name * 10)
        return img

    with (
        loaded(write_archive(image(["a", "b", "c"]), tmp_path / "old.tar")) as old,
        loaded(write_archive(image(["b", "a", "d"]), tmp_path / "new.tar")) as new,
    ):
        diff = diff_images(old, new)
        assert diff.layers.shared == 1
        assert diff.layers.reused == ((2, 1), (1, 2))  # same bytes, other position: not new
        assert (diff.layers.new_only, diff.layers.old_only) == ((3,), (3,))
        assert {(c.path, c.change) for c in diff.changes} == {("/srv/d", ADDED), ("/srv/c", REMOVED)}


def test_an_image_against_itself_has_no_changes(tmp_path: Path) -> None:
    path = write_archive(variant(), tmp_path / "same.tar")
    with loaded(path) as old, loaded(path) as new:
        diff = diff_images(old, new)
        assert diff.changes == () and diff.layers.shared == len(new.layers) == 4


# -- against the oracle of test_merge_oracle: random stacks, naive final trees, naive diff ---------------------------


def oracle_final(layers: list[Layer]) -> dict[str, Node]:
    state: dict[str, Node] = {}
    for i, ops in enumerate(layers):
        state = stack_layer(state, ops, i).state
    return state


def naive_diff(old: dict[str, Node], new: dict[str, Node]) -> set[tuple[str, str, tuple[str, ...]]]:
    out: set[tuple[str, str, tuple[str, ...]]] = set()
    for path in old.keys() | new.keys():
        a, b = old.get(path), new.get(path)
        if a is None:
            out.add(("/" + path, ADDED, ()))
        elif b is None:
            out.add(("/" + path, REMOVED, ()))
        else:
            why = []
            if a.tflag != b.tflag:
                why.append(TYPE)
            size_a = a.size if a.tflag == REG else 0
            size_b = b.size if b.tflag == REG else 0
            if size_a != size_b:
                why.append(SIZE)  # every file of a size has the same bytes here: never CONTENT
            if a.tflag == b.tflag == SYM and a.link != b.link:
                why.append(LINK)
            if a.tflag == b.tflag == LNK and hardlink_path(a.link) != hardlink_path(b.link):
                why.append(LINK)
            if a.perm != b.perm:
                why.append(MODE)
            if (a.uid, a.gid) != (b.uid, b.gid):
                why.append(OWNER)
            if why:
                out.add(("/" + path, MODIFIED, tuple(why)))
    return out


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(old_layers=oracle_images(), new_layers=oracle_images(), keep=st.integers(0, 3))
def test_the_diff_matches_a_naive_one_of_the_oracles_trees(
    old_layers: list[Layer], new_layers: list[Layer], keep: int
) -> None:
    new_layers = old_layers[:keep] + new_layers  # a shared base of up to three layers
    try:
        expected = naive_diff(oracle_final(old_layers), oracle_final(new_layers))
    except Unmodelled:
        reject()
    with tempfile.TemporaryDirectory() as tmp:
        old_path = write_archive(image_spec(old_layers), Path(tmp, "old.tar"))
        new_path = write_archive(image_spec(new_layers), Path(tmp, "new.tar"))
        try:
            with loaded(old_path) as old, loaded(new_path) as new:
                diff = diff_images(old, new)
                assert {(c.path, c.change, c.reasons) for c in diff.changes} == expected
                assert diff.layers.shared >= min(keep, len(old_layers))
                assert set(final_paths(new)) == {"/" + p for p in oracle_final(new_layers)}
        except Exception as exc:  # a hardlink to nothing is the loader's error, for both images alike
            if type(exc).__name__ == "LayerError":
                reject()
            raise


def test_a_hardlink_spelt_another_way_is_the_same_link_and_a_symlink_is_its_text(tmp_path: Path) -> None:
    def image(hard: str, soft: str) -> ImageSpec:
        img = ImageSpec(tags=["l:1"])
        img.layer("ADD").file("bin/sh", "shell").hardlink("bin/bash", hard).symlink("bin/ash", soft)
        return img

    with (
        loaded(write_archive(image("bin/sh", "sh"), tmp_path / "old.tar")) as old,
        loaded(write_archive(image("./bin/sh", "./sh"), tmp_path / "new.tar")) as new,
    ):
        assert [(c.path, c.reasons) for c in diff_images(old, new).changes] == [("/bin/ash", (LINK,))]


# -- figures and growth --------------------------------------------------------------------------------------------


def test_figure_deltas_and_where_the_growth_went(tmp_path: Path) -> None:
    from dive_py.core.analysis.efficiency import analyse
    from dive_py.core.analysis.image_deltas import figure_deltas, growth

    old_spec = base()
    new_spec = variant()
    deps = new_spec.layer("RUN npm ci")
    deps.file("usr/lib/node_modules/left-pad/index.js", "l" * 20_000)
    deps.file("usr/lib/node_modules/react/index.js", "r" * 9_000)
    deps.file("root/.npm/_cacache/blob", "c" * 7_000)  # junk: the npm cache
    deps.file("usr/share/doc/note", "n" * 1_000)
    deps.file("etc/os-release", "d")  # shrinks by 10 bytes: not growth
    with (
        loaded(write_archive(old_spec, tmp_path / "old.tar")) as old,
        loaded(write_archive(new_spec, tmp_path / "new.tar")) as new,
    ):
        diff = diff_images(old, new)
        old_ins, new_ins = analyse_insights(old), analyse_insights(new)
        rows = {r.key: r for r in figure_deltas(old, analyse(old), old_ins, new, analyse(new), new_ins)}
        assert rows["image.sizeBytes"].delta == new.size_bytes - old.size_bytes == 30_001 + 37_001
        assert (rows["layerCount"].old, rows["layerCount"].new) == (4, 5)
        assert rows["fileCount"].delta == 2 + 4 - 2  # big.js, the hardlink, npm's four; libbar and a symlink gone
        assert rows["insights.byKind.removed"].delta == 100  # libbar.so, stored then deleted
        assert rows["insights.junkBytes"].delta == new_ins.junk_bytes - old_ins.junk_bytes > 0
        assert rows["image.sizeBytes"].percent == 100.0 * rows["image.sizeBytes"].delta / old.size_bytes
        first, second = growth(diff, new, new_ins, old_ins)[:2]
        assert (first.layer, first.command, first.bytes) == (4, "RUN npm ci", 37_000)
        assert (first.directory, first.directory_bytes) == ("/usr/lib/node_modules", 29_000)
        assert (second.layer, second.bytes, second.directory) == (2, 30_001, "/app/node_modules")
        assert (first.junk_bytes, second.junk_bytes) == (7_000, 0)  # the npm cache, new in NEW
        assert growth(diff, new, new_ins, new_ins)[0].junk_bytes == 0  # junk OLD had already is not news
