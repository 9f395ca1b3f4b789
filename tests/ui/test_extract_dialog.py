"""Ctrl+E under Pilot: the dialog writes the path as it is at the selected layer, refuses what exists."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from dive_py.ui.main_screen import MainScreen
from tests.ui.helpers import MakeApp, select_path, settled

SIZE = (160, 45)


# -- Ctrl+E: extract -----------------------------------------------------------------------


async def test_ctrl_e_writes_the_file_as_it_is_at_the_selected_layer(
    make_app: MakeApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dive_py.ui.extract_dialog import ExtractDialog

    monkeypatch.chdir(tmp_path)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await select_path(pilot, 4, "app/config.yaml")
        await pilot.press("ctrl+e")
        dialog = app.screen
        assert isinstance(dialog, ExtractDialog)
        assert dialog.query_one("#extract-dest", Input).value == "./config.yaml"
        await pilot.press("enter")
        await settled(pilot)
        assert isinstance(app.screen, MainScreen)
        assert (tmp_path / "config.yaml").read_text().count("true") == 1  # before layer 6's sed
        assert any("Wrote ./config.yaml: 1 file (23 B)" in str(n.message) for n in app._notifications)


async def test_ctrl_e_on_a_directory_with_another_name(
    make_app: MakeApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await select_path(pilot, 7, "app/static")
        await pilot.press("ctrl+e")
        assert "/app/static (directory: 2 entries, 7.0 kB)" in str(app.screen.query_one("#extract-what").render())
        await pilot.press(*["backspace"] * len("./static"), *"out/static", "enter")
        await settled(pilot)
        # out/ does not exist: the dialog stays open with the reason
        assert not isinstance(app.screen, MainScreen)
        assert "the parent out does not exist" in str(app.screen.query_one("#extract-error").render())
        (tmp_path / "out").mkdir()
        await pilot.press("enter")
        await settled(pilot)
        assert isinstance(app.screen, MainScreen)
        assert sorted(p.name for p in (tmp_path / "out" / "static").iterdir()) == ["app.min.js", "logo.svg"]


async def test_ctrl_e_refuses_existing_destinations_and_escape_writes_nothing(
    make_app: MakeApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "main.py").write_text("mine")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await select_path(pilot, 7, "app/main.py")
        await pilot.press("ctrl+e", "enter")
        await pilot.pause()
        assert "./main.py already exists" in str(app.screen.query_one("#extract-error").render())
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
    assert (tmp_path / "main.py").read_text() == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["main.py"]
