"""Textual ``Binding`` objects generated from the binding table in the view model."""

from __future__ import annotations

from textual.binding import Binding

from dive_py.viewmodel.bindings import KEYS


def bindings_for(scope: str) -> list[Binding | tuple[str, str] | tuple[str, str, str]]:
    """The Textual bindings of one scope; ids let the user keymap remap them."""
    return [
        Binding(spec.keys, spec.action, spec.description, show=False, id=spec.id, priority=spec.priority)
        for spec in KEYS
        if spec.scope == scope
    ]
