"""Merged trees and dive's figures against a naive oracle written here, from the rules alone.

The oracle knows nothing of divepy's code.  It stacks the layers into a plain
``dict`` (path -> node), one layer at a time, the way the OCI image spec
describes it, and then computes dive's figures from each layer's *own* tree
the way ``../shared/reference/dive-behaviour.md`` §4 describes dive's
``Efficiency``, plus the documented places where divepy counts what dive
misses (docs/metrics.md, "Occurrences", point 4).  Only the fixture builder
(to write archives), the loader and the analysis are used from divepy.

What is compared, for random 2-5 layer images over a tiny path alphabet
(so that paths collide all the time):

* the merged tree after every layer: paths, type, permission bits, owner,
  size field, link name, and whether the directory is implied (``tree_of``);
  the ``--list`` lines for what a hardlink's bytes are;
* every figure: per-layer sizes, image size, user size, Σ minimum and
  Σ cumulative, efficiency, wasted bytes, user-wasted percent, and the
  inefficient-files list in dive's order, with counts, sizes and layers;
* hardlinks to nothing or to a directory: exactly the oracle's messages,
  as a clean ``LayerError`` (strict) or as warnings (``strict=False``).

A second test checks the oracle itself against dive 0.13.1 on images that
dive reads correctly (no opaque markers, no file <-> directory changes, every
parent directory declared), so the oracle's idea of "dive's rules" is pinned
to the real thing.
"""

from __future__ import annotations

import json
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, reject, settings
from hypothesis import strategies as st

from dive_py.core.analysis.efficiency import analyse
from dive_py.core.model.image import Image
from dive_py.core.model.loader import load_image
from dive_py.errors import LayerError
from dive_py.fixtures.builder import ImageSpec, write_archive
from tests.clitools import dive_json
from tests.conftest import dive_binary
from tests.helpers import listing, loaded, tree_of

# Tar typeflags (POSIX ustar), spelled out here rather than imported.
REG, LNK, SYM, DIRTYPE = ord("0"), ord("1"), ord("2"), ord("5")
ENTRY_KINDS = ("file", "dir", "symlink", "hardlink")

#: Ten paths, nested up to four deep. At most ten paths can ever be inefficient, so dive's
#: ``sort.Sort`` stays in its insertion-sort range (<= 12 items), where it is stable.
PATHS = ("a", "b", "c", "a/a", "a/b", "b/a", "a/b/a", "a/b/b", "b/a/a", "a/b/a/a")


@dataclass(frozen=True)
class Op:
    """One tar member of a layer: an entry, a whiteout (``path`` deleted) or an opaque marker (in ``path``)."""

    kind: str  # file | dir | symlink | hardlink | whiteout | opaque
    path: str
    size: int = 0
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    link: str = ""  # a symlink's target, or a hardlink's raw link name


Layer = list[Op]  # in archive order


# -- the oracle ---------------------------------------------------------------------------------------------------


class Unmodelled(Exception):
    """A case that hits a known divepy bug (see the xfail tests at the end): the example is rejected."""


@dataclass(eq=False)
class Node:
    """A path in the merged filesystem (one object per tar entry, so a hardlink keeps the entry it bound to)."""

    tflag: int
    perm: int
    uid: int
    gid: int
    size: int  # the header's size field
    link: str
    implicit: bool
    content: int | None = None  # a hardlink's bytes once bound (None: unbound)

    @property
    def is_dir(self) -> bool:
        return self.tflag == DIRTYPE

    def row(self) -> tuple[int, int, int, int, int, str, bool]:
        return (self.tflag, self.perm, self.uid, self.gid, self.size, self.link, self.implicit)


def implicit_dir() -> Node:
    return Node(DIRTYPE, 0o755, 0, 0, 0, "", True)


def node_of(op: Op) -> Node:
    tflag = {"file": REG, "dir": DIRTYPE, "symlink": SYM, "hardlink": LNK}[op.kind]
    return Node(tflag, op.mode & 0o7777, op.uid, op.gid, op.size if op.kind == "file" else 0, op.link, False)


