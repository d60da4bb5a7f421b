"""Pacing: deliver rows as fast as possible, or at N times the speed they were recorded.

Time is injected (a ``clock`` returning seconds and a ``sleeper``), so tests drive a fake clock
and never wait. The recording's own clock is ``recv_ns``: row ``i`` is due ``(recv_ns_i -
recv_ns_0) / speed`` seconds after the first row was delivered.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ticktape.replay.errors import BadOptionError

Clock = Callable[[], float]
Sleeper = Callable[[float], None]


def parse_speed(text: str | float | None) -> float | None:
    """``"max"``/None -> None (no pacing); ``"10"``/``"10x"``/``0.5`` -> that factor.

    Raises :class:`BadOptionError` for anything else, including zero and negative factors.
    """
    if text is None:
        return None
    if isinstance(text, int | float) and not isinstance(text, bool):
        value = float(text)
    else:
        word = str(text).strip().lower()
        if word == "max":
            return None
        try:
            value = float(word.removesuffix("x").removesuffix("×"))
        except ValueError:
            value = float("nan")
    if not value > 0 or value == float("inf"):
        raise BadOptionError(
            f"bad --speed {text!r}: expected max, or a positive factor like 10 (10× real time)"
        )
    return value


class Pacer:
    """Sleeps so that rows are delivered ``speed`` times faster than they were recorded."""

    __slots__ = ("_clock", "_origin_ns", "_origin_s", "_sleeper", "slept_s", "speed")

    def __init__(
        self, speed: float, clock: Clock = time.monotonic, sleeper: Sleeper = time.sleep
    ) -> None:
        if not speed > 0:
            raise BadOptionError(f"bad speed {speed!r}: expected a positive factor")
        self.speed = speed
        self._clock = clock
        self._sleeper = sleeper
        self._origin_ns: int | None = None
        self._origin_s = 0.0
        self.slept_s = 0.0  # total requested sleep, for reports and tests

    def wait_until(self, recv_ns: int) -> None:
        """Return when the row received at ``recv_ns`` is due (at once for the first row)."""
        if self._origin_ns is None:
            self._origin_ns = recv_ns
            self._origin_s = self._clock()
            return
        due = self._origin_s + (recv_ns - self._origin_ns) / 1e9 / self.speed
        delay = due - self._clock()
        if delay > 0:
            self.slept_s += delay
            self._sleeper(delay)
