"""The SQL of every view ``connect`` creates, as functions of where the rows are.

Each normalized view is ``read_parquet(<files>) UNION ALL <in-memory Arrow table>``: the files are
raw recordings (``raw``) or decode caches (``quotes``, ``trades``, ``issues``); the Arrow tables
hold live segments and anything that could not be cached. Columns are listed explicitly so both
branches line up and dictionary-encoded strings arrive as ``VARCHAR``.

Timestamps: ``*_ns`` columns are exact ``BIGINT`` nanoseconds since the Unix epoch (UTC);
``*_ts`` columns are the same instants as ``TIMESTAMP_NS`` (naive, UTC) for ``date_trunc`` and
friends. Derived views (``connections``, ``gaps``) are plain SQL over ``raw`` and ``issues``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final

RAW_COLUMNS: Final = (
    "recv_ns",
    "exchange",
    "stream",
    "conn_id",
    "seq",
    "kind",
    "req_ns",
    "binary",
    "payload",
)
QUOTE_COLUMNS: Final = (
    "exchange",
    "symbol",
    "recv_ns",
    "exch_ns",
    "bid",
    "bid_size",
    "ask",
    "ask_size",
    "conn_id",
    "seq",
    "req_ns",
)
TRADE_COLUMNS: Final = (
    "exchange",
    "symbol",
    "recv_ns",
    "exch_ns",
    "price",
    "size",
    "side",
    "trade_id",
    "conn_id",
    "seq",
    "req_ns",
)
ISSUE_COLUMNS: Final = ("kind", "exchange", "stream", "recv_ns", "conn_id", "seq", "detail")

_VARCHAR_COLUMNS: Final = frozenset({"exchange", "stream", "kind", "symbol", "side"})


def sql_string(text: str) -> str:
    """A single-quoted SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _select_list(columns: Sequence[str]) -> str:
    return ", ".join(
        f'"{c}"::VARCHAR AS "{c}"' if c in _VARCHAR_COLUMNS else f'"{c}"' for c in columns
    )


def union_source(columns: Sequence[str], files: Sequence[Path], memory_table: str) -> str:
    """``SELECT <columns> FROM read_parquet(files) UNION ALL SELECT <columns> FROM memory``."""
    select = _select_list(columns)
    parts = [f"SELECT {select} FROM {memory_table}"]
    if files:
        listing = ", ".join(sql_string(str(f)) for f in files)
        parts.insert(0, f"SELECT {select} FROM read_parquet([{listing}], union_by_name = true)")
    return "\nUNION ALL\n".join(parts)


def raw_view(source: str) -> str:
    return f"""CREATE OR REPLACE VIEW raw AS
SELECT *,
       CASE WHEN NOT "binary" THEN TRY(decode(payload)) END AS payload_text,
       make_timestamp_ns(recv_ns) AS recv_ts
FROM ({source})"""


def quotes_view(source: str) -> str:
    return f"""CREATE OR REPLACE VIEW quotes AS
SELECT *, make_timestamp_ns(recv_ns) AS recv_ts, make_timestamp_ns(exch_ns) AS exch_ts
FROM ({source})"""


def trades_view(source: str) -> str:
    return f"""CREATE OR REPLACE VIEW trades AS
SELECT *, make_timestamp_ns(recv_ns) AS recv_ts, make_timestamp_ns(exch_ns) AS exch_ts
FROM ({source})"""


def issues_view(source: str) -> str:
    return f"""CREATE OR REPLACE VIEW issues AS
SELECT *, make_timestamp_ns(recv_ns) AS recv_ts FROM ({source})"""


