"""The replay driver: ordered rows in, normalized events out, strategies fed, everything counted.

Per row (windows come from :mod:`ticktape.replay.merge`, already in the total order):

* ``data`` -> the exchange's decoder (one per exchange per replay, created on first use);
  REST rows (``req_ns`` set) get ``req_ns`` copied onto their ``Quote``/``Trade`` events;
* ``open`` -> :class:`Connected` (url = payload), ``close`` -> :class:`Disconnected` (reason),
  and the decoder's ``reset(conn_id)`` (if it has one) so per-connection state is dropped;
* ``sent``, ``clock``, ``error`` and unknown kinds -> skipped (counted);
* a ``seq`` that is not the previous ``seq`` of its ``conn_id`` plus one -> a :class:`Gap` event
  just before that row's own events.

Decode errors are events like any other: counted per exchange and stream, never fatal. A decoder
that raises despite its contract, or an exchange without a decoder, yields DecodeError events too.

Speed: the work per row that Python must do is one tuple lookup and the decoder call. Everything
else is per window and vectorized: dictionary indices of ``kind``/``exchange``/``stream`` are
fused into one route code (numpy), seq gaps are found with a numpy sort per window, columns are
turned into Python lists once per window, and strategies take the window's events in one
``on_events`` call. Paced replays (``speed`` set) go row by row instead, so strategies see each
event at its due time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import msgspec
import numpy as np
import pyarrow as pa

from ticktape import schema
from ticktape.exchanges.base import Decoder
from ticktape.exchanges.events import (
    Connected,
    DecodeError,
    Disconnected,
    Event,
    Gap,
    Quote,
    Trade,
)
from ticktape.replay.counts import ReplayCounts, add_into
from ticktape.replay.digest import EventDigest
from ticktape.replay.merge import NO_REQ, Columns, Routes
from ticktape.replay.pacing import Pacer

DecoderFactory = Callable[[str], Decoder]
Progress = Callable[[int, int], None]  # (rows done, rows in total)
_Route = tuple[Decoder, str, str]  # handler (decoder signature), exchange, stream


class Strategy(Protocol):
    """What the driver needs from a strategy (see ``ticktape.strategies.base``)."""

    def on_event(self, event: Event) -> list[Any]: ...
    def finish(self, end_ns: int) -> list[Any]: ...
    def results(self) -> dict[str, pa.Table]: ...
    def summary(self) -> str: ...


def default_decoder_factory(exchange: str) -> Decoder:
    """The exchanges registry's decoder for ``exchange`` (imported late: optional at import)."""
    from ticktape.exchanges import registry

    return registry.new_decoder(exchange)  # type: ignore[no-any-return]


