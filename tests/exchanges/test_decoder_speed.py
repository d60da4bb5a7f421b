"""How fast the decoders are, against the previous ones, on the frames each exchange sends most.

Opt-in (``-m slow``; quick, but timing on a shared machine is noise-prone, so the bars are wide).
Prints µs per message for the previous decoders (``tests/exchanges/reference``) and the current
ones; ``pytest -m slow -s tests/exchanges`` shows the table.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import pytest
import ref_binance
import ref_bybit
import ref_kucoin
import ref_mexc
from typical_frames import typical_frames

from ticktape.exchanges import registry

REFERENCE = {"binance": ref_binance, "bybit": ref_bybit, "kucoin": ref_kucoin, "mexc": ref_mexc}


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
def test_decoders_are_faster_than_before(exchange: str, kind: str) -> None:
    frames = typical_frames(exchange, random.Random(3), 300)[kind == "trade" :: 2]
    rows = [(frame, 1_753_142_400_000_000_000 + i, 1, i, "") for i, frame in enumerate(frames)]
    old, new = REFERENCE[exchange].new_decoder(), registry.new_decoder(exchange)

    def before() -> None:
        for row in rows:
            old(*row)

    def now() -> None:
        for row in rows:
            new(*row)

    old_us = per_message_us(before, len(rows))
    new_us = per_message_us(now, len(rows))
    print(f"\n{exchange:8} {kind:5} before {old_us:.2f} µs  now {new_us:.2f} µs")
    assert new_us < old_us
