"""Latency monitor: how fast and how healthy each exchange's feed is, from event timestamps only.

Per exchange and stream (a stream is a channel and a symbol: ``quotes BTC-USDT``, ``trades
BTC-USDT``; events carry no subscription name) it measures:

- messages (distinct ``(conn_id, seq)``; the events of one message count once) and events, the
  mean rate over the stream's active span and the peak count in one UTC second;
- exchange-to-local latency ``recv_ns - exch_ns`` where the message has an exchange timestamp
  (this includes the offset between the two clocks, so it can be negative), REST round trip
  ``recv_ns - req_ns`` where the event carries ``req_ns``, and inter-arrival times, each in a
  fixed-memory :class:`~ticktape.strategies.histogram.Histogram` (exact count/min/max/mean,
  percentiles within 0.39 %);
- **spike** alerts: a latency (or round trip) above ``spike_factor`` x the mean of the previous
  ``spike_window`` samples of that stream, checked once the window is full and only while that
  mean is positive (exact integer arithmetic);
- **stale** alerts: a quote stream silent for more than its threshold (detected when the next
  message arrives, and at the end of the data); trade streams only if ``trades_stale_after_s``
  is set (quiet markets trade rarely);
- connection health per exchange: connects, reconnects (a connect on a stream seen before),
  disconnects, downtime, ``Gap`` events and ``DecodeError`` rows;
- a ranking of exchanges by p50 exchange-to-local latency over all their streams, then p99.

Results: ``latency`` (one row per stream), ``alerts`` (in detection order, at most
``max_alerts`` rows; counts stay exact) and ``exchanges`` (the ranking with health counts).

Two paths, one state (``latency_state.py``): :meth:`LatencyStrategy.on_event` is the definition
and the live path; :meth:`LatencyStrategy.on_batch` (``latency_batch.py``) computes the same
thing with numpy over a replay window, about 0.1 µs per event against 0.8. Any mix of the two
gives identical alerts, signals and tables (``tests/strategies/test_latency_batch.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

import pyarrow as pa

from ticktape.exchanges.events import (
    Connected,
    DecodeError,
    Disconnected,
    Event,
    Gap,
    Quote,
    Trade,
)
from ticktape.strategies import latency_batch
from ticktape.strategies import latency_tables as tables
from ticktape.strategies.base import Signal, StrategyConfigError, ns_from_seconds
from ticktape.strategies.batch import EventBatch
from ticktape.strategies.histogram import Histogram
from ticktape.strategies.latency_state import Spikes, StreamStats, Venue

NAME: Final = "latency"
_NS_PER_S: Final = 1_000_000_000


class LatencyStrategy:
    """Latency, rates and connection health per exchange and stream (see the module docstring).

    ``stale_after_s``: quote-stream silence that raises a stale alert (default 5 s);
    ``stale_after_s_by_exchange`` overrides it per exchange (e.g. 3 x the REST poll interval);
    ``trades_stale_after_s``: the same for trade streams (default: not checked).
    ``spike_factor``/``spike_window``: the spike rule. ``max_alerts``: alert rows kept.
    """

    name = NAME
    batch_min_events = 64  # below this, numpy's per-call overhead costs more than it saves

    def __init__(
        self,
        *,
        stale_after_s: float = 5.0,
        stale_after_s_by_exchange: Mapping[str, float] | None = None,
        trades_stale_after_s: float | None = None,
        spike_factor: float = 3.0,
        spike_window: int = 100,
        max_alerts: int = 100_000,
    ) -> None:
        self._stale_ns = ns_from_seconds("stale_after_s", stale_after_s)
        self._stale_by_ex = {
            ex: ns_from_seconds(f"stale_after_s_by_exchange[{ex!r}]", s)
            for ex, s in (stale_after_s_by_exchange or {}).items()
        }
        self._trades_stale_ns = (
            None
            if trades_stale_after_s is None
            else ns_from_seconds("trades_stale_after_s", trades_stale_after_s)
        )
        if isinstance(spike_factor, bool) or not isinstance(spike_factor, int | float):
            raise StrategyConfigError(f"spike_factor must be a number, got {spike_factor!r}")
        if not 1.0 <= spike_factor < float("inf"):
            raise StrategyConfigError(f"spike_factor must be >= 1, got {spike_factor!r}")
        for option, value in (("spike_window", spike_window), ("max_alerts", max_alerts)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise StrategyConfigError(f"{option} must be a positive integer, got {value!r}")
        self._spike_factor = float(spike_factor)
        self._spike_window = spike_window
        self._max_alerts = max_alerts
        self._quotes: dict[str, dict[str, StreamStats]] = {}  # exchange -> symbol -> stream
        self._trades: dict[str, dict[str, StreamStats]] = {}
        self._venues: dict[str, Venue] = {}
        self._alerts: list[list[object]] = []
        self._alerts_dropped = 0
        self._last_ns = 0
        self._finished = False

    # ----------------------------------------------------------------------------- hot path
    def on_event(self, event: Event) -> list[Signal]:
        """Account one event (replay order); return the alerts it raised (usually none)."""
        if type(event) is Quote:
            by_symbol = self._quotes.get(event.exchange)
        elif type(event) is Trade:
            by_symbol = self._trades.get(event.exchange)
        else:
            return self._on_connection_event(event)
        now = event.recv_ns
        self._last_ns = now
        stream = by_symbol.get(event.symbol) if by_symbol is not None else None
        if stream is None:
            stream = self._add_stream(event)
        elif event.seq == stream.seq and event.conn_id == stream.conn:
            stream.events += 1  # another event of the same message
            return []
        out: list[Signal] = []
        stream.conn, stream.seq = event.conn_id, event.seq
        stream.events += 1
        if stream.messages:
            gap = now - stream.last_ns
            stream.interarrival.record(gap)
            if stream.stale_ns is not None and gap > stream.stale_ns:
                stream.stale_alerts += 1
                self._alert(now, stream.exchange, stream.name, "stale", gap, stream.stale_ns,
                            "silent for longer than the threshold", stream.symbol, out)  # fmt: skip
        else:
            stream.first_ns = now
        stream.messages += 1
        stream.last_ns = now
        second = now // _NS_PER_S
        if second == stream.sec:
            stream.sec_count += 1
            if stream.sec_count > stream.peak:
                stream.peak = stream.sec_count
        else:
            stream.sec = second
            stream.sec_count = 1
            if not stream.peak:
                stream.peak = 1
        exch_ns = event.exch_ns
        if exch_ns is not None:
            latency = now - exch_ns
            hist = stream.latency
            if hist is None:
                hist = stream.latency = Histogram()
                stream.lat_spikes = Spikes(self._spike_window, self._spike_factor)
            hist.record(latency)
            if stream.lat_spikes.push(latency):  # type: ignore[union-attr]
                self._spike(stream, "latency", latency, now, out)
        req_ns = event.req_ns
        if req_ns is not None:
            rtt = now - req_ns
            hist = stream.rtt
            if hist is None:
                hist = stream.rtt = Histogram()
                stream.rtt_spikes = Spikes(self._spike_window, self._spike_factor)
            hist.record(rtt)
            if stream.rtt_spikes.push(rtt):  # type: ignore[union-attr]
                self._spike(stream, "rtt", rtt, now, out)
        return out

    def on_events(self, events: Iterable[Event]) -> list[Signal]:
        """Process a batch; exactly the same as calling :meth:`on_event` on each in turn."""
        out: list[Signal] = []
        on_event = self.on_event
        for event in events:
            signals = on_event(event)
            if signals:
                out.extend(signals)
        return out

    def on_batch(self, batch: EventBatch) -> list[Signal]:
        """Process a columnar batch with numpy; exactly the same as :meth:`on_events` on its
        events (batches shorter than ``batch_min_events``, or with integers beyond int64, go
        event by event)."""
        if not len(batch):
            return []
        if len(batch) < self.batch_min_events or not batch.exact:
            return self.on_events(batch.events)
        return latency_batch.on_batch(self, batch)

    def _spike(
        self, stream: StreamStats, metric: str, value: int, now: int, out: list[Signal]
    ) -> None:
        spikes = stream.lat_spikes if metric == "latency" else stream.rtt_spikes
        assert spikes is not None
        stream.spikes += 1
        self._alert(now, stream.exchange, stream.name, "spike", value, spikes.threshold,
                    f"{metric} above {self._spike_factor:g}x the mean of the last "
                    f"{self._spike_window}", stream.symbol, out)  # fmt: skip

    # ----------------------------------------------------------------------------- connections
    def _on_connection_event(self, event: Event) -> list[Signal]:
        now = event.recv_ns
        self._last_ns = now
        venue = self._venue(event.exchange)
        out: list[Signal] = []
        if isinstance(event, Connected):
            venue.connects += 1
            down_since = venue.down_since.pop(event.stream, None)
            if event.stream in venue.seen_streams:
                venue.reconnects += 1
                downtime = None if down_since is None else now - down_since
                self._alert(now, event.exchange, event.stream, "reconnect", downtime, None,
                            f"conn_id {event.conn_id}", "", out)  # fmt: skip
            venue.seen_streams.add(event.stream)
            if down_since is not None:
                venue.downtime_ns += now - down_since
        elif isinstance(event, Disconnected):
            venue.disconnects += 1
            venue.down_since.setdefault(event.stream, now)
            self._alert(now, event.exchange, event.stream, "disconnect", None, None,
                        event.reason, "", out)  # fmt: skip
        elif isinstance(event, Gap):
            venue.gaps += 1
            self._alert(now, event.exchange, event.stream, "gap", None, None, event.detail, "", out)
        elif isinstance(event, DecodeError):
            venue.decode_errors += 1
        return out

    def _alert(
        self, now: int, exchange: str, stream: str, kind: str, value_ns: int | None,
        threshold_ns: int | None, detail: str, symbol: str, out: list[Signal],
    ) -> None:  # fmt: skip
        if len(self._alerts) < self._max_alerts:
            self._alerts.append([now, exchange, stream, kind, value_ns, threshold_ns, detail])
        else:
            self._alerts_dropped += 1
        fields: dict[str, float | int | str] = {"stream": stream}
        if value_ns is not None:
            fields["value_ns"] = value_ns
        if threshold_ns is not None:
            fields["threshold_ns"] = threshold_ns
        fields["detail"] = detail
        out.append(Signal(now, NAME, kind, (exchange,), symbol, fields))

    # ----------------------------------------------------------------------------- set-up
    def _add_stream(self, event: Quote | Trade) -> StreamStats:
        return self._new_stream(type(event) is Quote, event.exchange, event.symbol)

    def _new_stream(self, quotes: bool, exchange: str, symbol: str) -> StreamStats:
        """Create the (not yet existing) stream of ``exchange``'s quotes or trades of ``symbol``."""
        self._venue(exchange)
        if quotes:
            channel, table = "quotes", self._quotes
            stale_ns: int | None = self._stale_by_ex.get(exchange, self._stale_ns)
        else:
            channel, table = "trades", self._trades
            stale_ns = self._trades_stale_ns
        stream = StreamStats(exchange, channel, symbol, stale_ns)
        table.setdefault(exchange, {})[symbol] = stream
        return stream

    def stream(self, quotes: bool, exchange: str, symbol: str) -> StreamStats:
        """The stream of ``exchange``'s quotes (or trades) of ``symbol``, created on first use."""
        stream = (self._quotes if quotes else self._trades).get(exchange, {}).get(symbol)
        return self._new_stream(quotes, exchange, symbol) if stream is None else stream

    def _venue(self, exchange: str) -> Venue:
        venue = self._venues.get(exchange)
        if venue is None:
            venue = self._venues[exchange] = Venue()
            self._quotes.setdefault(exchange, {})
            self._trades.setdefault(exchange, {})
        return venue

    def _streams(self) -> list[StreamStats]:
        """Every stream, sorted by (exchange, channel, symbol): independent of arrival order."""
        streams = [
            s for table in (self._quotes, self._trades) for d in table.values() for s in d.values()
        ]
        return sorted(streams, key=lambda s: (s.exchange, s.channel, s.symbol))

    # ----------------------------------------------------------------------------- results
    def finish(self, end_ns: int) -> list[Signal]:
        """Raise stale alerts for streams silent until ``end_ns``; close open downtimes."""
        out: list[Signal] = []
        if self._finished:
            return out
        self._finished = True
        end_ns = max(end_ns, self._last_ns)
        for stream in self._streams():
            silence = end_ns - stream.last_ns
            if stream.stale_ns is not None and stream.messages and silence > stream.stale_ns:
                stream.stale_alerts += 1
                self._alert(end_ns, stream.exchange, stream.name, "stale", silence,
                            stream.stale_ns, "silent until the end of the data", stream.symbol,
                            out)  # fmt: skip
        for venue in self._venues.values():
            for since in venue.down_since.values():
                venue.downtime_ns += end_ns - since
            venue.down_since.clear()
        return out

    def results(self) -> dict[str, pa.Table]:
        """``latency`` per stream, ``alerts`` in detection order, ``exchanges`` by rank."""
        return {
            "latency": tables.rows_to_table(self._latency_rows(), tables.LATENCY_SCHEMA),
            "alerts": tables.rows_to_table(self._alerts, tables.ALERTS_SCHEMA),
            "exchanges": tables.rows_to_table(self._exchange_rows(), tables.EXCHANGES_SCHEMA),
        }

    def ranking(self) -> list[str]:
        """Exchanges fastest first (p50 exchange-to-local latency, then p99, then name)."""
        return [row[1] for row in self._exchange_rows()]  # type: ignore[misc]

    def summary(self) -> str:
        exchanges = tables.rows_to_table(self._exchange_rows(), tables.EXCHANGES_SCHEMA)
        return tables.summary_text(exchanges, self._alerts_dropped)

    def _latency_rows(self) -> list[list[object]]:
        rows: list[list[object]] = []
        for s in self._streams():
            span = s.last_ns - s.first_ns
            rate = (s.messages - 1) * _NS_PER_S / span if span > 0 else None
            rows.append([
                s.exchange, s.channel, s.symbol, s.messages, s.events, s.first_ns, s.last_ns,
                rate, s.peak, *tables.stat_values(s.latency), *tables.stat_values(s.rtt),
                *tables.stat_values(s.interarrival), s.spikes, s.stale_alerts,
            ])  # fmt: skip
        return rows

    def _exchange_rows(self) -> list[list[object]]:
        merged: list[tuple[tuple[int, int, int, str], list[object]]] = []
        streams = self._streams()
        for exchange, venue in self._venues.items():
            mine = [s for s in streams if s.exchange == exchange]
            latency, rtt = Histogram(), Histogram()
            for s in mine:
                if s.latency is not None:
                    latency.merge(s.latency)
                if s.rtt is not None:
                    rtt.merge(s.rtt)
            row: list[object] = [
                exchange, sum(s.messages for s in mine), *tables.stat_values(latency),
                *tables.stat_values(rtt), venue.connects, venue.reconnects, venue.disconnects,
                venue.downtime_ns, venue.gaps, venue.decode_errors,
                sum(s.spikes for s in mine), sum(s.stale_alerts for s in mine),
            ]  # fmt: skip
            merged.append((tables.rank_key(exchange, latency), row))
        merged.sort(key=lambda item: item[0])
        return [[rank, *row] for rank, (_, row) in enumerate(merged, start=1)]
