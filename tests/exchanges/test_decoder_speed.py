"""How fast the decoders are, against their own slow paths, on the frames each exchange sends most.

Opt-in (``-m slow``; quick, but timing on a shared machine is noise-prone, so the bars are wide).
Prints µs per message for the slow path alone (``new_decoder(fast=False)``: the decoders as they
were before the speed-up) and for the decoder as used; ``pytest -m slow -s tests/exchanges``
shows the table.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import pytest
from typical_frames import typical_frames

from ticktape.exchanges import binance, bybit, kucoin, mexc, registry

MODULES = {"binance": binance, "bybit": bybit, "kucoin": kucoin, "mexc": mexc}


def per_message_us(run: Callable[[], object], messages: int, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best / messages * 1e6


@pytest.mark.slow
@pytest.mark.parametrize("exchange", registry.EXCHANGES)
@pytest.mark.parametrize("kind", ["book", "trade"])
def test_fast_paths_beat_the_slow_paths(exchange: str, kind: str) -> None:
    frames = typical_frames(exchange, random.Random(3), 300)[kind == "trade" :: 2]
    rows = [(frame, 1_753_142_400_000_000_000 + i, 1, i, "") for i, frame in enumerate(frames)]
    slow, fast = MODULES[exchange].new_decoder(fast=False), registry.new_decoder(exchange)

    def slow_path() -> None:
        for row in rows:
            slow(*row)

    def as_used() -> None:
        for row in rows:
            fast(*row)

    slow_us = per_message_us(slow_path, len(rows))
    fast_us = per_message_us(as_used, len(rows))
    print(f"\n{exchange:8} {kind:5} slow path {slow_us:.2f} µs  as used {fast_us:.2f} µs")
    assert fast_us < slow_us
