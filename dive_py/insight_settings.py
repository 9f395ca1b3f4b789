"""Junk rules from the config file: the user's own rules before the shipped ones.

The same file the explorer reads (``--config``, ``$DIVE_CONFIG``,
``.dive.yaml``… see :mod:`dive_py.ui_settings`), key ``insights.junk``, a list
of rules in the format of ``dive_py/core/analysis/junk_rules.yaml``::

    insights:
      junk:
        - id: build-output
          what: our build's intermediate files
          patterns: ["/src/**/*.o", "/src/build/**"]
          hint: "build in another stage and COPY only the binary"

A user rule matches first, so it can also claim paths a shipped rule would.
A config file named on the command line must be valid; one found by the
lookup that cannot be read gives a warning and the shipped rules, so a broken
``~/.dive.yaml`` never stops a ``--json`` or ``--ci`` run.
"""

from __future__ import annotations

from typing import Any

import yaml

from dive_py import messages
from dive_py.config import read_yaml_file
from dive_py.core.analysis.junk import JunkRule, builtin_rules, parse_rules
from dive_py.errors import UsageError
from dive_py.ui_settings import find_config


def load_junk_rules(explicit: str | None) -> list[JunkRule]:
    """The user's junk rules (if any) followed by the shipped ones."""
    path = find_config(explicit)
    shipped = builtin_rules()
    if path is None:
        return shipped
    try:
        doc: Any = read_yaml_file(path, "config", yaml.SafeLoader)
        section = doc.get("insights") if isinstance(doc, dict) else None
        junk = section.get("junk") if isinstance(section, dict) else None
        if junk is None:
            return shipped
        return [*parse_rules(junk, f"{path}: insights.junk"), *shipped]
    except UsageError as exc:
        if explicit:
            raise
        messages.warning(f"{exc.message}; using the shipped junk rules")
        return shipped


__all__ = ["load_junk_rules"]
