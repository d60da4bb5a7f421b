"""Result tables of the arbitrage strategy: schemas, the append-only row buffers, the summary text.

Kept apart from ``arb.py`` so the hot path there stays short. Rows are appended in emission order
(the replay order of the events that caused them), so every table's row order is deterministic.
Money is in the symbol's quote currency (USDT for ``BTC-USDT``); prices and sizes as in the quotes.
"""

from __future__ import annotations

from typing import Final

import pyarrow as pa

from ticktape.symbols import split

SIGNALS_SCHEMA: Final = pa.schema(
    [
        pa.field("recv_ns", pa.int64(), nullable=False),  # time of the event that caused it
        pa.field("episode_id", pa.int64(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),  # open | update | close
        pa.field("symbol", pa.string(), nullable=False),
        pa.field("buy_exchange", pa.string(), nullable=False),  # we lift this venue's ask
        pa.field("sell_exchange", pa.string(), nullable=False),  # we hit this venue's bid
        pa.field("buy_price", pa.float64(), nullable=False),  # ask on buy_exchange
        pa.field("sell_price", pa.float64(), nullable=False),  # bid on sell_exchange
        pa.field("size", pa.float64(), nullable=False),  # min(ask size, bid size), base units
        pa.field("edge_bps", pa.float64(), nullable=False),  # net of both taker fees
        pa.field("profit", pa.float64(), nullable=False),  # net edge per unit x size, quote ccy
        pa.field("reason", pa.string(), nullable=False),  # close reason; "" otherwise
    ]
)

EPISODES_SCHEMA: Final = pa.schema(
    [
        pa.field("episode_id", pa.int64(), nullable=False),
        pa.field("symbol", pa.string(), nullable=False),
        pa.field("buy_exchange", pa.string(), nullable=False),
        pa.field("sell_exchange", pa.string(), nullable=False),
        pa.field("start_ns", pa.int64(), nullable=False),
        pa.field("end_ns", pa.int64(), nullable=False),
        pa.field("duration_ns", pa.int64(), nullable=False),
        pa.field("open_edge_bps", pa.float64(), nullable=False),
        pa.field("max_edge_bps", pa.float64(), nullable=False),
        pa.field("max_size", pa.float64(), nullable=False),
        pa.field("best_profit", pa.float64(), nullable=False),  # max over the episode's states
        pa.field("updates", pa.int64(), nullable=False),  # changes after the open
        pa.field("close_reason", pa.string(), nullable=False),
    ]
)

# Why an episode closed. Staleness closes are detected at the first event at or after the deadline
# but the episode's ``end_ns`` is the deadline itself (when the quote stopped being trusted).
CLOSE_EDGE_GONE: Final = "edge_gone"  # prices moved; net edge no longer above the minimum
CLOSE_INVALID_QUOTE: Final = "invalid_quote"  # a side became unset (0) or the book crossed
CLOSE_STALE: Final = "stale"  # a quote outlived its exchange's staleness limit
CLOSE_DISCONNECT: Final = "disconnect"  # the connection that delivered a quote closed
CLOSE_END: Final = "end_of_data"  # still open when the data ended


class Columns:
    """Append-only row buffer for one schema; ``table()`` builds the Arrow table.

    Rows are kept as tuples (one ``list.append`` per row, the cheapest thing to do on the hot
    path) and turned into columns only when the table is built.
    """

    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema
        self.rows: list[tuple[object, ...]] = []

    def append(self, *values: object) -> None:
        if len(values) != len(self.schema):
            raise ValueError(f"expected {len(self.schema)} values, got {len(values)}")
        self.rows.append(values)

    def __len__(self) -> int:
        return len(self.rows)

    def table(self) -> pa.Table:
        columns = list(zip(*self.rows, strict=True)) if self.rows else [()] * len(self.schema)
        return pa.Table.from_arrays(
            [pa.array(c, type=f.type) for c, f in zip(columns, self.schema, strict=True)],
            schema=self.schema,
        )


def summary_text(
    episodes: pa.Table,
    ignored: dict[str, dict[str, int]],
    assumed_fees: dict[str, float],
) -> str:
    """Episodes per pair, hypothetical profit per quote currency, the longest episode."""
    rows = episodes.to_pylist()
    lines = [f"arb: {len(rows)} episode(s)"]
    if assumed_fees:
        for exchange, fee in sorted(assumed_fees.items()):
            lines.append(f"  note: no taker fee known for {exchange}; assumed {fee:.4%}")
    per_pair: dict[tuple[str, str, str], list[float]] = {}
    profit: dict[str, float] = {}
    for row in rows:
        key = (row["symbol"], row["buy_exchange"], row["sell_exchange"])
        stats = per_pair.setdefault(key, [0, 0.0, 0.0])
        stats[0] += 1
        stats[1] += row["best_profit"]
        stats[2] = max(stats[2], row["max_edge_bps"])
        quote_ccy = split(row["symbol"])[1] or row["symbol"]
        profit[quote_ccy] = profit.get(quote_ccy, 0.0) + row["best_profit"]
    if per_pair:
        lines.append("  symbol      buy -> sell            episodes   best profit   max edge bps")
        for (symbol, buy, sell), (count, best, edge) in sorted(per_pair.items()):
            pair = f"{buy} -> {sell}"
            lines.append(f"  {symbol:<11} {pair:<22} {int(count):>8} {best:>13.6g} {edge:>14.3f}")
        totals = ", ".join(f"{value:.6g} {ccy}" for ccy, value in sorted(profit.items()))
        lines.append(f"  total best profit (upper bound, taker fees paid): {totals}")
        longest = max(rows, key=lambda r: (r["duration_ns"], -r["episode_id"]))
        lines.append(
            f"  longest: #{longest['episode_id']} {longest['symbol']} {longest['buy_exchange']} -> "
            f"{longest['sell_exchange']} {longest['duration_ns'] / 1e9:.3f} s "
            f"(closed: {longest['close_reason']})"
        )
    for exchange, counts in sorted(ignored.items()):
        if any(counts.values()):
            detail = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if v)
            lines.append(f"  quotes with unusable sides on {exchange}: {detail}")
    return "\n".join(lines)
