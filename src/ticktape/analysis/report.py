"""``analyze DATA --report out.html``: one self-contained HTML file with plots and key tables.

Nothing is fetched when the file is opened: CSS is inline and every plot is inline SVG (see
:mod:`ticktape.analysis.plots`). Contents: an overview per exchange; exchange-to-local latency
(CDF plot and percentiles); mid price and spread over time for the busiest symbols; arbitrage
episodes on a timeline (when replay results exist); message rates; gaps (timeline and the
longest ones); connections.

All series come from SQL aggregates (quantiles, per-bucket values), never from raw rows, so the
report of a day with tens of millions of quotes is built in seconds and stays a few hundred KB.
Each plot is a ``<figure class="plot" id="plot-…" data-points="N">`` so tests (and users) can
check what was drawn.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import duckdb
import numpy as np
import pyarrow as pa

from ticktape.analysis import plots
from ticktape.analysis.connection import view_names
from ticktape.analysis.errors import QueryError
from ticktape.analysis.formatting import column_cells
from ticktape.analysis.queries import canned_query, one_line

MAX_TABLE_ROWS: Final = 50
TARGET_POINTS: Final = 1500  # per series on time plots
CDF_POINTS: Final = 400

_CSS: Final = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;
max-width:1100px;color:#1b1f24;background:#fff;padding:0 16px}
h1{font-size:22px;margin-bottom:4px} h2{font-size:17px;margin-top:32px;border-bottom:1px solid #ddd}
.meta{color:#555;font-size:13px} figure{margin:12px 0} figure svg{max-width:100%;height:auto}
figcaption{color:#555;font-size:12px}
table{border-collapse:collapse;font-size:12px;margin:8px 0}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums} th{background:#f4f5f7}
.note{color:#555;font-size:12px}
"""


