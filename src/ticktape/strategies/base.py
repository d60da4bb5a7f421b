"""What every strategy is: a pure consumer of normalized events, identical live and in replay.

Contract (the rules that make "same events in, same bytes out" true):

- A strategy sees events one at a time, in the replay's total order ``(recv_ns, exchange, conn_id,
  seq)`` (live: arrival order, which the recording reproduces). It may keep any state.
- Time is read only from events (``recv_ns``, ``exch_ns``, ``req_ns``): no clocks, no I/O, no
  randomness. Arithmetic is done in a fixed order, so results are bit-for-bit reproducible.
- ``on_event`` returns the :class:`Signal` objects the event caused *now* (live mode prints them);
  almost always an empty list. ``on_events`` is the same for a batch and must give exactly the
  same results however the stream is cut into batches. ``on_batch`` (optional; the replay
  driver prefers it) takes an :class:`~ticktape.strategies.batch.EventBatch`, the events plus
  numpy columns built once per window, and must again give exactly the same results.
- ``finish(end_ns)`` closes whatever is still open at the end of the data (``end_ns`` is clamped to
  the last event time seen) and returns the signals that caused. Call it once, after the last event.
- ``results()`` returns named ``pyarrow.Table`` objects with fixed schemas and a deterministic row
  order; ``summary()`` returns plain text for people.

Strategies own their state exclusively; the driver owns the events (strategies never mutate them).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

import msgspec
import pyarrow as pa

from ticktape.exchanges.events import Event

SignalValue = float | int | str


class StrategyError(Exception):
    """Base class of every error raised by the strategies package."""


class UnknownStrategyError(StrategyError, KeyError):
    """A strategy name that is not in the registry."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


class StrategyConfigError(StrategyError, ValueError):
    """A strategy option has a bad name or value; the message names the option and what is valid."""


class Signal(msgspec.Struct, frozen=True, gc=False):
    """Something a strategy wants a person (live) or a results table (replay) to know now.

    ``recv_ns`` is the receive time of the event that caused it (or ``end_ns`` from ``finish``).
    ``kind`` is strategy-specific: ``open``/``update``/``close`` for ``arb``; ``spike``, ``stale``,
    ``gap``, ``disconnect`` for ``latency``. ``exchanges`` names the venues involved, in a
    meaningful order (``arb``: buy venue then sell venue). ``symbol`` is canonical, or ``""`` when
    the signal is about a connection rather than a market. ``fields`` holds the numbers, with
    units in their names (``edge_bps``, ``latency_ns``, ...).

    ``gc=False``: a signal holds scalars and a dict of scalars, so it is never part of a
    reference cycle; untracked, the thousands a busy replay window can raise cost the garbage
    collector nothing (tracked, they made batches of them measurably slower).
    """

    recv_ns: int
    strategy: str
    kind: str
    exchanges: tuple[str, ...]
    symbol: str
    fields: dict[str, SignalValue] = {}

    def describe(self) -> str:
        """One line for a terminal, e.g. ``arb open BTC-USDT binance->bybit edge_bps=3.1 ...``."""
        venues = "->".join(self.exchanges)
        parts = [self.strategy, self.kind]
        if self.symbol:
            parts.append(self.symbol)
        if venues:
            parts.append(venues)
        for key, value in self.fields.items():
            parts.append(f"{key}={value:.6g}" if isinstance(value, float) else f"{key}={value}")
        return " ".join(parts)


@runtime_checkable
class Strategy(Protocol):
    """Static type of a strategy (see the module docstring for the contract)."""

    name: str

    def on_event(self, event: Event) -> list[Signal]: ...
    def on_events(self, events: Iterable[Event]) -> list[Signal]: ...
    def finish(self, end_ns: int) -> list[Signal]: ...
    def results(self) -> dict[str, pa.Table]: ...
    def summary(self) -> str: ...


def run(strategy: Strategy, events: Iterable[Event], end_ns: int | None = None) -> list[Signal]:
    """Feed ``events`` to ``strategy`` and finish it; return every signal emitted, in order.

    ``end_ns`` defaults to the last event's ``recv_ns`` (0 when there were no events). A helper for
    tests, notebooks and one-shot replays; the replay driver calls the methods itself.
    """
    signals: list[Signal] = []
    last_ns = 0
    for event in events:
        signals.extend(strategy.on_event(event))
        last_ns = event.recv_ns
    signals.extend(strategy.finish(last_ns if end_ns is None else end_ns))
    return signals


def ns_from_seconds(option: str, seconds: float) -> int:
    """Convert a positive duration option in seconds to integer ns, or raise a clear error."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise StrategyConfigError(f"{option} must be a number of seconds, got {seconds!r}")
    if not seconds > 0 or seconds == float("inf"):
        raise StrategyConfigError(f"{option} must be a positive finite number of seconds")
    return round(seconds * 1_000_000_000)