def key(path: str) -> tuple[str, ...]:
    """dive's visiting order: depth first, siblings sorted byte-wise (all names here are ASCII)."""
    return tuple(path.split("/"))


def ancestors(path: str) -> list[str]:
    """Proper ancestors, outermost first (``a/b/c`` -> ``a``, ``a/b``)."""
    parts = path.split("/")
    return ["/".join(parts[:k]) for k in range(1, len(parts))]


def is_under(path: str, top: str) -> bool:
    """Strictly below ``top`` ("" is the root, above everything)."""
    return top == "" or path.startswith(top + "/")


def subtree(state: dict[str, Node], top: str) -> list[str]:
    """``top`` and everything under it."""
    return [p for p in state if p == top or is_under(p, top)]


def subtree_bytes(state: dict[str, Node], top: str) -> int:
    return sum(state[p].size for p in subtree(state, top))


def remove(state: dict[str, Node], top: str) -> None:
    for p in subtree(state, top):
        del state[p]


def whiteout_node(path: str) -> str:
    """Where a layer's tree keeps the whiteout of ``path``: ``a/b`` -> ``a/.wh.b``."""
    head, _, name = path.rpartition("/")
    return f"{head}/.wh.{name}" if head else f".wh.{name}"


def link_path(raw: str) -> str:
    """The path a hardlink's link name names (``/x``, ``./x`` and ``x`` are all ``x``)."""
    raw = raw.lstrip("/")
    while raw.startswith("./"):
        raw = raw[2:]
    return raw


@dataclass
class Stacked:
    state: dict[str, Node]  # the merged tree after the layer
    #: (node path in the layer's tree, path it counts for, bytes): dive's leaf occurrences plus the
    #: whiteouts divepy implies for opaque markers and type changes.
    occurrences: list[tuple[str, str, int]]
    implied: int  # how many of them divepy implies
    errors: list[str]  # hardlinks that bind to nothing


