"""Errors the replay raises for bad input: each message is one line that names the culprit.

Every class derives from :class:`ReplayError`, so the CLI can turn any of them into a one-line
message and exit code 2 without a traceback. Library users can catch the specific class.
"""

from __future__ import annotations

from ticktape.schema import SchemaError


class ReplayError(Exception):
    """Base class: the replay cannot go on because of its input (files, options, names)."""


class NoRecordingsError(ReplayError):
    """A path, glob or day range selected no recording files."""


class CorruptRecordingError(ReplayError):
    """A file has a recording's name but cannot be read (bad magic, damaged footer or pages)."""


class ForeignRecordingError(ReplayError, SchemaError):
    """A readable file that is not a ticktape schema-v1 recording (missing or mistyped columns)."""


class BadOptionError(ReplayError):
    """An option value cannot be understood (e.g. ``--speed fast``, ``--from 22-07-2025``)."""


class UnknownStrategyNameError(ReplayError):
    """A strategy name the strategies registry does not know."""
