"""Binance spot: combined-stream WebSocket and REST book ticker, sans-I/O (protocols.md section 1).

Connection: one combined-stream URL per connection (``<ws_url>?streams=a/b/c``), so nothing is sent
after connecting; Binance pings at the WebSocket protocol level every 20 s and the client library
pongs, hence no application heartbeat. Every data frame is ``{"stream":"<name>","data":{...}}``.

Decoded (everything else that is valid JSON returns ``[]``):

* ``<sym>@bookTicker`` -> :class:`Quote`, ``exch_ns=None`` (spot bookTicker has no event time).
  Raw (``/ws``) frames without the wrapper are read too.
* ``<sym>@trade`` and ``<sym>@aggTrade`` -> :class:`Trade`, ``exch_ns`` = event time ``E``
  (ms -> ns), ``side`` = taker side (``m`` true: the buyer was the maker, so the taker sold),
  ``trade_id`` = ``t`` (trade) or ``a`` (aggregate id) as decimal text.
* REST ``GET /api/v3/ticker/bookTicker`` (object, or array for several symbols) -> :class:`Quote`
  with ``exch_ns=None``; an error body (``{"code":-1121,"msg":...}``) -> :class:`DecodeError`.

Decoding is stateless; :func:`new_decoder` still returns an object so every exchange has the same
interface. Cost (``timeit``, this machine): ~0.6 µs per bookTicker when the row's ``stream`` is
the frame's stream name (the replay case), ~1.1 µs without that hint; msgspec typed structs with
string-to-float leniency do the parsing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from ticktape.exchanges._support import (
    JSON_ERRORS,
    NO_HINT,
    NS_PER_MS,
    StreamHints,
    SymbolMemo,
    UnrecognizedMessage,
    check_stream_count,
    convert,
    decode_error,
    is_rest,
    json_any,
    string_after,
    typed_decoder,
)
from ticktape.exchanges.base import RestRequest
from ticktape.exchanges.events import BUY, SELL, Event, Quote, Trade
from ticktape.symbols import canonical, concatenated

NAME: str = "binance"
DEFAULT_METHOD: str = "ws"
DEFAULT_WS_URL: str = "wss://stream.binance.com:9443/stream"
DEFAULT_REST_URL: str = "https://api.binance.com"
HEARTBEAT_INTERVAL_S: float | None = None  # server pings every 20 s; the WS library pongs
MAX_STREAMS_PER_CONNECTION: int = 1024
DEFAULT_POLL_INTERVAL_S: float = 1.0  # weight 2 per symbol per second: far below 6000/min
STALE_AFTER_S: float = 60.0  # no app-level pongs to count on; quiet symbols may pause for a while
WAIT_FOR_WELCOME: bool = False

_COMBINED = b'{"stream":"'
_COMBINED_LEN = len(_COMBINED)


# ---- symbols, streams, connection -------------------------------------------------------------


def native_symbol(symbol: str) -> str:
    """``"BTC-USDT"`` (or any spelling ``symbols.canonical`` reads) -> ``"BTCUSDT"``."""
    return concatenated(canonical(symbol))


def canonical_symbol(native: str) -> str:
    """``"BTCUSDT"`` or ``"btcusdt"`` -> ``"BTC-USDT"``; raises :class:`SymbolError`."""
    return canonical(native)


def streams(symbols: Sequence[str], trades: bool = False) -> list[str]:
    """``btcusdt@bookTicker`` (and ``btcusdt@trade`` with ``trades``) per symbol, in order."""
    names: list[str] = []
    for symbol in symbols:
        lower = native_symbol(symbol).lower()
        names.append(f"{lower}@bookTicker")
        if trades:
            names.append(f"{lower}@trade")
    return names


def ws_connect_url(ws_url: str, streams: Sequence[str]) -> str:
    """Combined-stream URL: ``<ws_url>?streams=a/b/c`` (``&`` if ``ws_url`` has a query)."""
    check_stream_count(NAME, streams, MAX_STREAMS_PER_CONNECTION)
    joiner = "&" if "?" in ws_url else "?"
    return f"{ws_url}{joiner}streams={'/'.join(streams)}"


def subscribe_messages(streams: Sequence[str]) -> list[bytes]:
    """Nothing: the streams are in the URL (:func:`ws_connect_url`)."""
    check_stream_count(NAME, streams, MAX_STREAMS_PER_CONNECTION)
    return []


def heartbeat_message(counter: int) -> bytes | None:
    """None: Binance heartbeats are WebSocket ping/pong frames, answered by the client library."""
    return None


def rest_poll_requests(symbols: Sequence[str]) -> list[RestRequest]:
    """One ``GET /api/v3/ticker/bookTicker?symbol=BTCUSDT`` (weight 2) per symbol."""
    return [
        RestRequest("GET", "/api/v3/ticker/bookTicker", (("symbol", native_symbol(s)),), weight=2)
        for s in symbols
    ]


def route(payload: bytes) -> str | None:
    """The stream name of a data frame (``"btcusdt@bookTicker"``), ``None`` for control frames.

    Combined frames carry it first; raw ``/ws`` frames get it rebuilt from ``s`` and the event type.
    """
    if payload.startswith(_COMBINED):
        end = payload.find(b'"', _COMBINED_LEN)
        if end > _COMBINED_LEN:
            try:
                return payload[_COMBINED_LEN:end].decode()
            except UnicodeDecodeError:
                return None
        return None
    if payload.startswith(b'{"u":'):
        symbol = string_after(payload, b'"s":"')
        return f"{symbol.lower()}@bookTicker" if symbol else None
    if payload.startswith(b'{"e":"'):
        event = string_after(payload, b'{"e":"')
        symbol = string_after(payload, b'"s":"')
        if event in ("trade", "aggTrade") and symbol:
            return f"{symbol.lower()}@{event}"
    return None


# ---- wire shapes ------------------------------------------------------------------------------


class _BookSides(msgspec.Struct):
    b: float
    B: float
    a: float
    A: float


class _BookTicker(_BookSides):
    s: str


class _Trade(msgspec.Struct):
    E: int
    s: str
    t: int
    p: float
    q: float
    m: bool


class _AggTrade(msgspec.Struct):
    E: int
    s: str
    a: int
    p: float
    q: float
    m: bool


class _RestBookTicker(msgspec.Struct):
    symbol: str
    bidPrice: float
    bidQty: float
    askPrice: float
    askQty: float


class _CombinedBookSides(msgspec.Struct):
    stream: str
    data: _BookSides


class _CombinedTrade(msgspec.Struct):
    stream: str
    data: _Trade


class _CombinedAggTrade(msgspec.Struct):
    stream: str
    data: _AggTrade


_DECODE_COMBINED_BOOK = typed_decoder(_CombinedBookSides)
_DECODE_COMBINED_TRADE = typed_decoder(_CombinedTrade)
_DECODE_COMBINED_AGG_TRADE = typed_decoder(_CombinedAggTrade)
_DECODE_BOOK_TICKER = typed_decoder(_BookTicker)

_symbol = SymbolMemo(canonical)

_OTHER, _BOOK, _TRADE, _AGG_TRADE = 0, 1, 2, 3
_KIND_BY_SUFFIX = {"bookTicker": _BOOK, "trade": _TRADE, "aggTrade": _AGG_TRADE}


def _classify(stream: str) -> tuple[int, str]:
    """``"btcusdt@bookTicker"`` -> ``(_BOOK, "BTC-USDT")``."""
    native, _, suffix = stream.partition("@")
    kind = _KIND_BY_SUFFIX.get(suffix, _OTHER)
    return (kind, canonical(native)) if kind != _OTHER else NO_HINT


_HINTS = StreamHints(_classify)
_HINT_TABLE = _HINTS.table


# ---- decoding ---------------------------------------------------------------------------------


class BinanceDecoder:
    """Decodes stored Binance rows into events (stateless; one object per replay is fine)."""

    __slots__ = ()

    def decode(
        self, payload: bytes, recv_ns: int, conn_id: int, seq: int, stream: str
    ) -> list[Event]:
        """Events in ``payload``; ``[]`` for control frames and channels we do not normalize;
        exactly one :class:`DecodeError` for anything unreadable. Never raises.

        Fast path: the row's ``stream`` (as :func:`route` names it) picks the typed decoder and
        gives the symbol; the frame's own ``stream`` field must match, else the payload is read
        without the hint (:class:`~ticktape.exchanges._support.StreamHints`).
        """
        try:
            kind, symbol = _HINT_TABLE.get(stream) or _HINTS.learn(stream)
            if kind == _BOOK:
                try:
                    book = _DECODE_COMBINED_BOOK.decode(payload)
                except JSON_ERRORS:
                    pass
                else:
                    if book.stream == stream:
                        tick = book.data
                        return [
                            Quote(
                                NAME, symbol, recv_ns, None, conn_id, seq,
                                tick.b, tick.B, tick.a, tick.A,
                            )
                        ]  # fmt: skip
            elif kind == _TRADE:
                try:
                    trade = _DECODE_COMBINED_TRADE.decode(payload)
                except JSON_ERRORS:
                    pass
                else:
                    if trade.stream == stream:
                        return [_trade(trade.data, recv_ns, conn_id, seq)]
            elif kind == _AGG_TRADE:
                try:
                    agg = _DECODE_COMBINED_AGG_TRADE.decode(payload)
                except JSON_ERRORS:
                    pass
                else:
                    if agg.stream == stream:
                        return [_agg_trade(agg.data, recv_ns, conn_id, seq)]
            return _decode_unhinted(payload, recv_ns, conn_id, seq, stream)
        except Exception as exc:  # decode never raises: anything unreadable is a DecodeError
            return [decode_error(NAME, recv_ns, conn_id, seq, stream, exc)]

    __call__ = decode

    def reset(self, conn_id: int | None = None) -> None:
        """Nothing to forget (interface parity with the stateful decoders)."""


def _decode_unhinted(
    payload: bytes, recv_ns: int, conn_id: int, seq: int, stream: str
) -> list[Event]:
    """Read the payload alone: the stream name in the frame, or the shape of a raw/REST body."""
    if payload.startswith(_COMBINED):
        end = payload.find(b'"', _COMBINED_LEN)
        if payload.endswith(b"@bookTicker", _COMBINED_LEN, end):
            msg = _DECODE_COMBINED_BOOK.decode(payload)
            tick = msg.data
            return [
                Quote(
                    NAME, _symbol(msg.stream.partition("@")[0]), recv_ns, None, conn_id, seq,
                    tick.b, tick.B, tick.a, tick.A,
                )
            ]  # fmt: skip
        if payload.endswith(b"@trade", _COMBINED_LEN, end):
            return [_trade(_DECODE_COMBINED_TRADE.decode(payload).data, recv_ns, conn_id, seq)]
        if payload.endswith(b"@aggTrade", _COMBINED_LEN, end):
            agg = _DECODE_COMBINED_AGG_TRADE.decode(payload).data
            return [_agg_trade(agg, recv_ns, conn_id, seq)]
    elif payload.startswith(b'{"u":'):
        tick = _DECODE_BOOK_TICKER.decode(payload)
        return [
            Quote(
                NAME, _symbol(tick.s), recv_ns, None, conn_id, seq,
                tick.b, tick.B, tick.a, tick.A,
            )
        ]  # fmt: skip
    return _decode_any(json_any.decode(payload), recv_ns, conn_id, seq, stream)


def _trade(trade: _Trade, recv_ns: int, conn_id: int, seq: int) -> Trade:
    return Trade(
        NAME, _symbol(trade.s), recv_ns, trade.E * NS_PER_MS, conn_id, seq,
        trade.p, trade.q, SELL if trade.m else BUY, str(trade.t),
    )  # fmt: skip


def _agg_trade(trade: _AggTrade, recv_ns: int, conn_id: int, seq: int) -> Trade:
    return Trade(
        NAME, _symbol(trade.s), recv_ns, trade.E * NS_PER_MS, conn_id, seq,
        trade.p, trade.q, SELL if trade.m else BUY, str(trade.a),
    )  # fmt: skip


def _rest_quote(obj: Any, recv_ns: int, conn_id: int, seq: int) -> Quote:
    tick = convert(obj, _RestBookTicker)
    return Quote(
        NAME, _symbol(tick.symbol), recv_ns, None, conn_id, seq,
        tick.bidPrice, tick.bidQty, tick.askPrice, tick.askQty,
    )  # fmt: skip


def _decode_any(obj: Any, recv_ns: int, conn_id: int, seq: int, stream: str) -> list[Event]:
    """The general path: classify an already-parsed message by its keys (any key order)."""
    if isinstance(obj, list):  # REST bookTicker for several symbols
        return [_rest_quote(item, recv_ns, conn_id, seq) for item in obj]
    if not isinstance(obj, dict):
        raise UnrecognizedMessage(f"unrecognized message: JSON {type(obj).__name__}")
    if "stream" in obj and "data" in obj:
        name = obj["stream"]
        if not isinstance(name, str):
            raise UnrecognizedMessage("unrecognized message: non-string stream name")
        return _decode_any(obj["data"], recv_ns, conn_id, seq, stream) if _ours(name) else []
    if "code" in obj and "msg" in obj:
        if is_rest(stream):
            raise UnrecognizedMessage(f"exchange error {obj['code']}: {obj['msg']}")
        return []  # reply to a control request
    if "symbol" in obj and "bidPrice" in obj:
        return [_rest_quote(obj, recv_ns, conn_id, seq)]
    event = obj.get("e")
    if event == "trade":
        return [_trade(convert(obj, _Trade), recv_ns, conn_id, seq)]
    if event == "aggTrade":
        return [_agg_trade(convert(obj, _AggTrade), recv_ns, conn_id, seq)]
    if event is None and "u" in obj and "s" in obj and "b" in obj and "a" in obj:
        tick = convert(obj, _BookTicker)
        return [
            Quote(
                NAME, _symbol(tick.s), recv_ns, None, conn_id, seq,
                tick.b, tick.B, tick.a, tick.A,
            )
        ]  # fmt: skip
    if event is not None or "result" in obj or "lastUpdateId" in obj:
        return []  # depth, kline, serverShutdown, ...; control replies; partial depth
    raise UnrecognizedMessage(f"unrecognized message with keys {sorted(obj)[:8]}")


def _ours(stream_name: str) -> bool:
    return stream_name.endswith(("@bookTicker", "@trade", "@aggTrade"))


def new_decoder() -> BinanceDecoder:
    """A fresh decoder (Binance decoding keeps no state, so any instance behaves the same)."""
    return BinanceDecoder()


_DEFAULT = BinanceDecoder()
decode = _DEFAULT.decode