CONNECTIONS_VIEW: Final = """CREATE OR REPLACE VIEW connections AS
WITH per_conn AS (
    SELECT exchange, conn_id,
           arg_min(stream, recv_ns) FILTER (WHERE kind = 'open') AS stream,
           arg_min(payload_text, recv_ns) FILTER (WHERE kind = 'open') AS url,
           min(recv_ns) FILTER (WHERE kind = 'open') AS opened_ns,
           max(recv_ns) FILTER (WHERE kind = 'close') AS closed_ns,
           arg_max(payload_text, recv_ns) FILTER (WHERE kind = 'close') AS close_reason,
           count(*) FILTER (WHERE kind = 'error') AS errors,
           arg_max(payload_text, recv_ns) FILTER (WHERE kind = 'error') AS last_error,
           count(*) FILTER (WHERE kind = 'data') AS messages,
           min(recv_ns) FILTER (WHERE kind = 'data') AS first_data_ns,
           max(recv_ns) FILTER (WHERE kind = 'data') AS last_data_ns,
           min(recv_ns) AS first_ns,
           max(recv_ns) AS last_ns,
           arg_min(stream, recv_ns) AS first_stream
    FROM raw GROUP BY exchange, conn_id
    HAVING count(*) FILTER (WHERE kind <> 'clock') > 0  -- not the recorder's clock probes
), spans AS (
    SELECT * EXCLUDE (first_stream),
           coalesce(stream, first_stream) AS route,
           coalesce(opened_ns, first_ns) AS start_ns,
           coalesce(closed_ns, last_ns) AS end_ns
    FROM per_conn
)
SELECT exchange, conn_id, coalesce(stream, route) AS stream, url,
       opened_ns, closed_ns, close_reason, errors, last_error, messages,
       first_data_ns, last_data_ns, start_ns, end_ns,
       (end_ns - start_ns) / 1e9 AS duration_s,
       lag(conn_id) OVER w AS prev_conn_id,
       lag(end_ns) OVER w AS prev_end_ns,
       start_ns - lag(end_ns) OVER w AS reconnect_gap_ns,
       (start_ns - lag(end_ns) OVER w) / 1e9 AS reconnect_gap_s,
       make_timestamp_ns(start_ns) AS start_ts,
       make_timestamp_ns(end_ns) AS end_ts
FROM spans
WINDOW w AS (PARTITION BY exchange, route ORDER BY start_ns, conn_id)"""

GAPS_VIEW: Final = """CREATE OR REPLACE VIEW gaps AS
WITH seq_steps AS (
    SELECT exchange, stream, conn_id, seq, recv_ns,
           lag(seq) OVER (PARTITION BY exchange, conn_id ORDER BY seq) AS prev_seq,
           lag(recv_ns) OVER (PARTITION BY exchange, conn_id ORDER BY seq) AS prev_recv_ns
    FROM raw
), all_gaps AS (
    SELECT 'reconnect' AS kind, exchange, stream, conn_id, prev_end_ns AS start_ns,
           start_ns AS end_ns,
           'after connection ' || prev_conn_id || coalesce(' (' || close_reason || ')', '')
               AS detail
    FROM connections WHERE prev_end_ns IS NOT NULL
    UNION ALL
    SELECT 'seq', exchange, stream, conn_id, prev_recv_ns, recv_ns,
           (seq - prev_seq - 1) || ' row(s) missing: seq ' || prev_seq || ' -> ' || seq
    FROM seq_steps WHERE prev_seq IS NOT NULL AND seq <> prev_seq + 1
    UNION ALL
    SELECT 'exchange', exchange, stream, conn_id, recv_ns, recv_ns, detail
    FROM issues WHERE kind = 'gap'
)
SELECT kind, exchange, stream, conn_id, start_ns, end_ns,
       (end_ns - start_ns) / 1e9 AS duration_s,
       make_timestamp_ns(start_ns) AS start_ts, make_timestamp_ns(end_ns) AS end_ts, detail
FROM all_gaps"""


def results_view(name: str, per_strategy: Sequence[tuple[str, Sequence[Path]]]) -> str:
    """``name`` over replay result files, with a leading ``strategy`` column."""
    parts = []
    for strategy, files in per_strategy:
        listing = ", ".join(sql_string(str(f)) for f in files)
        parts.append(
            f"SELECT {sql_string(strategy)} AS strategy, * "
            f"FROM read_parquet([{listing}], union_by_name = true)"
        )
    return f'CREATE OR REPLACE VIEW "{name}" AS\n' + "\nUNION ALL BY NAME\n".join(parts)
