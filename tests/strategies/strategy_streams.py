"""Deterministic synthetic event streams for the strategy tests and the µs/event measurement.

A seeded random walk per symbol, quoted by every exchange around the same mid with small
per-exchange offsets, with rare dislocations big enough to beat two taker fees, plus trades,
reconnects and a gap now and then. Same seed -> same events, on every machine.
"""

from __future__ import annotations

import random

from ticktape.exchanges.events import Connected, Disconnected, Event, Gap, Quote, Trade

EXCHANGES = ("binance", "bybit", "kucoin", "mexc")
SYMBOLS = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT")
START_NS = 1_753_142_400_000_000_000  # 2025-07-22T00:00:00Z


def market_stream(n: int, seed: int = 7, dislocation_rate: float = 0.002) -> list[Event]:
    """``n`` events in replay order (strictly increasing ``recv_ns``)."""
    rng = random.Random(seed)
    mids = {s: 100.0 * (i + 1) for i, s in enumerate(SYMBOLS)}
    skew = {(e, s): 0.0 for e in EXCHANGES for s in SYMBOLS}
    seqs = {e: 0 for e in EXCHANGES}
    conns = {e: i + 1 for i, e in enumerate(EXCHANGES)}
    events: list[Event] = []
    now = START_NS
    for e in EXCHANGES:
        events.append(Connected(e, now, conns[e], 0, "ws", f"wss://{e}.example/ws"))
        seqs[e] = 1
    while len(events) < n:
        now += rng.randrange(50_000, 400_000)  # 50-400 µs between messages
        e = EXCHANGES[rng.randrange(4)]
        s = SYMBOLS[rng.randrange(4)]
        roll = rng.random()
        mid = mids[s] = mids[s] * (1.0 + rng.gauss(0.0, 2e-5))
        if roll < dislocation_rate:
            skew[(e, s)] = rng.choice((-1.0, 1.0)) * rng.uniform(0.002, 0.006)
        elif roll < 0.05:
            skew[(e, s)] = 0.0
        seq = seqs[e]
        seqs[e] += 1
        exch_ns = None if e == "binance" else now - rng.randrange(1_000_000, 30_000_000)
        if roll > 0.9995:
            events.append(Disconnected(e, now, conns[e], seq, "ws", "server closed"))
            conns[e] += 10
            seqs[e] = 1
            events.append(Connected(e, now + 1, conns[e], 0, "ws", f"wss://{e}.example/ws"))
            now += 1
            continue
        if roll > 0.999:
            events.append(Gap(e, now, conns[e], seq, "ws", "seq jumped"))
            continue
        if roll > 0.95:
            price = round(mid, 2)
            events.append(Trade(e, s, now, exch_ns, conns[e], seq, price, 0.01, "buy", str(seq)))
            continue
        m = mid * (1.0 + skew[(e, s)])
        tick = 0.01
        bid = round(m - tick * rng.randrange(1, 3), 2)
        ask = round(m + tick * rng.randrange(1, 3), 2)
        events.append(
            Quote(e, s, now, exch_ns, conns[e], seq, bid, rng.choice((0.5, 1.0, 2.0)), ask,
                  rng.choice((0.5, 1.0, 2.0)))
        )  # fmt: skip
    return events[:n]


S = 1_000_000_000  # ns per second
MS = 1_000_000  # ns per millisecond


def quote(
    exchange: str,
    t_ns: int,
    bid: float,
    ask: float,
    bid_size: float = 1.0,
    ask_size: float = 1.0,
    *,
    symbol: str = "BTC-USDT",
    conn_id: int = 1,
    seq: int = 0,
    exch_ns: int | None = None,
    req_ns: int | None = None,
) -> Quote:
    """A Quote with test-friendly defaults; times are absolute ns (use ``START_NS + k * S``)."""
    return Quote(exchange, symbol, t_ns, exch_ns, conn_id, seq, bid, bid_size, ask, ask_size,
                 req_ns)  # fmt: skip


def trade(
    exchange: str,
    t_ns: int,
    *,
    symbol: str = "BTC-USDT",
    conn_id: int = 1,
    seq: int = 0,
    exch_ns: int | None = None,
    req_ns: int | None = None,
) -> Trade:
    return Trade(exchange, symbol, t_ns, exch_ns, conn_id, seq, 100.0, 0.1, "buy", str(seq), req_ns)
