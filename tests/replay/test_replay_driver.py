"""Driving decoders and strategies: connection events, gaps, decode errors, REST, pacing."""

from __future__ import annotations

from pathlib import Path

import pytest
from replay_testkit import (
    CountingStrategy,
    fake_decoder_factory,
    file_name,
    key,
    make_rows,
    write_parquet,
)

from ticktape import replay
from ticktape.exchanges.events import (
    Connected,
    DecodeError,
    Disconnected,
    Gap,
    Quote,
    Trade,
)
from ticktape.replay.errors import BadOptionError
from ticktape.replay.pacing import Pacer, parse_speed

ROWS = make_rows(seed=11, rows_per_conn=30)


def _tape(tmp_path: Path, rows: list[dict], window_rows: int = 65_536) -> replay.Tape:
    write_parquet(tmp_path / file_name(1), rows)
    return replay.open(tmp_path, window_rows=window_rows)


def test_rows_become_events_in_order(tmp_path: Path) -> None:
    events = list(_tape(tmp_path, ROWS).events(fake_decoder_factory))
    ordered = sorted(ROWS, key=key)
    wanted_rows = [r for r in ordered if r["kind"] in ("data", "open", "close")]
    assert [(e.conn_id, e.seq) for e in events] == [(r["conn_id"], r["seq"]) for r in wanted_rows]
    by_kind = {"open": Connected, "close": Disconnected}
    for event, row in zip(events, wanted_rows, strict=True):
        assert type(event) in ((Quote, Trade) if row["kind"] == "data" else (by_kind[row["kind"]],))
        assert (event.exchange, event.recv_ns) == (row["exchange"], row["recv_ns"])
    first = events[0]
    assert isinstance(first, Connected) and first.url.startswith("wss://example/")


def test_seq_gaps_become_gap_events_before_the_row(tmp_path: Path) -> None:
    rows = [r for r in ROWS if not (r["conn_id"] == 3 and r["seq"] in (10, 11, 12))]
    for window_rows in (65_536, 5):  # also across window boundaries
        folder = tmp_path / str(window_rows)
        events = list(_tape(folder, rows, window_rows).events(fake_decoder_factory))
        gaps = [i for i, e in enumerate(events) if isinstance(e, Gap)]
        assert len(gaps) == 1
        gap = events[gaps[0]]
        assert (gap.conn_id, gap.seq) == (3, 13)
        assert gap.detail == "seq jumped from 9 to 13: 3 rows missing"
        after = events[gaps[0] + 1]
        assert (after.conn_id, after.seq) == (3, 13)


def test_counts_and_strategy_feeding(tmp_path: Path) -> None:
    strategy = CountingStrategy()
    result = _tape(tmp_path, ROWS, window_rows=9).run(
        [("counting", strategy)], decoder_factory=fake_decoder_factory
    )
    counts = result.counts
    assert counts.rows == len(ROWS)
    assert counts.rows_by_kind == {
        kind: sum(r["kind"] == kind for r in ROWS) for kind in {r["kind"] for r in ROWS}
    }
    assert counts.events == len(strategy.seen)
    trades = sum(type(e) is Trade for e in strategy.seen)
    assert counts.events_by_type["Trade"] == trades and counts.signals == {"counting": trades}
    assert strategy.finished_at == max(r["recv_ns"] for r in ROWS) == counts.last_recv_ns
    assert result.results["counting"]["counts"].num_rows > 0
    assert result.summaries == {"counting": f"{len(strategy.seen)} events"}


def test_decode_errors_are_counted_never_fatal(tmp_path: Path) -> None:
    rows = [dict(r) for r in ROWS]
    broken = [r for r in rows if r["kind"] == "data" and r["exchange"] == "kucoin"][:3]
    for r in broken:
        r["payload"] = b"{not json"
    rows.append({**rows[0], "exchange": "coinbase", "stream": "cb", "conn_id": 99, "seq": 0})
    rows.append({**rows[0], "exchange": "coinbase", "stream": "cb", "conn_id": 99, "seq": 1,
                 "kind": "data"})  # fmt: skip
    result = _tape(tmp_path, rows).run(decoder_factory=fake_decoder_factory)
    assert result.counts.decode_errors == {"kucoin": {"kucoin.btc": 3}, "coinbase": {"cb": 1}}
    assert result.counts.events_by_type["DecodeError"] == 4
    assert result.counts.rows == len(rows)


