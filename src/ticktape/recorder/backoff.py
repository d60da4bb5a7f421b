"""Reconnect delays: capped exponential backoff with full jitter, reset after a stable period.

Pure logic, no sleeping and no clock: the caller passes the times it observed, and asks for the
next delay. Full jitter ("delay = uniform(0, min(cap, base * 2**attempt))") spreads reconnect
storms from many connections; the cap bounds how long a healthy exchange stays unrecorded.

Contract:
- ``next_delay()`` after ``k`` consecutive failures returns a value in ``[0, min(cap, base*2**k))``.
- A connection that stayed up for at least ``stable_after_s`` resets the sequence
  (``connected_for(seconds)``); a shorter one counts as a failure, so a server that accepts and
  immediately drops us is still backed off.
- The random source is injectable (``random.Random(seed)``) so tests are deterministic.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(slots=True)
class Backoff:
    """Delay generator for one connection's reconnect loop."""

    base_s: float = 0.5
    cap_s: float = 30.0
    stable_after_s: float = 60.0
    rng: random.Random = field(default_factory=random.Random)
    attempt: int = 0

    def __post_init__(self) -> None:
        if self.base_s <= 0 or self.cap_s < self.base_s:
            raise ValueError(f"need 0 < base_s <= cap_s, got base {self.base_s}, cap {self.cap_s}")

    def ceiling(self) -> float:
        """Upper bound of the next delay (before jitter)."""
        # 2**attempt grows without bound; stop doubling once past the cap (no float overflow).
        if self.attempt >= 64:
            return self.cap_s
        return min(self.cap_s, self.base_s * (1 << self.attempt))

    def next_delay(self) -> float:
        """Seconds to wait before the next attempt; counts one more failure."""
        delay = self.rng.uniform(0.0, self.ceiling())
        self.attempt += 1
        return delay

    def connected_for(self, seconds: float) -> None:
        """Report how long the last connection stayed up; resets the sequence if it was stable."""
        if seconds >= self.stable_after_s:
            self.reset()

    def reset(self) -> None:
        """Start again from ``base_s``."""
        self.attempt = 0
