"""What a replay saw: rows by kind, events by type, decode errors, gaps, signals.

Plain data (picklable, JSON-able), so replays of separate days in worker processes can be summed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass
class ReplayCounts:
    """What a replay saw. Plain data (picklable, JSON-able) so parallel days can be summed."""

    rows: int = 0
    rows_by_kind: dict[str, int] = field(default_factory=dict)
    events_by_type: dict[str, int] = field(default_factory=dict)
    decode_errors: dict[str, dict[str, int]] = field(default_factory=dict)  # exchange->stream->n
    gaps: int = 0
    signals: dict[str, int] = field(default_factory=dict)  # strategy -> signals emitted
    first_recv_ns: int | None = None
    last_recv_ns: int | None = None
    compiled_rows: int = 0  # data rows the compiled decoder read (the rest went to Python)

    @property
    def events(self) -> int:
        return sum(self.events_by_type.values())

    @property
    def decode_error_total(self) -> int:
        return sum(sum(by_stream.values()) for by_stream in self.decode_errors.values())

    def add(self, other: ReplayCounts) -> None:
        """Fold ``other`` (a later part of the data) into these counts."""
        self.rows += other.rows
        add_into(self.rows_by_kind, other.rows_by_kind)
        add_into(self.events_by_type, other.events_by_type)
        for exchange, by_stream in other.decode_errors.items():
            add_into(self.decode_errors.setdefault(exchange, {}), by_stream)
        self.gaps += other.gaps
        self.compiled_rows += other.compiled_rows
        add_into(self.signals, other.signals)
        firsts = [t for t in (self.first_recv_ns, other.first_recv_ns) if t is not None]
        lasts = [t for t in (self.last_recv_ns, other.last_recv_ns) if t is not None]
        self.first_recv_ns = min(firsts, default=None)
        self.last_recv_ns = max(lasts, default=None)


def add_into(total: dict[str, int], more: Mapping[str, int]) -> None:
    for key, value in more.items():
        total[key] = total.get(key, 0) + value
