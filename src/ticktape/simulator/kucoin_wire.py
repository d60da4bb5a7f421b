"""KuCoin classic spot frames and REST bodies (protocols.md section 3).

Topics served: ``/spotMarket/level1:<SYM>`` (top of book, ms ``timestamp``),
``/market/ticker:<SYM>`` (top of book + last trade, ms ``time``) and
``/market/match:<SYM>`` (trades, ``time`` in ns as a string). A subscribe topic may list
several symbols (``/market/ticker:BTC-USDT,ETH-USDT``); each resolves to one stream
``<prefix>:<SYM>``. REST bodies use the ``{"code":"200000",...}`` envelope; ``sequence``
values are strings.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from ticktape.simulator.market import SimQuote, SimTrade, SymbolSpec, fmt_trim
from ticktape.simulator.wire_common import QUOTE, TRADE, StreamRef, symbol_offset

LEVEL1 = "/spotMarket/level1"
TICKER = "/market/ticker"
MATCH = "/market/match"
_CHANNEL = {LEVEL1: QUOTE, TICKER: QUOTE, MATCH: TRADE}
MAX_SYMBOLS_PER_TOPIC = 100


def split_topic(topic: str, symbols: Sequence[str]) -> list[StreamRef] | None:
    """``/market/ticker:A,B`` -> one StreamRef per symbol; None if the topic is not served or
    names a symbol we do not simulate (KuCoin answers those with an error frame)."""
    prefix, sep, names = topic.partition(":")
    if not sep or prefix not in _CHANNEL or not names:
        return None
    parts = names.split(",")
    if len(parts) > MAX_SYMBOLS_PER_TOPIC or any(p not in symbols for p in parts):
        return None
    return [StreamRef(f"{prefix}:{p}", _CHANNEL[prefix], p) for p in parts]  # type: ignore[arg-type]


def _sequence(q_or_t_k: int, symbol: str) -> str:
    return str(1_545_000_000_000 + symbol_offset(symbol, 1000) * 1_000_000_000 + q_or_t_k)


def level1(q: SimQuote, spec: SymbolSpec, exch_ms: int) -> bytes:
    frame = {
        "topic": f"{LEVEL1}:{q.symbol}",
        "type": "message",
        "subject": "level1",
        "data": {
            "asks": [fmt_trim(q.ask, spec.price_decimals), fmt_trim(q.ask_size, spec.qty_decimals)],
            "bids": [fmt_trim(q.bid, spec.price_decimals), fmt_trim(q.bid_size, spec.qty_decimals)],
            "timestamp": exch_ms,
        },
    }
    return orjson.dumps(frame)


def _ticker_data(q: SimQuote, last: SimTrade, spec: SymbolSpec, time_ms: int) -> dict[str, object]:
    return {
        "sequence": _sequence(2 * q.k, q.symbol),
        "price": fmt_trim(last.price, spec.price_decimals),
        "size": fmt_trim(last.size, spec.qty_decimals),
        "bestAsk": fmt_trim(q.ask, spec.price_decimals),
        "bestAskSize": fmt_trim(q.ask_size, spec.qty_decimals),
        "bestBid": fmt_trim(q.bid, spec.price_decimals),
        "bestBidSize": fmt_trim(q.bid_size, spec.qty_decimals),
        "time": time_ms,
    }


def ticker(q: SimQuote, last: SimTrade, spec: SymbolSpec, exch_ms: int) -> bytes:
    """``/market/ticker`` frame: ``q`` is the book, ``last`` the latest trade."""
    frame = {
        "type": "message",
        "topic": f"{TICKER}:{q.symbol}",
        "subject": "trade.ticker",
        "data": _ticker_data(q, last, spec, exch_ms),
    }
    return orjson.dumps(frame)


def match(t: SimTrade, spec: SymbolSpec, exch_ns: int) -> bytes:
    trade_id = 10_000_000 + symbol_offset(t.symbol, 1000) * 100_000_000 + t.j
    frame = {
        "type": "message",
        "topic": f"{MATCH}:{t.symbol}",
        "subject": "trade.l3match",
        "data": {
            "makerOrderId": f"{0x6000_0000 + 2 * t.j:024x}",
            "price": fmt_trim(t.price, spec.price_decimals),
            "sequence": _sequence(2 * t.j + 1, t.symbol),
            "side": t.side,
            "size": fmt_trim(t.size, spec.qty_decimals),
            "symbol": t.symbol,
            "takerOrderId": f"{0x6000_0001 + 2 * t.j:024x}",
            "time": str(exch_ns),
            "tradeId": str(trade_id),
            "type": "match",
        },
    }
    return orjson.dumps(frame)


def welcome(connect_id: str) -> bytes:
    return orjson.dumps({"id": connect_id, "type": "welcome"})


def ack(request_id: object) -> bytes:
    """The ack echoes the id as a string even when it was sent as a number."""
    return orjson.dumps({"id": _id_text(request_id), "type": "ack"})


def pong(request_id: object) -> bytes:
    return orjson.dumps({"id": _id_text(request_id), "type": "pong"})


def error_frame(request_id: object, code: int, data: str) -> bytes:
    return orjson.dumps({"id": _id_text(request_id), "type": "error", "code": code, "data": data})


def _id_text(request_id: object) -> str:
    return "" if request_id is None else str(request_id)


def bullet(token: str, endpoint: str, ping_interval_ms: int, ping_timeout_ms: int) -> bytes:
    server = {
        "endpoint": endpoint,
        "encrypt": False,
        "protocol": "websocket",
        "pingInterval": ping_interval_ms,
        "pingTimeout": ping_timeout_ms,
    }
    return orjson.dumps({"code": "200000", "data": {"token": token, "instanceServers": [server]}})


def rest_level1(q: SimQuote, last: SimTrade, spec: SymbolSpec, exch_ms: int) -> bytes:
    data = {
        "time": exch_ms,
        "sequence": _sequence(2 * q.k, q.symbol),
        "price": fmt_trim(last.price, spec.price_decimals),
        "size": fmt_trim(last.size, spec.qty_decimals),
        "bestBid": fmt_trim(q.bid, spec.price_decimals),
        "bestBidSize": fmt_trim(q.bid_size, spec.qty_decimals),
        "bestAsk": fmt_trim(q.ask, spec.price_decimals),
        "bestAskSize": fmt_trim(q.ask_size, spec.qty_decimals),
    }
    return orjson.dumps({"code": "200000", "data": data})


def rest_timestamp(exch_ms: int) -> bytes:
    return orjson.dumps({"code": "200000", "data": exch_ms})


def rest_null() -> bytes:
    """KuCoin answers an unknown symbol with success and ``data: null``."""
    return orjson.dumps({"code": "200000", "data": None})


def rest_error(code: str, msg: str) -> bytes:
    return orjson.dumps({"code": code, "msg": msg})