def stack_layer(lower: dict[str, Node], ops: Layer, index: int) -> Stacked:
    """Apply one layer to the merged tree below it, naively."""
    entries = {op.path: op for op in ops if op.kind in ENTRY_KINDS}
    whiteouts: list[tuple[str, str, int]] = []  # (node, path, bytes) of the layer's whiteout entries
    implied: list[tuple[str, str, int]] = []  # the same for the whiteouts divepy implies
    state = dict(lower)

    # 1. Whiteouts remove the path and its subtree from the lower layers. dive counts a
    #    whiteout as the bytes of the lower *directory* it deletes, and 0 for anything else (a
    #    deleted file's bytes become waste through its minimum of 0). dive restacks the lower
    #    layers for every whiteout, so each is measured against the lower layers, never against
    #    what another whiteout of the same layer already removed.
    for op in ops:
        if op.kind == "whiteout":
            old = lower.get(op.path)
            size = subtree_bytes(lower, op.path) if old is not None and old.is_dir else 0
            whiteouts.append((whiteout_node(op.path), op.path, size))
            remove(state, op.path)

    # 2. An opaque marker in D hides everything the lower layers have under D (not D itself, and
    #    not what this layer adds). dive ignores the marker; divepy counts each hidden lower path
    #    as an explicit whiteout of it would count, except where the layer puts something back:
    #    a directory over a directory keeps the path (its lower children are then counted one by
    #    one), a non-directory over a non-directory is a plain overwrite (counted by its own leaf).
    marked = dict(state)

    def kept_dir(p: str) -> bool:
        return p in entries and entries[p].kind == "dir" and marked[p].is_dir

    def overwritten(p: str) -> bool:
        return p in entries and entries[p].kind != "dir" and not marked[p].is_dir

    for op in ops:
        d = op.path
        if op.kind != "opaque" or (d and (d not in marked or not marked[d].is_dir)):
            continue  # no lower directory there: nothing to hide
        for p in sorted((p for p in marked if is_under(p, d)), key=key):
            between = [q for q in ancestors(p) if is_under(q, d)]
            if all(kept_dir(q) for q in between) and not kept_dir(p) and not overwritten(p):
                size = subtree_bytes(marked, p) if marked[p].is_dir else 0
                implied.append((whiteout_node(p), p, size))
            state.pop(p, None)
    after_markers = dict(state)

    # 3. Entries, parents first. Missing parents are implied directories. A non-directory in the
    #    way of a parent, or replaced by a directory, is deleted (divepy: a 0-byte whiteout); a
    #    directory replaced by a non-directory goes with its subtree (divepy: a whiteout of its
    #    bytes). A directory over a directory only changes the metadata.
    created: dict[Op, Node] = {}
    for path in sorted(entries, key=key):
        for q in ancestors(path):
            cur = state.get(q)
            if cur is None:
                state[q] = implicit_dir()
            elif not cur.is_dir:
                implied.append((whiteout_node(q), q, 0))
                state[q] = implicit_dir()
        new = node_of(entries[path])
        old = state.get(path)
        if old is not None and old.is_dir and not new.is_dir:
            implied.append((whiteout_node(path), path, subtree_bytes(state, path)))
            remove(state, path)
        elif old is not None and new.is_dir and not old.is_dir:
            implied.append((whiteout_node(path), path, 0))
        state[path] = new
        created[entries[path]] = new

    # 4. Hardlinks, in archive order: a link shares the bytes of what its target path held when
    #    the link was unpacked: an earlier entry of the same layer, else what the lower layers
    #    left (after this layer's markers). A target that only comes later in the layer cannot
    #    be unpacked; divepy binds it to that later entry (documented in hardlinks.py). A link to
    #    a link shares that link's bytes. Nothing there, or a directory: an error.
    errors: list[str] = []

    def target_of(i: int, op: Op, seen: frozenset[int]) -> Node | None:
        """What link ``op`` (at ``ops[i]``) shares; a later link of the layer is followed to its own target."""
        t = link_path(op.link)
        earlier = [o for o in ops[:i] if o.kind in ENTRY_KINDS and o.path == t]
        if earlier:
            return created[earlier[-1]]
        if t in after_markers:
            return after_markers[t]
        later = entries.get(t)
        if later is not None and later.kind == "hardlink" and later is not op:
            j = ops.index(later)
            if j in seen:
                return None  # a loop binds nothing
            node = target_of(j, later, seen | {i})
            return None if node is None or node.is_dir else node  # a link that failed to bind is nothing
        return state.get(t)

    for i, op in enumerate(ops):
        if op.kind != "hardlink":
            continue
        me = created[op]
        t = link_path(op.link)
        target = target_of(i, op, frozenset())
        if target is None or (target.tflag == LNK and target.content is None):
            errors.append(f"layer {index}: hardlink /{op.path} points to /{t}, which does not exist")
        elif target.is_dir:
            errors.append(
                f"layer {index}: hardlink /{op.path} points to /{t}, which is a directory "
                "(hardlinks to directories are not allowed)"
            )
        else:
            me.content = target.content if target.tflag == LNK else target.size

    # 5. The layer's own tree (dive's): every entry, every whiteout as a node ``.wh.<name>``
    #    beside what it deletes, the directory of every opaque marker (the marker itself is no
    #    node), and all their parents. Only its leaves are occurrences. Odd but dive's: a
    #    directory with nothing below it in the layer (re-declared, or holding only an opaque
    #    marker) is a leaf, a 0-byte occurrence, so a directory re-declared in two layers is
    #    "inefficient" with 0 bytes; a parent with something below it never counts at all.
    nodes: dict[str, tuple[str, int]] = {}  # node path -> (path counted, bytes)
    for op in ops:
        if op.kind in ENTRY_KINDS:
            nodes[op.path] = (op.path, op.size if op.kind == "file" else 0)
        elif op.kind == "opaque" and op.path:
            nodes.setdefault(op.path, (op.path, 0))
    for node_path, path, size in whiteouts:
        nodes[node_path] = (path, size)
    for node_path in list(nodes):
        for q in ancestors(node_path):
            nodes.setdefault(q, (q, 0))  # an implied parent: a blank node, 0 bytes
    leaves = [(n, p, s) for n, (p, s) in nodes.items() if not any(is_under(m, n) for m in nodes)]
    return Stacked(state, leaves + implied, len(implied), errors)


