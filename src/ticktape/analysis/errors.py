"""Errors the analysis layer raises for bad input.

Every error here is something the user can fix (a wrong path, a file that is not a recording, a
typo in SQL), so the CLI prints its message on one line and exits with status 2 instead of a
traceback. Messages name the offending file or query.
"""

from __future__ import annotations


class AnalysisError(Exception):
    """Base class: bad input to ``analyze`` or :func:`ticktape.analysis.connect`."""


class SourceError(AnalysisError):
    """A recording path is missing, empty, unreadable, or not a ticktape schema-v1 file."""


class QueryError(AnalysisError):
    """A query failed: bad SQL, an unknown canned query, or a view it needs is absent."""
