"""MEXC spot: binary protobuf data frames, JSON text control replies (protocols.md section 4).

A data frame is a ``PushDataV3ApiWrapper``: 1 channel, 3 symbol, 6 sendTime (ms), then the body
in a oneof field: 315 ``PublicAggreBookTickerV3Api`` {1 bidPrice, 2 bidQuantity, 3 askPrice,
4 askQuantity, 5 version, 6 lastOrderCreateTime} or 314 ``PublicAggreDealsV3Api`` {1 repeated
item {1 price, 2 quantity, 3 tradeType (1 buy, 2 sell), 4 time, 5 tradeId}, 2 eventType}.
Prices and quantities are decimal strings inside protobuf.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from ticktape.simulator.market import SimQuote, SimTrade, SymbolSpec, fmt_trim
from ticktape.simulator.protobuf_writer import MessageWriter
from ticktape.simulator.wire_common import QUOTE, TRADE, StreamRef, symbol_offset

BOOK_TICKER_PREFIX = "spot@public.aggre.bookTicker.v3.api.pb"
DEALS_PREFIX = "spot@public.aggre.deals.v3.api.pb"
INTERVALS = ("100ms", "10ms")
MAX_SUBSCRIPTIONS = 30
FIELD_BOOK_TICKER = 315
FIELD_DEALS = 314


def native(symbol: str) -> str:
    return symbol.replace("-", "")


def stream_name(symbol: str, channel: str, interval: str = "100ms") -> str:
    prefix = BOOK_TICKER_PREFIX if channel == QUOTE else DEALS_PREFIX
    return f"{prefix}@{interval}@{native(symbol)}"


def parse_stream(name: str, symbols: Sequence[str]) -> StreamRef | None:
    """``spot@public.aggre.(bookTicker|deals).v3.api.pb@(100ms|10ms)@SYM`` (symbol uppercase)."""
    parts = name.split("@")
    if len(parts) != 4 or parts[2] not in INTERVALS:
        return None
    prefix = f"{parts[0]}@{parts[1]}"
    if prefix == BOOK_TICKER_PREFIX:
        channel = QUOTE
    elif prefix == DEALS_PREFIX:
        channel = TRADE
    else:
        return None
    by_native = {native(s): s for s in symbols}
    if parts[3] not in by_native:
        return None
    return StreamRef(name, channel, by_native[parts[3]])  # type: ignore[arg-type]


def wrapper(channel: str, symbol: str, send_ms: int, body_field: int, body: bytes) -> bytes:
    """Encode a ``PushDataV3ApiWrapper`` holding one body message."""
    out = MessageWriter().string_field(1, channel).string_field(3, symbol).int_field(6, send_ms)
    return bytes(out.message_field(body_field, body))


def book_ticker_body(
    bid: str, bid_qty: str, ask: str, ask_qty: str, version: str, last_order_ms: int
) -> bytes:
    body = (
        MessageWriter()
        .string_field(1, bid)
        .string_field(2, bid_qty)
        .string_field(3, ask)
        .string_field(4, ask_qty)
        .string_field(5, version)
        .int_field(6, last_order_ms)
    )
    return bytes(body)


def deal_item(price: str, quantity: str, trade_type: int, time_ms: int, trade_id: str) -> bytes:
    item = (
        MessageWriter()
        .string_field(1, price)
        .string_field(2, quantity)
        .int_field(3, trade_type)
        .int_field(4, time_ms)
        .string_field(5, trade_id)
    )
    return bytes(item)


def deals_body(items: Sequence[bytes], event_type: str) -> bytes:
    body = MessageWriter()
    for item in items:
        body.message_field(1, item)
    return bytes(body.string_field(2, event_type))


def book_ticker(q: SimQuote, spec: SymbolSpec, exch_ms: int, channel: str) -> bytes:
    """Binary frame for ``channel`` (a bookTicker stream name) carrying quote ``q``."""
    version = str(80_000_000_000 + symbol_offset(q.symbol, 1000) * 1_000_000_000 + 7 * q.k)
    body = book_ticker_body(
        fmt_trim(q.bid, spec.price_decimals),
        fmt_trim(q.bid_size, spec.qty_decimals),
        fmt_trim(q.ask, spec.price_decimals),
        fmt_trim(q.ask_size, spec.qty_decimals),
        version,
        exch_ms,
    )
    return wrapper(channel, native(q.symbol), exch_ms, FIELD_BOOK_TICKER, body)


def trade_id(t: SimTrade) -> str:
    base = 731_900_000_000_000_000 + symbol_offset(t.symbol, 1000) * 10**12 + 2 * t.j
    return f"{base}X0_{base + 1}X0"


def deals(trades: Sequence[SimTrade], spec: SymbolSpec, exch_ms: int, channel: str) -> bytes:
    """Binary frame for ``channel`` (a deals stream name) carrying ``trades`` in order."""
    items = [
        deal_item(
            fmt_trim(t.price, spec.price_decimals),
            fmt_trim(t.size, spec.qty_decimals),
            1 if t.side == "buy" else 2,
            exch_ms,
            trade_id(t),
        )
        for t in trades
    ]
    event_type = channel.rsplit("@", 1)[0]  # "spot@public.aggre.deals.v3.api.pb@100ms"
    return wrapper(
        channel, native(trades[0].symbol), exch_ms, FIELD_DEALS, deals_body(items, event_type)
    )


def reply(msg: str, code: int = 0) -> bytes:
    """Control reply ``{"id":0,"code":0,"msg":...}`` (subscription echo, PONG, errors)."""
    return orjson.dumps({"id": 0, "code": code, "msg": msg})


def not_subscribed(channel: str) -> bytes:
    return reply(f"Not Subscribed successfully! [{channel}].  Reason： Blocked! ")


def rest_book_ticker(q: SimQuote, spec: SymbolSpec) -> dict[str, str]:
    return {
        "symbol": native(q.symbol),
        "bidPrice": fmt_trim(q.bid, spec.price_decimals),
        "bidQty": fmt_trim(q.bid_size, spec.qty_decimals),
        "askPrice": fmt_trim(q.ask, spec.price_decimals),
        "askQty": fmt_trim(q.ask_size, spec.qty_decimals),
    }


def rest_time(server_ms: int) -> bytes:
    return orjson.dumps({"serverTime": server_ms})


def rest_error(code: int, msg: str) -> bytes:
    return orjson.dumps({"code": code, "msg": msg})
