"""SQL over captured ticks: DuckDB views over recordings and replay results, canned queries,
and a self-contained HTML report.

>>> con = connect("data/")                       # doctest: +SKIP
>>> con.sql("SELECT exchange, count(*) FROM quotes GROUP BY ALL").show()   # doctest: +SKIP

``quotes`` and ``trades`` are decoded by the replay's own decoders, so SQL and replay agree.
"""

from __future__ import annotations

from ticktape.analysis.connection import connect, view_names
from ticktape.analysis.errors import AnalysisError, QueryError, SourceError

__all__ = ["AnalysisError", "QueryError", "SourceError", "connect", "view_names"]
