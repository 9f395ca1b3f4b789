"""The image picker (``divepy`` alone on a terminal with an engine answering): rows, keys and its screen."""

from __future__ import annotations

from dive_py.core.sources.engine import ImageSummary
from dive_py.ui.picker import PickerApp
from dive_py.viewmodel.engine_images import ago, picker_rows
from tests.ui.helpers import SnapCompare

NOW = 1_700_000_000
MB = 1_000_000


def images() -> list[tuple[str, list[ImageSummary]]]:
    docker = [
        ImageSummary("sha256:" + "a1" * 32, ("app:1.2", "app:latest"), NOW - 3 * 86400, 180 * MB, 120 * MB, 0),
        ImageSummary(
            "sha256:" + "b2" * 32, ("localhost:5000/team/base:2024",), NOW - 40 * 86400, 120 * MB, 120 * MB, 2
        ),
        ImageSummary("sha256:" + "c3" * 32, (), NOW - 90, 4 * MB, 0, 0),
        ImageSummary("sha256:" + "d4" * 32, ("evil\x1b[2J[b]:tag",), NOW - 5000, 1000, -1, 0),
    ]
    return [
        ("Docker", docker),
        ("Podman", [ImageSummary("sha256:" + "e5" * 32, ("localhost/p:1",), NOW - 7200, MB, 0, 0)]),
    ]


def test_rows_are_one_per_tag_newest_first_with_shared_and_unique_sizes() -> None:
    rows = picker_rows(images(), now=NOW)
    assert [r.cells for r in rows] == [
        ("<none>", "<none>", "c3c3c3c3c3c3", "About a minute ago", "4.0 MB", "0 B", "4.0 MB", "Docker"),
        ("evil\\x1b[2J[b]", "tag", "d4d4d4d4d4d4", "About an hour ago", "1.0 kB", "—", "—", "Docker"),
        ("localhost/p", "1", "e5e5e5e5e5e5", "2 hours ago", "1.0 MB", "0 B", "1.0 MB", "Podman"),
        ("app", "1.2", "a1a1a1a1a1a1", "3 days ago", "180 MB", "120 MB", "60 MB", "Docker"),
        ("app", "latest", "a1a1a1a1a1a1", "3 days ago", "180 MB", "120 MB", "60 MB", "Docker"),
        ("localhost:5000/team/base", "2024", "b2b2b2b2b2b2", "5 weeks ago", "120 MB", "120 MB", "0 B", "Docker"),
    ]
    assert [(r.engine, r.name) for r in rows][:3] == [
        (0, "c3c3c3c3c3c3"),
        (0, "evil\x1b[2J[b]:tag"),
        (1, "localhost/p:1"),
    ]
    assert rows[3].image_id == "sha256:" + "a1" * 32


def test_created_reads_as_docker_says_it() -> None:
    seconds = (0, 1, 30, 119, 120, 3599, 5399, 5400, 47 * 3600, 2 * 86400, 15 * 86400, 61 * 86400, 800 * 86400)
    assert [ago(NOW - s, NOW) for s in seconds] == [
        "Less than a second ago",
        "1 second ago",
        "30 seconds ago",
        "About a minute ago",
        "2 minutes ago",
        "59 minutes ago",
        "About an hour ago",
        "2 hours ago",
        "47 hours ago",
        "2 days ago",
        "2 weeks ago",
        "2 months ago",
        "2 years ago",
    ]
    assert ago(0, NOW) == "N/A"


async def test_enter_picks_the_highlighted_image_once() -> None:
    rows = picker_rows(images(), now=NOW)
    app = PickerApp(rows, "Docker at unix:///run/docker.sock")
    async with app.run_test(size=(120, 20)) as pilot:
        await pilot.press("down", "down", "down", "enter", "enter")
    assert app.return_value is rows[3]


async def test_escape_and_q_leave_without_a_choice() -> None:
    for key in ("escape", "q"):
        app = PickerApp(picker_rows(images(), now=NOW), "Docker")
        async with app.run_test(size=(120, 20)) as pilot:
            await pilot.press(key)
        assert app.return_value is None


def test_picker_screen(snap_compare: SnapCompare) -> None:
    app = PickerApp(
        picker_rows(images(), now=NOW), "Docker at unix:///run/docker.sock · Podman at unix:///run/podman/podman.sock"
    )
    assert snap_compare(app, terminal_size=(130, 16), press=["down"])
