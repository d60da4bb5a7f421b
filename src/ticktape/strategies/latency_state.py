"""The latency monitor's state: per-stream counters, spike windows and per-exchange health.

Shared by the per-event path (``latency.py``) and the batch path (``latency_batch.py``): both
read and write exactly these fields, so any mix of the two paths continues the same state.
"""

from __future__ import annotations

from typing import Final

from ticktape.strategies.histogram import Histogram

NS_PER_S: Final = 1_000_000_000


class Spikes:
    """Rolling window of the last ``size`` samples with an exact integer sum."""

    __slots__ = ("factor", "filled", "pos", "size", "threshold", "total", "window")

    def __init__(self, size: int, factor: float) -> None:
        self.size = size
        self.factor = factor
        self.window = [0] * size
        self.pos = 0
        self.filled = 0
        self.total = 0
        self.threshold = 0

    def push(self, value: int) -> bool:
        """Add ``value``; True when it is a spike against the window *before* it was added
        (``threshold`` then holds the limit it exceeded, in ns, rounded down)."""
        total = self.total
        pos = self.pos
        window = self.window
        self.total = total + value - window[pos]
        window[pos] = value
        pos += 1
        self.pos = 0 if pos == self.size else pos
        if self.filled < self.size:
            self.filled += 1
            return False
        if total > 0 and value * self.size > self.factor * total:
            self.threshold = int(self.factor * total / self.size)
            return True
        return False

    def recent(self) -> list[int]:
        """The samples in the window, oldest first (``filled`` of them)."""
        if self.filled < self.size:
            return self.window[: self.filled]
        return self.window[self.pos :] + self.window[: self.pos]

    def reload(self, recent: list[int], total: int, threshold: int) -> None:
        """Set the window to ``recent`` (the last ``min(size, n)`` samples of everything pushed,
        oldest first, summing to ``total``): afterwards ``push`` behaves exactly as if those
        samples had been pushed one by one."""
        filled = len(recent)
        self.window = recent + [0] * (self.size - filled)
        self.pos = 0 if filled == self.size else filled
        self.filled = filled
        self.total = total
        self.threshold = threshold


class StreamStats:
    """Counters and histograms of one (exchange, channel, symbol) stream."""

    __slots__ = (
        "channel",
        "conn",
        "events",
        "exchange",
        "first_ns",
        "interarrival",
        "last_ns",
        "lat_spikes",
        "latency",
        "messages",
        "peak",
        "rtt",
        "rtt_spikes",
        "sec",
        "sec_count",
        "seq",
        "spikes",
        "stale_alerts",
        "stale_ns",
        "symbol",
    )  # fmt: skip

    def __init__(self, exchange: str, channel: str, symbol: str, stale_ns: int | None) -> None:
        self.exchange, self.channel, self.symbol = exchange, channel, symbol
        self.stale_ns = stale_ns
        self.messages = self.events = self.spikes = self.stale_alerts = 0
        self.first_ns = self.last_ns = 0
        self.conn = self.seq = -1
        self.sec = -1
        self.sec_count = self.peak = 0
        self.interarrival = Histogram()
        self.latency: Histogram | None = None
        self.rtt: Histogram | None = None
        self.lat_spikes: Spikes | None = None
        self.rtt_spikes: Spikes | None = None

    @property
    def name(self) -> str:
        return f"{self.channel} {self.symbol}"


class Venue:
    """Connection health of one exchange."""

    __slots__ = (
        "connects", "decode_errors", "disconnects", "down_since", "downtime_ns", "gaps",
        "reconnects", "seen_streams",
    )  # fmt: skip

    def __init__(self) -> None:
        self.connects = self.reconnects = self.disconnects = 0
        self.gaps = self.decode_errors = self.downtime_ns = 0
        self.seen_streams: set[str] = set()
        self.down_since: dict[str, int] = {}  # connection stream -> disconnect time
