"""The latency monitor's numpy batch path is the per-event path, bit for bit.

Random event streams (several exchanges and symbols, quotes and trades, messages of several
events, missing and present exchange and request timestamps, negative latencies, bursts in one
second, silences, connection events) are cut anywhere; each piece goes to ``on_batch`` (forced
onto the numpy path), ``on_events`` or ``on_event``. Alerts (order and values), returned signals,
every result table and the summary must equal one ``on_event`` call per event.
"""

from __future__ import annotations

import hashlib
import itertools

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategy_streams import START_NS, market_stream

from ticktape.exchanges.events import Connected, DecodeError, Disconnected, Event, Gap, Quote, Trade
from ticktape.strategies.base import Signal
from ticktape.strategies.batch import OTHER, QUOTE, TRADE, EventBatch
from ticktape.strategies.histogram import Histogram, bucket_index, bucket_indices
from ticktape.strategies.latency import LatencyStrategy

MS = 1_000_000
CONFIGS = [
    {},
    {"spike_window": 3, "spike_factor": 1.5, "stale_after_s": 0.004, "trades_stale_after_s": 0.01},
    {"spike_window": 1, "spike_factor": 1.0, "stale_after_s_by_exchange": {"bybit": 0.002},
     "max_alerts": 7},
    {"spike_window": 5, "spike_factor": 2.0, "stale_after_s": 0.5},
]  # fmt: skip

steps = st.tuples(
    st.sampled_from([0, 0, 1, MS // 2, MS, 3 * MS, 10 * MS, 400 * MS, 1_500 * MS]),
    st.sampled_from(["quote"] * 6 + ["trade"] * 3 + ["same", "connect", "disconnect", "gap"]),
    st.sampled_from(["binance", "bybit", "mexc"]),
    st.sampled_from(["BTC-USDT", "ETH-USDT"]),
    st.one_of(st.none(), st.integers(min_value=-5 * MS, max_value=80 * MS)),  # latency
    st.one_of(st.none(), st.none(), st.integers(min_value=0, max_value=50 * MS)),  # round trip
)


def build_events(raw: list[tuple]) -> list[Event]:
    now = START_NS
    seq = {"binance": 0, "bybit": 0, "mexc": 0}
    conn = {"binance": 1, "bybit": 2, "mexc": 3}
    events: list[Event] = []
    last: Event | None = None
    for dt, kind, ex, sym, latency, rtt in raw:
        now += dt
        exch_ns = None if latency is None else now - latency
        req_ns = None if rtt is None else now - rtt
        if kind == "same" and isinstance(last, Quote | Trade):  # another event of that message
            kind = "trade"
            ex, sym = last.exchange, last.symbol
            seq[ex] -= 1
        seq[ex] += 1
        if kind in ("quote", "trade"):
            if kind == "quote":
                last = Quote(ex, sym, now, exch_ns, conn[ex], seq[ex], 1.0, 1.0, 2.0, 1.0, req_ns)
            else:
                last = Trade(ex, sym, now, exch_ns, conn[ex], seq[ex], 1.5, 1.0, "buy", "t", req_ns)
            events.append(last)
        elif kind == "connect":
            events.append(Connected(ex, now, conn[ex], seq[ex], "ws", "wss://x"))
        elif kind == "disconnect":
            events.append(Disconnected(ex, now, conn[ex], seq[ex], "ws", "eof"))
            conn[ex] += 10
        else:
            events.append(Gap(ex, now, conn[ex], seq[ex], "ws", "gap"))
            events.append(DecodeError(ex, now, conn[ex], seq[ex], "ws", "bad"))
    return events


def tables_digest(tables: dict[str, pa.Table]) -> str:
    h = hashlib.sha256()
    for name in sorted(tables):
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, tables[name].schema) as writer:
            writer.write_table(tables[name])
        h.update(name.encode() + sink.getvalue().to_pybytes())
    return h.hexdigest()


def run(
    events: list[Event], config: dict[str, object], cuts: list[int], modes: list[str]
) -> tuple[list[Signal], str, str]:
    strategy = LatencyStrategy(**config)  # type: ignore[arg-type]
    strategy.batch_min_events = 0  # always the numpy path, even for tiny batches
    bounds = [0, *sorted({c % (len(events) + 1) for c in cuts}), len(events)]
    signals: list[Signal] = []
    for k, (lo, hi) in enumerate(itertools.pairwise(bounds)):
        chunk = events[lo:hi]
        mode = modes[k % len(modes)]
        if mode == "batch":
            signals += strategy.on_batch(EventBatch.from_events(chunk))
        elif mode == "events":
            signals += strategy.on_events(chunk)
        else:
            signals += [s for e in chunk for s in strategy.on_event(e)]
    signals += strategy.finish(events[-1].recv_ns if events else 0)
    return signals, tables_digest(strategy.results()), strategy.summary()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(steps, min_size=1, max_size=150),
    st.sampled_from(range(len(CONFIGS))),
    st.lists(st.integers(min_value=0, max_value=300), max_size=8),
    st.lists(st.sampled_from(["batch", "batch", "events", "event"]), min_size=1, max_size=4),
)
def test_any_cut_and_any_entry_point_give_the_per_event_results(
    raw: list[tuple], config: int, cuts: list[int], modes: list[str]
) -> None:
    events = build_events(raw)
    expected = run(events, CONFIGS[config], [], ["event"])
    assert run(events, CONFIGS[config], cuts, modes) == expected
    assert run(events, CONFIGS[config], [], ["batch"]) == expected


