"""The latency monitor over a whole :class:`~ticktape.strategies.batch.EventBatch` at once (numpy).

The per-event path (``LatencyStrategy.on_event``) is the definition; this module computes the
same state changes and the same alerts, in the same order, with array operations:

1. market events are grouped by stream with one stable sort, so each stream's events stay in
   replay order and every per-stream rule becomes a segmented array operation;
2. an event repeating its stream's previous ``(conn_id, seq)`` is another event of the same
   message: it only counts as an event;
3. for messages: inter-arrival gaps (the first message of a stream in the batch is measured
   from the stream's carried ``last_ns``), stale alerts, the busiest UTC second (runs of equal
   ``recv_ns // 1e9``, continuing the carried run), latency and round-trip samples;
4. the spike rule: the exact integer sum of the previous ``spike_window`` samples comes from a
   cumulative sum over each stream's carried window followed by its new samples; the comparison
   ``value * window > factor * total`` is done in float64 only where ``value * window`` is below
   2**53 (so the int->float conversion is exact), otherwise by :meth:`Spikes.push` itself;
5. alerts are sorted by (event position, stale < latency spike < rtt spike) and merged with the
   connection events (handled one by one, as they are rare) in replay order.

``tests/strategies/test_latency_batch.py`` checks by hypothesis that any stream cut into any
batches (mixing both paths) gives the same alerts, signals and tables as ``on_event``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np

from ticktape.strategies.base import Signal
from ticktape.strategies.batch import OTHER, QUOTE, EventBatch
from ticktape.strategies.histogram import Histogram, bucket_codes
from ticktape.strategies.latency_state import NS_PER_S, Spikes, StreamStats

if TYPE_CHECKING:
    from ticktape.strategies.latency import LatencyStrategy

_NEVER_STALE: Final = np.iinfo(np.int64).max
_EXACT_FLOAT: Final = 1 << 53
_SAFE_SUM: Final = 1 << 62

# sub-order of the alerts one market event can raise, as on_event raises them
_STALE, _LATENCY, _RTT = 0, 1, 2

_Alert = tuple[int, int, StreamStats, int, int]  # (position, sub-order, stream, value, threshold)


def on_batch(strategy: LatencyStrategy, batch: EventBatch) -> list[Signal]:
    """Account every event of ``batch``; return the alerts raised, in replay order."""
    kind = batch.kind
    market = np.flatnonzero(kind != OTHER)
    alerts: list[_Alert] = _market(strategy, batch, market) if len(market) else []
    out: list[Signal] = []
    events = batch.events
    connection = np.flatnonzero(kind == OTHER).tolist()
    if alerts or connection:
        alerts.sort(key=_alert_order)
        spike_detail = (
            f"above {strategy._spike_factor:g}x the mean of the last {strategy._spike_window}"
        )
        a = 0
        for pos in [*connection, len(events)]:
            while a < len(alerts) and alerts[a][0] < pos:
                _, sub, stream, value, threshold = alerts[a]
                now = int(batch.recv_ns[alerts[a][0]])
                if sub == _STALE:
                    detail = "silent for longer than the threshold"
                    kind_name = "stale"
                else:
                    detail = f"{'latency' if sub == _LATENCY else 'rtt'} {spike_detail}"
                    kind_name = "spike"
                strategy._alert(now, stream.exchange, stream.name, kind_name, value, threshold,
                                detail, stream.symbol, out)  # fmt: skip
                a += 1
            if pos < len(events):
                out += strategy._on_connection_event(events[pos])
    strategy._last_ns = int(batch.recv_ns[-1])
    return out


def _alert_order(alert: _Alert) -> tuple[int, int]:
    return alert[0], alert[1]


def _market(strategy: LatencyStrategy, batch: EventBatch, market: np.ndarray) -> list[_Alert]:
    """Steps 1-4 for the market events at positions ``market``; return their alerts."""
    n_symbols = max(1, len(batch.symbols))
    key = (batch.exchange[market].astype(np.int64) * n_symbols + batch.symbol[market]) * 2
    key += batch.kind[market] != QUOTE
    present = np.flatnonzero(np.bincount(key))
    n_streams = len(present)
    local_of_key = np.zeros(int(present[-1]) + 1, dtype=np.int16 if n_streams < 2**15 else np.int32)
    local_of_key[present] = np.arange(n_streams)
    local = local_of_key[key]
    streams: list[StreamStats] = []
    for code in present.tolist():
        pair, is_trade = divmod(code, 2)
        exchange, symbol = divmod(pair, n_symbols)
        streams.append(
            strategy.stream(not is_trade, batch.exchanges[exchange], batch.symbols[symbol])
        )

    order = np.argsort(local, kind="stable")  # radix sort on int16: streams, replay order kept
    group = local[order]
    pos = market[order]
    conn, seq = batch.conn_id[pos], batch.seq[pos]
    head = np.ones(len(pos), dtype=bool)
    head[1:] = group[1:] != group[:-1]
    heads = np.flatnonzero(head)  # group g starts at heads[g]

    # 2. events of a message already seen
    prev_conn = np.empty_like(conn)
    prev_conn[1:] = conn[:-1]
    prev_conn[heads] = [s.conn for s in streams]
    prev_seq = np.empty_like(seq)
    prev_seq[1:] = seq[:-1]
    prev_seq[heads] = [s.seq for s in streams]
    new = (conn != prev_conn) | (seq != prev_seq)
    events_per_stream = np.bincount(group, minlength=n_streams).tolist()
    for stream, count in zip(streams, events_per_stream, strict=True):
        stream.events += count
    if not new.all():
        group, pos, conn, seq = group[new], pos[new], conn[new], seq[new]
    if not len(pos):
        return []
    recv = batch.recv_ns[pos]

    # 3. messages: gaps, stale alerts, first/last, busiest second
    head = np.ones(len(pos), dtype=bool)
    head[1:] = group[1:] != group[:-1]
    heads = np.flatnonzero(head)
    tails = np.append(heads[1:] - 1, len(pos) - 1)
    active = group[heads].tolist()  # the streams with messages in this batch
    carried = [streams[g] for g in active]
    seen = np.array([s.messages > 0 for s in carried], dtype=bool)
    prev_recv = np.empty_like(recv)
    prev_recv[1:] = recv[:-1]
    prev_recv[heads] = [s.last_ns for s in carried]
    measured = np.ones(len(pos), dtype=bool)
    measured[heads] = seen
    gap = recv - prev_recv
    stale_ns = np.array(
        [_NEVER_STALE if s.stale_ns is None else s.stale_ns for s in carried], dtype=np.int64
    )
    segment_of = np.cumsum(head) - 1  # index into ``active``/``carried`` per message
    stale = measured & (gap > stale_ns[segment_of])
    alerts: list[_Alert] = []
    if stale.any():
        for k in np.flatnonzero(stale).tolist():
            stream = carried[segment_of[k]]
            stream.stale_alerts += 1
            alerts.append((int(pos[k]), _STALE, stream, int(gap[k]), stream.stale_ns))  # type: ignore[arg-type]
    if measured.any():
        gaps, owner = gap[measured], segment_of[measured]
        starts, ends = _segments(owner)
        _record(gaps, starts, ends, [carried[g].interarrival for g in owner[starts].tolist()])

    second = recv // NS_PER_S
    prev_second = np.empty_like(second)
    prev_second[1:] = second[:-1]
    prev_second[heads] = [s.sec for s in carried]
    run_start = second != prev_second
    index = np.arange(len(pos))
    anchor = np.maximum.accumulate(np.where(run_start | head, index, 0))
    carried_count = np.zeros(len(pos), dtype=np.int64)
    continuing = heads[~run_start[heads]]
    carried_count[continuing] = [carried[g].sec_count for g in segment_of[continuing].tolist()]
    run_count = index - anchor + 1 + carried_count[anchor]
    peaks = np.maximum.reduceat(run_count, heads).tolist()
    messages = np.diff(np.append(heads, len(pos))).tolist()
    last = zip(
        recv[tails].tolist(), conn[tails].tolist(), seq[tails].tolist(),
        second[tails].tolist(), run_count[tails].tolist(), recv[heads].tolist(),
        peaks, messages, strict=True,
    )  # fmt: skip
    for stream, (last_ns, c, s, sec, sec_count, first_ns, peak, count) in zip(
        carried, last, strict=True
    ):
        if not stream.messages:
            stream.first_ns = first_ns
        stream.messages += count
        stream.last_ns = last_ns
        stream.conn, stream.seq = c, s
        stream.sec, stream.sec_count = sec, sec_count
        if peak > stream.peak:
            stream.peak = peak

    # 4. latency and round-trip samples, with the spike rule
    for metric, column, has in (
        (_LATENCY, batch.exch_ns, batch.has_exch_ns),
        (_RTT, batch.req_ns, batch.has_req_ns),
    ):
        sampled = has[pos]
        if not sampled.any():
            continue
        values = recv[sampled] - column[pos[sampled]]
        _samples(strategy, metric, values, segment_of[sampled], pos[sampled], carried, alerts)
    return alerts


def _segments(segment: np.ndarray) -> tuple[list[int], list[int]]:
    """Start and end offsets of the runs of equal values in ``segment`` (grouped, ascending)."""
    bounds = (np.flatnonzero(segment[1:] != segment[:-1]) + 1).tolist()
    return [0, *bounds], [*bounds, len(segment)]


def _record(
    values: np.ndarray, starts: list[int], ends: list[int], histograms: list[Histogram]
) -> None:
    """Record ``values[start:end]`` into each histogram, all bucket arithmetic in one go."""
    codes = bucket_codes(values)
    biggest = int(np.abs(values).max())
    if biggest * len(values) < _SAFE_SUM:
        totals = np.add.reduceat(values, starts).tolist()
    else:  # int64 sums could overflow: Python integers are exact
        totals = [sum(values[a:b].tolist()) for a, b in zip(starts, ends, strict=True)]
    lows = np.minimum.reduceat(values, starts).tolist()
    highs = np.maximum.reduceat(values, starts).tolist()
    for hist, start, end, total, low, high in zip(
        histograms, starts, ends, totals, lows, highs, strict=True
    ):
        hist.record_coded(codes[start:end], total, low, high)


def _samples(
    strategy: LatencyStrategy,
    metric: int,
    values: np.ndarray,
    segment: np.ndarray,
    positions: np.ndarray,
    carried: list[StreamStats],
    alerts: list[_Alert],
) -> None:
    """Latency (or round-trip) samples of several streams: histograms, spike rule, alerts."""
    size, factor = strategy._spike_window, strategy._spike_factor
    starts, ends = _segments(segment)
    owners = [carried[g] for g in segment[starts].tolist()]
    windows: list[Spikes] = []
    histograms: list[Histogram] = []
    for stream in owners:
        if metric == _LATENCY:
            if stream.latency is None:
                stream.latency = Histogram()
                stream.lat_spikes = Spikes(size, factor)
            hist, spikes = stream.latency, stream.lat_spikes
        else:
            if stream.rtt is None:
                stream.rtt = Histogram()
                stream.rtt_spikes = Spikes(size, factor)
            hist, spikes = stream.rtt, stream.rtt_spikes
        assert spikes is not None
        histograms.append(hist)
        windows.append(spikes)
    _record(values, starts, ends, histograms)

    biggest = int(np.abs(values).max())
    if biggest * size >= _EXACT_FLOAT or biggest * (len(values) + size * len(owners)) >= _SAFE_SUM:
        _samples_one_by_one(values, positions, metric, owners, windows, starts, ends, alerts)
        return

    # each stream's carried window (oldest first), then its new samples, back to back
    recents = [w.recent() for w in windows]
    pieces: list[np.ndarray | list[int]] = []
    for recent, start, end in zip(recents, starts, ends, strict=True):
        pieces.append(recent)
        pieces.append(values[start:end])
    full = np.concatenate([np.asarray(p, dtype=np.int64) for p in pieces])
    running = np.zeros(len(full) + 1, dtype=np.int64)
    np.cumsum(full, out=running[1:])
    # where each new sample sits in ``full`` and where its segment starts there
    carried_len = np.array([len(r) for r in recents], dtype=np.int64)
    lengths = np.array(ends, dtype=np.int64) - np.array(starts, dtype=np.int64)
    seg_start = np.concatenate(([0], np.cumsum(carried_len + lengths)[:-1]))
    seg_of_sample = np.repeat(np.arange(len(owners)), lengths)
    before_count = np.arange(len(values)) - np.repeat(np.array(starts), lengths)
    before_count += carried_len[seg_of_sample]  # samples of the stream before this one
    at = seg_start[seg_of_sample] + before_count
    total = running[at] - running[np.maximum(seg_start[seg_of_sample], at - size)]
    spike = (before_count >= size) & (total > 0)
    spike &= values * size > factor * total.astype(np.float64)
    if spike.any():
        thresholds = np.trunc(factor * total.astype(np.float64) / size)
        for k in np.flatnonzero(spike).tolist():
            stream = owners[seg_of_sample[k]]
            stream.spikes += 1
            alerts.append((int(positions[k]), metric, stream, int(values[k]), int(thresholds[k])))
            windows[seg_of_sample[k]].threshold = int(thresholds[k])
    for g, spikes in enumerate(windows):
        end = int(seg_start[g] + carried_len[g] + lengths[g])
        first = max(int(seg_start[g]), end - size)
        spikes.reload(
            full[first:end].tolist(), int(running[end] - running[first]), spikes.threshold
        )


def _samples_one_by_one(
    values: np.ndarray,
    positions: np.ndarray,
    metric: int,
    owners: list[StreamStats],
    windows: list[Spikes],
    starts: list[int],
    ends: list[int],
    alerts: list[_Alert],
) -> None:
    """The spike rule with Python integers (values too large for exact float64 comparisons)."""
    for stream, spikes, start, end in zip(owners, windows, starts, ends, strict=True):
        for k, value in enumerate(values[start:end].tolist(), start=start):
            if spikes.push(value):
                stream.spikes += 1
                alerts.append((int(positions[k]), metric, stream, value, spikes.threshold))
