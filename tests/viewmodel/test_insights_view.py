"""The Insights screen's view model: golden text on the demo, the reclaimable line, and the background job."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from dive_py.core.analysis.insights import analyse_insights
from dive_py.core.model.image import Image
from dive_py.core.model.loader import load_image
from dive_py.fixtures.builder import ImageSpec, write_archive
from dive_py.fixtures.demo import DEMO_PATH
from dive_py.viewmodel import insights as view
from dive_py.viewmodel.bindings import keymap_from_config
from dive_py.viewmodel.insights import (
    InsightSettings,
    InsightsJob,
    InsightTab,
    duplicates_tab,
    findings_tab,
    junk_tab,
    reclaim_line,
    summary_lines,
)
from tests.helpers import loaded

GOLDEN = Path(__file__).parent.parent / "data" / "insights-view-demo.txt"


@pytest.fixture(scope="module")
def demo() -> Iterator[Image]:
    img = load_image(str(DEMO_PATH), hash_files=True)
    yield img
    img.close()


def render(tab: InsightTab) -> str:
    lines = [f"== {tab.title}: {' | '.join(tab.columns)}"]
    for row in tab.rows:
        lines.append(" | ".join(row.cells) + f"   [Enter: {row.path} @ {row.layer}]")
        lines += ["    " + d for d in row.detail]
        lines.append("    note: " + row.note)
    if tab.more or not tab.rows:
        lines.append("    (last line) " + (tab.more or tab.empty))
    return "\n".join(lines)


def test_the_demo_as_the_screen_shows_it(demo: Image) -> None:
    job = InsightsJob(demo).run_now()
    assert job.result is not None and job.error is None
    ins = job.result
    text = "\n".join(
        [*summary_lines(demo, ins), *(render(t(demo, ins)) for t in (findings_tab, junk_tab, duplicates_tab))]
    )
    assert text + "\n" == GOLDEN.read_text()


def test_the_reclaimable_line_in_each_state(demo: Image, tmp_path: Path) -> None:
    job = InsightsJob(demo)
    assert reclaim_line(demo, job) == "measuring…"
    job.error = "layer 3: unexpected end of data"
    assert reclaim_line(demo, job) == "unavailable (layer 3: unexpected end of data)"
    job.error = None
    job.run_now()
    assert reclaim_line(demo, job) == "214 kB (36%), most removed by later layers (154 kB) · i explains"
    img = ImageSpec()
    img.layer("ADD").file("a", "only once")
    with loaded(write_archive(img, tmp_path / "clean.tar"), hash_files=True) as clean:
        assert reclaim_line(clean, InsightsJob(clean).run_now()) == "0 B: nothing a squash would save"


def test_settings_reach_the_analysis(demo: Image) -> None:
    job = InsightsJob(demo, InsightSettings(base_layers=3, ignore_paths=("/app/**",))).run_now()
    ins = job.result
    assert ins is not None
    assert (ins.base.count, ins.base.source) == (3, "flag")
    assert not any(f.path.startswith("/app") for f in ins.findings)
    assert ins.reclaimable_bytes == 64_000 + 48_000  # the pip cache and the apk index, nothing under /app


def test_empty_lists_say_so(tmp_path: Path) -> None:
    img = ImageSpec()
    img.layer("ADD").file("a", "only once")
    with loaded(write_archive(img, tmp_path / "clean.tar"), hash_files=True) as clean:
        ins = InsightsJob(clean).run_now().result
        assert ins is not None
        tabs = [findings_tab(clean, ins), junk_tab(clean, ins), duplicates_tab(clean, ins)]
    assert [(t.rows, t.empty, t.more) for t in tabs] == [
        ([], "no waste found", ""),
        ([], "no junk found", ""),
        ([], "no duplicate files (1 kB or more)", ""),
    ]


def test_more_duplicate_groups_than_shown(demo: Image, monkeypatch: pytest.MonkeyPatch) -> None:
    ins = InsightsJob(demo).run_now().result
    assert ins is not None
    ins.duplicate_groups = 5
    assert duplicates_tab(demo, ins).more == "… and 4 more groups (all are in --json)"


def test_the_job_runs_on_a_thread_and_calls_back(demo: Image) -> None:
    job = InsightsJob(demo)
    called = threading.Event()
    seen: list[str] = []

    def on_done() -> None:
        seen.append(threading.current_thread().name)
        called.set()

    job.start(on_done)
    assert called.wait(30)
    assert job.done and job.result is not None and seen == ["divepy-insights"]
    again: list[bool] = []
    job.start(lambda: again.append(True))  # already done: called at once, no second thread
    assert again == [True]
    job.stop()


def test_a_stopped_job_ends_at_its_next_report_and_calls_nobody(demo: Image, monkeypatch: pytest.MonkeyPatch) -> None:
    started = threading.Event()
    release = threading.Event()
    real = analyse_insights

    def slow(image: Image, **kwargs: object) -> object:
        started.set()
        release.wait(30)
        progress = kwargs["progress"]
        progress.phase("Hashing files", 1)  # type: ignore[attr-defined]
        return real(image)

    monkeypatch.setattr(view, "analyse_insights", slow)
    job = InsightsJob(demo)
    calls: list[bool] = []
    job.start(lambda: calls.append(True))
    assert started.wait(30)
    stopper = threading.Thread(target=job.stop)
    stopper.start()
    release.set()
    stopper.join(30)
    assert not stopper.is_alive()
    assert (job.result, job.error, calls) == (None, "cancelled", [])


def test_a_failing_analysis_is_one_escaped_line(demo: Image, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(image: Image, **kwargs: object) -> object:
        raise OSError("read error in \x1b[2Jlayer 3")

    monkeypatch.setattr(view, "analyse_insights", broken)
    job = InsightsJob(demo).run_now()
    assert (job.result, job.error) == (None, "read error in \\x1b[2Jlayer 3")


def test_the_old_key_id_still_binds() -> None:
    warnings: list[str] = []
    assert keymap_from_config({"image-details": "x"}, warnings) == {"insights": "x"}
    assert warnings == []


def test_enter_goes_to_the_last_layer_that_stored_the_bytes(tmp_path: Path) -> None:
    img = ImageSpec()
    img.layer("RUN make a").dir("c").file("c/a.txt", "a" * 2000).file("z.bin", "d" * 3000)
    img.layer("RUN make b").dir("c").file("c/b.txt", "b" * 3000).file("a.bin", "d" * 3000)
    img.layer("RUN rm -rf /c").whiteout("c")
    with loaded(write_archive(img, tmp_path / "two.tar"), hash_files=True) as image:
        ins = InsightsJob(image).run_now().result
        assert ins is not None
        (row,) = findings_tab(image, ins).rows
        assert (row.cells, row.path, row.layer) == (("5.0 kB", "removed", "2", "0,1 → 2", "/c"), "/c", 1)
        assert row.detail[1:3] == ["stored by layer 0: RUN make a", "stored by layer 1: RUN make b"]
        (dup,) = duplicates_tab(image, ins).rows
        # the paths sorted, each with the layer of its own copy
        assert dup.detail[1:3] == ["  /a.bin  (layer 1)", "  /z.bin  (layer 0)"]
        assert (dup.path, dup.layer) == ("/a.bin", 1)
