"""The compiled window decoder changes nothing but speed.

A replay with the compiled decoder (the default) and one with the Python decoders alone (any
``decoder_factory`` turns the compiled one off) must see the same events, in the same order,
with the same values, and produce the same results and digests, whatever the window size. The
compiled decoder must also really be used (most data rows), and the Bybit decoder's level-1
state must stay what it would be had Python read every row.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from replay_testkit import file_name, write_parquet

from ticktape import replay
from ticktape.analysis import synthetic
from ticktape.exchanges import registry
from ticktape.exchanges.events import Quote, Trade
from ticktape.strategies import create
from ticktape.strategies.base import Strategy

BENCH = Path(__file__).parents[2] / "bench" / "replay.py"
DAY_NS = 1_753_142_400 * 10**9


def bench_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_replay_for_tests", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def assert_same_replay(path: Path, window_rows: int | None = None) -> replay.ReplayResult:
    """Compiled vs Python-only: events, counts, results and digests; returns the compiled run."""
    options = {} if window_rows is None else {"window_rows": window_rows}
    tape = replay.open(path, **options)

    def strategies() -> list[tuple[str, Strategy]]:  # no fees, no minimum: episodes to compare
        arb = create("arb", min_edge_bps=0.0, taker_fees=dict.fromkeys(registry.EXCHANGES, 0.0))
        return [("arb", arb), ("latency", create("latency"))]

    compiled = tape.run(strategies(), digest=True)
    python = tape.run(strategies(), decoder_factory=registry.new_decoder, digest=True)
    assert list(tape.events()) == list(tape.events(registry.new_decoder))
    assert compiled.events_digest == python.events_digest
    assert compiled.results_digest == python.results_digest
    assert compiled.counts.events_by_type == python.counts.events_by_type
    assert compiled.counts.decode_errors == python.counts.decode_errors
    assert compiled.counts.signals == python.counts.signals
    assert python.counts.compiled_rows == 0
    return compiled


@pytest.fixture(scope="module")
def bench_day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bench-day")
    return bench_module().generate_day(root, rows=6_000, rotate_rows=2_500)  # type: ignore[no-any-return]


def test_bench_day_is_the_same_and_mostly_compiled(bench_day: Path) -> None:
    result = assert_same_replay(bench_day)
    data_rows = result.counts.rows_by_kind["data"]
    assert result.counts.compiled_rows > 0.95 * data_rows, (result.counts.compiled_rows, data_rows)
    assert result.counts.decode_error_total == 0
    assert result.counts.signals["arb"] > 0


@pytest.mark.parametrize("window_rows", [7, 300])
def test_any_window_size_gives_the_same_events(bench_day: Path, window_rows: int) -> None:
    assert_same_replay(bench_day, window_rows)


def test_synthetic_day_with_reconnects_acks_and_closes(tmp_path: Path) -> None:
    synthetic.write_day(tmp_path, DAY_NS, messages=300, seed=3)
    day = next(p for p in tmp_path.iterdir() if p.is_dir())
    result = assert_same_replay(day, window_rows=64)
    assert result.counts.compiled_rows > 0
    assert result.counts.events_by_type["Connected"] == 8


def test_lazy_events_are_the_python_decoders_objects(bench_day: Path) -> None:
    tape = replay.open(bench_day)
    compiled = list(tape.events())
    python = list(tape.events(registry.new_decoder))
    for mine, theirs in zip(compiled, python, strict=True):
        assert type(mine) is type(theirs)
        assert mine == theirs
    assert any(type(e) is Trade for e in compiled) and any(type(e) is Quote for e in compiled)


# --- Bybit's level-1 state: snapshots read by the compiled decoder, deltas by Python ----------


def bybit_row(recv_ns: int, conn_id: int, seq: int, kind: str, payload: bytes, stream: str) -> dict:
    return {
        "recv_ns": recv_ns, "exchange": "bybit", "stream": stream, "conn_id": conn_id, "seq": seq,
        "kind": kind, "req_ns": None, "binary": False, "payload": payload,
    }  # fmt: skip


def bybit_book(kind: str, symbol: str, ts: int, bids: str, asks: str) -> bytes:
    return (
        f'{{"topic":"orderbook.1.{symbol}","ts":{ts},"type":"{kind}","data":{{"s":"{symbol}",'
        f'"b":{bids},"a":{asks},"u":1,"seq":2}},"cts":{ts - 1}}}'
    ).encode()


def test_bybit_deltas_see_the_snapshots_the_compiled_decoder_read(tmp_path: Path) -> None:
    rows = []
    t = DAY_NS

    def add(conn_id: int, kind: str, payload: bytes, stream: str = "orderbook.1.BTCUSDT") -> None:
        nonlocal t
        t += 1_000_000
        seq = sum(1 for r in rows if r["conn_id"] == conn_id)
        rows.append(bybit_row(t, conn_id, seq, kind, payload, stream))

    snap = "snapshot"
    add(1, "open", b"wss://stream.bybit.com/v5/public/spot", "connection")
    add(1, "data", bybit_book(snap, "BTCUSDT", 1, '[["100.5","1.5"]]', '[["100.7","2"]]'))
    add(1, "data", bybit_book(snap, "ETHUSDT", 2, '[["10.5","3"]]', '[["10.7","4"]]'),
        "orderbook.1.ETHUSDT")  # fmt: skip
    add(1, "data", bybit_book("delta", "BTCUSDT", 3, '[["100.6","1"]]', "[]"))  # bid only
    add(1, "data", bybit_book(snap, "BTCUSDT", 4, '[["101.5","1.5"]]', '[["101.7","2"]]'))
    add(1, "data", bybit_book(snap, "BTCUSDT", 5, '[["102.5","1.5"]]', '[["102.7","2"]]'))
    add(1, "data", bybit_book("delta", "ETHUSDT", 6, "[]", '[["10.6","5"]]'))  # ask only
    add(1, "data", bybit_book("delta", "BTCUSDT", 7, "[]", '[["102.6","9"]]'))
    add(1, "close", b"1006 abnormal closure", "connection")
    add(2, "open", b"wss://stream.bybit.com/v5/public/spot", "connection")
    add(2, "data", bybit_book("delta", "BTCUSDT", 8, '[["103.6","1"]]', "[]"))  # no state yet
    add(2, "data", bybit_book(snap, "BTCUSDT", 9, '[["104.5","1.5"]]', '[["104.7","2"]]'))
    add(2, "data", bybit_book("delta", "BTCUSDT", 10, '[["104.6","1"]]', "[]"))
    write_parquet(tmp_path / file_name(1, "bybit"), rows)

    for window_rows in (1, 3, 100):
        result = assert_same_replay(tmp_path, window_rows)
        assert result.counts.compiled_rows == 5  # the snapshots
    quotes = [e for e in replay.open(tmp_path).events() if type(e) is Quote]
    by_ts = {q.exch_ns // 1_000_000: (q.bid, q.bid_size, q.ask, q.ask_size) for q in quotes}
    assert by_ts[3] == (100.6, 1.0, 100.7, 2.0)  # delta on the compiled snapshot of ts 1
    assert by_ts[6] == (10.5, 3.0, 10.6, 5.0)
    assert by_ts[7] == (102.5, 1.5, 102.6, 9.0)  # the latest compiled snapshot (ts 5)
    assert 8 not in by_ts  # the close forgot connection 1; connection 2 has no state yet
    assert by_ts[10] == (104.6, 1.0, 104.7, 2.0)
