"""Small, realistic schema-v1 recordings for tests, benchmarks and demos of ``analyze``.

Payloads follow each exchange's real wire format (protocols.md): Binance ``@bookTicker`` and
``@trade`` JSON, Bybit v5 ``orderbook.1`` snapshots and ``publicTrade``, KuCoin classic
``/spotMarket/level1`` and ``/market/match``, and MEXC protobuf ``PushDataV3ApiWrapper`` frames
(aggre bookTicker / deals) encoded here by hand from the published field numbers. Every
connection opens, sends its subscribe frame, receives an ack, streams data and closes; the
generator can add a reconnect so ``connections``/``gaps`` have something to show.

Everything is a pure function of its arguments (prices from a seeded ``random.Random``), so
tests can compare exact values.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.parquet as pq

from ticktape.schema import (
    KIND_CLOSE,
    KIND_DATA,
    KIND_OPEN,
    KIND_SENT,
    META_EXCHANGE,
    META_SCHEMA_VERSION,
    RECORD_SCHEMA,
    SCHEMA_VERSION,
)
from ticktape.simulator.protobuf_writer import int_field, len_field

EXCHANGES: Final = ("binance", "bybit", "kucoin", "mexc")
_MS: Final = 1_000_000

Row = tuple[int, str, str, int, int, str, int | None, bool, bytes]


# --- MEXC protobuf (the simulator's wire writer: independent of the decoders) -------------------


def mexc_book_ticker(
    symbol: str,
    bid: str,
    bid_qty: str,
    ask: str,
    ask_qty: str,
    send_ms: int,
    interval: str = "100ms",
) -> bytes:
    """A ``spot@public.aggre.bookTicker.v3.api.pb`` frame (wrapper fields 1, 3, 6 and 315)."""
    channel = f"spot@public.aggre.bookTicker.v3.api.pb@{interval}@{symbol}"
    body = b"".join(
        len_field(n, v.encode()) for n, v in ((1, bid), (2, bid_qty), (3, ask), (4, ask_qty))
    )
    return (
        len_field(1, channel.encode())
        + len_field(3, symbol.encode())
        + int_field(6, send_ms)
        + len_field(315, body)
    )


def mexc_deals(
    symbol: str, deals: Sequence[tuple[str, str, int, int]], send_ms: int, interval: str = "100ms"
) -> bytes:
    """A ``spot@public.aggre.deals.v3.api.pb`` frame; deals are (price, qty, 1 buy|2 sell, ms)."""
    channel = f"spot@public.aggre.deals.v3.api.pb@{interval}@{symbol}"
    items = b"".join(
        len_field(
            1,
            len_field(1, p.encode())
            + len_field(2, q.encode())
            + int_field(3, side)
            + int_field(4, ms),
        )
        for p, q, side, ms in deals
    )
    body = items + len_field(2, channel.encode())
    return (
        len_field(1, channel.encode())
        + len_field(3, symbol.encode())
        + int_field(6, send_ms)
        + len_field(314, body)
    )


# --- one top-of-book / trade message per exchange ------------------------------------------------
@dataclass(frozen=True, slots=True)
class Tick:
    """What a message says, independent of the exchange's spelling (for expected values)."""

    symbol: str  # canonical BTC-USDT
    bid: str
    bid_size: str
    ask: str
    ask_size: str
    exch_ms: int
    update_id: int


def quote_message(exchange: str, tick: Tick) -> tuple[str, bool, bytes]:
    """(stream, binary, payload) of a top-of-book message on ``exchange``."""
    base, quote = tick.symbol.split("-")
    native = base + quote
    if exchange == "binance":  # combined-stream frames, as the recorder subscribes
        stream = f"{native.lower()}@bookTicker"
        payload = (
            f'{{"stream":"{stream}","data":{{"u":{tick.update_id},"s":"{native}",'
            f'"b":"{tick.bid}","B":"{tick.bid_size}","a":"{tick.ask}","A":"{tick.ask_size}"}}}}'
        )
        return stream, False, payload.encode()
    if exchange == "bybit":
        payload = (
            f'{{"topic":"orderbook.1.{native}","ts":{tick.exch_ms},"type":"snapshot",'
            f'"data":{{"s":"{native}","b":[["{tick.bid}","{tick.bid_size}"]],'
            f'"a":[["{tick.ask}","{tick.ask_size}"]],"u":{tick.update_id},'
            f'"seq":{tick.update_id * 7}}},"cts":{tick.exch_ms - 2}}}'
        )
        return f"orderbook.1.{native}", False, payload.encode()
    if exchange == "kucoin":
        payload = (
            f'{{"topic":"/spotMarket/level1:{tick.symbol}","type":"message","subject":"level1",'
            f'"data":{{"asks":["{tick.ask}","{tick.ask_size}"],"bids":["{tick.bid}",'
            f'"{tick.bid_size}"],"timestamp":{tick.exch_ms}}}}}'
        )
        return f"/spotMarket/level1:{tick.symbol}", False, payload.encode()
    if exchange == "mexc":
        frame = mexc_book_ticker(
            native, tick.bid, tick.bid_size, tick.ask, tick.ask_size, tick.exch_ms
        )
        return f"spot@public.aggre.bookTicker.v3.api.pb@100ms@{native}", True, frame
    raise ValueError(f"unknown exchange {exchange!r}")


