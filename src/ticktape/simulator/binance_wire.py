"""Binance spot frames and REST bodies, byte for byte as the exchange writes them.

Shapes (protocols.md section 1): ``<sym>@bookTicker`` ``{"u","s","b","B","a","A"}`` (no event
time), ``<sym>@trade`` ``{"e","E","s","t","p","q","T","m","M"}``, combined streams wrap the
event as ``{"stream":..,"data":..}``. Prices and quantities are fixed 8-decimal strings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import orjson

from ticktape.simulator.market import SimQuote, SimTrade, SymbolSpec, fmt_fixed
from ticktape.simulator.wire_common import QUOTE, TRADE, StreamRef, symbol_offset

_SUFFIX = {"bookTicker": QUOTE, "trade": TRADE}


def native(symbol: str) -> str:
    """``BTC-USDT`` -> ``BTCUSDT`` (REST and payload spelling)."""
    return symbol.replace("-", "")


def stream_name(symbol: str, channel: str) -> str:
    """``("BTC-USDT", "quote")`` -> ``btcusdt@bookTicker``."""
    suffix = "bookTicker" if channel == QUOTE else "trade"
    return f"{native(symbol).lower()}@{suffix}"


def parse_stream(name: str, symbols: Sequence[str]) -> StreamRef | None:
    """Resolve a stream name; None if Binance would reject it (we serve bookTicker and trade).
    A well-formed name for a symbol we do not simulate resolves with ``symbol=""``."""
    sym, sep, suffix = name.partition("@")
    if not sep or suffix not in _SUFFIX or not sym or sym != sym.lower():
        return None
    by_native = {native(s).lower(): s for s in symbols}
    return StreamRef(name, _SUFFIX[suffix], by_native.get(sym, ""))  # type: ignore[arg-type]


def _wrap(stream: str, event: dict[str, object], combined: bool) -> bytes:
    if combined:
        return orjson.dumps({"stream": stream, "data": event})
    return orjson.dumps(event)


def update_id(q: SimQuote) -> int:
    """The order-book update id carried as ``u`` (jumps between book-ticker events)."""
    return 400_000_000 + symbol_offset(q.symbol, 10_000_000) * 10 + 3 * q.k


def trade_id(t: SimTrade) -> int:
    return 1_000_000 + symbol_offset(t.symbol, 1000) * 1_000_000_000 + t.j


def book_ticker(q: SimQuote, spec: SymbolSpec, combined: bool) -> bytes:
    event: dict[str, object] = {
        "u": update_id(q),
        "s": native(q.symbol),
        "b": fmt_fixed(q.bid, spec.price_decimals),
        "B": fmt_fixed(q.bid_size, spec.qty_decimals),
        "a": fmt_fixed(q.ask, spec.price_decimals),
        "A": fmt_fixed(q.ask_size, spec.qty_decimals),
    }
    return _wrap(stream_name(q.symbol, QUOTE), event, combined)


def trade(t: SimTrade, spec: SymbolSpec, exch_ms: int, combined: bool) -> bytes:
    event: dict[str, object] = {
        "e": "trade",
        "E": exch_ms,
        "s": native(t.symbol),
        "t": trade_id(t),
        "p": fmt_fixed(t.price, spec.price_decimals),
        "q": fmt_fixed(t.size, spec.qty_decimals),
        "T": exch_ms,
        "m": t.side == "sell",  # buyer is maker <=> the taker sold
        "M": True,
    }
    return _wrap(stream_name(t.symbol, TRADE), event, combined)


def server_shutdown(exch_ms: int, combined: bool) -> bytes:
    return _wrap("!serverShutdown", {"e": "serverShutdown", "E": exch_ms}, combined)


def result(request_id: object, value: object = None) -> bytes:
    """Reply to SUBSCRIBE/UNSUBSCRIBE/LIST_SUBSCRIPTIONS/SET_PROPERTY/GET_PROPERTY."""
    return orjson.dumps({"result": value, "id": request_id})


def error(code: int, msg: str, request_id: object = None) -> bytes:
    return orjson.dumps({"code": code, "msg": msg, "id": request_id})


def rest_book_ticker(q: SimQuote, spec: SymbolSpec) -> dict[str, str]:
    return {
        "symbol": native(q.symbol),
        "bidPrice": fmt_fixed(q.bid, spec.price_decimals),
        "bidQty": fmt_fixed(q.bid_size, spec.qty_decimals),
        "askPrice": fmt_fixed(q.ask, spec.price_decimals),
        "askQty": fmt_fixed(q.ask_size, spec.qty_decimals),
    }


def rest_time(server_ms: int) -> bytes:
    return orjson.dumps({"serverTime": server_ms})


def rest_error(code: int, msg: str) -> bytes:
    return orjson.dumps({"code": code, "msg": msg})


INVALID_SYMBOL = rest_error(-1121, "Invalid symbol.")


def rest_symbols_param(raw: str) -> list[str] | None:
    """Parse ``symbols=["BTCUSDT","ETHUSDT"]``; None if it is not a JSON list of strings."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    return value


def by_native(symbols: Sequence[str]) -> Mapping[str, str]:
    return {native(s): s for s in symbols}
