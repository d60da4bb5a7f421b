"""Canned queries: the ``.sql`` files in ``analysis/queries/``, runnable by name.

Each file starts with ``--`` comment lines: the first is the one-line description shown by
``analyze --list``; a ``-- requires: view, view`` line names the views it reads, so a query over
replay results fails with a clear message ("run replay first") instead of a DuckDB binder error.
Adding a query is adding a file; nothing else changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import duckdb

from ticktape.analysis.connection import view_names
from ticktape.analysis.errors import QueryError

_REQUIRES = "-- requires:"
_RESULT_VIEWS = frozenset({"signals", "episodes", "latency", "alerts"})


@dataclass(frozen=True, slots=True)
class CannedQuery:
    name: str
    description: str
    requires: tuple[str, ...]
    sql: str


def _parse(name: str, text: str) -> CannedQuery:
    description = ""
    requires: tuple[str, ...] = ()
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        if line.startswith(_REQUIRES):
            requires = tuple(v.strip() for v in line[len(_REQUIRES) :].split(",") if v.strip())
        elif not description:
            description = line[2:].strip()
    return CannedQuery(name=name, description=description, requires=requires, sql=text.strip())


def canned_queries() -> dict[str, CannedQuery]:
    """All canned queries by name, sorted."""
    folder = resources.files("ticktape.analysis").joinpath("queries")
    found = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".sql"):
            name = entry.name[: -len(".sql")]
            found[name] = _parse(name, entry.read_text(encoding="utf-8"))
    return found


def canned_query(name: str) -> CannedQuery:
    """The canned query ``name``; :class:`QueryError` listing the valid names otherwise."""
    queries = canned_queries()
    if name not in queries:
        raise QueryError(f"no canned query {name!r}; choose one of: {', '.join(queries)}")
    return queries[name]


def check_requirements(con: duckdb.DuckDBPyConnection, query: CannedQuery) -> None:
    """Raise :class:`QueryError` if a view the query reads is absent from ``con``."""
    present = set(view_names(con))
    for view in query.requires:
        if view not in present:
            hint = (
                " (it comes from replay results: run `replay` on this data first)"
                if view in _RESULT_VIEWS
                else ""
            )
            raise QueryError(f"query {query.name!r} needs the view {view!r}{hint}")


def run_canned(con: duckdb.DuckDBPyConnection, name: str) -> duckdb.DuckDBPyRelation:
    """Run canned query ``name`` on ``con`` and return its relation."""
    query = canned_query(name)
    check_requirements(con, query)
    return run_sql(con, query.sql)


def run_sql(con: duckdb.DuckDBPyConnection, sql: str) -> duckdb.DuckDBPyRelation:
    """``con.sql(sql)`` with DuckDB errors turned into one-line :class:`QueryError`.

    Errors about a damaged Parquet file surface here (DuckDB reads pages lazily) and keep
    DuckDB's message, which names the file.
    """
    try:
        relation = con.sql(sql)
    except duckdb.Error as exc:
        raise QueryError(one_line(exc)) from exc
    if relation is None:  # a statement without a result (SET, CREATE VIEW, ...)
        return con.sql("SELECT 'OK' AS status")
    return relation


def one_line(exc: BaseException) -> str:
    """The first meaningful line of an exception message."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
