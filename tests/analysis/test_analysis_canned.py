"""Canned queries: each runs, has its documented columns, and computes the right numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from ticktape.analysis import QueryError, connect, synthetic
from ticktape.analysis.queries import canned_queries, run_canned

DAY_START_NS = 1_753_142_400_000_000_000
S = 1_000_000_000

EXPECTED = {
    "spreads": ["second", "exchange", "symbol", "quotes", "mid", "spread", "avg_spread_bps"],
    "panel": [
        "second", "symbol", "best_bid", "bid_exchange", "bid_staleness_ms", "best_ask",
        "ask_exchange", "ask_staleness_ms", "crossed_bps", "exchanges", "max_staleness_ms",
    ],
    "latency": ["hour", "exchange", "samples", "min_ms", "p50_ms", "p90_ms", "p99_ms", "max_ms"],
    "rates": ["minute", "exchange", "messages", "avg_per_s", "peak_per_s", "bytes"],
    "gaps": [
        "kind", "exchange", "stream", "conn_id", "start_ns", "end_ns", "duration_s", "start_ts",
        "end_ts", "detail",
    ],
    "episodes": [
        "strategy", "symbol", "buy_exchange", "sell_exchange", "episodes", "total_s", "avg_ms",
        "max_ms", "avg_open_edge_bps", "max_edge_bps", "best_profit",
    ],
}  # fmt: skip


def test_every_canned_query_is_documented_and_runs(root_with_results: Path) -> None:
    queries = canned_queries()
    assert set(queries) == set(EXPECTED)
    con = connect(root_with_results)
    for name, query in queries.items():
        assert query.description and query.requires, name
        relation = run_canned(con, name)
        assert relation.columns == EXPECTED[name], name
        assert relation.fetchall(), f"{name} returned no rows"


def _tick(symbol: str, bid: str, ask: str, t_ms: int) -> synthetic.Tick:
    return synthetic.Tick(symbol, bid, "1.5", ask, "2.5", t_ms, t_ms)


def _write_quotes(
    root: Path, exchange: str, conn_id: int, quotes: list[tuple[int, str, str]]
) -> None:
    """One connection of ``exchange`` sending BTC-USDT quotes (recv_ns, bid, ask)."""
    rows = [(quotes[0][0] - 1, exchange, "ws", conn_id, 0, "open", None, False, b"wss://x")]
    for seq, (recv_ns, bid, ask) in enumerate(quotes, start=1):
        stream, binary, payload = synthetic.quote_message(
            exchange, _tick("BTC-USDT", bid, ask, recv_ns // 1_000_000 - 3)
        )
        rows.append((recv_ns, exchange, stream, conn_id, seq, "data", None, binary, payload))
    path = root / "2025-07-22" / synthetic.file_name(quotes[0][0], exchange, conn_id)
    synthetic.write_parquet(synthetic.rows_table(rows), path, exchange)


@pytest.fixture
def two_venues(tmp_path: Path) -> Path:
    t0 = DAY_START_NS
    _write_quotes(tmp_path, "bybit", 1, [(t0 + 100_000_000, "100.0", "100.2"),
                                         (t0 + 900_000_000, "100.1", "100.3"),
                                         (t0 + S + 500_000_000, "100.4", "100.6")])  # fmt: skip
    _write_quotes(tmp_path, "mexc", 2, [(t0 + 200_000_000, "100.5", "100.7"),
                                        (t0 + 9 * S, "99.0", "99.2")])  # fmt: skip
    return tmp_path


def test_spreads_takes_the_last_quote_of_each_second(two_venues: Path) -> None:
    con = connect(two_venues)
    rows = run_canned(con, "spreads").fetchall()
    bybit = [(r[3], r[4], r[5]) for r in rows if r[1] == "bybit"]
    assert bybit[0] == (2, pytest.approx(100.2), pytest.approx(0.2))
    assert bybit[1] == (1, pytest.approx(100.5), pytest.approx(0.2))


def test_panel_picks_best_venue_and_drops_stale_quotes(two_venues: Path) -> None:
    con = connect(two_venues)
    rows = {r[0].second: r for r in run_canned(con, "panel").fetchall()}
    first = rows[0]
    assert (first[2], first[3]) == (100.5, "mexc")  # best bid
    assert (first[5], first[6]) == (100.3, "bybit")  # best ask
    assert first[8] == pytest.approx((100.5 - 100.3) / 100.4 * 1e4)  # crossed, in bps
    assert first[4] == pytest.approx(800.0)  # mexc quote at 0.2 s, second ends at 1.0 s
    # at second 7 bybit (last quote 1.5 s) is 6.5 s old: left out; mexc (0.2 s) too
    assert 7 not in rows
    assert rows[9][3] == "mexc" and rows[9][9] == 1


def test_latency_and_rates_numbers(two_venues: Path) -> None:
    con = connect(two_venues)
    latency = {r[1]: r for r in run_canned(con, "latency").fetchall()}
    assert set(latency) == {"bybit", "mexc"}
    assert latency["bybit"][2] == 3
    # exch time = recv ms - 3 (truncated to ms): latency between 3 and 4 ms
    assert 3.0 <= latency["bybit"][3] <= latency["bybit"][7] < 4.0
    rates = {r[1]: r for r in run_canned(con, "rates").fetchall()}
    assert rates["bybit"][2] == 3 and rates["mexc"][2] == 2
    assert rates["bybit"][4] == 2  # two messages in second 0


def test_gaps_query_adds_silences(two_venues: Path) -> None:
    rows = run_canned(connect(two_venues), "gaps").fetchall()
    assert [(r[0], r[1]) for r in rows] == [("silence", "mexc")]
    assert rows[0][6] == pytest.approx(8.8)


def test_episodes_query_needs_replay_results(day_root: Path) -> None:
    with pytest.raises(QueryError, match="replay"):
        run_canned(connect(day_root), "episodes")


def test_episodes_query_sums_episodes(root_with_results: Path) -> None:
    rows = run_canned(connect(root_with_results), "episodes").fetchall()
    assert sum(r[4] for r in rows) == 6


def test_unknown_canned_query(day_root: Path) -> None:
    with pytest.raises(QueryError, match="choose one of: episodes, gaps"):
        run_canned(connect(day_root), "nope")
