"""The OCI layer rules on the merged tree, example by example and against a naive model.

Hardlink binding and every efficiency figure are checked against an
independent oracle in ``test_merge_oracle.py``; here the figures are
checked on one example worked out by hand.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dive_py.core.analysis.efficiency import analyse
from dive_py.core.kinds import DIR, HARDLINK, IMPLICIT, REGULAR, SYMLINK
from dive_py.core.model.loader import load_image
from dive_py.errors import LayerError
from dive_py.fixtures.builder import ImageSpec, LayerSpec, write_archive
from tests.helpers import listing, loaded, tree_of

F, D, L = REGULAR, DIR, SYMLINK

#: What ``tree_of`` gives per path: (tflag, perm bits, uid, gid, size, link, implicit).
Row = tuple[int, int, int, int, int, str, bool]


def image_file(tmp_path: Path, spec: ImageSpec, layout: str = "docker") -> str:
    return write_archive(spec, tmp_path / f"img-{layout}.tar", layout)


def short(tree: dict[str, Row]) -> dict[str, tuple[int, int, int, int, str]]:
    """path -> (type, perm, uid, size, link) for compact expectations."""
    return {p: (t, m, u, s, link) for p, (t, m, u, _g, s, link, _i) in tree.items()}


def test_whiteout_deletes_a_file_and_a_directory_subtree(tmp_path: Path) -> None:
    img = ImageSpec()
    img.layer("base").dir("a").file("a/b", "bb").dir("a/c").file("a/c/d", "ddd").file("f", "f").file("keep", "k")
    img.layer("rm").whiteout("f").whiteout("a")
    with loaded(image_file(tmp_path, img)) as image:
        assert list(tree_of(image, 0)) == ["a", "a/b", "a/c", "a/c/d", "f", "keep"]
        assert list(tree_of(image, 1)) == ["keep"]
        assert image.timeline.dangling_whiteouts == []
        sizes = sorted(image.timeline.whiteout_size.values())
    assert sizes == [0, 5]  # a file's whiteout counts 0, a directory's its subtree bytes


def test_opaque_hides_only_lower_content(tmp_path: Path) -> None:
    img = ImageSpec()
    img.layer("base").dir("d").file("d/old", "old").dir("d/sub").file("d/sub/x", "x").file("outside", "o")
    # the marker after the new entries: order inside a layer must not matter
    img.layer("replace").dir("d", mode=0o700).file("d/new", "new").dir("d/sub").file("d/sub/y", "y").opaque("d")
    with loaded(image_file(tmp_path, img)) as image:
        top = short(tree_of(image, 1))
    assert top == {
        "d": (D, 0o700, 0, 0, ""),
        "d/new": (F, 0o644, 0, 3, ""),
        "d/sub": (D, 0o755, 0, 0, ""),
        "d/sub/y": (F, 0o644, 0, 1, ""),
        "outside": (F, 0o644, 0, 1, ""),
    }


def test_opaque_root(tmp_path: Path) -> None:
    img = ImageSpec()
    img.layer("base").dir("etc").file("etc/a", "a").file("b", "b")
    img.layer("scratch again").opaque("").file("new", "n")
    with loaded(image_file(tmp_path, img)) as image:
        assert list(tree_of(image, 1)) == ["new"]


def test_opaque_on_a_new_directory_hides_nothing(tmp_path: Path) -> None:
    img = ImageSpec()
    img.layer("base").file("x", "x")
    img.layer("new dir").dir("fresh").opaque("fresh").file("fresh/a", "a")
    with loaded(image_file(tmp_path, img)) as image:
        assert list(tree_of(image, 1)) == ["fresh", "fresh/a", "x"]


def test_file_becomes_dir_and_dir_becomes_file(tmp_path: Path) -> None:
    img = ImageSpec()
    img.layer("base").file("x", "file").dir("y").file("y/a", "a").dir("y/z").file("y/z/b", "b")
    img.layer("swap").dir("x").file("x/child", "c").file("y", "now a file")
    with loaded(image_file(tmp_path, img)) as image:
        top = short(tree_of(image, 1))
        implied = [(image.paths.paths[p], n) for p, n in image.timeline.implied_whiteouts[1]]
    assert top == {"x": (D, 0o755, 0, 0, ""), "x/child": (F, 0o644, 0, 1, ""), "y": (F, 0o644, 0, 10, "")}
    assert sorted(implied) == [("x", 0), ("y", 2)]


def test_dir_over_dir_keeps_children_and_takes_new_metadata(tmp_path: Path) -> None:
    img = ImageSpec()
    img.layer("base").dir("d", mode=0o755).file("d/keep", "k").dir("d/sub").file("d/sub/deep", "dd")
    img.layer("chmod").dir("d", mode=0o700, uid=5, gid=6).file("d/added", "a")
    with loaded(image_file(tmp_path, img)) as image:
        tree = tree_of(image, 1)
        e = image.entries
        owner = {image.paths.paths[e.pid[g]]: e.layer_of(g) for g in image.tree_at(1)}
    assert tree["d"] == (D, 0o700, 5, 6, 0, "", False)
    assert list(tree) == ["d", "d/added", "d/keep", "d/sub", "d/sub/deep"]
    assert owner == {"d": 1, "d/added": 1, "d/keep": 0, "d/sub": 0, "d/sub/deep": 0}


def test_path_recreated_after_deletion(tmp_path: Path) -> None:
    img = ImageSpec()
    img.layer("add").dir("d").file("d/f", "first")
    img.layer("rm").whiteout("d")
    img.layer("again").file("d/f", "second!")
    with loaded(image_file(tmp_path, img)) as image:
        assert short(tree_of(image, 0)) == {"d": (D, 0o755, 0, 0, ""), "d/f": (F, 0o644, 0, 5, "")}
        assert tree_of(image, 1) == {}
        top = tree_of(image, 2)
    assert top == {"d": (D, 0o755, 0, 0, 0, "", True), "d/f": (F, 0o644, 0, 0, 7, "", False)}


def test_same_path_twice_in_one_layer_the_later_wins(tmp_path: Path) -> None:
    img = ImageSpec()
    img.layer("dup").file("x", "first").file("x", "second!!", mode=0o600)
    with loaded(image_file(tmp_path, img)) as image:
        assert short(tree_of(image, 0)) == {"x": (F, 0o600, 0, 8, "")}


@pytest.mark.parametrize("layout", ["docker", "oci"])
def test_hardlink_to_a_same_layer_target_listed_after_it(tmp_path: Path, layout: str) -> None:
    img = ImageSpec()
    img.layer("links").hardlink("a-link", "z-target").file("z-target", "content")
    with loaded(image_file(tmp_path, img, layout)) as image:
        e = image.entries
        (link,) = [g for g in image.tree_at(0) if e.tflag[g] == HARDLINK]
        target = image.timeline.hardlink_target[link]
        assert image.paths.paths[e.pid[target]] == "z-target"
        assert image.content_size(link) == 7
        assert listing(image)[0] == (
            '{"path":"/a-link","type":"hardlink","mode":"0644","uid":0,"gid":0,"size":7,"link":"/z-target"}'
        )


def test_hardlink_to_a_lower_layer_target_and_a_chain(tmp_path: Path) -> None:
    img = ImageSpec()
    img.layer("base").dir("bin").file("bin/busybox", "x" * 100)
    img.layer("links").hardlink("ls", "./bin/busybox").hardlink("ls2", "ls")
    with loaded(image_file(tmp_path, img)) as image:
        e = image.entries
        sizes = {image.paths.paths[e.pid[g]]: image.content_size(g) for g in image.tree_at(1)}
    assert sizes == {"bin": 0, "bin/busybox": 100, "ls": 100, "ls2": 100}


def _as_is(lay: LayerSpec) -> LayerSpec:
    return lay


@pytest.mark.parametrize(
    ("target", "setup"),
    [
        ("nope", _as_is),
        ("gone", lambda lay: lay.whiteout("gone")),  # deleted by the same layer
        ("dir", _as_is),  # a directory cannot be hardlinked
    ],
)
def test_hardlink_to_a_missing_target(tmp_path: Path, target: str, setup: Callable[[LayerSpec], LayerSpec]) -> None:
    img = ImageSpec()
    img.layer("base").file("gone", "g").dir("dir")
    setup(img.layer("bad").hardlink("h", target))
    path = image_file(tmp_path, img)
    why = "is a directory (hardlinks to directories are not allowed)" if target == "dir" else "does not exist"
    message = f"layer 1: hardlink /h points to /{target}, which {why}"
    with pytest.raises(LayerError) as err:
        load_image(path)
    assert str(err.value) == message
    with loaded(path, strict=False) as image:
        assert image.warnings == [message]
        assert "h" in tree_of(image, 1)
        assert image.content_size(image.tree_at(1)[-1]) == 0


def test_child_under_a_lower_file_replaces_it_with_an_implicit_dir(tmp_path: Path) -> None:
    img = ImageSpec()
    img.layer("base").file("p", "a file").symlink("s", "/p")
    img.layer("under").file("p/q", "q").file("s/t/u", "u")
    with loaded(image_file(tmp_path, img)) as image:
        tree = tree_of(image, 1)
        e = image.entries
        kinds = {image.paths.paths[e.pid[g]]: e.kind[g] for g in image.tree_at(1)}
        implied = sorted((image.paths.paths[p], n) for p, n in image.timeline.implied_whiteouts[1])
    assert tree == {
        "p": (D, 0o755, 0, 0, 0, "", True),
        "p/q": (F, 0o644, 0, 0, 1, "", False),
        "s": (D, 0o755, 0, 0, 0, "", True),
        "s/t": (D, 0o755, 0, 0, 0, "", True),
        "s/t/u": (F, 0o644, 0, 0, 1, "", False),
    }
    assert kinds["p"] == kinds["s/t"] == IMPLICIT
    assert implied == [("p", 0), ("s", 0)]


def test_whiteout_of_a_missing_path_is_harmless(tmp_path: Path) -> None:
    img = ImageSpec()
    img.layer("base").file("real", "r")
    img.layer("rm").whiteout("ghost").whiteout("real/under-a-file")
    with loaded(image_file(tmp_path, img)) as image:
        assert list(tree_of(image, 1)) == ["real"]
        e = image.entries
        dangling = [image.paths.paths[e.pid[g]] for g in image.timeline.dangling_whiteouts]
        assert dangling == ["ghost", "real/under-a-file"]
        assert all(image.timeline.whiteout_size[g] == 0 for g in image.timeline.dangling_whiteouts)
        assert analyse(image).score == 1.0


# -- figures by hand ---------------------------------------------------------------------


def test_figures_of_a_small_image_by_hand(tmp_path: Path) -> None:
    """Every figure of a three-layer image, worked out by hand from dive's rules.

    Leaves (occurrences) per layer, in dive's visiting order:

    * L0: app/bin 50, cache 300, etc/big 1000, etc/conf 100;
    * L1: app/bin2 0 (a hardlink: its header size), etc/conf 120;
    * L2: .wh.cache -> cache 0 (a file), .wh.etc -> etc 120 + 1000 = 1120 (the directory's
      subtree below L2), app/.wh.bin2 -> app/bin2 0, app/bin 50 (a chmod copies it up).

    Per path (count, cumulative, minimum): app/bin (2, 100, 50), cache (2, 300, 0),
    etc/big (1, 1000, 1000), etc/conf (2, 220, 100), app/bin2 (2, 0, 0), etc (1, 1120, 1120).
    dive's odd rule: the files deleted with ``etc`` are *not* waste (the bytes are counted once,
    under ``etc``), while ``cache``, deleted on its own, is waste in full.

    * Σ minimum    = 50 + 0 + 1000 + 100 + 0 + 1120    = 2270
    * Σ cumulative = 100 + 300 + 1000 + 220 + 0 + 1120 = 2740
    * efficiency   = 2270 / 2740 = 0.8284671532846716
    * discovered (second occurrence): etc/conf (L1), then in L2 cache, app/bin2, app/bin;
      sorted by cumulative (0, 100, 220, 300) and read backwards: cache, etc/conf, app/bin, app/bin2
    * wasted bytes = 300 + 220 + 100 + 0 = 620 (every copy, the surviving app/bin included)
    * layer sizes  = 50 + 300 + 1000 + 100 = 1450, 120, 50; image 1620; user 120 + 50 = 170
    * user-wasted  = 620 / 170 = 3.6470588235294117 (it can exceed 1)
    """
    img = ImageSpec()
    l0 = img.layer("L0").dir("app").file("app/bin", bytes(50)).file("cache", bytes(300))
    l0.dir("etc").file("etc/big", bytes(1000)).file("etc/conf", bytes(100))
    img.layer("L1").dir("etc").file("etc/conf", bytes(120)).hardlink("app/bin2", "app/bin")
    l2 = img.layer("L2").whiteout("cache").whiteout("etc")
    l2.dir("app").file("app/bin", bytes(50), mode=0o755).whiteout("app/bin2")
    with loaded(image_file(tmp_path, img)) as image:
        eff = analyse(image)
        layer_sizes = [layer.size for layer in image.layers]
        bin2 = json.loads(listing(image, 1)[2])
    assert layer_sizes == [1450, 120, 50]
    assert (eff.size_bytes, eff.user_size_bytes) == (1620, 170)
    assert (eff.min_total, eff.cumulative_total) == (2270, 2740)
    assert eff.score == 0.8284671532846716
    assert eff.wasted_bytes == 620
    assert eff.user_wasted_percent == 3.6470588235294117
    assert [(w.path, w.count, w.cumulative, w.minimum, w.layers) for w in eff.inefficient] == [
        ("/cache", 2, 300, 0, [0, 2]),
        ("/etc/conf", 2, 220, 100, [0, 1]),
        ("/app/bin", 2, 100, 50, [0, 2]),
        ("/app/bin2", 2, 0, 0, [1, 2]),
    ]
    assert eff.reclaimable_bytes == (300 - 0) + (220 - 100) + (100 - 50) + 0 == 470
    assert (bin2["path"], bin2["size"], bin2["link"]) == ("/app/bin2", 50, "/app/bin")  # the target's bytes


# -- property test against a naive model ----------------------------------------------

NAMES = ("a", "b")
PATHS = [
    *NAMES,
    *(f"{x}/{y}" for x in NAMES for y in NAMES),
    *(f"{x}/{y}/{z}" for x in NAMES for y in NAMES for z in NAMES),
]
IMPLICIT_ATTRS: Row = (DIR, 0o755, 0, 0, 0, "", True)
NON_DIRS = ("file", "symlink", "hardlink")

#: ("file", size, mode, uid) | ("dir", mode, uid) | ("symlink", target) | ("hardlink", target) | ("whiteout",)
Op = tuple[Any, ...]

op_strategy = st.one_of(
    st.tuples(st.just("file"), st.integers(0, 40), st.sampled_from([0o644, 0o755, 0o600]), st.sampled_from([0, 1000])),
    st.tuples(st.just("dir"), st.sampled_from([0o755, 0o700, 0o1777]), st.sampled_from([0, 1000])),
    st.tuples(st.just("symlink"), st.sampled_from(["a", "/b", "../x"])),
    st.tuples(st.just("hardlink"), st.sampled_from(PATHS)),
    st.just(("whiteout",)),
)
layer_strategy = st.tuples(
    st.dictionaries(st.sampled_from(PATHS), op_strategy, max_size=6),
    st.lists(st.sampled_from(["", *PATHS]), max_size=2, unique=True),
)
LayerOps = tuple[dict[str, Op], list[str]]


def _key(path: str) -> str:
    return path.replace("/", "\x00")


def _drop_below(state: dict[str, Row], path: str) -> None:
    for q in [q for q in state if q.startswith(path + "/") or path == ""]:
        del state[q]


def model_apply(state: dict[str, Row], ops: dict[str, Op], opaques: list[str], order: list[str]) -> None:
    """The OCI rules, written as plainly as possible.

    ``order`` is the archive order of the layer's entries: a file or link
    replaces whatever the same layer put below its path *before* it.  A
    hardlink is a non-directory entry like any other here (what it binds
    to is the oracle's business in ``test_merge_oracle.py``).
    """
    pos = {path: i for i, path in enumerate(order)}
    ops = {
        path: op
        for path, op in ops.items()
        if op[0] == "whiteout"
        or not any(o[0] in NON_DIRS and path.startswith(q + "/") and pos[q] > pos[path] for q, o in ops.items())
    }
    for path, op in ops.items():  # 1. whiteouts: the path and everything below it
        if op[0] == "whiteout" and path in state:
            del state[path]
            _drop_below(state, path)
    for d in opaques:  # 2. opaque dirs: everything the lower layers put below them
        _drop_below(state, d)
    for path in sorted((p for p, op in ops.items() if op[0] != "whiteout"), key=_key):  # 3. parents first
        op = ops[path]
        new: Row
        if op[0] == "file":
            new = (REGULAR, op[2], op[3], 0, op[1], "", False)
        elif op[0] == "dir":
            new = (DIR, op[1], op[2], 0, 0, "", False)
        elif op[0] == "symlink":
            new = (SYMLINK, 0o777, 0, 0, 0, op[1], False)
        else:
            new = (HARDLINK, 0o644, 0, 0, 0, op[1], False)
        missing = []
        q = path.rpartition("/")[0]
        while q and (q not in state or state[q][0] != DIR):
            missing.append(q)
            q = q.rpartition("/")[0]
        for q in reversed(missing):
            state[q] = IMPLICIT_ATTRS  # a non-directory in the way is replaced (it has nothing below it)
        old = state.get(path)
        if old is not None and old[0] == DIR and new[0] != DIR:
            _drop_below(state, path)
        state[path] = new


def build_spec(layers: list[LayerOps], rnd: random.Random) -> ImageSpec:
    img = ImageSpec(tags=["prop:1"])
    for i, (ops, opaques) in enumerate(layers):
        spec = img.layer(f"layer {i}")
        for path, op in ops.items():
            if op[0] == "file":
                spec.file(path, b"x" * op[1], mode=op[2], uid=op[3])
            elif op[0] == "dir":
                spec.dir(path, mode=op[1], uid=op[2])
            elif op[0] == "symlink":
                spec.symlink(path, op[1])
            elif op[0] == "hardlink":
                spec.hardlink(path, op[1])
            else:
                spec.whiteout(path)
        for d in opaques:
            spec.opaque(d)
        rnd.shuffle(spec.members)  # any archive order: the model knows which one it got
    return img


def archive_order(spec: ImageSpec, i: int) -> list[str]:
    """The paths of layer ``i``'s entries in the order they were written."""
    return [m.info.name.rstrip("/") for m in spec.layers[i].members]


@settings(max_examples=150, deadline=None)
@given(
    layers=st.lists(layer_strategy, min_size=2, max_size=5),
    layout=st.sampled_from(["docker", "oci"]),
    rnd=st.randoms(use_true_random=False),
)
def test_merged_tree_matches_a_naive_model(layers: list[LayerOps], layout: str, rnd: random.Random) -> None:
    spec = build_spec(layers, rnd)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_archive(spec, Path(tmp) / "img.tar", layout)
        # Hardlinks here may point anywhere: load leniently (their binding is test_merge_oracle's).
        with loaded(path, strict=False) as image:
            state: dict[str, Row] = {}
            for i, (ops, opaques) in enumerate(layers):
                model_apply(state, ops, opaques, archive_order(spec, i))
                got = tree_of(image, i)
                assert got == dict(sorted(state.items(), key=lambda kv: _key(kv[0]))), f"layer {i}"
                assert list(got) == sorted(state, key=_key)  # depth-first path order
                assert len(listing(image, i)) == len(state)