@dataclass
class _Page:
    """The report being assembled: HTML parts in order, and the ids of its plots."""

    parts: list[str] = field(default_factory=list)
    plot_ids: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.parts.append(text)

    def heading(self, text: str) -> None:
        self.add(f"<h2>{html.escape(text)}</h2>")

    def note(self, text: str) -> None:
        self.add(f'<p class="note">{html.escape(text)}</p>')

    def plot(self, plot_id: str, svg_and_points: tuple[str, int], caption: str) -> None:
        svg, points = svg_and_points
        self.plot_ids.append(plot_id)
        self.add(
            f'<figure class="plot" id="{html.escape(plot_id)}" data-points="{points}">'
            f"{svg}<figcaption>{html.escape(caption)}</figcaption></figure>"
        )

    def table(self, table: pa.Table, limit: int = MAX_TABLE_ROWS) -> None:
        shown = table.slice(0, limit)
        numeric = [
            pa.types.is_integer(f.type) or pa.types.is_floating(f.type) for f in table.schema
        ]
        head = "".join(f"<th>{html.escape(n)}</th>" for n in table.column_names)
        columns = [_display_cells(col) for col in shown.columns]
        rows = []
        for row in zip(*columns, strict=True):
            cells = "".join(
                f'<td class="num">{html.escape(v)}</td>' if num else f"<td>{html.escape(v)}</td>"
                for v, num in zip(row, numeric, strict=True)
            )
            rows.append(f"<tr>{cells}</tr>")
        self.add(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")
        if table.num_rows > limit:
            self.note(f"{table.num_rows - limit} more rows not shown (query them with analyze).")


def _display_cells(column: pa.ChunkedArray) -> list[str]:
    if pa.types.is_floating(column.type):
        return ["NULL" if v is None else f"{v:.6g}" for v in column.to_pylist()]
    return ["NULL" if v is None else v for v in column_cells(column)]


def _fetch(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    try:
        return con.sql(sql).to_arrow_table()
    except duckdb.Error as exc:
        raise QueryError(f"report query failed: {one_line(exc)}") from exc


def _bucket_ns(first_ns: int, last_ns: int, target: int = TARGET_POINTS) -> int:
    """A whole number of seconds so a series over [first, last] has at most ~target points."""
    span_s = max((last_ns - first_ns) / 1e9, 1.0)
    return max(1, math.ceil(span_s / target)) * 1_000_000_000


def _series(table: pa.Table, key: str, x: str, y: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    keys = table.column(key).to_numpy(zero_copy_only=False)
    xs = table.column(x).to_numpy()
    ys = table.column(y).to_numpy(zero_copy_only=False).astype(float)
    for name in sorted(set(keys.tolist())):
        mask = keys == name
        out[name] = (xs[mask], ys[mask])
    return out


def _overview(con: duckdb.DuckDBPyConnection, page: _Page) -> tuple[int, int] | None:
    first, last, rows = con.execute(
        "SELECT min(recv_ns), max(recv_ns), count(*) FROM raw"
    ).fetchall()[0]
    files = con.execute("SELECT count(*) FROM files").fetchall()[0][0]
    if first is None:
        page.note("The recordings hold no rows.")
        return None
    first_ts, last_ts = (
        str(v)
        for v in con.execute(
            "SELECT make_timestamp_ns(?::BIGINT), make_timestamp_ns(?::BIGINT)", [first, last]
        ).fetchall()[0]
    )
    page.add(
        f'<p class="meta">{rows:,} rows from {files} file(s), '
        f"{html.escape(first_ts)} to {html.escape(last_ts)} UTC "
        f"({(last - first) / 1e9:,.1f} s)</p>"
    )
    page.heading("Exchanges")
    page.table(
        _fetch(
            con,
            """
        WITH r AS (
            SELECT exchange, count(*) FILTER (WHERE kind = 'data') AS messages,
                   min(recv_ns) AS first_ns, max(recv_ns) AS last_ns
            FROM raw GROUP BY exchange),
        c AS (SELECT exchange, count(*) AS connections FROM connections GROUP BY exchange),
        q AS (SELECT exchange, count(*) AS quotes, count(DISTINCT symbol) AS symbols
              FROM quotes GROUP BY exchange),
        t AS (SELECT exchange, count(*) AS trades FROM trades GROUP BY exchange),
        i AS (SELECT exchange, count(*) FILTER (WHERE kind = 'decode_error') AS decode_errors
              FROM issues GROUP BY exchange),
        g AS (SELECT exchange, count(*) AS gaps, sum(duration_s) AS gap_s
              FROM gaps GROUP BY exchange)
        SELECT r.exchange, messages, coalesce(quotes, 0) AS quotes,
               coalesce(symbols, 0) AS symbols, coalesce(trades, 0) AS trades,
               coalesce(connections, 0) AS connections,
               coalesce(gaps, 0) AS gaps, coalesce(gap_s, 0) AS gap_s,
               coalesce(decode_errors, 0) AS decode_errors,
               make_timestamp_ns(first_ns) AS first, make_timestamp_ns(last_ns) AS last
        FROM r LEFT JOIN q USING (exchange) LEFT JOIN t USING (exchange)
               LEFT JOIN c USING (exchange)
               LEFT JOIN i USING (exchange) LEFT JOIN g USING (exchange)
        ORDER BY r.exchange""",
        )
    )
    return first, last


def _latency(con: duckdb.DuckDBPyConnection, page: _Page) -> None:
    page.heading("Latency (exchange timestamp to local receive)")
    probs = ", ".join(f"{i / CDF_POINTS:.6f}" for i in range(CDF_POINTS + 1))
    table = _fetch(
        con,
        f"""
        WITH samples AS (
            SELECT exchange, (recv_ns - exch_ns) / 1e6 AS ms FROM quotes WHERE exch_ns IS NOT NULL
            UNION ALL
            SELECT exchange, (recv_ns - exch_ns) / 1e6 FROM trades WHERE exch_ns IS NOT NULL)
        SELECT exchange, count(*) AS n, quantile_cont(ms, [{probs}]) AS q
        FROM samples GROUP BY exchange ORDER BY exchange""",
    )
    cdf = {
        ex: np.asarray(q, dtype=float)
        for ex, q in zip(
            table.column("exchange").to_pylist(), table.column("q").to_pylist(), strict=True
        )
    }
    counts = dict(
        zip(table.column("exchange").to_pylist(), table.column("n").to_pylist(), strict=True)
    )
    samples = sum(counts.values())
    page.plot(
        "plot-latency-cdf",
        plots.latency_cdf(cdf, counts),
        "CDF per exchange of recv_ns - exch_ns "
        f"({CDF_POINTS + 1} quantiles of {samples:,} samples).",
    )
    page.table(
        _fetch(
            con,
            """
        WITH samples AS (
            SELECT exchange, (recv_ns - exch_ns) / 1e6 AS ms FROM quotes WHERE exch_ns IS NOT NULL
            UNION ALL
            SELECT exchange, (recv_ns - exch_ns) / 1e6 FROM trades WHERE exch_ns IS NOT NULL)
        SELECT exchange, count(*) AS samples, min(ms) AS min_ms,
               quantile_cont(ms, 0.5) AS p50_ms, quantile_cont(ms, 0.9) AS p90_ms,
               quantile_cont(ms, 0.99) AS p99_ms, max(ms) AS max_ms
        FROM samples GROUP BY exchange ORDER BY exchange""",
        )
    )


def _prices(
    con: duckdb.DuckDBPyConnection, page: _Page, span: tuple[int, int], max_symbols: int
) -> None:
    page.heading("Mid price and spread")
    symbols = [
        r[0]
        for r in con.execute(
            "SELECT symbol FROM quotes WHERE bid > 0 AND ask > 0 GROUP BY symbol "
            "ORDER BY count(*) DESC, symbol LIMIT ?",
            [max_symbols],
        ).fetchall()
    ]
    if not symbols:
        page.plot("plot-mid-spread", plots.mid_and_spread("any symbol", {}, {}), "No quotes.")
        return
    bucket = _bucket_ns(*span)
    for symbol in symbols:
        table = _fetch(
            con,
            f"""
            SELECT exchange, (recv_ns // {bucket}) * {bucket} AS t,
                   arg_max((bid + ask) / 2, recv_ns) AS mid,
                   avg((ask - bid) / ((ask + bid) / 2)) * 1e4 AS spread_bps
            FROM quotes
            WHERE bid > 0 AND ask > 0 AND symbol = {_literal(symbol)}
            GROUP BY ALL ORDER BY t, exchange""",
        )
        page.plot(
            f"plot-mid-spread-{symbol}",
            plots.mid_and_spread(
                symbol,
                _series(table, "exchange", "t", "mid"),
                _series(table, "exchange", "t", "spread_bps"),
            ),
            f"{symbol}: last mid and mean spread per {bucket // 1_000_000_000} s bucket.",
        )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _episodes(con: duckdb.DuckDBPyConnection, page: _Page) -> None:
    page.heading("Arbitrage episodes")
    if "episodes" not in view_names(con):
        page.plot(
            "plot-episodes",
            plots.episodes_timeline([], [], [], []),
            "No replay results found (run `replay DATA` to get episodes).",
        )
        return
    table = _fetch(
        con,
        """
        SELECT symbol || ' ' || buy_exchange || '->' || sell_exchange AS pair,
               start_ns, end_ns, max_edge_bps
        FROM episodes ORDER BY start_ns, pair LIMIT 20000""",
    )
    page.plot(
        "plot-episodes",
        plots.episodes_timeline(
            table.column("pair").to_pylist(),
            table.column("start_ns").to_pylist(),
            table.column("end_ns").to_pylist(),
            table.column("max_edge_bps").to_pylist(),
        ),
        "Each bar is one episode (start to end); color = its maximum net edge.",
    )
    page.table(_fetch(con, canned_query("episodes").sql))


def _rates(con: duckdb.DuckDBPyConnection, page: _Page, span: tuple[int, int]) -> None:
    page.heading("Message rates")
    bucket = _bucket_ns(*span)
    table = _fetch(
        con,
        f"""
        SELECT exchange, (recv_ns // {bucket}) * {bucket} AS t,
               count(*) / {bucket / 1e9} AS per_s
        FROM raw WHERE kind = 'data' GROUP BY ALL ORDER BY t, exchange""",
    )
    page.plot(
        "plot-message-rate",
        plots.message_rates(_series(table, "exchange", "t", "per_s"), bucket // 1_000_000_000),
        "Data frames received per second (all streams of the exchange).",
    )


def _gaps(con: duckdb.DuckDBPyConnection, page: _Page, span: tuple[int, int]) -> None:
    page.heading("Gaps")
    table = _fetch(con, f"SELECT * FROM ({canned_query('gaps').sql}) LIMIT 20000")
    page.plot(
        "plot-gaps",
        plots.gaps_timeline(
            table.column("exchange").to_pylist(),
            table.column("kind").to_pylist(),
            table.column("start_ns").to_pylist(),
            table.column("end_ns").to_pylist(),
            span,
        ),
        "Reconnects, missing seq numbers, exchange-reported gaps and silences of 5 s or more.",
    )
    longest = _fetch(
        con,
        f"""SELECT kind, exchange, stream, conn_id, start_ts, duration_s, detail
            FROM ({canned_query("gaps").sql}) ORDER BY duration_s DESC, start_ns LIMIT 30""",
    )
    if longest.num_rows:
        page.note("Longest gaps:")
        page.table(longest)
    page.heading("Connections")
    page.table(
        _fetch(
            con,
            """SELECT exchange, conn_id, stream, start_ts, end_ts, duration_s, messages, errors,
                      close_reason, reconnect_gap_s
               FROM connections ORDER BY start_ns, exchange, conn_id""",
        )
    )


def build_report(
    con: duckdb.DuckDBPyConnection, title: str = "ticktape report", max_symbols: int = 4
) -> str:
    """The report's HTML text for the views of ``con`` (from :func:`connect`)."""
    page = _Page()
    page.add(f"<h1>{html.escape(title)}</h1>")
    span = _overview(con, page)
    if span is not None:
        _latency(con, page)
        _prices(con, page, span, max_symbols)
        _episodes(con, page)
        _rates(con, page, span)
        _gaps(con, page, span)
    body = "\n".join(page.parts)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>\n"
        f"<body>\n{body}\n</body></html>\n"
    )


def write_report(con: duckdb.DuckDBPyConnection, out: Path, title: str = "ticktape report") -> None:
    """Write :func:`build_report` to ``out`` (UTF-8); :class:`QueryError` if it cannot."""
    text = build_report(con, title)
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise QueryError(f"--report {out}: cannot write ({exc.strerror or exc})") from exc