def test_a_decoder_that_raises_gives_decode_errors(tmp_path: Path) -> None:
    def factory(name: str):  # type: ignore[no-untyped-def]
        def decode(payload, recv_ns, conn_id, seq, stream):  # type: ignore[no-untyped-def]
            raise RuntimeError("boom")

        return decode

    events = list(_tape(tmp_path, ROWS).events(factory))
    errors = [e for e in events if isinstance(e, DecodeError)]
    assert errors and all("boom" in e.error for e in errors)


def test_rest_rows_carry_req_ns_onto_market_events(tmp_path: Path) -> None:
    rows = [dict(r) for r in ROWS]
    for r in rows:
        if r["kind"] == "data" and r["exchange"] == "mexc":
            r["req_ns"] = r["recv_ns"] - 5_000
    events = list(_tape(tmp_path, rows).events(fake_decoder_factory))
    market = [e for e in events if isinstance(e, Quote | Trade)]
    assert market
    for event in market:
        wanted = event.recv_ns - 5_000 if event.exchange == "mexc" else None
        assert event.req_ns == wanted


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_pacing_sleeps_through_the_recorded_gaps_at_n_times_speed(tmp_path: Path) -> None:
    ns = 10**9
    rows = [
        {**ROWS[0], "recv_ns": t * ns, "conn_id": 1, "seq": s, "kind": "data" if s else "open"}
        for s, t in enumerate([100, 101, 103, 103, 107])
    ]
    fake = FakeTime()
    strategy = CountingStrategy()
    result = _tape(tmp_path, rows).run(
        [("counting", strategy)], speed=2, clock=fake.clock, sleeper=fake.sleep,
        decoder_factory=fake_decoder_factory,
    )  # fmt: skip
    assert fake.sleeps == [0.5, 1.0, 2.0]
    assert fake.now == 103.5  # 7 s of recording at 2x
    assert len(strategy.seen) == 5 and result.counts.rows == 5


def test_max_speed_never_sleeps(tmp_path: Path) -> None:
    fake = FakeTime()
    _tape(tmp_path, ROWS).run(
        speed="max", clock=fake.clock, sleeper=fake.sleep, decoder_factory=fake_decoder_factory
    )
    assert fake.sleeps == []


def test_pacer_does_not_sleep_when_behind() -> None:
    fake = FakeTime()
    pacer = Pacer(1.0, fake.clock, fake.sleep)
    pacer.wait_until(0)
    fake.now += 5
    pacer.wait_until(2 * 10**9)
    assert fake.sleeps == []


@pytest.mark.parametrize(
    ("text", "factor"), [("max", None), (None, None), ("10", 10.0), ("0.5x", 0.5), (3, 3.0)]
)
def test_parse_speed(text: object, factor: float | None) -> None:
    assert parse_speed(text) == factor  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["fast", "0", "-2", "nan", "inf", ""])
def test_parse_speed_rejects(text: str) -> None:
    with pytest.raises(BadOptionError, match="expected max, or a positive factor"):
        parse_speed(text)


def test_progress_reports_rows_done_of_total(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    _tape(tmp_path, ROWS, window_rows=20).run(
        progress=lambda done, total: seen.append((done, total)),
        decoder_factory=fake_decoder_factory,
    )
    assert len(seen) > 3
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert seen[-1] == (len(ROWS), len(ROWS))


def test_close_rows_reset_the_decoders_connection_state(tmp_path: Path) -> None:
    resets: list[tuple[str, int | None]] = []

    class StatefulDecoder:
        def __init__(self, name: str) -> None:
            self.name = name
            self.decode = fake_decoder_factory(name)

        def __call__(self, payload, recv_ns, conn_id, seq, stream):  # type: ignore[no-untyped-def]
            return self.decode(payload, recv_ns, conn_id, seq, stream)

        def reset(self, conn_id: int | None = None) -> None:
            resets.append((self.name, conn_id))

    list(_tape(tmp_path, ROWS).events(StatefulDecoder))
    closes = sorted((r["exchange"], r["conn_id"]) for r in ROWS if r["kind"] == "close")
    assert sorted(resets) == closes
