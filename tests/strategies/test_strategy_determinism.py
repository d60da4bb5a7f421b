"""Same events in, same bytes out: repeat runs, any batching, and a brute-force arb reference."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategy_streams import START_NS, S, market_stream

from ticktape.exchanges.events import Connected, Disconnected, Event, Gap, Quote, Trade
from ticktape.strategies import STRATEGIES, Signal, Strategy, create, run
from ticktape.strategies.fees import DEFAULT_TAKER_FEES

EVENTS = market_stream(4000, seed=11, dislocation_rate=0.01)


def digest(tables: dict[str, pa.Table]) -> str:
    """SHA-256 of the tables' Arrow IPC bytes, in name order: equal digests = identical bytes."""
    h = hashlib.sha256()
    for name in sorted(tables):
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, tables[name].schema) as writer:
            writer.write_table(tables[name])
        h.update(name.encode())
        h.update(sink.getvalue().to_pybytes())
    return h.hexdigest()


def one_by_one(name: str) -> tuple[str, list[Signal], str]:
    strategy = create(name)
    signals = run(strategy, EVENTS)
    return digest(strategy.results()), signals, strategy.summary()


@pytest.mark.parametrize("name", STRATEGIES)
def test_two_runs_give_identical_bytes(name: str) -> None:
    first, second = one_by_one(name), one_by_one(name)
    assert first[0] == second[0]
    assert first[1] == second[1]
    assert first[2] == second[2]
    assert first[1], "the stream should exercise the strategy (some signals)"


REFERENCE = {name: one_by_one(name) for name in STRATEGIES}


@settings(max_examples=20, deadline=None)
@given(
    st.sampled_from(STRATEGIES),
    st.lists(st.integers(min_value=1, max_value=len(EVENTS)), max_size=12),
)
def test_results_do_not_depend_on_batching(name: str, cuts: list[int]) -> None:
    strategy: Strategy = create(name)
    bounds = [0, *sorted(set(cuts)), len(EVENTS)]
    signals: list[Signal] = []
    for lo, hi in itertools.pairwise(bounds):
        signals.extend(strategy.on_events(EVENTS[lo:hi]))
    signals.extend(strategy.finish(EVENTS[-1].recv_ns))
    expected_digest, expected_signals, expected_summary = REFERENCE[name]
    assert digest(strategy.results()) == expected_digest
    assert signals == expected_signals
    assert strategy.summary() == expected_summary


# --- a brute-force reference for the arbitrage rules ---------------------------------------------

LIMIT_NS = 1 * S
EXCHANGES = ("binance", "bybit", "mexc")
SYMBOLS = ("BTC-USDT", "ETH-USDT")


def reference_open_pairs(
    book: dict[tuple[str, str], Quote], now: int, min_edge_bps: float
) -> set[tuple[str, str, str]]:
    """Every (symbol, buy, sell) that is an opportunity at ``now``, recomputed from scratch."""

    def usable(price: float, size: float) -> bool:
        return 0.0 < price < float("inf") and 0.0 < size < float("inf")

    def sides(q: Quote) -> tuple[bool, bool]:
        ask_ok, bid_ok = usable(q.ask, q.ask_size), usable(q.bid, q.bid_size)
        crossed = ask_ok and bid_ok and q.bid >= q.ask
        return ask_ok and not crossed, bid_ok and not crossed

    pairs = set()
    for (buy, symbol), qa in book.items():
        for (sell, symbol_b), qb in book.items():
            if buy == sell or symbol != symbol_b:
                continue
            if not (now < qa.recv_ns + LIMIT_NS and now < qb.recv_ns + LIMIT_NS):
                continue
            if not (sides(qa)[0] and sides(qb)[1]):
                continue
            fa, fb = DEFAULT_TAKER_FEES[buy], DEFAULT_TAKER_FEES[sell]
            if qb.bid * (1.0 - fb) > qa.ask * (1.0 + fa + min_edge_bps / 1e4):
                pairs.add((symbol, buy, sell))
    return pairs


# Few distinct books: identical repeats, profitable pairs, crossed and one-sided quotes are common.
BOOKS = [
    (99.0, 99.5),
    (100.5, 101.0),
    (99.75, 100.0),
    (100.2, 100.3),
    (101.0, 100.5),  # crossed
    (101.0, 101.0),  # locked
    (0.0, 100.0),  # no bid
    (100.6, 0.0),  # no ask
]
steps = st.tuples(
    st.sampled_from([0, 1, S // 3, S - 1, S, 2 * S]),  # time step
    st.sampled_from(["quote"] * 8 + ["trade", "disconnect", "connect", "gap"]),
    st.sampled_from(EXCHANGES),
    st.sampled_from(SYMBOLS),
    st.sampled_from(BOOKS),
    st.sampled_from([1.0, 1.0, 2.0, 0.0]),
    st.sampled_from([1.0, 1.0, 2.0, 0.0]),
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
        else:
            events.append(Gap(ex, now, conn[ex], seq, "ws", "gap"))
    return events


@settings(max_examples=300, deadline=None)
@given(st.lists(steps, min_size=1, max_size=80), st.sampled_from([0.0, 1.0, 25.0]))
def test_arb_matches_a_brute_force_reference_after_every_event(
    raw: list[tuple], min_edge_bps: float
) -> None:
    strategy = create("arb", default_staleness_s=LIMIT_NS / S, min_edge_bps=min_edge_bps)
    book: dict[tuple[str, str], Quote] = {}
    open_now: set[tuple[str, str, str]] = set()
    opened = 0
    for event in build_events(raw):
        if isinstance(event, Quote):
            book[(event.exchange, event.symbol)] = event
        elif isinstance(event, Disconnected):
            for key in [k for k, q in book.items() if k[0] == event.exchange]:
                if book[key].conn_id == event.conn_id:
                    del book[key]
        for signal in strategy.on_event(event):
            key = (signal.symbol, *signal.exchanges)
            if signal.kind == "open":
                assert key not in open_now
                open_now.add(key)
                opened += 1
            elif signal.kind == "close":
                open_now.remove(key)
            else:
                assert key in open_now
        assert open_now == reference_open_pairs(book, event.recv_ns, min_edge_bps)
    strategy.finish(0)
    episodes = strategy.results()["episodes"]
    assert episodes.num_rows == opened
    assert all(d >= 0 for d in episodes.column("duration_ns").to_pylist())


@pytest.mark.parametrize("name", STRATEGIES)
def test_on_events_and_run_agree_on_the_signals(name: str) -> None:
    make: Callable[[], Strategy] = lambda: create(name)  # noqa: E731
    batched = make()
    signals = batched.on_events(EVENTS) + batched.finish(EVENTS[-1].recv_ns)
    assert signals == REFERENCE[name][1]
