"""A skip for a missing resource becomes a failure when the run requires it (``DIVEPY_REQUIRE``)."""

from __future__ import annotations

import pytest

from tests import resources


def test_required_reads_the_comma_list() -> None:
    assert resources.required({"DIVEPY_REQUIRE": " shared, real ,,tmux"}) == {"shared", "real", "tmux"}
    assert resources.required({}) == frozenset()


def test_an_unknown_name_is_an_error_not_a_silent_no() -> None:
    with pytest.raises(ValueError, match="unknown resources \\['sharde'\\]"):
        resources.required({"DIVEPY_REQUIRE": "sharde"})


def test_missing_skips_when_not_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resources, "REQUIRED", frozenset({"tmux"}))
    with pytest.raises(pytest.skip.Exception, match="no shared here"):
        resources.missing("shared", "no shared here")


def test_missing_fails_when_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resources, "REQUIRED", frozenset({"shared"}))
    with pytest.raises(pytest.fail.Exception, match="required here"):
        resources.missing("shared", "no shared here")


def test_every_resource_ci_names_is_known() -> None:
    """.ci/run's list must parse; a name missing from RESOURCES would fail every test at import."""
    from pathlib import Path

    script = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    for name in ("dive", "tmux", "shared", "real"):
        assert name in resources.RESOURCES
        assert name in script
