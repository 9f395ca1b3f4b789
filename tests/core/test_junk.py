"""Junk in the final image (``junk.find_junk``) by the rule table, and the validation of user rules.

One image stores at least one file for every built-in rule (and for most of
their patterns), plus files a rule must leave alone: apt's lock and partial
downloads (excludes), a hardlink and a deleted file under ``/tmp`` (junk is
about the final regular files), a file no rule names.  Every hit is written
out by hand: ``(rule, root, bytes, files, layer that added most, optional)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dive_py.core.analysis.insights import analyse_insights
from dive_py.core.analysis.junk import MAX_HITS_PER_RULE, JunkHit, JunkRule, builtin_rules, find_junk, parse_rules
from dive_py.errors import UsageError
from dive_py.fixtures.builder import ImageSpec, write_archive
from tests.helpers import loaded

#: (rule, path, bytes, files, layer, optional, partial)
Hit = tuple[str, str, int, int, int, bool, bool]


def junk_image(env: list[str]) -> ImageSpec:
    img = ImageSpec(tags=["junk:latest"])
    img.config = {"Env": ["PATH=/usr/bin:/bin", *env]}
    apt = img.layer("RUN apt-get update && apt-get install -y curl")
    apt.file("var/lib/apt/lists/deb_InRelease", b"r" * 100).file("var/lib/apt/lists/deb_Packages", b"p" * 300)
    apt.file("var/lib/apt/lists/lock", b"l" * 3)  # excluded
    apt.file("var/lib/apt/lists/partial/x", b"x" * 7).file("var/lib/apt/lists/auxfiles/y", b"y" * 5)  # excluded
    apt.file("var/cache/apt/archives/curl.deb", b"d" * 200)
    apt.file("var/cache/apt/archives/partial/libc.deb", b"d" * 150)  # a non-tree pattern: the file's directory
    apt.file("var/cache/apt/pkgcache.bin", b"b" * 50)
    apt.file("var/log/apt/history.log", b"h" * 11).file("var/log/apt/eipp.log.xz", b"e" * 13)
    apt.file("var/log/apt/term", b"t" * 4)  # /var/log/apt/**
    apt.file("var/log/dpkg.log", b"g" * 17)
    apt.file("usr/share/doc/curl/copyright", b"c" * 30).file("usr/share/man/man1/curl.1.gz", b"m" * 20)
    apt.file("tmp/early", b"t" * 20)
    apk = img.layer("RUN apk add curl")
    apk.file("var/cache/apk/APKINDEX.tar.gz", b"i" * 30).file("etc/apk/cache/x.apk", b"a" * 4)
    dnf = img.layer("RUN dnf install -y curl")
    dnf.file("var/cache/dnf/repo.solv", b"s" * 40).file("var/cache/yum/y", b"y" * 6).file("var/cache/zypp/z", b"z" * 2)
    pip = img.layer("RUN pip install flask")
    pip.file("root/.cache/pip/http/ab", b"w" * 60)
    pip.file("usr/lib/python3/site-packages/flask/__pycache__/app.cpython-312.pyc", b"c" * 25)
    node = img.layer("RUN npm ci && yarn install && pnpm install")
    node.file("root/.npm/_cacache/index-v5/aa", b"n" * 15).file("root/.npm/_logs/debug-0.log", b"l" * 9)
    node.file("usr/local/share/.cache/yarn/v6/x", b"y" * 12).file("home/u/.yarn/cache/y.zip", b"z" * 8)
    node.file("root/.local/share/pnpm/store/v3/f", b"p" * 21).file("app/.pnpm-store/g", b"g" * 2)
    build = img.layer("RUN go build ./... && cargo build --release")
    build.file("root/.cache/go-build/ab", b"o" * 33).file("go/pkg/mod/m", b"m" * 44).file("root/go/pkg/mod/n", b"n" * 5)
    build.file("root/.cargo/registry/cache/r", b"r" * 26).file("root/.cargo/git/db/g", b"g" * 4)
    app = img.layer("COPY . /app")
    app.file("app/main.py", b"m" * 50)  # no rule
    app.file("app/.git/HEAD", b"h" * 23).file("app/.git/objects/pack/p", b"p" * 100)
    app.file("app/vendor/.svn/entries", b"s").file("app/.hg/x", b"h" * 2).file("app/.bzr/y", b"b" * 3)
    app.file("app/.DS_Store", b"d" * 6).file("app/Thumbs.db", b"t" * 7).file("app/main.py.swp", b"s" * 8)
    app.file("app/main.py.swo", b"o").file("app/notes~", b"n" * 9)
    app.file("app/.idea/ws.xml", b"i" * 10).file("app/.vscode/settings.json", b"v" * 11)
    app.file("app/npm-debug.log", b"l" * 12).file("app/yarn-error.log", b"e" * 13)
    late = img.layer("RUN make")
    late.file("tmp/build.o", b"o" * 14).file("var/tmp/t", b"t" * 15)
    late.file("core.1234", b"c" * 16).file("core", b"c" * 17).file("app/core.7", b"c" * 18)
    late.hardlink("tmp/link", "app/main.py")  # a hardlink: its bytes are app/main.py's
    late.file("tmp/gone", b"g" * 99)
    img.layer("RUN rm /tmp/gone").whiteout("tmp/gone")  # waste, not junk
    return img


#: Every hit, in the order find_junk gives them: not optional first, biggest first, ties by path.
WANT: list[Hit] = [
    ("apt-lists", "/var/lib/apt/lists", 400, 2, 0, False, False),  # 100 + 300; lock, partial/, auxfiles/ excluded
    ("apt-archives", "/var/cache/apt/archives", 200, 1, 0, False, False),
    ("apt-archives", "/var/cache/apt/archives/partial", 150, 1, 0, False, False),
    ("vcs", "/app/.git", 123, 2, 6, False, False),  # 23 + 100
    ("pip-cache", "/root/.cache/pip", 60, 1, 3, False, False),
    ("apt-archives", "/var/cache/apt", 50, 1, 0, False, False),
    ("go-cache", "/go/pkg/mod", 44, 1, 5, False, False),
    ("dnf-yum-cache", "/var/cache/dnf", 40, 1, 2, False, False),
    ("temp-files", "/tmp", 34, 2, 0, False, False),  # 20 (layer 0) + 14 (layer 7); the link and /tmp/gone left out
    ("core-dumps", "/", 33, 2, 7, False, False),  # /core.1234 16 + /core 17
    ("go-cache", "/root/.cache/go-build", 33, 1, 5, False, False),
    ("editor-os-leftovers", "/app", 31, 5, 6, False, False),  # 6 + 7 + 8 + 1 + 9
    ("apk-cache", "/var/cache/apk", 30, 1, 1, False, False),
    ("logs", "/var/log/apt", 28, 3, 0, False, False),  # 11 + 13 + 4
    ("cargo-cache", "/root/.cargo/registry", 26, 1, 5, False, False),
    ("logs", "/app", 25, 2, 6, False, False),  # npm-debug.log 12 + yarn-error.log 13
    ("pycache", "/usr/lib/python3/site-packages/flask/__pycache__", 25, 1, 3, False, False),
    ("pnpm-store", "/root/.local/share/pnpm/store", 21, 1, 4, False, False),
    ("core-dumps", "/app", 18, 1, 7, False, False),
    ("logs", "/var/log", 17, 1, 0, False, False),
    ("npm-cache", "/root/.npm/_cacache", 15, 1, 4, False, False),
    ("temp-files", "/var/tmp", 15, 1, 7, False, False),
    ("yarn-cache", "/usr/local/share/.cache/yarn", 12, 1, 4, False, False),
    ("editor-os-leftovers", "/app/.vscode", 11, 1, 6, False, False),
    ("editor-os-leftovers", "/app/.idea", 10, 1, 6, False, False),
    ("npm-cache", "/root/.npm/_logs", 9, 1, 4, False, False),  # npm-cache comes before logs in the table
    ("yarn-cache", "/home/u/.yarn/cache", 8, 1, 4, False, False),
    ("dnf-yum-cache", "/var/cache/yum", 6, 1, 2, False, False),
    ("go-cache", "/root/go/pkg/mod", 5, 1, 5, False, False),
    ("apk-cache", "/etc/apk/cache", 4, 1, 1, False, False),
    ("cargo-cache", "/root/.cargo/git", 4, 1, 5, False, False),
    ("vcs", "/app/.bzr", 3, 1, 6, False, False),
    ("vcs", "/app/.hg", 2, 1, 6, False, False),
    ("pnpm-store", "/app/.pnpm-store", 2, 1, 4, False, False),
    ("dnf-yum-cache", "/var/cache/zypp", 2, 1, 2, False, False),
    ("vcs", "/app/vendor/.svn", 1, 1, 6, False, False),
    ("docs", "/usr/share/doc", 30, 1, 0, True, False),
    ("docs", "/usr/share/man", 20, 1, 0, True, False),
]
#: Σ of the bytes of the hits that are not optional (worked out: 1497, docs' 50 not counted).
WANT_JUNK_BYTES = 1497
PYCACHE = ("pycache", "/usr/lib/python3/site-packages/flask/__pycache__", 25, 1, 3, False, False)


def rows(hits: list[JunkHit]) -> list[Hit]:
    return [(h.rule, h.path, h.bytes, h.files, h.layer, h.optional, h.partial) for h in hits]


def junk_of(tmp_path: Path, spec: ImageSpec, rules: list[JunkRule] | None = None) -> list[JunkHit]:
    path = write_archive(spec, tmp_path / "junk.tar")
    with loaded(path) as image:
        return find_junk(image, rules)


def test_every_builtin_rule_is_hit_and_every_hit_is_right(tmp_path: Path) -> None:
    assert sum(h[2] for h in WANT if not h[5]) == WANT_JUNK_BYTES
    hits = junk_of(tmp_path, junk_image(["PYTHONDONTWRITEBYTECODE=1"]))
    assert {h.rule for h in hits} == {r.id for r in builtin_rules()}
    assert rows(hits) == WANT
    by_id = {r.id: r.hint for r in builtin_rules()}
    assert all(h.hint == by_id[h.rule] for h in hits)


def test_junk_bytes_leave_out_optional_hits(tmp_path: Path) -> None:
    path = write_archive(junk_image(["PYTHONDONTWRITEBYTECODE=1"]), tmp_path / "junk.tar")
    with loaded(path) as image:
        ins = analyse_insights(image)
    assert ins.junk_bytes == WANT_JUNK_BYTES
    assert sum(h.bytes for h in ins.junk) == WANT_JUNK_BYTES + 30 + 20


@pytest.mark.parametrize(
    ("env", "applies"),
    [
        (["PYTHONDONTWRITEBYTECODE=1"], True),
        (["PYTHONDONTWRITEBYTECODE=yes"], True),
        ([], False),
        (["PYTHONDONTWRITEBYTECODE=0"], False),
        (["PYTHONDONTWRITEBYTECODE=false"], False),
        (["PYTHONDONTWRITEBYTECODE="], False),
        (["PYTHONDONTWRITEBYTECODE_X=1"], False),
    ],
    ids=["1", "yes", "unset", "0", "false", "empty", "other-name"],
)
def test_pycache_is_junk_only_when_the_image_does_not_write_bytecode(
    tmp_path: Path, env: list[str], applies: bool
) -> None:
    hits = rows(junk_of(tmp_path, junk_image(env)))
    assert (PYCACHE in hits) is applies
    assert [h for h in hits if h != PYCACHE] == [h for h in WANT if h != PYCACHE]


def test_hits_beyond_the_limit_fold_into_one_partial_hit(tmp_path: Path) -> None:
    img = ImageSpec()
    site = img.layer("COPY site /site")
    for i in range(MAX_HITS_PER_RULE + 2):  # 14 directories, one .DS_Store each, of i + 1 bytes
        site.file(f"site/d{i:02}/.DS_Store", b"x" * (i + 1))
    hits = rows(junk_of(tmp_path, img))
    kept = [("editor-os-leftovers", f"/site/d{i:02}", i + 1, 1, 0, False, False) for i in range(13, 1, -1)]
    # the two smallest (d01: 2 bytes, d00: 1) fold into their common directory; ties sort by path
    folded = ("editor-os-leftovers", "/site", 3, 2, 0, False, True)
    assert hits == [*kept[:-1], folded, kept[-1]]


def test_a_hit_names_the_layer_that_added_most_of_its_bytes(tmp_path: Path) -> None:
    img = ImageSpec()
    img.layer("RUN a").file("tmp/a", b"a" * 5).file("tmp/b", b"b" * 5)
    img.layer("RUN b").file("tmp/c", b"c" * 9)
    img.layer("RUN c").file("tmp/d", b"d" * 10)
    # layer 0 added 10 bytes, layer 2 added 10 too: the tie goes to the later layer
    assert rows(junk_of(tmp_path, img)) == [("temp-files", "/tmp", 29, 4, 2, False, False)]


def test_the_first_rule_that_matches_wins(tmp_path: Path) -> None:
    rules = parse_rules(
        [
            {"id": "first", "patterns": ["/srv/**"], "exclude": ["/srv/keep"]},
            {"id": "second", "patterns": ["**/*.log"]},
        ],
        "cfg.yaml",
    )
    img = ImageSpec()
    img.layer("RUN a").file("srv/a.log", b"a" * 3).file("srv/keep", b"k").file("var/b.log", b"b" * 2)
    assert rows(junk_of(tmp_path, img, rules)) == [
        ("first", "/srv", 3, 1, 0, False, False),
        ("second", "/var", 2, 1, 0, False, False),
    ]


def test_no_rules_no_junk(tmp_path: Path) -> None:
    img = ImageSpec()
    img.layer("RUN a").file("tmp/a", b"a")
    assert junk_of(tmp_path, img, []) == []


def test_parse_rules_keeps_every_field() -> None:
    data = [
        {
            "id": "cache",
            "what": "my cache",
            "patterns": ["/srv/cache/**"],
            "exclude": ["/srv/cache/keep"],
            "hint": "clean it",
            "optional": True,
            "when_env": "BUILD",
        },
        {"id": "bare", "patterns": ["**/*.bak"]},
    ]
    assert parse_rules(data, "cfg.yaml") == [
        JunkRule("cache", "my cache", ("/srv/cache/**",), "clean it", ("/srv/cache/keep",), True, "BUILD"),
        JunkRule("bare", "bare", ("**/*.bak",), "", (), False, None),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"id": "x"}, "cfg.yaml: junk rules must be a list"),
        (None, "cfg.yaml: junk rules must be a list"),
        (["/tmp/**"], "cfg.yaml: junk rule 1 must be a mapping"),
        (
            [{"id": "a", "patterns": ["/a"]}, {"id": "b", "patterns": ["/b"], "colour": "red", "size": 1}],
            "cfg.yaml: junk rule 2: unknown keys ['colour', 'size']",
        ),
        ([{"patterns": ["/a"]}], "cfg.yaml: junk rule 1 needs an id and a list of patterns"),
        ([{"id": 7, "patterns": ["/a"]}], "cfg.yaml: junk rule 1 needs an id and a list of patterns"),
        ([{"id": "a"}], "cfg.yaml: junk rule 1 needs an id and a list of patterns"),
        ([{"id": "a", "patterns": []}], "cfg.yaml: junk rule 1 needs an id and a list of patterns"),
        ([{"id": "a", "patterns": "/a/**"}], "cfg.yaml: junk rule 1 needs an id and a list of patterns"),
        ([{"id": "a", "patterns": ["/a", 3]}], "cfg.yaml: junk rule 1: patterns must be strings"),
        ([{"id": "a", "patterns": ["/a"], "exclude": [None]}], "cfg.yaml: junk rule 1: patterns must be strings"),
    ],
    ids=[
        "mapping",
        "null",
        "string-rule",
        "unknown-keys",
        "no-id",
        "id-not-a-string",
        "no-patterns",
        "empty-patterns",
        "patterns-a-string",
        "pattern-not-a-string",
        "exclude-not-a-string",
    ],
)
def test_parse_rules_errors(data: Any, message: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_rules(data, "cfg.yaml")
    assert str(err.value) == message


@pytest.mark.parametrize("exclude", [None, 5, "/a/keep"], ids=["null", "number", "string"])
def test_exclude_must_be_a_list(exclude: object) -> None:
    with pytest.raises(UsageError) as err:
        parse_rules([{"id": "a", "patterns": ["/a/**"], "exclude": exclude}], "cfg.yaml")
    assert str(err.value).startswith("cfg.yaml: junk rule 1")


def test_parse_rules_refuses_a_relative_pattern() -> None:
    with pytest.raises(UsageError) as err:
        parse_rules([{"id": "rel", "patterns": ["var/log/**"]}], "cfg.yaml")
    assert str(err.value) == "cfg.yaml: junk rule rel: pattern 'var/log/**' must be an absolute path or start with **/"


def test_optional_false_as_a_string_is_not_optional() -> None:
    rule = parse_rules([{"id": "a", "patterns": ["/a/**"], "optional": "false"}], "cfg.yaml")[0]
    assert rule.optional is False


def test_the_pattern_scan_is_bounded_and_says_when_it_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A hostile image of long paths holding every trigger name cannot keep the matcher busy for minutes."""
    from dive_py.core.analysis import junk

    img = ImageSpec()
    layer = img.layer("RUN junk")
    for i in range(6):
        layer.file(f"tmp/f{i}", b"x" * 10)  # "/tmp/fN": 7 characters scanned by the one candidate pattern
    monkeypatch.setattr(junk, "JUNK_SCAN_CHARS", 7 * 4)
    with loaded(write_archive(img, tmp_path / "img.tar")) as image:
        hits = find_junk(image)
        assert [(h.rule, h.path, h.files) for h in hits] == [("temp-files", "/tmp", 4)]
        assert image.warnings == [
            "the junk search stopped: its patterns scanned 28 characters (divepy's limit); "
            "junk figures count only the paths before that point"
        ]