class Driver:
    """Turns ordered row windows into events, feeds strategies, keeps counts and the digest.

    ``routes`` is the merge's route table (the windows' route ids refer to it).
    ``strategies`` maps a name to a strategy object; the driver owns calling ``on_event(s)`` and
    ``finish``. ``decoder_factory`` (default: the exchanges registry) is asked once per exchange.
    Call :meth:`feed` with each window in order, then :meth:`finish` once. ``digest=False``
    skips hashing the event stream (about 0.25 µs per event) when no one will look at it.
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
        self._actions: list[_Route] = []
        self._finished = False

    # ---------------------------------------------------------------------------------- feed
    def feed(self, window: Columns) -> list[Event]:
        """Process one window (rows in merge order, after every earlier window); return events."""
        rows = len(window)
        if rows == 0:
            return []
        routes = self._route_actions()
        route_counts = np.bincount(window.route, minlength=len(routes)).tolist()
        by_kind = self.counts.rows_by_kind
        for route, n in enumerate(route_counts):
            if n:
                kind = self._routes.kinds[route]
                by_kind[kind] = by_kind.get(kind, 0) + n

        gaps = self._find_gaps(window.conn, window.seq)
        codes = window.route.tolist()
        recv = window.recv.tolist()
        conns = window.conn.tolist()
        seqs = window.seq.tolist()
        payloads = window.payload.tolist()
        reqs = window.req.tolist() if bool((window.req != NO_REQ).any()) else None

        if self._pacer is not None:
            events = self._run_paced(routes, codes, recv, conns, seqs, payloads, reqs, gaps)
        else:
            events = []
            start = 0
            for gap_row, detail in [*gaps, (rows, "")]:  # decode the rows between gaps
                if gap_row > start:
                    cut = slice(start, gap_row)
                    _decode_rows(
                        events, routes, codes[cut], recv[cut], conns[cut], seqs[cut],
                        payloads[cut], None if reqs is None else reqs[cut],
                    )  # fmt: skip
                    start = gap_row
                if gap_row < rows:
                    _, name, stream_name = routes[codes[gap_row]]
                    gap = Gap(
                        name, recv[gap_row], conns[gap_row], seqs[gap_row], stream_name, detail
                    )
                    events.append(gap)
            for name, strategy in self.strategies.items():
                self.counts.signals[name] += len(_on_events(strategy, events))

        self._count(events, rows, recv[0], recv[-1], len(gaps))
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
    def _route_actions(self) -> list[_Route]:
        """Per route id: (handler, exchange, stream), extended as new routes appear.

        A handler has the decoder signature: the exchange's decoder for ``data`` rows, a
        Connected/Disconnected maker for ``open``/``close``, and a no-op for everything else.
        """
        actions = self._actions
        routes = self._routes
        for route in range(len(actions), len(routes)):
            kind, exchange = routes.kinds[route], routes.exchanges[route]
            if kind == schema.KIND_DATA:
                handle = self._decoder(exchange)
            elif kind == schema.KIND_OPEN:
                handle = _connected(exchange)
            elif kind == schema.KIND_CLOSE:
                handle = _disconnected(exchange, self._decoder(exchange))
            else:
                handle = _skip  # sent, clock, error and kinds added later
            actions.append((handle, exchange, routes.streams[route]))
        return actions

    def _decoder(self, exchange: str) -> Decoder:
        decoder = self._decoders.get(exchange)
        if decoder is None:
            try:
                decoder = self._decoder_factory(exchange)
            except Exception as exc:  # unknown exchange: every row becomes a DecodeError
                decoder = _failing_decoder(exchange, f"no decoder for exchange {exchange!r}: {exc}")
            self._decoders[exchange] = decoder
        return decoder

    def _find_gaps(self, conn: np.ndarray, seq: np.ndarray) -> list[tuple[int, str]]:
        """``(row, detail)`` for every row whose seq does not follow its connection's previous."""
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

    def _run_paced(
        self,
        routes: Sequence[_Route],
        codes: list[int],
        recv: list[int],
        conns: list[int],
        seqs: list[int],
        payloads: list[bytes],
        reqs: list[int] | None,
        gaps: list[tuple[int, str]],
    ) -> list[Event]:
        """Row by row: wait until each row is due, then decode it and feed every strategy."""
        assert self._pacer is not None
        gap_at = dict(gaps)
        events: list[Event] = []
        strategies = list(self.strategies.items())
        for row, code in enumerate(codes):
            self._pacer.wait_until(recv[row])
            produced: list[Event] = []
            detail = gap_at.get(row)
            if detail is not None:
                _, name, stream_name = routes[code]
                produced.append(Gap(name, recv[row], conns[row], seqs[row], stream_name, detail))
            _decode_rows(
                produced, routes, [code], [recv[row]], [conns[row]], [seqs[row]], [payloads[row]],
                None if reqs is None else [reqs[row]],
            )  # fmt: skip
            for event in produced:
                for name, strategy in strategies:
                    self.counts.signals[name] += len(strategy.on_event(event) or ())
            events += produced
        return events

    def _count(self, events: list[Event], rows: int, first: int, last: int, gaps: int) -> None:
        counts = self.counts
        counts.rows += rows
        counts.gaps += gaps
        if counts.first_recv_ns is None:
            counts.first_recv_ns = first
        counts.last_recv_ns = last
        by_type = Counter(map(type, events))
        add_into(counts.events_by_type, {t.__name__: n for t, n in by_type.items()})
        if by_type.get(DecodeError):
            for event in events:
                if type(event) is DecodeError:
                    by_stream = counts.decode_errors.setdefault(event.exchange, {})
                    by_stream[event.stream] = by_stream.get(event.stream, 0) + 1


