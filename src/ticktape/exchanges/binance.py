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

Decoding is stateless. Cost (this machine, ``tests/exchanges/test_decoder_speed.py``): ~0.6 µs
per combined bookTicker frame, ~0.8 µs per trade (in a replay, where payloads are cold in the
cache, ~0.2 µs more); msgspec typed structs with string-to-float leniency do the parsing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from ticktape.exchanges._support import (
    NS_PER_MS,
    OTHER_CHANNEL,
    ChannelTable,
    RowDecoder,
    SymbolMemo,
    UnrecognizedMessage,
    check_stream_count,
    convert,
    decode_error,
    is_rest,
    json_any,
    row_decoder,
    stateless_decoder,
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


class _EventData(msgspec.Struct, gc=False):
    """The fields of bookTicker, trade and aggTrade ``data`` in one shape, so a frame is parsed
    once whatever its stream; :func:`_events` checks what each stream requires.

    ``a`` is the ask price (a decimal string) in bookTicker but the aggregate trade id (an
    integer) in aggTrade: typed ``int | float`` it stays an exact ``int`` for the id, and a price
    string becomes a float (or an int if it has no point or exponent, made float exactly later).
    """

    s: str | None = None
    b: float | None = None
    B: float | None = None
    a: int | float | None = None
    A: float | None = None
    E: int | None = None
    t: int | None = None
    p: float | None = None
    q: float | None = None
    m: bool | None = None


class _Combined(msgspec.Struct, gc=False):
    stream: str
    data: _EventData


class _RestBookTicker(msgspec.Struct):
    symbol: str
    bidPrice: float
    bidQty: float
    askPrice: float
    askQty: float


_DECODE_COMBINED = typed_decoder(_Combined)

_symbol = SymbolMemo(canonical)

_BOOK, _TRADE, _AGG_TRADE = 1, 2, 3
_KIND_BY_SUFFIX = {"bookTicker": _BOOK, "trade": _TRADE, "aggTrade": _AGG_TRADE}


def _classify(name: str) -> tuple[int, str]:
    """``"btcusdt@bookTicker"`` -> ``(_BOOK, "BTC-USDT")``; other streams -> kind 0."""
    native, _, suffix = name.partition("@")
    kind = _KIND_BY_SUFFIX.get(suffix, OTHER_CHANNEL)
    return (kind, canonical(native)) if kind != OTHER_CHANNEL else (OTHER_CHANNEL, "")


_CHANNELS = ChannelTable(_classify)
_CHANNEL_NAMES = _CHANNELS.names


def native_codec(stream: str) -> tuple[str, str, bytes] | None:
    """How the compiled window decoder (``ticktape._native``) may read rows of ``stream``:
    ``(codec name, canonical symbol, bytes the frame's "stream" must equal)``, or None.

    The symbol is what this module's decoder derives from the same stream name, so a frame the
    codec accepts (its own stream name equal to ``stream``) decodes to the same symbol.
    """
    try:
        kind, symbol = _CHANNEL_NAMES.get(stream) or _CHANNELS.learn(stream)
    except Exception:  # not a name of ours (control routes, bad symbols): Python reads the rows
        return None
    codec = {_BOOK: "binance_book", _TRADE: "binance_trade"}.get(kind)
    return None if codec is None else (codec, symbol, stream.encode())


# ---- decoding ---------------------------------------------------------------------------------


def new_decoder(fast: bool = True) -> RowDecoder:
    """A fresh decoder: ``decoder(payload, recv_ns, conn_id, seq, stream) -> list[Event]``.

    Events in ``payload``; ``[]`` for control frames and channels we do not normalize; exactly
    one :class:`DecodeError` for anything unreadable. Never raises. Binance decoding keeps no
    state, so ``decoder.reset(conn_id)`` does nothing and any instance behaves the same.

    The result depends on the payload alone (``stream`` only tells a REST error body from a
    WebSocket reply, and is echoed in a :class:`DecodeError`). Fast path (a combined
    bookTicker or trade frame): one typed parse, the stream name looked up in a table learned
    once per name, the event built inline. Anything else goes to :func:`_decode_slow`, which
    parses the payload afresh and is the complete definition of the result.

    ``fast=False``: a decoder that always takes :func:`_decode_slow` (the definition alone),
    for the tests that hold the fast path to it; slower, not for replays.
    """
    if not fast:
        return stateless_decoder(_decode_slow)

    parse = _DECODE_COMBINED.decode
    names = _CHANNEL_NAMES
    learn = _CHANNELS.learn

    def decode(payload: bytes, recv_ns: int, conn_id: int, seq: int, stream: str) -> list[Event]:
        try:
            frame = parse(payload)
            name = frame.stream
            kind, symbol = names.get(name) or learn(name)
        except Exception:  # another shape, bad JSON, bad symbol: the slow path says which
            return _decode_slow(payload, recv_ns, conn_id, seq, stream)
        data = frame.data
        if kind == _BOOK:
            bid, bid_size, ask, ask_size = data.b, data.B, data.a, data.A
            if (
                bid is not None
                and bid_size is not None
                and ask is not None
                and ask_size is not None
            ):
                return [
                    Quote(NAME, symbol, recv_ns, None, conn_id, seq, bid, bid_size, float(ask),
                          ask_size)
                ]  # fmt: skip
        elif kind == _TRADE:
            trade_id, event_ms, price, size, maker = data.t, data.E, data.p, data.q, data.m
            if (
                event_ms is not None and price is not None and size is not None
                and maker is not None and trade_id.__class__ is int
            ):  # fmt: skip
                return [
                    Trade(NAME, symbol, recv_ns, event_ms * NS_PER_MS, conn_id, seq, price, size,
                          SELL if maker else BUY, str(trade_id))
                ]  # fmt: skip
        elif kind == OTHER_CHANNEL:
            return []  # depth, kline, ...
        return _decode_slow(payload, recv_ns, conn_id, seq, stream)

    return row_decoder(decode)


def _decode_slow(payload: bytes, recv_ns: int, conn_id: int, seq: int, stream: str) -> list[Event]:
    """Every frame, from scratch: the definition the fast path in :func:`new_decoder` follows.

    One typed parse of a combined frame; frames of another shape (raw ``/ws`` frames, depth,
    replies, REST bodies) are parsed generically and classified by their keys.
    """
    try:
        try:
            frame = _DECODE_COMBINED.decode(payload)
        except msgspec.ValidationError:  # valid JSON, another shape
            return _decode_any(json_any.decode(payload), recv_ns, conn_id, seq, stream)
        kind, symbol = _CHANNEL_NAMES.get(frame.stream) or _CHANNELS.learn(frame.stream)
        return _events(kind, symbol, frame.data, recv_ns, conn_id, seq)
    except Exception as exc:  # decode never raises: anything unreadable is a DecodeError
        return [decode_error(NAME, recv_ns, conn_id, seq, stream, exc)]


def _events(
    kind: int, symbol: str, data: _EventData, recv_ns: int, conn_id: int, seq: int
) -> list[Event]:
    """The event of one bookTicker/trade/aggTrade ``data`` object; ``[]`` for other kinds."""
    if kind == _BOOK:
        bid, bid_size, ask, ask_size = data.b, data.B, data.a, data.A
        if bid is None or bid_size is None or ask is None or ask_size is None:
            raise UnrecognizedMessage("bookTicker without b, B, a and A")
        return [
            Quote(NAME, symbol, recv_ns, None, conn_id, seq, bid, bid_size, float(ask), ask_size)
        ]
    if kind in (_TRADE, _AGG_TRADE):
        trade_id = data.t if kind == _TRADE else data.a
        event_ms, price, size, maker = data.E, data.p, data.q, data.m
        if (
            event_ms is None or price is None or size is None or maker is None
            or trade_id.__class__ is not int
        ):  # fmt: skip
            raise UnrecognizedMessage("trade without E, p, q, m and an integer trade id")
        return [
            Trade(
                NAME, symbol, recv_ns, event_ms * NS_PER_MS, conn_id, seq,
                price, size, SELL if maker else BUY, str(trade_id),
            )
        ]  # fmt: skip
    return []


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
        kind, symbol = _CHANNEL_NAMES.get(name) or _CHANNELS.learn(name)
        if kind == OTHER_CHANNEL:
            return []  # depth, kline, serverShutdown, ...
        return _events(kind, symbol, convert(obj["data"], _EventData), recv_ns, conn_id, seq)
    if "code" in obj and "msg" in obj:
        if is_rest(stream):
            raise UnrecognizedMessage(f"exchange error {obj['code']}: {obj['msg']}")
        return []  # reply to a control request
    if "symbol" in obj and "bidPrice" in obj:
        return [_rest_quote(obj, recv_ns, conn_id, seq)]
    event = obj.get("e")
    if event in ("trade", "aggTrade") or (
        event is None and "u" in obj and "s" in obj and "b" in obj and "a" in obj
    ):  # a raw (/ws) trade, aggTrade or bookTicker
        data = convert(obj, _EventData)
        if data.s is None:
            raise UnrecognizedMessage("event without a symbol (s)")
        kind = _TRADE if event == "trade" else _AGG_TRADE if event == "aggTrade" else _BOOK
        return _events(kind, _symbol(data.s), data, recv_ns, conn_id, seq)
    if event is not None or "result" in obj or "lastUpdateId" in obj:
        return []  # depth, kline, serverShutdown, ...; control replies; partial depth
    raise UnrecognizedMessage(f"unrecognized message with keys {sorted(obj)[:8]}")


decode = new_decoder()
"""The module-level decoder (stateless, so shared use is fine); same contract as a fresh one."""
