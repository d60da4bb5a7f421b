"""State shared by the four exchange servers of one simulator: clock, market, log, fault flags.

The model clock is monotonic and starts when the simulator starts; ``elapsed()`` is what the
market model and every scripted time (``start_s``, ``at_s``) are measured against. Wall-clock
nanoseconds (``time.time_ns()``) are only used for what goes on the wire: send times in the log
and the exchange timestamps derived from them.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field

from ticktape.simulator.config import SimConfig
from ticktape.simulator.market import MarketModel
from ticktape.simulator.samples import SampleFrame, load_samples
from ticktape.simulator.sent_log import SentLog


@dataclass(slots=True)
class ConnectionInfo:
    """History of one server-side connection (WebSocket), kept after it closes."""

    conn_id: int
    exchange: str
    path: str  # path and query string the client requested
    opened_ns: int
    closed_ns: int | None = None
    close_reason: str = ""


@dataclass(slots=True)
class RestFaultState:
    """Pending REST failures of one exchange."""

    errors_left: int = 0
    error_status: int | None = None
    retry_after_s: float = 1.0
    ban_until: float = 0.0  # monotonic seconds
    ban_status: int | None = None


@dataclass(slots=True)
class SimContext:
    """Everything the servers share. Owned by :class:`~ticktape.simulator.Simulator`."""

    config: SimConfig
    market: MarketModel
    log: SentLog = field(default_factory=SentLog)
    connections: list[ConnectionInfo] = field(default_factory=list)
    stalled_until: dict[str, float] = field(default_factory=dict)  # monotonic seconds
    rest_faults: dict[str, RestFaultState] = field(default_factory=dict)
    stopping: bool = False
    _start_mono: float = 0.0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _samples: dict[str, list[SampleFrame]] = field(default_factory=dict)

    def start_clock(self) -> None:
        self._start_mono = time.monotonic()

    def elapsed(self) -> float:
        """Model time: seconds since the simulator started."""
        return time.monotonic() - self._start_mono

    def mono_at(self, t_s: float) -> float:
        """The monotonic time at which model time reaches ``t_s``."""
        return self._start_mono + t_s

    def next_conn_id(self) -> int:
        return next(self._ids)

    def lag_ms(self, exchange: str) -> float:
        return self.config.lag_ms(exchange, self.elapsed())

    def stall_left(self, exchange: str) -> float:
        """Seconds until ``exchange`` stops stalling (0 when it is not stalled)."""
        return max(0.0, self.stalled_until.get(exchange, 0.0) - time.monotonic())

    async def wait_unstalled(self, exchange: str) -> None:
        """Sleep through a stall; returns at once when there is none (bounded by the stall's
        end, which only a new stall call can move)."""
        left = self.stall_left(exchange)
        while left > 0 and not self.stopping:
            await asyncio.sleep(min(left, 0.25))
            left = self.stall_left(exchange)

    def rest_state(self, exchange: str) -> RestFaultState:
        return self.rest_faults.setdefault(exchange, RestFaultState())

    def samples(self, exchange: str) -> list[SampleFrame]:
        if exchange not in self._samples:
            self._samples[exchange] = load_samples(exchange, self.config.samples_dir)
        return self._samples[exchange]
