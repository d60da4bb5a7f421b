"""What the driver hands to batch strategies: the window's events and their columns.

The driver builds :class:`EventBatch` columns from the rows (each event's identity is its row's)
rather than from the events; these tests check they equal the columns read from the events
themselves, through everything that breaks "one row, one event": skipped kinds, control frames
that decode to nothing, messages with several events, gaps, open/close rows, REST rows, decoders
that raise. And the real strategies give the same results through the driver as one by one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
from replay_testkit import fake_decode, file_name, make_rows, write_parquet

from ticktape import replay
from ticktape.exchanges.events import Event, Trade
from ticktape.replay.digest import results_digest
from ticktape.strategies import create, run
from ticktape.strategies.batch import EventBatch

ROWS = make_rows(seed=5, rows_per_conn=60)


class BatchRecorder:
    """Keeps every batch it is given (and answers like a strategy)."""

    name = "recorder"

    def __init__(self) -> None:
        self.batches: list[EventBatch] = []

    def on_event(self, event: Event) -> list[str]:
        raise AssertionError("the driver must call on_batch")

    def on_batch(self, batch: EventBatch) -> list[str]:
        self.batches.append(batch)
        return ["x"] * int((batch.kind == 1).sum())

    def finish(self, end_ns: int) -> list[str]:
        return []

    def results(self) -> dict[str, object]:
        return {}

    def summary(self) -> str:
        return ""


def awkward_decoder(name: str):  # type: ignore[no-untyped-def]
    """Two events for trades, nothing for some quotes, an exception now and then."""
    decode = fake_decode(name)

    def decoder(payload, recv_ns, conn_id, seq, stream):  # type: ignore[no-untyped-def]
        if seq % 11 == 3:
            raise RuntimeError("boom")
        if seq % 7 == 2:
            return []  # a control frame
        events = decode(payload, recv_ns, conn_id, seq, stream)
        if events and type(events[0]) is Trade:
            events = events + events
        return events

    return decoder


def columns(batch: EventBatch) -> dict[str, list[object]]:
    symbols = [batch.symbols[c] if c >= 0 else None for c in batch.symbol.tolist()]
    return {
        "kind": batch.kind.tolist(),
        "recv_ns": batch.recv_ns.tolist(),
        "conn_id": batch.conn_id.tolist(),
        "seq": batch.seq.tolist(),
        "exchange": [batch.exchanges[c] for c in batch.exchange.tolist()],
        "symbol": symbols,
        "exch_ns": np.where(batch.has_exch_ns, batch.exch_ns, -1).tolist(),
        "req_ns": np.where(batch.has_req_ns, batch.req_ns, -1).tolist(),
    }


def test_batch_columns_equal_the_events_own(tmp_path: Path) -> None:
    rows = [dict(r) for r in ROWS if not (r["conn_id"] == 2 and r["seq"] in (20, 21))]  # a gap
    for r in rows:
        if r["kind"] == "data" and r["exchange"] == "mexc":
            r["req_ns"] = r["recv_ns"] - 7_000  # REST rows
    write_parquet(tmp_path / file_name(1), rows)
    recorder = BatchRecorder()
    for window_rows in (7, 64, 65_536):
        recorder.batches.clear()
        tape = replay.open(tmp_path, window_rows=window_rows)
        result = tape.run([("recorder", recorder)], decoder_factory=awkward_decoder, digest=False)
        events = [e for b in recorder.batches for e in b.events]
        assert events == list(tape.events(awkward_decoder))
        assert len(events) == result.counts.events
        assert result.counts.gaps == 1 and result.counts.events_by_type["Gap"] == 1
        assert result.counts.events_by_type["DecodeError"] > 0
        for batch in recorder.batches:
            assert batch.exact
            assert columns(batch) == columns(EventBatch.from_events(batch.events))


def test_real_strategies_through_the_driver_equal_one_by_one(tmp_path: Path) -> None:
    rows = [dict(r) for r in ROWS]
    for r in rows:
        if r["kind"] == "data":
            body = orjson.loads(r["payload"])
            if "b" in body and r["exchange"] in ("bybit", "kucoin") and r["seq"] % 5 == 0:
                body["b"] += 3.0  # a dislocation now and then
                body["a"] = body["b"] + 0.1
                r["payload"] = orjson.dumps(body)
    write_parquet(tmp_path / file_name(1), rows)
    tape = replay.open(tmp_path, window_rows=50)
    result = tape.run(["arb", "latency"], decoder_factory=fake_decode, digest=False)
    events = list(tape.events(fake_decode))
    for name in ("arb", "latency"):
        strategy = create(name)
        signals = run(strategy, events, result.counts.last_recv_ns)
        assert result.counts.signals[name] == len(signals)
        assert results_digest({name: strategy.results()}) == results_digest(
            {name: result.results[name]}
        )
        assert result.summaries[name] == strategy.summary()
    assert result.counts.signals["arb"] > 0


def test_one_raising_decoder_shared_by_every_exchange_names_each_rows_exchange(
    tmp_path: Path,
) -> None:
    def decode(payload, recv_ns, conn_id, seq, stream):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    write_parquet(tmp_path / file_name(1), ROWS)
    tape = replay.open(tmp_path)
    errors = list(tape.events(lambda name: decode))
    data_rows = [r for r in ROWS if r["kind"] == "data"]
    by_row = {(e.conn_id, e.seq): e.exchange for e in errors if type(e).__name__ == "DecodeError"}
    assert by_row == {(r["conn_id"], r["seq"]): r["exchange"] for r in data_rows}
