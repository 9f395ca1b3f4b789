"""Explorer responsiveness on a big image: layer switch, cursor, collapse, filter, first screen.

What it measures (wall time of the work one key press triggers, not Pilot's
own ~40 ms per simulated key): the view-model update plus the file tree
widget's rebuild and the rendering of every visible line, inside a real
headless Textual app.  Goals from the issue, on a 200k-file image with a
``chown -R`` layer: layer switch <= 150 ms, cursor move / collapse / filter
keystroke <= 30 ms at p95, first full screen <= 1 s after the analysis.
The insights (Image Details' reclaimable line, the ``i`` screen) are worked
out on a thread that starts after the first frame; their time is a phase
of its own, and the keys are timed after it ends.

Usage::

    python benchmarks/make_images.py --images hard-200k      # once (about 1 GB)
    python benchmarks/bench_tui.py [--image benchmarks/work/hard-200k.docker.tar]

Prints a Markdown table: operation, samples, p50, p95, max (ms), goal.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from dive_py.core.model.loader import load_image  # noqa: E402
from dive_py.ui.app import DiveApp  # noqa: E402
from dive_py.ui.main_screen import MainScreen  # noqa: E402
from dive_py.ui.widgets.bars import InputBar  # noqa: E402
from dive_py.ui.widgets.file_tree import FileTreeView  # noqa: E402
from dive_py.viewmodel.file_view import build_view  # noqa: E402
from dive_py.viewmodel.session import Session  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Timer:
    def __init__(self) -> None:
        self.results: dict[str, list[float]] = {}

    def run(self, name: str, fn: Callable[[], object]) -> None:
        start = time.perf_counter()
        fn()
        self.results.setdefault(name, []).append((time.perf_counter() - start) * 1000)


def paint(tree: FileTreeView) -> None:
    """Render every visible line, as the compositor would after a change."""
    for y in range(tree.size.height):
        tree.render_line(y)


async def measure(image_path: str, repeat: int) -> tuple[Timer, dict[str, float]]:
    facts: dict[str, float] = {}
    t0 = time.perf_counter()
    image = load_image(image_path, hash_files=True)
    facts["load s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    session = Session.build(image)
    gc.collect()
    gc.freeze()  # as dive_py.ui.launch does after loading
    facts["analysis + hashes + index s"] = time.perf_counter() - t0
    facts["paths"] = len(image.paths)
    facts["entries"] = len(image.entries)
    app = DiveApp(session=session)
    timer = Timer()
    t0 = time.perf_counter()
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        facts["first full screen s"] = time.perf_counter() - t0
        # The insights' thread starts after the first frame; the keys are timed once it is done
        # (a key pressed meanwhile shares the GIL with it).
        while not session.insights.done:
            await pilot.pause(0.05)
        facts["insights on their thread s"] = time.perf_counter() - t0
        tree = app.screen.query_one(FileTreeView)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        n_layers = len(image.layers)

        def switch(layer: int, aggregated: bool) -> Callable[[], None]:
            def go() -> None:
                session.select_layer(layer, aggregated)
                tree.rebuild()
                paint(tree)

            return go

        for _ in range(repeat):
            for layer in range(n_layers):
                timer.run("layer switch (layer changes)", switch(layer, False))
            for layer in range(n_layers):
                timer.run("layer switch (aggregated)", switch(layer, True))
        session.select_layer(n_layers - 1, False)
        tree.rebuild()
        tree.focus()
        await pilot.pause()

        def key(action: Callable[[], None]) -> Callable[[], None]:
            def go() -> None:
                action()
                paint(tree)

            return go

        for _ in range(200 * repeat):
            timer.run("cursor down", key(tree.action_cursor_down))
        for _ in range(20 * repeat):
            timer.run("page down", key(tree.action_page_down))
        tree.action_cursor_home()
        for _ in range(20 * repeat):
            timer.run("collapse / expand dir", key(tree.action_toggle_collapse))
        for _ in range(4 * repeat):
            timer.run("collapse all / expand all", key(tree.action_toggle_collapse_all))
        bar = app.screen.query_one("#filter", InputBar)

        def keystroke(prefix: str) -> Callable[[], None]:
            return lambda: screen.on_input_bar_changed(InputBar.Changed(bar, prefix))

        def search_next() -> None:
            session.tree.search("index\\.js")
            tree.rebuild()

        bar.open()
        for text in ("node_modules/pkg1", "lib/.*\\.js$", "README"):
            for i in range(1, len(text) + 1):
                # what the UI does per keystroke on a big tree: update the prompt, re-arm the pause timer
                timer.run("filter keystroke (UI)", keystroke(text[:i]))
                # what happens once typing pauses (measured for every prefix, worst case)
                timer.run("filter applied", key(partial(screen.apply_filter, text[:i])))
            timer.run("filter applied", key(lambda: screen.apply_filter("")))
        bar.close()
        for _ in range(10 * repeat):
            timer.run("search next match", key(search_next))
        # The viewer (v) on a file the last layer wrote again: what its worker does.
        top = n_layers - 1
        e = image.entries
        some_file = next(g for g in e.layer_range(top) if e.is_file(g))
        viewed = "/" + image.paths.paths[e.pid[some_file]]
        for _ in range(5 * repeat):
            timer.run("viewer: changes of a file", lambda: build_view(image, viewed, top, "changes"))
            timer.run("viewer: content of a file", lambda: build_view(image, viewed, top, "content"))
        timer.run("sort by size", key(tree.action_toggle_sort))
        for _ in range(5):
            timer.run("layer switch (size sort)", switch(n_layers - 1, False))
    image.close()
    return timer, facts


GOALS = {
    "layer switch (layer changes)": "<= 150",
    "layer switch (aggregated)": "<= 150",
    "layer switch (size sort)": "<= 150",
    "cursor down": "<= 30",
    "page down": "<= 30",
    "collapse / expand dir": "<= 30",
    "collapse all / expand all": "<= 30",
    "filter keystroke (UI)": "<= 30",
    "filter applied": "(after a 0.12 s pause)",
    "search next match": "<= 30",
    "viewer: changes of a file": "<= 150",
    "viewer: content of a file": "<= 150",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image", default=str(HERE / "work" / "hard-200k.docker.tar"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not Path(args.image).exists():
        sys.exit(f"{args.image} not found: run benchmarks/make_images.py first")
    timer, facts = asyncio.run(measure(args.image, args.repeat))
    print(f"Image: {Path(args.image).name}  ({int(facts['paths']):,} paths, {int(facts['entries']):,} entries)\n")
    print("| phase | seconds |\n|---|---:|")
    for k in ("load s", "analysis + hashes + index s", "first full screen s", "insights on their thread s"):
        print(f"| {k[:-2]} | {facts[k]:.2f} |")
    print("\n| operation | samples | p50 ms | p95 ms | max ms | goal ms |\n|---|---:|---:|---:|---:|---|")
    for name, values in timer.results.items():
        print(
            f"| {name} | {len(values)} | {statistics.median(values):.1f} | {pct(values, 0.95):.1f} | "
            f"{max(values):.1f} | {GOALS.get(name, '')} |"
        )


if __name__ == "__main__":
    main()
