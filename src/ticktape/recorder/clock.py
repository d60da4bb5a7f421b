"""The recorder's one clock: wall time anchored once, advanced by a monotonic counter.

Every ``recv_ns`` the recorder stores comes from :meth:`Clock.now_ns`: nanoseconds since the Unix
epoch (UTC), computed as ``anchor_ns + perf_counter_ns()`` where ``anchor_ns`` is fixed when the
clock is created. ``time.perf_counter_ns`` is ``CLOCK_MONOTONIC`` on Linux, so the result never
goes backwards (an NTP step or a manual clock change cannot reorder rows); the price is slow drift
from the wall clock over a long run, which :meth:`Clock.probe` measures and the recorder stores as
``clock`` rows so analysis can correct for it.

The hot path reads :attr:`Clock.anchor_ns` once and computes ``anchor_ns + perf_counter_ns()``
inline (one C call and one add per frame). :class:`ManualClock` is the test double.
"""

from __future__ import annotations

import time
from typing import Final

import orjson

# How often the supervisor stores a clock probe (seconds).
PROBE_INTERVAL_S: Final = 60.0


class Clock:
    """Monotonic nanosecond clock anchored to the wall clock at construction.

    ``wall_ns`` and ``mono_ns`` are injectable so tests can pin the anchor; by default the anchor
    is taken from ``time.time_ns()`` and ``time.perf_counter_ns()`` read back to back.
    """

    __slots__ = ("anchor_ns", "mono")

    def __init__(self, wall_ns: int | None = None, mono_ns: int | None = None) -> None:
        self.mono = time.perf_counter_ns
        if wall_ns is None or mono_ns is None:
            # Read the monotonic counter on both sides of the wall read and use the midpoint.
            before = self.mono()
            wall_ns = time.time_ns()
            after = self.mono()
            mono_ns = (before + after) // 2
        self.anchor_ns: int = wall_ns - mono_ns

    def now_ns(self) -> int:
        """Nanoseconds since the Unix epoch; never smaller than a previous call's result."""
        return self.anchor_ns + self.mono()

    def probe(self) -> tuple[int, bytes]:
        """Return ``(recv_ns, payload)`` for a ``clock`` row.

        ``payload`` is JSON ``{"wall_ns": .., "mono_ns": ..}``: the system wall clock and the raw
        monotonic counter read at the same instant as ``recv_ns``. ``wall_ns - recv_ns`` is the
        drift of the recording's time base from the system clock at that moment.
        """
        mono_ns = self.mono()
        wall_ns = time.time_ns()
        recv_ns = self.anchor_ns + mono_ns
        return recv_ns, orjson.dumps({"wall_ns": wall_ns, "mono_ns": mono_ns})


class ManualClock(Clock):
    """A clock that only moves when told to (tests). Starts at ``start_ns``."""

    __slots__ = ("_now",)

    def __init__(self, start_ns: int = 1_700_000_000_000_000_000) -> None:
        self._now = 0
        super().__init__(wall_ns=start_ns, mono_ns=0)
        self.mono = self._read

    def _read(self) -> int:
        return self._now

    def advance(self, ns: int) -> None:
        """Move the clock forward by ``ns`` (must be >= 0)."""
        if ns < 0:
            raise ValueError("a monotonic clock cannot move backwards")
        self._now += ns
