"""Junk rules from the config file (``insights.junk``), before the shipped ones."""

from __future__ import annotations

import json
from pathlib import Path

from dive_py.fixtures.builder import ImageSpec, write_archive
from tests.clitools import run_divepy

RULES = """\
insights:
  junk:
    - id: build-output
      what: object files
      patterns: ["/src/**/*.o"]
      hint: build in another stage
    - id: our-tmp
      patterns: ["/tmp/keep/**"]
      hint: ours
"""


def image(tmp_path: Path) -> Path:
    img = ImageSpec(tags=["app:1"])
    img.layer("RUN make").file("src/a/x.o", b"o" * 300).file("src/y.c", b"c" * 50).file("tmp/keep/z", b"z" * 20)
    img.layer("RUN touch").file("tmp/other", b"t" * 7)
    return Path(write_archive(img, tmp_path / "app.tar"))


def junk(stdout: str) -> list[tuple[str, str, int, int]]:
    return [(j["rule"], j["path"], j["bytes"], j["layer"]) for j in json.loads(stdout)["insights"]["junk"]]


def test_user_rules_come_first_and_add_to_the_shipped_ones(tmp_path: Path) -> None:
    (tmp_path / "cfg.yaml").write_text(RULES)
    res = run_divepy(image(tmp_path), "--json", "-", "-q", "--config", "cfg.yaml", cwd=tmp_path)
    assert res.code == 0
    # /tmp/keep/z is claimed by the user's rule before the shipped temp-files rule; /tmp/other is still temp-files
    assert junk(res.stdout) == [
        ("build-output", "/src/a", 300, 0),
        ("our-tmp", "/tmp/keep", 20, 0),
        ("temp-files", "/tmp", 7, 1),
    ]


def test_the_config_file_is_found_like_the_explorers(tmp_path: Path) -> None:
    (tmp_path / ".dive.yaml").write_text(RULES)
    res = run_divepy(image(tmp_path), "--json", "-", "-q", cwd=tmp_path)
    assert [j[0] for j in junk(res.stdout)] == ["build-output", "our-tmp", "temp-files"]


def test_a_bad_rule_in_a_named_config_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "cfg.yaml").write_text("insights:\n  junk:\n    - id: rel\n      patterns: [src/**]\n")
    res = run_divepy(image(tmp_path), "--json", "-", "--config", "cfg.yaml", cwd=tmp_path)
    assert (res.code, res.stdout) == (2, "")
    assert res.stderr == (
        "divepy: error: cfg.yaml: insights.junk: junk rule rel: pattern 'src/**' must be an absolute path or start "
        "with **/\n"
    )


def test_a_broken_config_found_by_the_lookup_only_warns(tmp_path: Path) -> None:
    (tmp_path / ".dive.yaml").write_text("insights: [unclosed\n")
    res = run_divepy(image(tmp_path), "--json", "-", "-q", cwd=tmp_path)
    assert res.code == 0
    assert [j[0] for j in junk(res.stdout)] == ["temp-files"]
    assert res.stderr == (
        "divepy: warning: .dive.yaml: config is not valid YAML at line 2; using the shipped junk rules\n"
    )
