"""Result tables of the latency monitor: schemas, row building, the ranking and the summary text.

All durations are integer ns; percentiles are nearest-rank values from
:class:`~ticktape.strategies.histogram.Histogram` (within 0.39 % of exact) and null when a stream
has no sample of that kind. Rows are sorted by (exchange, channel, symbol) or by rank, so the
tables do not depend on the order streams first appeared.
"""

from __future__ import annotations

from typing import Final

import pyarrow as pa

from ticktape.strategies.histogram import PERCENTILES, Histogram

_STAT_SUFFIXES: Final = ("samples", "min_ns", "p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns")


def _stat_fields(prefix: str) -> list[pa.Field]:
    fields = [pa.field(f"{prefix}_{s}", pa.int64()) for s in _STAT_SUFFIXES]
    fields.append(pa.field(f"{prefix}_mean_ns", pa.float64()))
    return fields


def stat_values(hist: Histogram | None) -> list[object]:
    """Values for the ``_stat_fields`` columns, in order (count 0 and nulls when empty)."""
    if hist is None or not hist.count:
        return [0, *([None] * len(_STAT_SUFFIXES))]
    return [hist.count, hist.min, *hist.percentiles(PERCENTILES), hist.max, hist.mean()]


LATENCY_SCHEMA: Final = pa.schema(
    [
        pa.field("exchange", pa.string(), nullable=False),
        pa.field("channel", pa.string(), nullable=False),  # quotes | trades
        pa.field("symbol", pa.string(), nullable=False),
        pa.field("messages", pa.int64(), nullable=False),  # distinct (conn_id, seq)
        pa.field("events", pa.int64(), nullable=False),  # a message may carry several
        pa.field("first_ns", pa.int64(), nullable=False),
        pa.field("last_ns", pa.int64(), nullable=False),
        pa.field("rate_per_s", pa.float64()),  # (messages - 1) / span in s; null if span 0
        pa.field("peak_per_s", pa.int64(), nullable=False),  # most messages in one UTC second
        *_stat_fields("latency"),  # recv_ns - exch_ns (includes clock offset)
        *_stat_fields("rtt"),  # recv_ns - req_ns (REST round trip)
        *_stat_fields("interarrival"),  # recv_ns gap between consecutive messages
        pa.field("spikes", pa.int64(), nullable=False),
        pa.field("stale_alerts", pa.int64(), nullable=False),
    ]
)

ALERTS_SCHEMA: Final = pa.schema(
    [
        pa.field("recv_ns", pa.int64(), nullable=False),  # when detected
        pa.field("exchange", pa.string(), nullable=False),
        pa.field("stream", pa.string(), nullable=False),  # "quotes BTC-USDT" or a connection stream
        pa.field("kind", pa.string(), nullable=False),  # spike|stale|gap|disconnect|reconnect
        pa.field("value_ns", pa.int64()),  # the latency / silence / downtime measured
        pa.field("threshold_ns", pa.int64()),  # what it was compared with
        pa.field("detail", pa.string(), nullable=False),
    ]
)

EXCHANGES_SCHEMA: Final = pa.schema(
    [
        pa.field("rank", pa.int64(), nullable=False),  # 1 = fastest; see rank_key()
        pa.field("exchange", pa.string(), nullable=False),
        pa.field("messages", pa.int64(), nullable=False),
        *_stat_fields("latency"),
        *_stat_fields("rtt"),
        pa.field("connects", pa.int64(), nullable=False),
        pa.field("reconnects", pa.int64(), nullable=False),  # connects on a stream seen before
        pa.field("disconnects", pa.int64(), nullable=False),
        pa.field("downtime_ns", pa.int64(), nullable=False),  # disconnect -> reconnect (or end)
        pa.field("gaps", pa.int64(), nullable=False),
        pa.field("decode_errors", pa.int64(), nullable=False),
        pa.field("spikes", pa.int64(), nullable=False),
        pa.field("stale_alerts", pa.int64(), nullable=False),
    ]
)


def rank_key(exchange: str, latency: Histogram) -> tuple[int, int, int, str]:
    """Sort key of the speed ranking: p50 exchange-to-local latency, then p99, then name.

    Exchanges without any exchange timestamp (e.g. Binance bookTicker only) rank last, by name.
    """
    if not latency.count:
        return (1, 0, 0, exchange)
    p50, p99 = latency.percentile(50.0), latency.percentile(99.0)
    assert p50 is not None and p99 is not None
    return (0, p50, p99, exchange)


def rows_to_table(rows: list[list[object]], schema: pa.Schema) -> pa.Table:
    columns: list[list[object]] = [[] for _ in schema]
    for row in rows:
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    return pa.Table.from_arrays(
        [pa.array(c, type=f.type) for c, f in zip(columns, schema, strict=True)],
        schema=schema,
    )


def _ms(ns: object) -> str:
    return "n/a" if ns is None else f"{int(ns) / 1e6:.3f}"  # type: ignore[call-overload]


def summary_text(exchanges: pa.Table, alerts_dropped: int) -> str:
    """The ranking, then the connection health of each exchange."""
    lines = ["latency: exchanges ranked by exchange-to-local latency (p50, then p99; ms)"]
    lines.append(
        "  rank exchange      p50       p99     p99.9   messages  reconnects  gaps  spikes"
    )
    for row in exchanges.to_pylist():
        lines.append(
            f"  {row['rank']:>4} {row['exchange']:<10} {_ms(row['latency_p50_ns']):>7} "
            f"{_ms(row['latency_p99_ns']):>9} {_ms(row['latency_p999_ns']):>9} "
            f"{row['messages']:>10} {row['reconnects']:>11} {row['gaps']:>5} {row['spikes']:>7}"
        )
        extra = []
        if row["rtt_samples"]:
            extra.append(
                f"REST round trip p50 {_ms(row['rtt_p50_ns'])} ms, p99 {_ms(row['rtt_p99_ns'])} ms"
            )
        if row["downtime_ns"]:  # a disconnect at the very end of the data costs nothing
            extra.append(f"down {row['downtime_ns'] / 1e9:.3f} s")
        if row["decode_errors"]:
            extra.append(f"{row['decode_errors']} decode errors")
        if row["stale_alerts"]:
            extra.append(f"{row['stale_alerts']} stale alerts")
        if extra:
            lines.append("       " + "; ".join(extra))
    lines.append(
        "  note: latency = recv_ns - exchange timestamp, so it includes the offset between the "
        "local and the exchange clock"
    )
    if alerts_dropped:
        lines.append(f"  {alerts_dropped} alerts not stored (max_alerts reached; counts are exact)")
    return "\n".join(lines)