def _decode_rows(
    events: list[Event],
    routes: Sequence[_Route],
    codes: list[int],
    recv: list[int],
    conns: list[int],
    seqs: list[int],
    payloads: list[bytes],
    reqs: list[int] | None,
) -> None:
    """The hot loop: append the events of these rows (all in order) to ``events``."""
    if reqs is not None:
        _decode_rest_rows(events, routes, codes, recv, conns, seqs, payloads, reqs)
        return
    extend = events.extend
    rows = zip(codes, recv, conns, seqs, payloads, strict=True)
    for code, recv_ns, conn_id, seq, payload in rows:
        handle, exchange, stream = routes[code]
        try:
            extend(handle(payload, recv_ns, conn_id, seq, stream))
        except Exception as exc:  # a decoder broke its never-raise contract
            events.append(_decoder_raised(exchange, recv_ns, conn_id, seq, stream, exc))


def _decode_rest_rows(
    events: list[Event],
    routes: Sequence[_Route],
    codes: list[int],
    recv: list[int],
    conns: list[int],
    seqs: list[int],
    payloads: list[bytes],
    reqs: list[int],
) -> None:
    """Like the hot loop, for windows holding REST rows: stamp ``req_ns`` on market events."""
    for code, recv_ns, conn_id, seq, payload, req_ns in zip(
        codes, recv, conns, seqs, payloads, reqs, strict=True
    ):
        before = len(events)
        _decode_rows(events, routes, [code], [recv_ns], [conn_id], [seq], [payload], None)
        if req_ns != NO_REQ:
            for i in range(before, len(events)):
                event = events[i]
                if type(event) is Quote or type(event) is Trade:
                    events[i] = msgspec.structs.replace(event, req_ns=req_ns)


def _on_events(strategy: Strategy, events: list[Event]) -> list[Any]:
    batch = getattr(strategy, "on_events", None)
    if batch is not None:
        return batch(events) or []
    signals: list[Any] = []
    on_event = strategy.on_event
    for event in events:
        found = on_event(event)
        if found:
            signals += found
    return signals


def _text(payload: bytes) -> str:
    return payload.decode("utf-8", "replace")


def _connected(exchange: str) -> Decoder:
    def handle(payload: bytes, recv_ns: int, conn_id: int, seq: int, stream: str) -> list[Event]:
        return [Connected(exchange, recv_ns, conn_id, seq, stream, _text(payload))]

    return handle


def _disconnected(exchange: str, decoder: Decoder) -> Decoder:
    """Disconnected event; the decoder forgets that connection's state (e.g. an order book)."""
    reset = getattr(decoder, "reset", None)

    def handle(payload: bytes, recv_ns: int, conn_id: int, seq: int, stream: str) -> list[Event]:
        if reset is not None:
            reset(conn_id)
        return [Disconnected(exchange, recv_ns, conn_id, seq, stream, _text(payload))]

    return handle


def _skip(payload: bytes, recv_ns: int, conn_id: int, seq: int, stream: str) -> list[Event]:
    return []


def _gap_detail(previous: int, current: int) -> str:
    if current > previous + 1:
        return f"seq jumped from {previous} to {current}: {current - previous - 1} rows missing"
    return f"seq went from {previous} back to {current}: duplicated or reordered rows"


def _decoder_raised(
    exchange: str, recv_ns: int, conn_id: int, seq: int, stream: str, exc: Exception
) -> DecodeError:
    return DecodeError(exchange, recv_ns, conn_id, seq, stream, f"decoder raised {exc!r}")


def _failing_decoder(exchange: str, message: str) -> Decoder:
    def decode(payload: bytes, recv_ns: int, conn_id: int, seq: int, stream: str) -> list[Event]:
        return [DecodeError(exchange, recv_ns, conn_id, seq, stream, message)]

    return decode
