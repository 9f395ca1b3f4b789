"""The comparison as text, exactly (golden), and its verdict line."""

from __future__ import annotations

from pathlib import Path

from dive_py.core.analysis.efficiency import analyse
from dive_py.core.analysis.image_deltas import FigureDelta, figure_deltas, growth
from dive_py.core.analysis.image_diff import diff_images
from dive_py.core.analysis.insights import analyse_insights
from dive_py.fixtures.builder import write_archive
from dive_py.report.compare_text import render_compare, verdict_line
from tests.core.test_image_diff import base, variant
from tests.helpers import loaded

GOLDEN = Path(__file__).parents[1] / "data" / "compare-variant.txt"


def report(tmp_path: Path) -> str:
    new_spec = variant()
    deps = new_spec.layer("RUN npm ci")
    deps.file("usr/lib/node_modules/left-pad/index.js", "l" * 20_000)
    deps.file("usr/lib/node_modules/react/index.js", "r" * 9_000)
    deps.file("root/.npm/_cacache/blob", "c" * 7_000)
    with (
        loaded(write_archive(base(), tmp_path / "old.tar")) as old,
        loaded(write_archive(new_spec, tmp_path / "new.tar")) as new,
    ):
        diff = diff_images(old, new)
        old_ins, new_ins = analyse_insights(old), analyse_insights(new)
        figures = figure_deltas(old, analyse(old), old_ins, new, analyse(new), new_ins)
        size = next(f for f in figures if f.key == "image.sizeBytes")
        return render_compare(old, new, diff, figures, growth(diff, new, new_ins, old_ins), verdict_line(size, []))


def test_the_report_reads_top_to_bottom_exactly(tmp_path: Path) -> None:
    text = report(tmp_path)
    assert text == GOLDEN.read_text()
    assert "+36 kB in layer 4 (RUN npm ci): 29 kB in /usr/lib/node_modules, 7.0 kB of it junk" in text
    assert text.rstrip().endswith("verdict: ok (+66 kB, +1420.6%)")
    assert "  added           0 B  /root\n" not in text  # directories are implied by their files


def test_the_verdict_line() -> None:
    grew, shrank, same = FigureDelta("image.sizeBytes", 100, 150), FigureDelta("x", 100, 90), FigureDelta("x", 5, 5)
    assert verdict_line(grew, []) == "verdict: ok (+50 B, +50.0%)"
    assert verdict_line(shrank, []) == "verdict: improvement (-10 B, -10.0%)"
    assert verdict_line(same, []) == "verdict: ok (same size)"
    failed = ["highestSizeIncrease: +50 B > 10 B"]
    assert verdict_line(grew, failed) == "verdict: regression (highestSizeIncrease: +50 B > 10 B)"
    assert verdict_line(FigureDelta("x", 0, 7), []) == "verdict: ok (+7 B, new)"


def test_tiny_changes_are_never_shown_as_zero() -> None:
    from dive_py.report.compare_text import _change, _percent

    assert _percent(6, 21_000_000) == "+<0.1%" and _percent(-6, 21_000_000) == "-<0.1%"
    assert _percent(0, 5) == "+0.0%" and _percent(5, 0) == "new" and _percent(1, 8) == "+12.5%"
    assert _change("image.efficiencyScore", FigureDelta("image.efficiencyScore", 0.2441, 0.24409)) == "-<0.0001"
    assert _change("image.efficiencyScore", FigureDelta("image.efficiencyScore", 0.5, 0.5)) == "0"
    assert _change("image.efficiencyScore", FigureDelta("image.efficiencyScore", 0.5, 0.6)) == "+0.1000"