@dataclass
class Figures:
    layer_sizes: list[int]
    size: int
    user_size: int
    min_total: int
    cum_total: int
    score: float
    wasted: int
    user_pct: float
    #: (path, count, cumulative, minimum, layers of the occurrences), in dive's order
    inefficient: list[tuple[str, int, int, int, list[int]]]


def dive_figures(layers: list[Layer], stacked: list[Stacked]) -> Figures:
    """dive's ``Efficiency`` and sizes, from the occurrences, exactly as dive-behaviour.md §4 has them."""
    layer_sizes = [sum(op.size for op in ops if op.kind == "file") for ops in layers]
    count: dict[str, int] = {}
    cumulative: dict[str, int] = {}
    minimum: dict[str, int] = {}
    seen_in: dict[str, list[int]] = {}
    discovered: list[str] = []
    for i, step in enumerate(stacked):
        for _node, path, size in sorted(step.occurrences, key=lambda o: key(o[0])):
            count[path] = count.get(path, 0) + 1
            cumulative[path] = cumulative.get(path, 0) + size
            minimum[path] = min(minimum.get(path, size), size)
            seen_in.setdefault(path, []).append(i)
            if count[path] == 2:
                discovered.append(path)
    min_total = sum(minimum.values())
    cum_total = sum(cumulative.values())
    # Go's sort.Sort by cumulative size is a stable insertion sort up to 12 items; every consumer
    # then reads the list backwards: largest first, and equal sizes in *reverse* discovery order.
    assert len(discovered) <= 12
    ordered = sorted(discovered, key=lambda p: cumulative[p])[::-1]
    # dive's "wasted bytes" count every copy of an inefficient path, the surviving one included,
    # and the bytes of a deleted directory are counted once under the directory's own path: they
    # raise Σ minimum and Σ cumulative alike and are never waste, unlike a file deleted on its own.
    wasted = sum(cumulative[p] for p in ordered)
    user_size = sum(layer_sizes[1:])  # only layer 0 is "the base"
    return Figures(
        layer_sizes=layer_sizes,
        size=sum(layer_sizes),
        user_size=user_size,
        min_total=min_total,
        cum_total=cum_total,
        score=1.0 if cum_total == 0 else min_total / cum_total,
        wasted=wasted,
        user_pct=wasted / user_size if user_size else 0.0,  # dive: NaN for 0/0; divepy documents 0
        inefficient=[("/" + p, count[p], cumulative[p], minimum[p], seen_in[p]) for p in ordered],
    )


def listing_rows(state: dict[str, Node]) -> list[dict[str, Any]]:
    """What ``--list --format jsonl`` must print (a hardlink: its target's bytes; a symlink: its length)."""
    names = {REG: "file", DIRTYPE: "dir", SYM: "symlink", LNK: "hardlink"}
    rows = []
    for p in sorted(state, key=key):
        n = state[p]
        size, link = n.size, None
        if n.tflag == SYM:
            size, link = len(n.link.encode()), n.link
        elif n.tflag == LNK:
            size, link = n.content or 0, "/" + link_path(n.link)
        rows.append({"path": "/" + p, "type": names[n.tflag], "uid": n.uid, "gid": n.gid, "size": size, "link": link})
    return rows


# -- writing the images ---------------------------------------------------------------------------------------------


