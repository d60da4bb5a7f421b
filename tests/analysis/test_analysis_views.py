"""connect(): views and columns, SQL == replay, the decode cache, live segments, bad files."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ticktape import replay
from ticktape.analysis import SourceError, connect, synthetic, view_names
from ticktape.analysis.cache import CACHE_DIR_NAME
from ticktape.exchanges.events import Quote, Trade
from ticktape.exchanges.registry import new_decoder
from ticktape.schema import RECORD_SCHEMA

DAY_START_NS = 1_753_142_400_000_000_000

EXPECTED_COLUMNS = {
    "raw": [*RECORD_SCHEMA.names, "payload_text", "recv_ts"],
    "quotes": [
        "exchange", "symbol", "recv_ns", "exch_ns", "bid", "bid_size", "ask", "ask_size",
        "conn_id", "seq", "req_ns", "recv_ts", "exch_ts",
    ],
    "trades": [
        "exchange", "symbol", "recv_ns", "exch_ns", "price", "size", "side", "trade_id",
        "conn_id", "seq", "req_ns", "recv_ts", "exch_ts",
    ],
    "issues": ["kind", "exchange", "stream", "recv_ns", "conn_id", "seq", "detail", "recv_ts"],
}  # fmt: skip


def _columns(con: object, view: str) -> dict[str, str]:
    return {name: kind for name, kind, *_ in con.execute(f'DESCRIBE "{view}"').fetchall()}  # type: ignore[attr-defined]


def test_views_present_with_their_columns(day_root: Path) -> None:
    con = connect(day_root)
    names = view_names(con)
    for view in ("raw", "quotes", "trades", "issues", "connections", "gaps", "files"):
        assert view in names
    for view, expected in EXPECTED_COLUMNS.items():
        assert list(_columns(con, view)) == expected, view
    quotes = _columns(con, "quotes")
    assert quotes["recv_ns"] == "BIGINT" and quotes["recv_ts"] == "TIMESTAMP_NS"
    assert quotes["bid"] == "DOUBLE" and quotes["exchange"] == "VARCHAR"
    connections = _columns(con, "connections")
    for column in ("opened_ns", "closed_ns", "close_reason", "errors", "reconnect_gap_s"):
        assert column in connections


def test_raw_holds_every_row_with_exact_ns(day_root: Path) -> None:
    con = connect(day_root)
    stored = pa.concat_tables(
        [pq.read_table(p) for p in sorted(day_root.glob("*/*.parquet"))]
    ).cast(RECORD_SCHEMA)
    got = con.sql("SELECT recv_ns, conn_id, seq FROM raw ORDER BY recv_ns, conn_id, seq").fetchall()
    want = sorted(
        zip(*(stored.column(c).to_pylist() for c in ("recv_ns", "conn_id", "seq")), strict=True)
    )
    assert got == want
    # ns stay exact: the timestamp column round-trips to the same integer
    rows = con.sql("SELECT recv_ns, epoch_ns(recv_ts) FROM raw").fetchall()
    assert all(a == b for a, b in rows) and any(a % 1000 for a, _ in rows)
    text = con.sql(
        "SELECT payload_text FROM raw WHERE exchange = 'kucoin' AND kind = 'open'"
    ).fetchall()
    assert text[0][0].startswith("wss://")
    binary = con.sql('SELECT count(*) FROM raw WHERE "binary" AND payload_text IS NOT NULL')
    assert binary.fetchall() == [(0,)]


def _replay_market_events(root: Path) -> tuple[list[Quote], list[Trade]]:
    events = list(replay.open(str(root)).events())
    return [e for e in events if type(e) is Quote], [e for e in events if type(e) is Trade]


def test_quotes_and_trades_equal_the_replay_decode(day_root: Path) -> None:
    quotes, trades = _replay_market_events(day_root)
    con = connect(day_root)
    got_quotes = con.sql(
        "SELECT exchange, symbol, recv_ns, exch_ns, conn_id, seq, bid, bid_size, ask, ask_size, "
        "req_ns FROM quotes ORDER BY recv_ns, exchange, conn_id, seq"
    ).fetchall()
    assert got_quotes == [_fields(q) for q in quotes]
    got_trades = con.sql(
        "SELECT exchange, symbol, recv_ns, exch_ns, conn_id, seq, price, size, side, trade_id, "
        "req_ns FROM trades ORDER BY recv_ns, exchange, conn_id, seq, trade_id"
    ).fetchall()
    assert got_trades == sorted(
        (_fields(t) for t in trades), key=lambda r: (r[2], r[0], r[4], r[5], r[9])
    )
    per_exchange = dict(con.sql("SELECT exchange, count(*) FROM quotes GROUP BY ALL").fetchall())
    assert set(per_exchange) == set(synthetic.EXCHANGES)  # MEXC protobuf decoded too
    assert per_exchange == {
        ex: sum(1 for q in quotes if q.exchange == ex) for ex in synthetic.EXCHANGES
    }
    assert con.sql("SELECT count(*) FROM issues").fetchall() == [(0,)]


def _fields(event: Quote | Trade) -> tuple[object, ...]:
    return tuple(getattr(event, name) for name in event.__struct_fields__)


def test_cache_is_reused_then_rebuilt_when_a_file_changes(day_root: Path) -> None:
    con = connect(day_root)
    assert {r[0] for r in con.sql("SELECT cache FROM files").fetchall()} == {"built"}
    day = next(day_root.glob("20*"))
    caches = sorted((day / CACHE_DIR_NAME).glob("*.quotes.parquet"))
    assert len(caches) == 4
    con = connect(day_root)
    assert {r[0] for r in con.sql("SELECT cache FROM files").fetchall()} == {"reused"}

    # Replace the binance file with a shorter recording: its cache must be rebuilt.
    binance = next(day.glob("*-binance-*.parquet"))
    rows = list(synthetic.connection_rows("binance", 10, DAY_START_NS, 10))
    synthetic.write_parquet(synthetic.rows_table(rows), binance, "binance")
    stat = binance.stat()
    os.utime(binance, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    con = connect(day_root)
    states = dict(con.sql("SELECT path, cache FROM files").fetchall())
    assert states.pop(str(binance)) == "built"
    assert set(states.values()) == {"reused"}
    count = con.sql("SELECT count(*) FROM quotes WHERE exchange = 'binance'").fetchall()[0][0]
    decoder = new_decoder("binance")
    expected = sum(
        isinstance(e, Quote)
        for r in rows
        if r[5] == "data"
        for e in decoder(r[8], r[0], r[3], r[4], r[2])
    )
    assert count == expected == 8


def test_cache_dir_override_and_damaged_cache_is_rebuilt(day_root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = connect(day_root, cache_dir=cache).sql("SELECT count(*) FROM quotes").fetchall()
    victim = sorted(cache.glob("*.quotes.parquet"))[0]
    victim.write_bytes(b"not parquet")
    con = connect(day_root, cache_dir=cache)
    assert con.sql("SELECT count(*) FROM quotes").fetchall() == first
    assert con.sql("SELECT count(*) FROM files WHERE cache = 'built'").fetchall() == [(1,)]
    assert not any(day_root.glob(f"*/{CACHE_DIR_NAME}"))


def test_live_segment_with_truncated_tail_is_queryable(day_root: Path) -> None:
    day = next(day_root.glob("20*"))
    start = DAY_START_NS + 10_000_000_000
    rows = list(synthetic.connection_rows("bybit", 99, start, 100))
    segment = day / synthetic.file_name(start, "bybit", 2, ".arrow")
    synthetic.write_segment(synthetic.rows_table(rows), segment, batch_rows=16)
    size = segment.stat().st_size
    with segment.open("r+b") as f:
        f.truncate(size - 50)  # the writer is in the middle of its last batch
    con = connect(day_root)
    complete = (len(rows) // 16) * 16 if len(rows) % 16 else len(rows) - 16
    got = con.sql("SELECT count(*), max(seq) FROM raw WHERE conn_id = 99").fetchall()[0]
    assert got == (complete, complete - 1)
    live = con.sql("SELECT count(*) FROM quotes WHERE conn_id = 99").fetchall()[0][0]
    assert live > 0
    assert con.sql("SELECT cache FROM files WHERE kind = 'segment'").fetchall() == [("live",)]
    assert not list((day / CACHE_DIR_NAME).glob(f"{segment.name}*"))  # never cached


def test_segment_shadowed_by_its_parquet_is_not_read_twice(day_root: Path) -> None:
    day = next(day_root.glob("20*"))
    parquet = next(day.glob("*-mexc-*.parquet"))
    synthetic.write_segment(pq.read_table(parquet), parquet.with_suffix(".arrow"))
    con = connect(day_root)
    counts = con.sql("SELECT count(*), count(DISTINCT (conn_id, seq)) FROM raw").fetchall()[0]
    assert counts[0] == counts[1]


def test_empty_or_header_only_segment_is_fine(day_root: Path) -> None:
    day = next(day_root.glob("20*"))
    (day / synthetic.file_name(DAY_START_NS + 5, "kucoin", 9, ".arrow")).write_bytes(b"")
    assert connect(day_root).sql("SELECT count(*) FROM raw").fetchall()[0][0] > 0


def test_corrupt_parquet_error_names_the_file(day_root: Path) -> None:
    day = next(day_root.glob("20*"))
    victim = next(day.glob("*-kucoin-*.parquet"))
    victim.write_bytes(victim.read_bytes()[:100])
    with pytest.raises(SourceError, match=rf"{victim.name}.*not a readable Parquet"):
        connect(day_root)


def test_foreign_parquet_error_names_the_file(tmp_path: Path) -> None:
    day = tmp_path / "2025-07-22"
    day.mkdir()
    foreign = day / synthetic.file_name(DAY_START_NS, "binance", 1)
    pq.write_table(pa.table({"price": [1.0]}), str(foreign))
    with pytest.raises(SourceError, match=rf"{foreign.name}.*not a ticktape recording"):
        connect(tmp_path)
    explicit = tmp_path / "prices.parquet"
    pq.write_table(pa.table({"recv_ns": ["x"]}), str(explicit))
    with pytest.raises(SourceError, match=r"prices\.parquet"):
        connect(explicit)


def test_missing_or_empty_paths(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file or folder"):
        connect(tmp_path / "nope")
    with pytest.raises(SourceError, match="no recordings under"):
        connect(tmp_path)
    with pytest.raises(SourceError, match="no files match"):
        connect(str(tmp_path / "20*"))


def test_globs_days_and_single_files(day_root: Path, tmp_path: Path) -> None:
    other = tmp_path / "data" / "2025-07-23"
    shutil.copytree(next(day_root.glob("20*")), other, ignore=shutil.ignore_patterns(".*"))
    both = connect(day_root).sql("SELECT count(*) FROM raw").fetchall()[0][0]
    one = connect(other).sql("SELECT count(*) FROM raw").fetchall()[0][0]
    globbed = connect(str(day_root / "2025-07-2*")).sql("SELECT count(*) FROM raw").fetchall()
    assert both == 2 * one and globbed == [(both,)]
    single = next(other.glob("*-mexc-*.parquet"))
    con = connect(single)
    assert con.sql("SELECT DISTINCT exchange FROM quotes").fetchall() == [("mexc",)]


def test_unknown_exchange_rows_become_decode_errors(tmp_path: Path) -> None:
    rows = list(synthetic.connection_rows("binance", 5, DAY_START_NS, 4, trade_every=0))
    rows = [(r[0], "okx", *r[2:]) for r in rows]
    day = tmp_path / "2025-07-22"
    synthetic.write_parquet(
        synthetic.rows_table(rows), day / synthetic.file_name(DAY_START_NS, "okx", 1)
    )
    con = connect(tmp_path)
    assert con.sql("SELECT count(*) FROM quotes").fetchall() == [(0,)]
    issues = con.sql("SELECT kind, count(*), min(detail) FROM issues GROUP BY ALL").fetchall()
    assert issues[0][0] == "decode_error" and issues[0][1] == 5  # ack + 4 data rows
    assert "okx" in issues[0][2]


def test_connections_and_gaps(day_root: Path) -> None:
    con = connect(day_root)
    rows = con.sql(
        "SELECT exchange, conn_id, prev_conn_id, reconnect_gap_s, close_reason, url "
        "FROM connections WHERE exchange = 'bybit' ORDER BY conn_id"
    ).fetchall()
    assert [r[1] for r in rows] == [20, 21]
    assert rows[0][2] is None and rows[1][2] == 20
    assert rows[1][3] == pytest.approx(1.5)
    assert rows[0][4] == "1000 normal closure" and rows[0][5].startswith("wss://stream.bybit")
    gaps = con.sql("SELECT kind, exchange, duration_s FROM gaps ORDER BY exchange").fetchall()
    assert [(g[0], g[1]) for g in gaps] == [("reconnect", e) for e in synthetic.EXCHANGES]


def test_seq_gap_is_found(tmp_path: Path) -> None:
    rows = list(synthetic.connection_rows("kucoin", 7, DAY_START_NS, 30))
    del rows[10:13]
    day = tmp_path / "2025-07-22"
    synthetic.write_parquet(
        synthetic.rows_table(rows), day / synthetic.file_name(DAY_START_NS, "kucoin", 1)
    )
    gaps = connect(tmp_path).sql("SELECT kind, detail FROM gaps").fetchall()
    assert gaps == [("seq", "3 row(s) missing: seq 9 -> 13")]


def test_replay_results_become_views(root_with_results: Path) -> None:
    con = connect(root_with_results)
    assert "episodes" in view_names(con)
    rows = con.sql("SELECT strategy, count(*) FROM episodes GROUP BY ALL").fetchall()
    assert rows == [("arb", 6)]


def test_real_replay_results_are_found(day_root: Path) -> None:
    from ticktape.replay.results import write_results

    result = replay.open(str(day_root)).run(["arb", "latency"])
    written = write_results(result, day_root / "results")
    con = connect(day_root)
    names = view_names(con)
    for path in written:
        assert path.stem in names or f"result_{path.stem}" in names
    assert con.sql("SELECT DISTINCT strategy FROM latency").fetchall() == [("latency",)]


def _recorder_segment(day: Path, conn_id: int, start_ns: int, batches: int = 3) -> Path:
    """A live segment written by the recorder's own SegmentWriter (one dictionary per batch)."""
    import pyarrow.fs as pafs

    from ticktape.recorder.segment import SegmentWriter

    rows = list(synthetic.connection_rows("mexc", conn_id, start_ns, 60))
    path = day / synthetic.file_name(start_ns, "mexc", conn_id, ".arrow")
    writer = SegmentWriter(pafs.LocalFileSystem(), str(path), RECORD_SCHEMA, start_ns)
    step = -(-len(rows) // batches)
    for offset in range(0, len(rows), step):  # each batch builds its own dictionaries
        writer.write(synthetic.rows_table(rows[offset : offset + step]).to_batches()[0])
    return path


def test_recorder_segments_and_their_compaction(day_root: Path) -> None:
    import pyarrow.fs as pafs

    from ticktape.recorder.compaction import compact_segment

    day = next(day_root.glob("20*"))
    live = _recorder_segment(day, 71, DAY_START_NS + 20_000_000_000)
    rotated = _recorder_segment(day, 72, DAY_START_NS + 30_000_000_000)
    compact_segment(pafs.LocalFileSystem(), str(rotated))
    assert not rotated.exists() and rotated.with_suffix(".parquet").exists()
    con = connect(day_root)
    rows = dict(
        con.sql("SELECT conn_id, count(*) FROM raw WHERE conn_id > 70 GROUP BY 1").fetchall()
    )
    assert rows == {71: 64, 72: 64}
    states = dict(con.sql("SELECT path, cache FROM files").fetchall())
    assert states[str(live)] == "live" and states[str(rotated.with_suffix(".parquet"))] == "built"
    quotes = dict(
        con.sql("SELECT conn_id, count(*) FROM quotes WHERE conn_id > 70 GROUP BY 1").fetchall()
    )
    assert quotes == {71: 48, 72: 48}


def test_segment_rotated_while_reading_is_read_from_its_parquet(
    day_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow.fs as pafs

    from ticktape.analysis import connection
    from ticktape.recorder.compaction import compact_segment

    day = next(day_root.glob("20*"))
    segment = _recorder_segment(day, 73, DAY_START_NS + 40_000_000_000)
    real_read = connection.read_segment

    def rotate_then_read(path: Path) -> pa.Table:
        compact_segment(pafs.LocalFileSystem(), str(path))  # the recorder wins the race
        return real_read(path)

    monkeypatch.setattr(connection, "read_segment", rotate_then_read)
    con = connect(day_root)
    assert con.sql("SELECT count(*) FROM raw WHERE conn_id = 73").fetchall() == [(64,)]
    assert con.sql("SELECT count(*) FROM quotes WHERE conn_id = 73").fetchall() == [(48,)]
    assert not segment.exists()


def test_garbage_segment_is_an_error_naming_it(day_root: Path) -> None:
    day = next(day_root.glob("20*"))
    garbage = day / synthetic.file_name(DAY_START_NS + 7, "binance", 5, ".arrow")
    garbage.write_bytes(b"this is not arrow at all")
    with pytest.raises(SourceError, match=rf"{garbage.name}: not an Arrow IPC stream"):
        connect(day_root)


def test_parallel_decode_gives_the_same_tables(day_root: Path, tmp_path: Path) -> None:
    serial = connect(day_root, cache_dir=tmp_path / "serial", workers=1)
    parallel = connect(day_root, cache_dir=tmp_path / "parallel", workers=2)
    sql = "SELECT * FROM quotes ORDER BY recv_ns, exchange, conn_id, seq"
    assert serial.sql(sql).fetchall() == parallel.sql(sql).fetchall()
    assert parallel.sql("SELECT DISTINCT cache FROM files").fetchall() == [("built",)]


def test_clock_probe_rows_are_not_connections(tmp_path: Path) -> None:
    rows = list(synthetic.connection_rows("bybit", 3, DAY_START_NS, 5))
    probe = b'{"wall_ns":1,"mono_ns":2}'
    rows += [
        (DAY_START_NS + i, "bybit", "clock", 99, i, "clock", None, False, probe) for i in range(3)
    ]
    day = tmp_path / "2025-07-22"
    synthetic.write_parquet(
        synthetic.rows_table(rows), day / synthetic.file_name(DAY_START_NS, "bybit", 1)
    )
    con = connect(tmp_path)
    assert con.sql("SELECT conn_id FROM connections").fetchall() == [(3,)]
    assert con.sql("SELECT count(*) FROM raw WHERE kind = 'clock'").fetchall() == [(3,)]


def test_damaged_pages_error_names_the_file(tmp_path: Path) -> None:
    (path,) = synthetic.write_day(tmp_path, DAY_START_NS, messages=3000, exchanges=("binance",))
    damaged = bytearray(path.read_bytes())
    middle = len(damaged) // 3
    damaged[middle : middle + 400] = bytes(b ^ 0x5A for b in damaged[middle : middle + 400])
    path.write_bytes(bytes(damaged))
    with pytest.raises(SourceError, match=rf"{path.name}: cannot read recording"):
        connect(tmp_path)


def test_sql_equals_replay_when_a_connection_spans_rotated_files(tmp_path: Path) -> None:
    rows = list(synthetic.connection_rows("bybit", 8, DAY_START_NS, 90))
    rows += list(synthetic.connection_rows("kucoin", 9, DAY_START_NS + 5, 90))
    rows.sort(key=lambda r: (r[0], r[1], r[3], r[4]))
    day = tmp_path / "2025-07-22"
    for part, chunk in enumerate((rows[:70], rows[70:130], rows[130:]), start=1):
        name = synthetic.file_name(chunk[0][0], "mixed", part)  # both connections span files
        synthetic.write_parquet(synthetic.rows_table(chunk), day / name)
    quotes, trades = _replay_market_events(tmp_path)
    con = connect(tmp_path)
    got = con.sql(
        "SELECT exchange, symbol, recv_ns, exch_ns, conn_id, seq, bid, bid_size, ask, ask_size, "
        "req_ns FROM quotes ORDER BY recv_ns, exchange, conn_id, seq"
    ).fetchall()
    assert got == [_fields(q) for q in quotes] and len(got) == 144
    assert con.sql("SELECT count(*) FROM trades").fetchall() == [(len(trades),)]
    assert con.sql("SELECT count(*) FROM files").fetchall() == [(3,)]
