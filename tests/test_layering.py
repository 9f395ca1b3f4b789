"""Architecture rules: the core and the non-interactive paths never load the UI stack.

Each check runs in a fresh interpreter (this test process has long since
imported everything) and reports which of textual / rich / typer ended up in
``sys.modules``.  A control run imports the UI to prove the probe sees it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clitools import clean_env

REPO = Path(__file__).resolve().parent.parent
UI_LIBS = ("textual", "rich", "typer")

_PROBE = """
import importlib, json, pkgutil, sys

def walk(package):
    pkg = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(pkg.__path__, package + "."):
        importlib.import_module(info.name)
        names.append(info.name)
    return names

imported = []
for target in json.loads(sys.argv[1]):
    if target.endswith(".*"):
        imported += walk(target[:-2])
    else:
        importlib.import_module(target)
        imported.append(target)

argv = json.loads(sys.argv[2])
if argv:
    import dive_py.cli
    sys.argv = ["divepy", *argv]
    try:
        dive_py.cli.main()
    except SystemExit:
        pass
    sys.stdout.flush()
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {"textual", "rich", "typer"})
sys.stderr.write("\\nPROBE " + json.dumps({"imported": imported, "loaded": loaded}) + "\\n")
"""


def probe(targets: list[str], argv: list[str] | None = None, cwd: Path | None = None) -> tuple[list[str], set[str]]:
    """(modules imported, top-level UI libraries loaded) in a fresh interpreter."""
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(targets), json.dumps(argv or [])],
        cwd=cwd or REPO,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("PROBE ")]
    assert proc.returncode == 0 and line, proc.stderr
    result = json.loads(line[-1][len("PROBE ") :])
    return result["imported"], {m.split(".")[0] for m in result["loaded"]}


def test_core_imports_no_ui_library() -> None:
    imported, loaded = probe(["dive_py.core.*"])
    assert "dive_py.core.analysis.efficiency" in imported and "dive_py.core.analysis.gosort" in imported
    assert len(imported) >= 15
    assert loaded == set()


def test_viewmodel_imports_no_ui_library() -> None:
    imported, loaded = probe(["dive_py.viewmodel.*"])
    assert len(imported) >= 2
    assert loaded == set()


def test_reports_config_and_cli_do_not_import_textual() -> None:
    imported, loaded = probe(
        [
            "dive_py.core.*",
            "dive_py.report.*",
            "dive_py.config",
            "dive_py.errors",
            "dive_py.cli",
            "dive_py.main_flow",
            "dive_py.fixtures.*",
            "dive_py",
        ]
    )
    assert {"dive_py.report.ci", "dive_py.report.export", "dive_py.report.listing", "dive_py.cli"} <= set(imported)
    assert "textual" not in loaded
    assert "typer" in loaded  # the CLI itself runs on Typer: proves the probe sees what was loaded


def test_reports_and_config_import_no_typer_or_textual() -> None:
    _imported, loaded = probe(["dive_py.report.*", "dive_py.config"])
    assert loaded.isdisjoint({"textual", "typer"})


@pytest.mark.parametrize(
    "argv",
    [
        ["--demo", "--ci"],
        ["--demo", "--json", "-"],
        ["--demo", "--list"],
        ["--demo", "--list", "--format", "jsonl"],
        ["--demo"],
    ],
)  # no terminal: the summary, not the explorer
def test_non_interactive_runs_never_load_textual(tmp_path: Path, argv: list[str]) -> None:
    _imported, loaded = probe([], argv, cwd=tmp_path)
    assert "typer" in loaded
    assert "textual" not in loaded


def test_probe_detects_textual() -> None:
    """Control: importing the UI does load Textual, so the checks above can fail."""
    _imported, loaded = probe(["dive_py.ui.app"])
    assert "textual" in loaded


def tool(name: str) -> str:
    path = Path(sys.executable).parent / name
    if not path.exists():
        found = shutil.which(name)
        if found is None:
            pytest.skip(f"{name} is not installed next to {sys.executable}")
        return found
    return str(path)


def test_import_linter_contracts() -> None:
    proc = subprocess.run(
        [tool("lint-imports")], cwd=REPO, env=clean_env(), capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for contract in (
        "Layers: cli > main_flow > ui | report > viewmodel > core KEPT",
        "The core, the view model and the reports never import a UI library KEPT",
        "The core imports no Rich KEPT",
    ):
        assert contract in proc.stdout
    assert " 0 broken." in proc.stdout


def test_ruff_bans_textual_outside_the_ui() -> None:
    ruff = tool("ruff")
    proc = subprocess.run(
        [ruff, "check", "--select", "TID", "--output-format", "concise", "dive_py"],
        cwd=REPO,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # The rule is live: the same source in the core is flagged, in the UI it is allowed.
    source = "import textual\n\nfrom dive_py.ui import app\n"
    flagged = subprocess.run(
        [
            ruff,
            "check",
            "--select",
            "TID",
            "--output-format",
            "concise",
            "--stdin-filename",
            os.path.join("dive_py", "core", "probe_module.py"),
            "-",
        ],
        cwd=REPO,
        input=source,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert flagged.returncode == 1
    assert "TID251" in flagged.stdout and "TID253" in flagged.stdout
    allowed = subprocess.run(
        [ruff, "check", "--select", "TID", "--stdin-filename", os.path.join("dive_py", "ui", "probe_module.py"), "-"],
        cwd=REPO,
        input=source,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert allowed.returncode == 0, allowed.stdout


MAX_MODULE_LINES = 400


def test_every_module_is_small() -> None:
    """One job per module: none of the package's modules reaches 400 lines (formatted by ruff)."""
    sizes = {p.relative_to(REPO).as_posix(): len(p.read_text().splitlines()) for p in (REPO / "dive_py").rglob("*.py")}
    assert len(sizes) > 50
    assert {name: n for name, n in sizes.items() if n >= MAX_MODULE_LINES} == {}


def test_every_subpackage_says_what_it_is_for() -> None:
    """Each room's ``__init__`` opens with a docstring of at least one sentence."""
    import ast

    for init in (REPO / "dive_py").rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and len(doc.split()) >= 8, init.relative_to(REPO).as_posix()


def test_every_data_file_of_the_package_is_shipped() -> None:
    """A non-Python file under dive_py/ that package-data does not name is missing from a `pip install .`."""
    import fnmatch
    import tomllib

    globs = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["dive_py"]
    tracked = subprocess.run(
        ["git", "ls-files", "dive_py"], cwd=REPO, capture_output=True, text=True, check=False
    ).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    data = [p.removeprefix("dive_py/") for p in tracked if not p.endswith((".py", ".typed"))]
    assert "core/analysis/junk_rules.yaml" in data
    assert [p for p in data if not any(fnmatch.fnmatch(p, g) for g in globs)] == []
