"""The replay driver: ordered rows in, normalized events out, strategies fed, everything counted.

Per window (from :mod:`ticktape.replay.merge`, already in the total order):

* rows become events (:mod:`ticktape.replay.decoding`: ``data`` -> the exchange's decoder,
  ``open``/``close`` -> Connected/Disconnected, other kinds skipped but counted); REST rows
  (``req_ns`` set) get ``req_ns`` copied onto their ``Quote``/``Trade`` events;
* a ``seq`` that is not the previous ``seq`` of its ``conn_id`` plus one -> a :class:`Gap` event
  just before that row's own events;
* strategies get the window's events in one call: ``on_batch(EventBatch)`` if they have it (the
  columns are built once for all of them), else ``on_events`` or ``on_event``.

Decode errors are events like any other: counted per exchange and stream, never fatal. A decoder
that raises despite its contract, or an exchange without a decoder, yields DecodeError events too.

Speed (measured on the bench day, see ``bench/replay.py``): with the registry's decoders, the
compiled window decoder reads the common frames into columns in one call per window and only
the other rows go through a Python loop (``decoding.py``); event objects for compiled rows are
built only when someone asks (``window_events.py``). Everything else is per window and
vectorized: route codes, row counts by kind, event counts by type (from the batch's kind
column), seq gaps (a 16-bit radix sort per window), and the batch columns every event shares
with its row. Those identity columns (``exchange``, ``recv_ns``, ``conn_id``, ``seq``, and
``req_ns``, which only the driver sets) are taken from the rows: every event carries its row's
identity (the contract in ``exchanges/events.py``; decoders are given exactly those values;
``tests/replay/test_replay_batches.py`` checks the columns against the events' own). Paced
replays (``speed`` set) go row by row instead, so strategies see each event at its due time.
The event digest keeps its byte format (each event's msgspec msgpack bytes, back to back); for
compiled rows the bytes are written from the columns (``_native/eventpack.pyx``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Protocol

import numpy as np
import pyarrow as pa

from ticktape.exchanges.base import Decoder
from ticktape.exchanges.events import DecodeError, Event
from ticktape.replay.counts import ReplayCounts, add_into
from ticktape.replay.decoding import WindowDecoder, failing_decoder
from ticktape.replay.digest import EventDigest
from ticktape.replay.merge import Columns, Routes
from ticktape.replay.pacing import Pacer
from ticktape.strategies.batch import OTHER, EventBatch, SymbolCodes, fits, kind_codes

DecoderFactory = Callable[[str], Decoder]
Progress = Callable[[int, int], None]  # (rows done, rows in total)


class Strategy(Protocol):
    """What the driver needs from a strategy (see ``ticktape.strategies.base``).

    Optional, used when present: ``on_batch(EventBatch)`` and ``on_events(list[Event])``.
    """

    def on_event(self, event: Event) -> list[Any]: ...
    def finish(self, end_ns: int) -> list[Any]: ...
    def results(self) -> dict[str, pa.Table]: ...
    def summary(self) -> str: ...


def default_decoder_factory(exchange: str) -> Decoder:
    """The exchanges registry's decoder for ``exchange`` (imported late: optional at import)."""
    from ticktape.exchanges import registry

    return registry.new_decoder(exchange)  # type: ignore[no-any-return]


_REGISTRY_DECODERS: Final = default_decoder_factory