def image_spec(layers: list[Layer]) -> ImageSpec:
    img = ImageSpec(tags=["oracle:latest"])
    for i, ops in enumerate(layers):
        spec = img.layer(f"RUN step {i}")
        for op in ops:
            if op.kind == "file":
                spec.file(op.path, b"x" * op.size, mode=op.mode, uid=op.uid, gid=op.gid)
            elif op.kind == "dir":
                spec.dir(op.path, mode=op.mode, uid=op.uid, gid=op.gid)
            elif op.kind == "symlink":
                spec.symlink(op.path, op.link, uid=op.uid, gid=op.gid)
            elif op.kind == "hardlink":
                spec.hardlink(op.path, op.link, mode=op.mode)
            elif op.kind == "whiteout":
                spec.whiteout(op.path)
            else:
                spec.opaque(op.path)
    return img


# -- random layers --------------------------------------------------------------------------------------------------

uids = st.sampled_from([0, 1000])
gids = st.sampled_from([0, 50])
entry_ops = st.one_of(
    st.builds(
        lambda size, mode, uid, gid: ("file", size, mode, uid, gid, ""),
        st.integers(0, 40),
        st.sampled_from([0o644, 0o600, 0o755, 0o4755]),
        uids,
        gids,
    ),
    st.builds(
        lambda mode, uid, gid: ("dir", 0, mode, uid, gid, ""), st.sampled_from([0o755, 0o700, 0o1777]), uids, gids
    ),
    st.builds(lambda t, uid: ("symlink", 0, 0o777, uid, 0, t), st.sampled_from(["a", "/b", "../x", "a/b/a"]), uids),
    st.builds(
        lambda t, spelling, mode: ("hardlink", 0, mode, 0, 0, spelling + t),
        st.sampled_from(PATHS),
        st.sampled_from(["", "./", "/"]),
        st.sampled_from([0o644, 0o755]),
    ),
)
raw_layers = st.tuples(
    st.dictionaries(st.sampled_from(PATHS), entry_ops, max_size=6),
    st.lists(st.sampled_from(PATHS), max_size=3, unique=True),  # whiteouts
    st.lists(st.sampled_from(["", *PATHS]), max_size=2, unique=True),  # opaque markers
    st.randoms(use_true_random=False),  # the archive order
)


def make_layer(
    entries: dict[str, tuple[str, int, int, int, int, str]],
    whiteouts: list[str],
    opaques: list[str],
    rnd: random.Random,
) -> Layer:
    """A layer a runtime can unpack, in a random archive order.

    Dropped: members below a non-directory of the same layer (no runtime can unpack ``f`` then
    ``f/x``); a hardlink to its own path or below it; opaque markers not in a directory the layer
    declares (or the root), or below another marker of the layer; whiteouts below another
    whiteout of the same layer (divepy measures those in archive order, see
    ``test_nested_whiteouts_in_one_layer_count_like_dive``).
    """
    nondirs = {p for p, e in entries.items() if e[0] != "dir"}

    def blocked(path: str) -> bool:
        return any(is_under(path, f) for f in nondirs)

    ops: Layer = []
    for path, (kind, size, mode, uid, gid, link) in entries.items():
        if blocked(path):
            continue
        if kind == "hardlink" and (link_path(link) == path or is_under(link_path(link), path)):
            continue
        ops.append(Op(kind, path, size, mode, uid, gid, link))
    for w in whiteouts:
        if not blocked(w) and not any(is_under(w, v) for v in whiteouts):
            ops.append(Op("whiteout", w, mode=0))
    kept: list[str] = []
    for d in sorted(opaques, key=lambda d: (d.count("/"), d) if d else (-1, "")):
        declared = d == "" or (d in entries and entries[d][0] == "dir" and not blocked(d))
        if declared and not any(d == k or is_under(d, k) for k in kept):
            kept.append(d)
            ops.append(Op("opaque", d, mode=0))
    rnd.shuffle(ops)
    return ops


