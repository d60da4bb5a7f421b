"""Real captured frames, decoded by the exchange modules, through both strategies.

The Binance (2021-10) and KuCoin (2021-04) excerpts are verbatim cryptofeed captures: each data
line is ``<recv time in s>: <frame>``. Counts below come from tests/fixtures/samples/README.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ticktape.exchanges import registry
from ticktape.exchanges.events import Event
from ticktape.strategies import create, run

CAPTURES = {
    "binance": "binance/cryptofeed_2021_BINANCE.ws.1.0.excerpt.txt",
    "kucoin": "kucoin/cryptofeed_2021_KUCOIN.ws.1.0.excerpt.txt",
}


def decoded(samples_dir: Path, exchange: str) -> list[Event]:
    decode = registry.new_decoder(exchange)
    events: list[Event] = []
    lines = (samples_dir / CAPTURES[exchange]).read_text(encoding="utf-8").splitlines()
    for seq, line in enumerate(lines):
        stamp, sep, frame = line.partition(": ")
        if not sep or not stamp.replace(".", "", 1).isdigit():
            continue  # connect / sent lines
        seconds, _, fraction = stamp.partition(".")
        recv_ns = int(seconds) * 1_000_000_000 + int(fraction.ljust(9, "0")[:9])
        events.extend(decode(frame.encode(), recv_ns, 1, seq, "ws"))
    return events


@pytest.fixture(scope="module")
def real_events(samples_dir: Path) -> list[Event]:
    events = decoded(samples_dir, "binance") + decoded(samples_dir, "kucoin")
    return sorted(events, key=lambda e: (e.recv_ns, e.exchange, e.conn_id, e.seq))


def test_latency_monitor_on_real_frames(real_events: list[Event]) -> None:
    strategy = create("latency")
    run(strategy, real_events)
    rows = strategy.results()["latency"].to_pylist()
    quotes = {r["exchange"]: 0 for r in rows}
    for r in rows:
        if r["channel"] == "quotes":
            quotes[r["exchange"]] += r["messages"]
    assert quotes == {"binance": 84, "kucoin": 30}  # 84 bookTicker, 30 ticker frames
    binance_quotes = [r for r in rows if r["exchange"] == "binance" and r["channel"] == "quotes"]
    assert all(r["latency_samples"] == 0 for r in binance_quotes)  # bookTicker has no time
    kucoin_quotes = [r for r in rows if r["exchange"] == "kucoin" and r["channel"] == "quotes"]
    assert sum(r["latency_samples"] for r in kucoin_quotes) == 30
    assert sorted(strategy.ranking()) == ["binance", "kucoin"]


def test_arb_on_real_frames_is_deterministic(real_events: list[Event]) -> None:
    first, second = create("arb"), create("arb")
    assert run(first, real_events) == run(second, real_events)
    assert first.results()["episodes"].equals(second.results()["episodes"])
    assert first.summary() == second.summary()
