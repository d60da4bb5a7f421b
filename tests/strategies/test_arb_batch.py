"""Every arbitrage entry point gives exactly the per-event path's signals, tables and summary.

``ArbStrategy.on_batch`` (with the compiled common-case loop, ``_native/arbquiet.pyx``, and with
the Python loop it stands in for) and ``on_events`` (cut anywhere, mixed with ``on_event``)
against a fresh ``ArbStrategy`` fed one event at a time, on random streams that make every
rule fire: crossed, locked and one-sided books, zero sizes, repeated prices, disconnects, gaps,
staleness, several symbols and more exchanges than the initial capacity. What the per-event
path must compute is pinned elsewhere: hand-computed rules (``test_arb_rules.py``) and a brute-force
reference after every event (``test_strategy_determinism.py``).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import random
from collections.abc import Iterator

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategy_streams import START_NS, S, market_stream

from ticktape.exchanges.events import Connected, DecodeError, Disconnected, Event, Gap, Quote, Trade
from ticktape.strategies import arb as arb_module
from ticktape.strategies.arb import ArbStrategy
from ticktape.strategies.base import Signal
from ticktape.strategies.batch import EventBatch

BOOKS = [
    (99.0, 99.5), (100.5, 101.0), (99.75, 100.0), (100.2, 100.3), (101.0, 100.5), (101.0, 101.0),
    (0.0, 100.0), (100.6, 0.0), (float("inf"), 101.0), (99.0, float("nan")), (-1.0, 100.0),
]  # fmt: skip
EXCHANGES = ("binance", "bybit", "mexc", "kucoin", "okx", "gate")  # > 4: the slots grow
SYMBOLS = ("BTC-USDT", "ETH-USDT", "SOL-USDT")
CONFIGS = [
    {"default_staleness_s": 1.0},
    {"default_staleness_s": 1.0, "min_edge_bps": 0.0, "keep_updates": False},
    {"default_staleness_s": 2.0, "min_edge_bps": 25.0, "staleness_s": {"mexc": 0.5}},
    {"taker_fees": {"binance": 0.0, "bybit": 0.0}, "default_staleness_s": 1.0},
]

steps = st.tuples(
    st.sampled_from([0, 0, 1, S // 3, S // 2, S - 1, S, 2 * S]),
    st.sampled_from(["quote"] * 10 + ["trade", "disconnect", "connect", "gap", "error"]),
    st.sampled_from(EXCHANGES),
    st.sampled_from(SYMBOLS),
    st.sampled_from(BOOKS),
    st.sampled_from([1.0, 1.0, 2.0, 0.0, 0.5]),
    st.sampled_from([1.0, 1.0, 2.0, 0.0, 3.0]),
)


def build_events(raw: list[tuple]) -> list[Event]:
    now = START_NS
    conn = {e: k + 1 for k, e in enumerate(EXCHANGES)}
    events: list[Event] = []
    for seq, (dt, kind, ex, sym, (bid, ask), bsz, asz) in enumerate(raw):
        now += dt
        if kind == "quote":
            events.append(Quote(ex, sym, now, None, conn[ex], seq, bid, bsz, ask, asz))
        elif kind == "trade":
            events.append(Trade(ex, sym, now, None, conn[ex], seq, 100.0, 1.0, "buy", str(seq)))
        elif kind == "disconnect":
            events.append(Disconnected(ex, now, conn[ex], seq, "ws", "eof"))
            conn[ex] += 10
        elif kind == "connect":
            events.append(Connected(ex, now, conn[ex], seq, "ws", "wss://x"))
        elif kind == "gap":
            events.append(Gap(ex, now, conn[ex], seq, "ws", "gap"))
        else:
            events.append(DecodeError(ex, now, conn[ex], seq, "ws", "bad"))
    return events


def tables_digest(tables: dict[str, pa.Table]) -> str:
    h = hashlib.sha256()
    for name in sorted(tables):
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, tables[name].schema) as writer:
            writer.write_table(tables[name])
        h.update(name.encode() + sink.getvalue().to_pybytes())
    return h.hexdigest()


def outcome(strategy: object, signals: list[Signal]) -> tuple[list[Signal], str, str]:
    return signals, tables_digest(strategy.results()), strategy.summary()  # type: ignore[attr-defined]


def one_by_one(events: list[Event], config: dict[str, object]) -> tuple[list[Signal], str, str]:
    strategy = ArbStrategy(**config)  # type: ignore[arg-type]
    signals = [s for e in events for s in strategy.on_event(e)]
    signals += strategy.finish(events[-1].recv_ns if events else 0)
    return outcome(strategy, signals)


@contextlib.contextmanager
def loop(compiled: bool) -> Iterator[None]:
    """Run ``on_batch`` with the compiled common case, or with the Python loop only."""
    saved = arb_module.arbquiet
    if compiled:
        assert saved is not None, "the arbquiet extension is not built: pip install -e ."
    else:
        arb_module.arbquiet = None
    try:
        yield
    finally:
        arb_module.arbquiet = saved


def chunked(
    events: list[Event],
    config: dict[str, object],
    cuts: list[int],
    modes: list[str],
    compiled: bool = True,
) -> tuple[list[Signal], str, str]:
    with loop(compiled):
        return _chunked(events, config, cuts, modes)


def _chunked(
    events: list[Event], config: dict[str, object], cuts: list[int], modes: list[str]
) -> tuple[list[Signal], str, str]:
    strategy = ArbStrategy(**config)  # type: ignore[arg-type]
    bounds = [0, *sorted({c % (len(events) + 1) for c in cuts}), len(events)]
    signals: list[Signal] = []
    for k, (lo, hi) in enumerate(itertools.pairwise(bounds)):
        chunk = events[lo:hi]
        mode = modes[k % len(modes)] if modes else "batch"
        if mode == "batch":
            signals += strategy.on_batch(EventBatch.from_events(chunk))
        elif mode == "events":
            signals += strategy.on_events(chunk)
        else:
            signals += [s for e in chunk for s in strategy.on_event(e)]
    signals += strategy.finish(events[-1].recv_ns if events else 0)
    return outcome(strategy, signals)


@settings(max_examples=250, deadline=None)
@given(
    st.lists(steps, min_size=1, max_size=120),
    st.sampled_from(range(len(CONFIGS))),
    st.lists(st.integers(min_value=0, max_value=200), max_size=8),
    st.lists(st.sampled_from(["batch", "events", "event"]), max_size=4),
    st.booleans(),
)
def test_any_cut_and_any_entry_point_match_one_by_one(
    raw: list[tuple], config: int, cuts: list[int], modes: list[str], compiled: bool
) -> None:
    events = build_events(raw)
    expected = one_by_one(events, CONFIGS[config])
    assert chunked(events, CONFIGS[config], cuts, modes, compiled) == expected


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("rate", [0.0, 0.002, 0.05])
def test_long_streams_in_windows_match_one_by_one(config: dict[str, object], rate: float) -> None:
    events = market_stream(6000, seed=5, dislocation_rate=rate)
    rng = random.Random(int(rate * 1000))
    cuts = sorted(rng.randrange(len(events)) for _ in range(6))
    expected = one_by_one(events, config)
    assert chunked(events, config, cuts, ["batch"]) == expected
    assert chunked(events, config, cuts, ["batch"], compiled=False) == expected
    assert chunked(events, config, cuts, ["events", "batch"]) == expected
    if rate:
        assert expected[0], "the stream should open episodes"


def test_a_batch_with_integers_beyond_int64_goes_event_by_event() -> None:
    huge = 1 << 70
    events: list[Event] = [
        Quote("binance", "BTC-USDT", START_NS, None, 1, huge, 99.0, 1.0, 100.0, 1.0),
        Quote("bybit", "BTC-USDT", START_NS + 1, None, 2, 0, 101.0, 1.0, 102.0, 1.0),
    ]
    batch = EventBatch.from_events(events)
    assert not batch.exact
    strategy = ArbStrategy()
    (opened,) = strategy.on_batch(batch)
    assert (opened.kind, opened.exchanges) == ("open", ("binance", "bybit"))