@st.composite
def oracle_images(draw: st.DrawFn) -> list[Layer]:
    """2-5 random layers; most hardlinks aim at a non-directory that is there (the others: any path)."""
    layers: list[Layer] = []
    state: dict[str, Node] = {}
    for i in range(draw(st.integers(2, 5))):
        entries, whiteouts, opaques, rnd = draw(raw_layers)
        there = {p for p, n in state.items() if not n.is_dir and not (n.tflag == LNK and n.content is None)}
        there |= {p for p, e in entries.items() if e[0] in ("file", "symlink")}
        for path, (kind, size, mode, uid, gid, link) in sorted(entries.items()):
            others = sorted(there - {path})
            if kind == "hardlink" and len(others) > 0 and draw(st.integers(0, 3)) > 0:
                spelling = link[: len(link) - len(link_path(link))]
                entries[path] = (kind, size, mode, uid, gid, spelling + draw(st.sampled_from(others)))
        ops = make_layer(entries, whiteouts, opaques, rnd)
        try:
            state = stack_layer(state, ops, i).state
        except Unmodelled:
            reject()
        layers.append(ops)
    return layers


def stack_all(layers: list[Layer]) -> list[Stacked]:
    out: list[Stacked] = []
    state: dict[str, Node] = {}
    for i, ops in enumerate(layers):
        step = stack_layer(state, ops, i)
        out.append(step)
        state = step.state
    return out


def figures_of(image: Image) -> Figures:
    """divepy's figures, through the public analysis."""
    eff = analyse(image)
    return Figures(
        layer_sizes=[layer.size for layer in image.layers],
        size=eff.size_bytes,
        user_size=eff.user_size_bytes,
        min_total=eff.min_total,
        cum_total=eff.cumulative_total,
        score=eff.score,
        wasted=eff.wasted_bytes,
        user_pct=eff.user_wasted_percent,
        inefficient=[(w.path, w.count, w.cumulative, w.minimum, w.layers) for w in eff.inefficient],
    )


def divepy_figures(path: str) -> tuple[Figures, list[str]]:
    with loaded(path, strict=False) as image:
        return figures_of(image), image.warnings


def describe(layers: list[Layer], stacked: list[Stacked]) -> None:
    """What the example exercises (``pytest --hypothesis-show-statistics``)."""
    ops = [op for layer in layers for op in layer]
    for kind in ("whiteout", "opaque", "hardlink", "symlink"):
        if any(op.kind == kind for op in ops):
            event(f"has {kind}")
    if any(step.errors for step in stacked):
        event("hardlink error")
    if any(n.tflag == LNK and n.content for step in stacked for n in step.state.values()):
        event("hardlink with bytes")
    if any(n.implicit for step in stacked for n in step.state.values()):
        event("implied directory")
    leaves = sum(len(step.occurrences) for step in stacked)
    if any(step.implied for step in stacked):
        event("implied whiteout")
    event(f"occurrences: {min(leaves // 5 * 5, 30)}+")
    figures = dive_figures(layers, stacked)
    event(f"inefficient paths: {len(figures.inefficient)}")


def check_against_oracle(layers: list[Layer], layout: str) -> None:
    try:
        stacked = stack_all(layers)
    except Unmodelled:
        reject()
    errors = [msg for step in stacked for msg in step.errors]
    describe(layers, stacked)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_archive(image_spec(layers), Path(tmp) / "img.tar", layout)
        if errors:
            with pytest.raises(LayerError) as err:
                load_image(path).close()
            assert str(err.value) == errors[0]
        with loaded(path, strict=False) as image:
            assert image.warnings == errors
            for i, step in enumerate(stacked):
                want = {p: step.state[p].row() for p in sorted(step.state, key=key)}
                got = tree_of(image, i)
                assert got == want, f"merged tree after layer {i}"
                assert list(got) == list(want), f"path order after layer {i}"
                rows = [json.loads(line) for line in listing(image, i)]
                for row in rows:
                    del row["mode"]  # tree_of already compared the permission bits
                assert rows == listing_rows(step.state), f"listing after layer {i}"
            assert figures_of(image) == dive_figures(layers, stacked)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layers=oracle_images(), layout=st.sampled_from(["docker", "oci"]))
def test_merge_and_figures_match_a_naive_oracle(layers: list[Layer], layout: str) -> None:
    check_against_oracle(layers, layout)


# -- the oracle's rules are dive's: differential test against dive 0.13.1 ------------------------------------------