def trade_message(
    exchange: str, symbol: str, price: str, size: str, buy: bool, exch_ms: int, trade_id: int
) -> tuple[str, bool, bytes]:
    """(stream, binary, payload) of a one-trade message; ``buy`` = the taker bought."""
    base, quote = symbol.split("-")
    native = base + quote
    if exchange == "binance":
        maker = "false" if buy else "true"  # m = buyer is maker, so a taker buy has m=false
        stream = f"{native.lower()}@trade"
        payload = (
            f'{{"stream":"{stream}","data":{{"e":"trade","E":{exch_ms},"s":"{native}",'
            f'"t":{trade_id},"p":"{price}","q":"{size}","T":{exch_ms},"m":{maker},"M":true}}}}'
        )
        return stream, False, payload.encode()
    if exchange == "bybit":
        side = "Buy" if buy else "Sell"
        payload = (
            f'{{"topic":"publicTrade.{native}","ts":{exch_ms},"type":"snapshot","data":[{{'
            f'"i":"{trade_id}","T":{exch_ms},"p":"{price}","v":"{size}","S":"{side}",'
            f'"seq":{trade_id * 3},"s":"{native}","BT":false,"RPI":false}}]}}'
        )
        return f"publicTrade.{native}", False, payload.encode()
    if exchange == "kucoin":
        side = "buy" if buy else "sell"
        payload = (
            f'{{"topic":"/market/match:{symbol}","type":"message","subject":"trade.l3match",'
            f'"data":{{"makerOrderId":"m{trade_id}","price":"{price}","sequence":"{trade_id}",'
            f'"side":"{side}","size":"{size}","symbol":"{symbol}","takerOrderId":"t{trade_id}",'
            f'"time":"{exch_ms * _MS + 123456}","tradeId":"{trade_id}","type":"match"}}}}'
        )
        return f"/market/match:{symbol}", False, payload.encode()
    if exchange == "mexc":
        frame = mexc_deals(native, [(price, size, 1 if buy else 2, exch_ms)], exch_ms + 1)
        return f"spot@public.aggre.deals.v3.api.pb@100ms@{native}", True, frame
    raise ValueError(f"unknown exchange {exchange!r}")


_URLS: Final = {
    "binance": "wss://stream.binance.com:9443/stream",
    "bybit": "wss://stream.bybit.com/v5/public/spot",
    "kucoin": "wss://ws-api-spot.kucoin.com/?token=T&connectId=c1",
    "mexc": "wss://wbs-api.mexc.com/ws",
}
_ACKS: Final = {
    "binance": b'{"result":null,"id":1}',
    "bybit": b'{"success":true,"ret_msg":"subscribe","conn_id":"c0","op":"subscribe"}',
    "kucoin": b'{"id":"1","type":"ack"}',
    "mexc": b'{"id":0,"code":0,"msg":"spot@public.aggre.bookTicker.v3.api.pb@100ms@BTCUSDT"}',
}


