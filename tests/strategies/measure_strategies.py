"""Print µs per event of each strategy on seeded synthetic streams (not a test; bounded, ~20 s).

Run: ``python tests/strategies/measure_strategies.py``. Best of 3 runs on 200k events (4 exchanges
x 4 symbols), event by event (``on_event``, the live path) and in 64k-event batches
(``on_batch``, the replay path; building the batch columns from the events is timed apart: the
replay driver builds them from its rows instead); the bare ``for`` loop is printed for scale.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from strategy_streams import market_stream

from ticktape.exchanges.events import Event, Quote
from ticktape.strategies import create
from ticktape.strategies.batch import EventBatch

WINDOW = 65_536


def best_us_per_event(name: str, events: list[Event], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        on_event = create(name).on_event
        start = time.perf_counter()
        for event in events:
            on_event(event)
        best = min(best, time.perf_counter() - start)
    return best / len(events) * 1e6


def best_us_per_event_batched(name: str, batches: list[EventBatch], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        on_batch = create(name).on_batch  # type: ignore[attr-defined]
        start = time.perf_counter()
        for batch in batches:
            on_batch(batch)
        best = min(best, time.perf_counter() - start)
    return best / sum(len(b) for b in batches) * 1e6


def repeated_prices(events: list[Event]) -> list[Event]:
    """The same stream where every quote repeats its venue's previous prices (sizes change)."""
    first: dict[tuple[str, str], Quote] = {}
    out: list[Event] = []
    for e in events:
        if type(e) is Quote:
            q = first.setdefault((e.exchange, e.symbol), e)
            e = Quote(e.exchange, e.symbol, e.recv_ns, e.exch_ns, e.conn_id, e.seq, q.bid,
                      e.bid_size, q.ask, e.ask_size)  # fmt: skip
        out.append(e)
    return out


def main() -> None:
    n = 200_000
    cases = {
        "no opportunities": market_stream(n, dislocation_rate=0.0),
        "rare opportunities (0.02%)": market_stream(n, dislocation_rate=0.0002),
        "frequent opportunities (0.2%)": market_stream(n, dislocation_rate=0.002),
    }
    cases["prices unchanged, sizes move"] = repeated_prices(cases["no opportunities"])
    for label, events in cases.items():
        start = time.perf_counter()
        for _ in events:
            pass
        bare = (time.perf_counter() - start) / len(events) * 1e6
        quotes = sum(type(e) is Quote for e in events) / len(events)
        start = time.perf_counter()
        batches = [EventBatch.from_events(events[k : k + WINDOW]) for k in range(0, n, WINDOW)]
        columns = (time.perf_counter() - start) / len(events) * 1e6
        figures = "  ".join(
            f"{name} {best_us_per_event(name, events):.3f} / "
            f"{best_us_per_event_batched(name, batches):.3f}"
            for name in ("arb", "latency")
        )
        print(
            f"{label:<32} µs/event (on_event / on_batch): {figures}  (columns from events "
            f"{columns:.3f}; bare loop {bare:.3f}; {quotes:.0%} quotes)"
        )


if __name__ == "__main__":
    main()
