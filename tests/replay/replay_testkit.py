"""Helpers for the replay tests: small recordings made with pyarrow, fake decoders/strategies.

Recordings follow schema v1 (``RECORD_SCHEMA``): several exchanges and connections, each
connection ``open`` -> ``data``/``sent`` rows -> ``close``, with ``recv_ns`` on a coarse grid so
rows of different connections (and frames of one socket read) share timestamps.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from ticktape import schema
from ticktape.exchanges.events import DecodeError, Event, Quote, Trade

DAY_NS = 1_753_142_400 * 10**9  # 2025-07-22T00:00:00Z
EXCHANGES = ("binance", "bybit", "kucoin", "mexc")
PLAIN_SCHEMA = pa.schema(
    [
        pa.field(f.name, pa.string() if pa.types.is_dictionary(f.type) else f.type, f.nullable)
        for f in schema.RECORD_SCHEMA
    ]
)

Row = dict[str, Any]


def make_rows(
    seed: int = 1,
    exchanges: Sequence[str] = EXCHANGES,
    conns_per_exchange: int = 2,
    rows_per_conn: int = 40,
    day_ns: int = DAY_NS,
    grid_ns: int = 1_000,
) -> list[Row]:
    """Rows of several connections; ``recv_ns`` on a coarse grid to force ties."""
    rng = random.Random(seed)
    rows: list[Row] = []
    conn_ids = list(range(1, len(exchanges) * conns_per_exchange + 1))
    rng.shuffle(conn_ids)  # so conn_id order says nothing about exchange order
    for exchange in exchanges:
        for _ in range(conns_per_exchange):
            conn_id = conn_ids.pop()
            t = day_ns + rng.randrange(0, 50) * grid_ns
            stream = f"{exchange}.btc"
            url = b"wss://example/" + stream.encode()
            rows.append(_row(t, exchange, stream, conn_id, 0, "open", url))
            for seq in range(1, rows_per_conn + 1):
                if rng.random() < 0.7:
                    t += rng.randrange(0, 3) * grid_ns  # 0: same socket read
                price = 100 + rng.randrange(0, 100) / 10
                quote = {"s": "BTC-USDT", "b": price, "a": price + 0.1}
                kind, payload = "data", orjson.dumps(quote)
                roll = rng.random()
                if roll < 0.05:
                    kind, payload = "sent", b'{"op":"ping"}'
                elif roll < 0.08:
                    kind, payload = "clock", b'{"wall_ns":1,"mono_ns":2}'
                elif roll < 0.12:
                    payload = orjson.dumps({"s": "BTC-USDT", "p": price, "q": 0.5, "t": seq})
                rows.append(_row(t, exchange, stream, conn_id, seq, kind, payload))
            t += rng.randrange(1, 3) * grid_ns
            rows.append(_row(t, exchange, stream, conn_id, rows_per_conn + 1, "close", b"bye"))
    return rows


def _row(
    recv_ns: int, exchange: str, stream: str, conn_id: int, seq: int, kind: str, payload: bytes
) -> Row:
    return {
        "recv_ns": recv_ns,
        "exchange": exchange,
        "stream": stream,
        "conn_id": conn_id,
        "seq": seq,
        "kind": kind,
        "req_ns": None,
        "binary": False,
        "payload": payload,
    }


def key(row: Row) -> tuple[int, str, int, int]:
    return (row["recv_ns"], row["exchange"], row["conn_id"], row["seq"])


def to_table(rows: Sequence[Row], dictionary: bool = True) -> pa.Table:
    columns = {name: [r[name] for r in rows] for name in schema.COLUMNS}
    table = pa.table(columns, schema=PLAIN_SCHEMA)
    return table.cast(schema.RECORD_SCHEMA) if dictionary else table


def write_parquet(
    path: Path, rows: Sequence[Row], row_group_size: int = 1_000_000, dictionary: bool = True
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(to_table(rows, dictionary), path, row_group_size=row_group_size)
    return path


def write_segment(path: Path, rows: Sequence[Row], batch_size: int = 16, truncate: int = 0) -> Path:
    """An Arrow IPC stream segment; ``truncate`` cuts that many bytes off the end."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = to_table(rows)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema.RECORD_SCHEMA) as writer:
        for batch in table.to_batches(max_chunksize=batch_size):
            writer.write_batch(batch)
    data = sink.getvalue().to_pybytes()
    if truncate:
        data = data[:-8]  # drop the end-of-stream marker, like a segment still being written
        data = data[:-truncate]
    path.write_bytes(data)
    return path


def file_name(index: int, exchange: str = "mixed", suffix: str = ".parquet") -> str:
    return f"20250722T{index:06d}.000000Z-{exchange}-{index:04d}{suffix}"


# --- fakes for the exchanges registry and the strategies ----------------------------------------


def fake_decode(exchange: str) -> Callable[[bytes, int, int, int, str], list[Event]]:
    def decode(payload: bytes, recv_ns: int, conn_id: int, seq: int, stream: str) -> list[Event]:
        try:
            obj = orjson.loads(payload)
            if "b" in obj:
                return [
                    Quote(exchange, obj["s"], recv_ns, None, conn_id, seq,
                          float(obj["b"]), 1.0, float(obj["a"]), 1.0)
                ]  # fmt: skip
            return [
                Trade(exchange, obj["s"], recv_ns, None, conn_id, seq,
                      float(obj["p"]), float(obj["q"]), "buy", str(obj["t"]))
            ]  # fmt: skip
        except Exception as exc:
            return [DecodeError(exchange, recv_ns, conn_id, seq, stream, repr(exc))]

    return decode


def fake_decoder_factory(name: str) -> Callable[[bytes, int, int, int, str], list[Event]]:
    if name not in EXCHANGES:
        raise KeyError(f"unknown exchange {name!r}")
    return fake_decode(name)


class CountingStrategy:
    """Counts events per exchange and type; emits a signal on every Trade."""

    name = "counting"

    def __init__(self) -> None:
        self.seen: list[Event] = []
        self.finished_at: int | None = None

    def on_event(self, event: Event) -> list[str]:
        self.seen.append(event)
        return ["trade"] if type(event) is Trade else []

    def finish(self, end_ns: int) -> list[str]:
        self.finished_at = end_ns
        return []

    def results(self) -> dict[str, pa.Table]:
        counts: dict[tuple[str, str], int] = {}
        for event in self.seen:
            k = (event.exchange, type(event).__name__)
            counts[k] = counts.get(k, 0) + 1
        ordered = sorted(counts.items())
        return {
            "counts": pa.table(
                {
                    "exchange": [k[0] for k, _ in ordered],
                    "type": [k[1] for k, _ in ordered],
                    "events": pa.array([n for _, n in ordered], pa.int64()),
                }
            )
        }

    def summary(self) -> str:
        return f"{len(self.seen)} events"