def connection_rows(
    exchange: str,
    conn_id: int,
    start_ns: int,
    messages: int,
    symbols: Sequence[str] = ("BTC-USDT", "ETH-USDT"),
    step_ns: int = 10 * _MS,
    seed: int = 0,
    trade_every: int = 5,
) -> Iterator[Row]:
    """Rows of one connection: open, subscribe, ack, ``messages`` data frames, close."""
    rng = random.Random(f"{exchange}-{conn_id}-{seed}")
    mids = {s: (60_000.0 if s.startswith("BTC") else 3_000.0) for s in symbols}
    route = "ws"
    seq = 0
    t = start_ns

    def row(kind: str, stream: str, payload: bytes, binary: bool = False) -> Row:
        nonlocal seq
        out = (t, exchange, stream, conn_id, seq, kind, None, binary, payload)
        seq += 1
        return out

    yield row(KIND_OPEN, route, _URLS[exchange].encode())
    t += 1_000
    yield row(KIND_SENT, route, b'{"op":"subscribe"}')
    t += 5 * _MS
    yield row(KIND_DATA, route, _ACKS[exchange])
    for i in range(messages):
        t += step_ns + rng.randrange(0, step_ns // 10 + 1)
        symbol = symbols[i % len(symbols)]
        mid = mids[symbol] = round(mids[symbol] * (1 + rng.gauss(0, 2e-5)), 2)
        exch_ms = (t - rng.randrange(1 * _MS, 40 * _MS)) // _MS
        if trade_every and i % trade_every == trade_every - 1:
            stream, binary, payload = trade_message(
                exchange,
                symbol,
                f"{mid:.2f}",
                f"{rng.randrange(1, 5000) / 1000:.3f}",
                rng.random() < 0.5,
                exch_ms,
                1_000_000 + conn_id * 100_000 + i,
            )
        else:
            spread = 0.01 + rng.randrange(0, 5) / 100
            tick = Tick(
                symbol,
                f"{mid - spread / 2:.2f}",
                f"{rng.randrange(1, 900) / 100:.2f}",
                f"{mid + spread / 2:.2f}",
                f"{rng.randrange(1, 900) / 100:.2f}",
                exch_ms,
                10_000 + i,
            )
            stream, binary, payload = quote_message(exchange, tick)
        yield row(KIND_DATA, stream, payload, binary)
    t += step_ns
    yield row(KIND_CLOSE, route, b"1000 normal closure")


def rows_table(rows: Sequence[Row]) -> pa.Table:
    """Rows as a schema-v1 table (dictionary strings, as the recorder writes them)."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in RECORD_SCHEMA.names]
    return pa.table(
        {name: list(col) for name, col in zip(RECORD_SCHEMA.names, columns, strict=True)},
        schema=RECORD_SCHEMA,
    )


def file_name(start_ns: int, exchange: str, part: int, suffix: str = ".parquet") -> str:
    """``YYYYMMDDTHHMMSS.ffffffZ-<exchange>-<part>.parquet`` (schema.py naming contract)."""
    import datetime as dt

    stamp = dt.datetime.fromtimestamp(start_ns // 1000 / 1e6, tz=dt.UTC)
    return f"{stamp:%Y%m%dT%H%M%S.%fZ}-{exchange}-{part:04d}{suffix}"


def write_parquet(table: pa.Table, path: Path, exchange: str = "") -> Path:
    """Write a recording file the way the recorder does (zstd, schema metadata)."""
    meta = {META_SCHEMA_VERSION: str(SCHEMA_VERSION).encode(), META_EXCHANGE: exchange.encode()}
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table.replace_schema_metadata(meta), str(path), compression="zstd")
    return path


def write_segment(table: pa.Table, path: Path, batch_rows: int = 64) -> Path:
    """Write a live Arrow IPC stream segment in batches of ``batch_rows`` (not closed cleanly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with pa.OSFile(str(path), "wb") as sink:
        writer = pa.ipc.new_stream(sink, table.schema)
        for batch in table.to_batches(max_chunksize=batch_rows):
            writer.write_batch(batch)
        # No writer.close(): a live segment has no end-of-stream marker yet.
    return path


def write_day(
    root: Path,
    day_start_ns: int,
    messages: int = 200,
    seed: int = 0,
    exchanges: Sequence[str] = EXCHANGES,
    reconnect: bool = True,
) -> list[Path]:
    """One day folder with one Parquet file per exchange (two connections each if reconnect)."""
    import datetime as dt

    day = dt.datetime.fromtimestamp(day_start_ns / 1e9, tz=dt.UTC).strftime("%Y-%m-%d")
    written = []
    for n, exchange in enumerate(exchanges):
        conn = (n + 1) * 10
        start = day_start_ns + n * 3 * _MS
        rows = list(connection_rows(exchange, conn, start, messages, seed=seed))
        if reconnect:
            restart = rows[-1][0] + 1_500 * _MS
            rows += connection_rows(exchange, conn + 1, restart, messages // 2, seed=seed)
        path = root / day / file_name(start, exchange, 1)
        written.append(write_parquet(rows_table(rows), path, exchange))
    return written