@st.composite
def dive_readable_images(draw: st.DrawFn) -> list[Layer]:
    """Images dive 0.13.1 reads correctly, written the way ``docker build`` writes layers.

    Every layer declares the parent directories of what it touches (dive's implied parents are
    blank, not directories); no opaque markers (dive ignores them); no file <-> directory
    changes (dive keeps the old children); every whiteout names a path that exists below (dive
    aborts the layer's walk otherwise), none below another; hardlinks only to a lower
    non-directory that the layer leaves alone.
    """
    state: dict[str, str] = {}  # path -> kind, after the layers so far
    layers: list[Layer] = []

    def declare_parents(ops: Layer, path: str) -> None:
        for q in ancestors(path):
            if not any(op.path == q and op.kind == "dir" for op in ops):
                ops.append(Op("dir", q, mode=draw(st.sampled_from([0o755, 0o700])), uid=draw(uids)))
                state[q] = "dir"

    for _ in range(draw(st.integers(2, 5))):
        lower = dict(state)
        ops: Layer = []

        whiteouts = draw(st.lists(st.sampled_from(sorted(lower)), max_size=2, unique=True)) if lower else []
        whiteouts = [w for w in whiteouts if not any(is_under(w, v) for v in whiteouts)]
        for w in whiteouts:
            ops.append(Op("whiteout", w, mode=0))
            for p in [p for p in state if p == w or is_under(p, w)]:
                del state[p]
        for w in whiteouts:
            declare_parents(ops, w)
        survivors = sorted(p for p, k in state.items() if k != "dir")  # lower non-directories still there
        wanted = draw(st.dictionaries(st.sampled_from(PATHS), st.sampled_from(ENTRY_KINDS), max_size=5))
        for path in sorted(wanted, key=key):
            kind = wanted[path]
            if any(state.get(q, "dir") != "dir" for q in ancestors(path)):
                continue  # a directory where a file is
            if state.get(path) == "dir":
                kind = "dir"
            elif path in state and kind == "dir":
                kind = "file"
            if kind == "dir" and any(op.path == path and op.kind == "dir" for op in ops):
                continue  # already declared as a parent
            link = ""
            if kind == "hardlink":
                targets = [p for p in survivors if p not in wanted]
                if not targets:
                    continue
                link = draw(st.sampled_from(targets))
            elif kind == "symlink":
                link = draw(st.sampled_from(["a", "/b", "../x"]))
            declare_parents(ops, path)
            size = draw(st.integers(0, 40)) if kind == "file" else 0
            mode = 0o755 if kind == "dir" else draw(st.sampled_from([0o644, 0o600]))
            ops.append(Op(kind, path, size, mode=mode, uid=draw(uids), link=link))
            state[path] = kind
        layers.append(ops)
    return layers


@pytest.mark.dive
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layers=dive_readable_images())
def test_oracle_matches_dive(layers: list[Layer]) -> None:
    dive_binary()  # skips when dive is not installed
    stacked = stack_all(layers)
    want = dive_figures(layers, stacked)
    with tempfile.TemporaryDirectory() as tmp:
        archive = write_archive(image_spec(layers), Path(tmp) / "img.tar")
        theirs = json.loads(dive_json(archive, Path(tmp)))
        got, warnings = divepy_figures(archive)
    assert [layer["sizeBytes"] for layer in theirs["layer"]] == want.layer_sizes
    assert theirs["image"] == {
        "sizeBytes": want.size,
        "inefficientBytes": want.wasted,
        "efficiencyScore": want.score,
        "fileReference": [{"count": c, "sizeBytes": cum, "file": p} for p, c, cum, _m, _l in want.inefficient],
    }
    assert warnings == []
    assert got == want


# -- divepy bugs the oracle found (the generators above steer clear of them) ----------------------------------------