@pytest.mark.parametrize("config", CONFIGS)
def test_a_long_stream_in_windows(config: dict[str, object]) -> None:
    events = market_stream(8000, seed=3)
    expected = run(events, config, [], ["event"])
    assert run(events, config, [1000, 2500, 2501, 7000], ["batch"]) == expected
    assert expected[1]


def test_spike_values_too_large_for_float64_use_python_integers() -> None:
    # 2**53 / 4 < latency: value * window is not exact in float64, so push() decides
    big = 2**52
    lat = [big, big, big, big, 3 * big + 1, big + 1, 4 * big]
    events: list[Event] = [
        Quote("bybit", "BTC-USDT", START_NS + k, START_NS + k - v, 1, k, 1.0, 1.0, 2.0, 1.0)
        for k, v in enumerate(lat)
    ]
    config = {"spike_window": 4, "spike_factor": 3.0}
    expected = run(events, config, [], ["event"])
    assert run(events, config, [], ["batch"]) == expected
    assert [s.kind for s in expected[0]] == ["spike"]


def test_integers_beyond_int64_go_event_by_event() -> None:
    events: list[Event] = [
        Quote("bybit", "BTC-USDT", START_NS, -(1 << 62), 1, 0, 1.0, 1.0, 2.0, 1.0),
        Quote("bybit", "BTC-USDT", START_NS + 1, START_NS, 1, 1, 1.0, 1.0, 2.0, 1.0),
    ]
    batch = EventBatch.from_events(events)
    assert not batch.exact
    assert run(events, {}, [], ["batch"]) == run(events, {}, [], ["event"])


def test_event_batch_columns() -> None:
    events: list[Event] = [
        Connected("mexc", 5, 3, 0, "ws", "wss://x"),
        Quote("mexc", "ETH-USDT", 10, 7, 3, 1, 1.0, 1.0, 2.0, 1.0),
        Trade("bybit", "BTC-USDT", 11, None, 2, 4, 1.0, 1.0, "buy", "t", 9),
        Quote("mexc", "BTC-USDT", 12, None, 3, 2, 1.0, 1.0, 2.0, 1.0),
    ]
    batch = EventBatch.from_events(events)
    assert batch.exact and len(batch) == 4
    assert batch.kind.tolist() == [OTHER, QUOTE, TRADE, QUOTE]
    assert [batch.exchanges[c] for c in batch.exchange.tolist()] == [
        "mexc",
        "mexc",
        "bybit",
        "mexc",
    ]
    assert [batch.symbols[c] if c >= 0 else None for c in batch.symbol.tolist()] == [
        None, "ETH-USDT", "BTC-USDT", "BTC-USDT",
    ]  # fmt: skip
    assert batch.recv_ns.tolist() == [5, 10, 11, 12]
    assert (batch.conn_id.tolist(), batch.seq.tolist()) == ([3, 3, 2, 3], [0, 1, 4, 2])
    assert batch.has_exch_ns.tolist() == [False, True, False, False]
    assert batch.exch_ns.tolist() == [0, 7, 0, 0]
    assert (batch.has_req_ns.tolist(), batch.req_ns.tolist()) == (
        [False, False, True, False], [0, 0, 9, 0],
    )  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(st.integers(min_value=-(2**62), max_value=2**62), max_size=40), max_size=5),
    st.lists(st.integers(min_value=-(10**7), max_value=10**10), max_size=40),
)
def test_histogram_batches_and_single_samples_are_the_same_histogram(
    batches: list[list[int]], singles: list[int]
) -> None:
    one, many = Histogram(), Histogram()
    for values in batches:
        for v in values:
            one.record(v)
        many.record_many(np.array(values, dtype=np.int64))
    for v in singles:  # single samples after batches (counters are then arrays)
        one.record(v)
        many.record(v)
    qs = (0.1, 25.0, 50.0, 99.0, 99.9, 100.0)
    assert one.percentiles(qs) == many.percentiles(qs)
    assert (one.count, one.total, one.min, one.max) == (many.count, many.total, many.min, many.max)
    merged_one, merged_many = Histogram(), Histogram()
    merged_one.merge(one)
    merged_many.merge(many)
    merged_many.merge(Histogram())
    assert merged_one.percentiles(qs) == merged_many.percentiles(qs)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.integers(min_value=0, max_value=2**63 - 1),
            st.integers(min_value=0, max_value=10**10),
            st.sampled_from([2**53 - 1, 2**53, 2**53 + 1, 2**63 - 1, 127, 128, 255, 256]),
        ),
        max_size=50,
    ),
    st.sampled_from([1, 7, 12, 16]),
)
def test_bucket_indices_is_bucket_index_for_every_value(values: list[int], bits: int) -> None:
    got = bucket_indices(np.array(values, dtype=np.int64), bits).tolist()
    assert got == [bucket_index(v, bits) for v in values]