class Driver:
    """Turns ordered row windows into events, feeds strategies, keeps counts and the digest.

    ``routes`` is the merge's route table (the windows' route ids refer to it).
    ``strategies`` maps a name to a strategy object; the driver owns calling ``on_batch`` (or
    ``on_events``/``on_event``) and ``finish``. ``decoder_factory`` (default: the exchanges
    registry) is asked once per exchange. Call :meth:`feed` with each window in order, then
    :meth:`finish` once. ``digest=False`` skips hashing the event stream when no one will look.
    """

    def __init__(
        self,
        routes: Routes,
        strategies: Mapping[str, Strategy] | None = None,
        *,
        decoder_factory: DecoderFactory | None = None,
        pacer: Pacer | None = None,
        progress: Progress | None = None,
        total_rows: int = 0,
        digest: bool = True,
    ) -> None:
        self.strategies = dict(strategies or {})
        self.counts = ReplayCounts(signals={name: 0 for name in self.strategies})
        self.digest: EventDigest | None = EventDigest() if digest else None
        self._decoder_factory = decoder_factory or default_decoder_factory
        self._decoders: dict[str, Decoder] = {}
        self._pacer = pacer
        self._progress = progress
        self._total_rows = total_rows
        self._last_seq: dict[int, int] = {}
        self._routes = routes
        self._symbols = SymbolCodes()  # symbol codes of the batches, learned once per replay
        # The compiled decoder stands in for the registry's decoders only (see decoding.py).
        native = self._decoder_factory is _REGISTRY_DECODERS
        self._rows = WindowDecoder(routes, self._decoder, native=native, codes=self._symbols)
        self._feeds = [(name, _feeder(strategy)) for name, strategy in self.strategies.items()]
        self._finished = False

    # ---------------------------------------------------------------------------------- feed
    def feed(self, window: Columns) -> Sequence[Event]:
        """Process one window (rows in merge order, after every earlier window); return events."""
        rows = len(window)
        if rows == 0:
            return []
        self._rows.refresh()
        route_counts = np.bincount(window.route, minlength=len(self._routes)).tolist()
        by_kind = self.counts.rows_by_kind
        for route, n in enumerate(route_counts):
            if n:
                name = self._routes.kinds[route]
                by_kind[name] = by_kind.get(name, 0) + n

        gaps = self._find_gaps(window.conn, window.seq)
        events: Sequence[Event]
        if self._pacer is not None:
            events = self._run_paced(window, gaps)
            kind = kind_codes(events)
        else:
            batch = self._batch(window, gaps)
            events, kind = batch.events, batch.kind
            signals = self.counts.signals
            for name, feed in self._feeds:
                signals[name] += len(feed(events, batch) or ())

        self._count(events, kind, rows, int(window.recv[0]), int(window.recv[-1]), len(gaps))
        self.counts.compiled_rows = self._rows.compiled_rows
        if self.digest is not None:
            self.digest.update(events)
        if self._progress is not None:
            self._progress(self.counts.rows, self._total_rows)
        return events

    def finish(self) -> ReplayCounts:
        """Tell strategies the data ended (at the last ``recv_ns``); return the final counts."""
        if not self._finished:
            self._finished = True
            end_ns = self.counts.last_recv_ns or 0
            for name, strategy in self.strategies.items():
                self.counts.signals[name] += len(strategy.finish(end_ns) or ())
        return self.counts

    # ------------------------------------------------------------------------------- helpers
    def _batch(self, window: Columns, gaps: list[tuple[int, str]]) -> EventBatch:
        """The window's events and their columns (identity columns come from each event's row)."""
        decoded = self._rows.decode(window, gaps)
        if not fits(window.recv):
            return EventBatch.from_events(list(decoded.batch(
                self._rows.exchanges, self._rows.route_exchange, self._symbols
            ).events))  # fmt: skip
        return decoded.batch(self._rows.exchanges, self._rows.route_exchange, self._symbols)

    def _decoder(self, exchange: str) -> Decoder:
        decoder = self._decoders.get(exchange)
        if decoder is None:
            try:
                decoder = self._decoder_factory(exchange)
            except Exception as exc:  # unknown exchange: every row becomes a DecodeError
                decoder = failing_decoder(exchange, f"no decoder for exchange {exchange!r}: {exc}")
            self._decoders[exchange] = decoder
        return decoder

    def _find_gaps(self, conn: np.ndarray, seq: np.ndarray) -> list[tuple[int, str]]:
        """``(row, detail)`` for every row whose seq does not follow its connection's previous."""
        low = int(conn.min())
        if int(conn.max()) - low < 2**16:  # the usual case: a radix sort on 16-bit keys
            order = np.argsort((conn - low).astype(np.uint16), kind="stable")
        else:
            order = np.argsort(conn, kind="stable")
        conn_sorted = conn[order]
        seq_sorted = seq[order]
        first = np.ones(len(conn), dtype=bool)
        first[1:] = conn_sorted[1:] != conn_sorted[:-1]
        expected = np.empty_like(seq_sorted)
        expected[1:] = seq_sorted[:-1] + 1
        broken = ~first & (seq_sorted != expected)
        gaps: list[tuple[int, str]] = []
        for pos in np.flatnonzero(broken).tolist():
            detail = _gap_detail(int(seq_sorted[pos - 1]), int(seq_sorted[pos]))
            gaps.append((int(order[pos]), detail))
        last_seq = self._last_seq
        heads = np.flatnonzero(first).tolist()
        for pos in heads:
            conn_id = int(conn_sorted[pos])
            previous = last_seq.get(conn_id)
            current = int(seq_sorted[pos])
            if previous is not None and current != previous + 1:
                gaps.append((int(order[pos]), _gap_detail(previous, current)))
        tails = [*(p - 1 for p in heads[1:]), len(conn) - 1]
        for pos in tails:
            last_seq[int(conn_sorted[pos])] = int(seq_sorted[pos])
        gaps.sort()
        return gaps

    def _run_paced(self, window: Columns, gaps: list[tuple[int, str]]) -> list[Event]:
        """Row by row: wait until each row is due, then decode it and feed every strategy."""
        assert self._pacer is not None
        gap_at = dict(gaps)
        events: list[Event] = []
        strategies = list(self.strategies.items())
        for row in range(len(window)):
            self._pacer.wait_until(int(window.recv[row]))
            detail = gap_at.get(row)
            produced = self._batch(
                window.slice(row, row + 1), [] if detail is None else [(0, detail)]
            ).events
            for event in produced:
                for name, strategy in strategies:
                    self.counts.signals[name] += len(strategy.on_event(event) or ())
            events += produced
        return events

    def _count(
        self, events: Sequence[Event], kind: np.ndarray, rows: int, first: int, last: int, gaps: int
    ) -> None:
        counts = self.counts
        counts.rows += rows
        counts.gaps += gaps
        if counts.first_recv_ns is None:
            counts.first_recv_ns = first
        counts.last_recv_ns = last
        quotes, trades, others = np.bincount(kind, minlength=3).tolist()
        by_type: dict[str, int] = {}
        if quotes:
            by_type["Quote"] = quotes
        if trades:
            by_type["Trade"] = trades
        if others:
            other = [events[k] for k in np.flatnonzero(kind == OTHER).tolist()]
            by_type.update((t.__name__, n) for t, n in Counter(map(type, other)).items())
            for event in other:
                if type(event) is DecodeError:
                    by_stream = counts.decode_errors.setdefault(event.exchange, {})
                    by_stream[event.stream] = by_stream.get(event.stream, 0) + 1
        add_into(counts.events_by_type, by_type)


def _feeder(strategy: Strategy) -> Callable[[Sequence[Event], EventBatch | None], list[Any]]:
    """How the driver hands a window to ``strategy``: its best entry point."""
    on_batch = getattr(strategy, "on_batch", None)
    if on_batch is not None:
        return lambda events, batch: on_batch(batch) if batch is not None else []
    on_events = getattr(strategy, "on_events", None)
    if on_events is not None:
        return lambda events, batch: on_events(events)
    on_event = strategy.on_event

    def one_by_one(events: Sequence[Event], batch: EventBatch | None) -> list[Any]:
        signals: list[Any] = []
        for event in events:
            found = on_event(event)
            if found:
                signals += found
        return signals

    return one_by_one


def _gap_detail(previous: int, current: int) -> str:
    if current > previous + 1:
        return f"seq jumped from {previous} to {current}: {current - previous - 1} rows missing"
    return f"seq went from {previous} back to {current}: duplicated or reordered rows"