def nested_whiteouts(outer_first: bool) -> list[Layer]:
    """L1 deletes ``a`` and, in the same layer, ``a/b`` below it; L2 re-creates ``a/b`` as an empty directory."""
    base = [Op("dir", "a", mode=0o755), Op("dir", "a/b", mode=0o755), Op("file", "a/b/c", 10), Op("file", "a/d", 5)]
    outer, inner = Op("whiteout", "a", mode=0), Op("whiteout", "a/b", mode=0)
    again = [Op("dir", "a", mode=0o755), Op("dir", "a/b", mode=0o755)]
    return [base, [outer, inner] if outer_first else [inner, outer], again]


NESTED_WHITEOUTS_FIGURES = {
    # .wh.a counts a's lower subtree, 10 + 5 = 15, and a/.wh.b b's, 10, whatever their order:
    # dive measures every whiteout against the lower layers. a/b then occurs twice (10, then 0
    # as a bare directory in L2): Σmin = 10 + 5 + 15 + 0 = 30, Σcum = 10 + 5 + 15 + 10 = 40.
    "score": 0.75,
    "totals": (30, 40),
    "inefficient": [("/a/b", 2, 10, 0, [1, 2])],
}


@pytest.mark.parametrize("outer_first", [True, False], ids=["outer-first", "inner-first"])
def test_nested_whiteouts_oracle(outer_first: bool) -> None:
    want = dive_figures(nested_whiteouts(outer_first), stack_all(nested_whiteouts(outer_first)))
    assert want.score == NESTED_WHITEOUTS_FIGURES["score"]
    assert (want.min_total, want.cum_total) == NESTED_WHITEOUTS_FIGURES["totals"]
    assert want.inefficient == NESTED_WHITEOUTS_FIGURES["inefficient"]


@pytest.mark.dive
@pytest.mark.parametrize("outer_first", [True, False], ids=["outer-first", "inner-first"])
def test_nested_whiteouts_dive(tmp_path: Path, outer_first: bool) -> None:
    archive = write_archive(image_spec(nested_whiteouts(outer_first)), tmp_path / "img.tar")
    image = json.loads(dive_json(archive, tmp_path))["image"]
    assert image["efficiencyScore"] == NESTED_WHITEOUTS_FIGURES["score"]
    assert image["fileReference"] == [{"count": 2, "sizeBytes": 10, "file": "/a/b"}]


@pytest.mark.parametrize("outer_first", [True, False], ids=["outer-first", "inner-first"])
def test_nested_whiteouts_in_one_layer_count_like_dive(tmp_path: Path, outer_first: bool) -> None:
    archive = write_archive(image_spec(nested_whiteouts(outer_first)), tmp_path / "img.tar")
    got, _ = divepy_figures(archive)
    assert (got.score, (got.min_total, got.cum_total), got.inefficient) == (
        NESTED_WHITEOUTS_FIGURES["score"],
        NESTED_WHITEOUTS_FIGURES["totals"],
        NESTED_WHITEOUTS_FIGURES["inefficient"],
    )


def test_hardlink_to_a_later_hardlink_of_the_same_layer(tmp_path: Path) -> None:
    layers = [[Op("file", "f", 7)], [Op("hardlink", "h1", link="h2"), Op("hardlink", "h2", link="f")]]
    archive = write_archive(image_spec(layers), tmp_path / "img.tar")
    with loaded(archive) as image:
        sizes = {row["path"]: row["size"] for row in map(json.loads, listing(image, 1))}
    assert sizes == {"/f": 7, "/h1": 7, "/h2": 7}


def test_a_long_chain_of_links_to_later_links_binds_every_link(tmp_path: Path) -> None:
    """h0 -> h1 -> … -> h1999 -> f, in that archive order: each link waits for the next, none is refused."""
    n = 2000
    chain = [Op("hardlink", f"h{i}", link=f"h{i + 1}" if i + 1 < n else "f") for i in range(n)]
    archive = write_archive(image_spec([[Op("file", "f", 7)], chain]), tmp_path / "img.tar")
    with loaded(archive) as image:
        sizes = {row["path"]: row["size"] for row in map(json.loads, listing(image, 1))}
    assert sizes == {"/f": 7, **{f"/h{i}": 7 for i in range(n)}}
