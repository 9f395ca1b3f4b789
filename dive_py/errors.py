"""Exceptions that carry a user-facing, one-line message and an exit code.

Every problem the user can cause (a bad file, a bad flag value, a broken image)
is raised as an :class:`InputError` subclass deep in the core and turned into
``divepy: error: <message>`` plus exit status 2 by the CLI.  Nothing below the
CLI prints or exits, so the same code serves the TUI, ``--ci`` and ``--json``.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_RULES_FAILED = 1
EXIT_USAGE = 2


class DiveError(Exception):
    """Base class: an error with a one-line message meant for the user."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(DiveError):
    """The image (file, archive, blob, manifest or layer) cannot be used."""


class ArchiveError(InputError):
    """The outer archive or a blob inside it is not a readable tar stream."""


class ManifestError(InputError):
    """manifest.json, index.json, an OCI manifest or a config is unusable."""


class LayerError(InputError):
    """A layer's tar stream holds something we refuse to interpret."""


class UsageError(DiveError):
    """A flag, a config value or a combination of options is invalid."""


class LimitError(InputError):
    """The image exceeds one of divepy's size or count limits (see ``core.limits``)."""
