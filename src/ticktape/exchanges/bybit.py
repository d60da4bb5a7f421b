"""Bybit v5 public spot: WebSocket and REST top of book and trades, sans-I/O (protocols.md 2).

Connection: ``wss://stream.bybit.com/v5/public/spot``, then ``{"op":"subscribe","args":[...]}`` with
at most 10 args per message (spot limit), and ``{"req_id":"<n>","op":"ping"}`` every 20 s (the
server cuts idle connections after 10 minutes). Frames are JSON text; key order differs between
products and eras, so decoding never depends on it.

Decoded (other valid JSON returns ``[]``: acks, pongs, ``tickers``, deeper books, klines, ...):

* ``orderbook.1.<SYM>`` -> :class:`Quote`, ``exch_ns`` = ``ts`` (ms -> ns). Since 2025-03-27 level 1
  is snapshot-only, but older captures (2023) hold ``delta`` messages that carry only the side that
  changed. The decoder therefore keeps, per ``(conn_id, symbol)``, the last known bid and ask: a
  snapshot sets both (an empty side reads as price and size 0.0), a delta replaces only the sides it
  carries (its first level with a non-zero size; only zero sizes = that side emptied), and a
  :class:`Quote` is emitted only once both sides are known on that connection.
* ``publicTrade.<SYM>`` -> one :class:`Trade` per item in order (a frame holds up to 1024),
  ``side`` from ``S`` (taker side), ``trade_id`` = ``i``, ``exch_ns`` = the frame's ``ts``.
* REST ``GET /v5/market/orderbook?category=spot&symbol=..&limit=1`` -> :class:`Quote`,
  ``exch_ns`` = ``result.ts``; ``retCode`` != 0 -> :class:`DecodeError` with ``retMsg``.
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
    TooManyStreamsError,
    UnrecognizedMessage,
    check_stream_count,
    chunks,
    convert,
    decode_error,
    json_any,
    row_decoder,
    string_after,
    typed_decoder,
)
from ticktape.exchanges.base import RestRequest
from ticktape.exchanges.events import BUY, SELL, Event, Quote, Trade
from ticktape.symbols import canonical, concatenated

NAME: str = "bybit"
DEFAULT_METHOD: str = "ws"
DEFAULT_WS_URL: str = "wss://stream.bybit.com/v5/public/spot"
DEFAULT_REST_URL: str = "https://api.bybit.com"
HEARTBEAT_INTERVAL_S: float | None = 20.0
MAX_STREAMS_PER_CONNECTION: int = 500  # documented cap is 21,000 characters of args; 500 fits
MAX_ARGS_PER_SUBSCRIBE: int = 10  # spot only
MAX_ARGS_CHARS: int = 21_000
DEFAULT_POLL_INTERVAL_S: float = 1.0  # 1 request/s per symbol against 600 per 5 s per IP
STALE_AFTER_S: float = 30.0  # orderbook.1 re-pushes every 3 s and pongs arrive every 20 s
WAIT_FOR_WELCOME: bool = False

_LEVEL1 = "orderbook.1."
_TRADES = "publicTrade."
_TOPIC = b'"topic":"'
_SIDES = {"Buy": BUY, "Sell": SELL}


# ---- symbols, streams, connection -------------------------------------------------------------


def native_symbol(symbol: str) -> str:
    """``"BTC-USDT"`` (or any spelling ``symbols.canonical`` reads) -> ``"BTCUSDT"``."""
    return concatenated(canonical(symbol))


def canonical_symbol(native: str) -> str:
    """``"BTCUSDT"`` -> ``"BTC-USDT"``; raises :class:`SymbolError`."""
    return canonical(native)


def streams(symbols: Sequence[str], trades: bool = False) -> list[str]:
    """``orderbook.1.BTCUSDT`` (and ``publicTrade.BTCUSDT`` with ``trades``) per symbol."""
    names: list[str] = []
    for symbol in symbols:
        native = native_symbol(symbol)
        names.append(f"{_LEVEL1}{native}")
        if trades:
            names.append(f"{_TRADES}{native}")
    return names


def ws_connect_url(ws_url: str, streams: Sequence[str]) -> str:
    """The URL as given: Bybit subscribes by message (:func:`subscribe_messages`)."""
    check_stream_count(NAME, streams, MAX_STREAMS_PER_CONNECTION)
    return ws_url


def subscribe_messages(streams: Sequence[str]) -> list[bytes]:
    """``{"op":"subscribe","args":[...]}`` frames of at most 10 args each, in stream order."""
    check_stream_count(NAME, streams, MAX_STREAMS_PER_CONNECTION)
    chars = sum(len(name) for name in streams)
    if chars > MAX_ARGS_CHARS:
        raise TooManyStreamsError(
            f"bybit: the stream names total {chars} characters on one connection, the exchange "
            f"allows {MAX_ARGS_CHARS}; split them over several connections"
        )
    return [
        msgspec.json.encode({"op": "subscribe", "args": list(group)})
        for group in chunks(streams, MAX_ARGS_PER_SUBSCRIBE)
    ]


def heartbeat_message(counter: int) -> bytes | None:
    """``{"req_id":"<counter>","op":"ping"}``; the spot pong echoes nothing we need."""
    return b'{"req_id":"%d","op":"ping"}' % counter


def rest_poll_requests(symbols: Sequence[str]) -> list[RestRequest]:
    """One ``GET /v5/market/orderbook?category=spot&symbol=BTCUSDT&limit=1`` per symbol."""
    return [
        RestRequest(
            "GET",
            "/v5/market/orderbook",
            (("category", "spot"), ("symbol", native_symbol(s)), ("limit", "1")),
        )
        for s in symbols
    ]


def route(payload: bytes) -> str | None:
    """The ``topic`` of a data frame (``"orderbook.1.BTCUSDT"``); ``None`` for acks and pongs."""
    return string_after(payload, _TOPIC)


# ---- wire shapes ------------------------------------------------------------------------------

Level = tuple[float, float]  # (price, size)
_EMPTY: Level = (0.0, 0.0)


class _BookData(msgspec.Struct, gc=False):
    b: list[Level] | None = None
    a: list[Level] | None = None


class _TradeItem(msgspec.Struct, gc=False):
    i: str
    p: float
    v: float
    S: str


class _Frame(msgspec.Struct, gc=False):
    """Every topic frame in one shape, so a frame is parsed once whatever its topic: ``data`` is
    an object for books (tickers fit too, their fields unread) and an array for trades. What each
    topic requires is checked where it is used."""

    topic: str | None = None
    ts: int | None = None
    type: str | None = None
    data: _BookData | list[_TradeItem] | None = None


class _RestBook(msgspec.Struct):
    s: str
    b: list[Level]
    a: list[Level]
    ts: int


_DECODE_FRAME = typed_decoder(_Frame)

_symbol = SymbolMemo(canonical)

_BOOK, _TRADES_KIND = 1, 2


def _classify(topic: str) -> tuple[int, str]:
    """``"orderbook.1.BTCUSDT"`` -> ``(_BOOK, "BTC-USDT")``; other topics -> kind 0."""
    if topic.startswith(_LEVEL1):
        return _BOOK, canonical(topic[len(_LEVEL1) :])
    if topic.startswith(_TRADES):
        return _TRADES_KIND, canonical(topic[len(_TRADES) :])
    return OTHER_CHANNEL, ""


_CHANNELS = ChannelTable(_classify)
_CHANNEL_NAMES = _CHANNELS.names


def _first_live(levels: list[Level]) -> Level:
    """The level a level-1 delta sets: its first non-zero size; all zero = the side is empty."""
    for level in levels:
        if level[1] != 0.0:
            return level
    return _EMPTY


def native_codec(stream: str) -> tuple[str, str, bytes] | None:
    """How the compiled window decoder (``ticktape._native``) may read rows of ``stream``:
    ``(codec name, canonical symbol, bytes the frame's "topic" must equal)``, or None.

    The codec reads level-1 snapshots and one-trade frames; the decoder's level-1 state is then
    updated through ``decoder.remember_quote`` (see :func:`new_decoder`) before it is needed.
    """
    try:
        kind, symbol = _CHANNEL_NAMES.get(stream) or _CHANNELS.learn(stream)
    except Exception:  # not a topic of ours: Python reads the rows
        return None
    codec = {_BOOK: "bybit_book", _TRADES_KIND: "bybit_trade"}.get(kind)
    return None if codec is None else (codec, symbol, stream.encode())


# ---- decoding ---------------------------------------------------------------------------------

Sides = dict[tuple[int, str], tuple[Level | None, Level | None]]
"""Level-1 book state: (conn_id, canonical symbol) -> (bid, ask); None = side not seen yet."""


def new_decoder(fast: bool = True) -> RowDecoder:
    """A fresh decoder with empty book state: ``decoder(payload, recv_ns, conn_id, seq, stream)``.

    Events in ``payload``; ``[]`` for control frames and channels we do not normalize; exactly
    one :class:`DecodeError` for anything unreadable. Never raises. The result depends on the
    payload and the level-1 sides this decoder has seen per ``(conn_id, symbol)``;
    ``decoder.reset(conn_id)`` forgets one connection's sides (call it when the connection
    closes), ``decoder.reset()`` all of them. ``decoder.remember_quote(conn_id, symbol, bid,
    bid_size, ask, ask_size)`` sets the state a snapshot sets (for snapshots read by the compiled
    window decoder, which keeps no state of its own).

    Fast path (a level-1 snapshot or a trade frame): one typed parse, the topic looked up in a
    table learned once per topic, the event built inline. Anything else (deltas, other shapes,
    anything it would have to reject) goes to :func:`_decode_slow`, which parses the payload
    afresh and is the complete definition of the result; the fast path changes the state only
    where the slow path would, and in the same way.

    ``fast=False``: a decoder that always takes :func:`_decode_slow` (the definition alone) with
    the same book state and ``reset``, for the tests that hold the fast path to it; slower, not
    for replays.
    """
    sides: Sides = {}
    parse = _DECODE_FRAME.decode
    names = _CHANNEL_NAMES
    learn = _CHANNELS.learn

    def decode(payload: bytes, recv_ns: int, conn_id: int, seq: int, stream: str) -> list[Event]:
        try:
            frame = parse(payload)
            topic = frame.topic
            kind, symbol = names.get(topic) or learn(topic)  # type: ignore[arg-type]
        except Exception:  # another shape, bad JSON, no topic, bad symbol: the slow path says
            return _decode_slow(sides, payload, recv_ns, conn_id, seq, stream)
        data = frame.data
        ts = frame.ts
        if kind == _BOOK:
            if frame.type == "snapshot" and data.__class__ is _BookData and ts is not None:
                bids, asks = data.b, data.a  # type: ignore[union-attr]
                if bids is not None and asks is not None:
                    bid = bids[0] if bids else _EMPTY
                    ask = asks[0] if asks else _EMPTY
                    sides[conn_id, symbol] = (bid, ask)
                    return [
                        Quote(NAME, symbol, recv_ns, ts * NS_PER_MS, conn_id, seq,
                              bid[0], bid[1], ask[0], ask[1])
                    ]  # fmt: skip
        elif kind == _TRADES_KIND:
            if data.__class__ is list and ts is not None:
                exch_ns = ts * NS_PER_MS
                trades: list[Event] = []
                for item in data:  # type: ignore[union-attr]
                    side = _SIDES.get(item.S)
                    if side is None:
                        break  # the slow path names the unknown side
                    trades.append(
                        Trade(NAME, symbol, recv_ns, exch_ns, conn_id, seq, item.p, item.v, side,
                              item.i)
                    )  # fmt: skip
                else:
                    return trades
        elif kind == OTHER_CHANNEL:
            return []  # tickers, deeper books, ...
        return _decode_slow(sides, payload, recv_ns, conn_id, seq, stream)

    def reset(conn_id: int | None = None) -> None:
        if conn_id is None:
            sides.clear()
        else:
            for key in [key for key in sides if key[0] == conn_id]:
                del sides[key]

    def slow(payload: bytes, recv_ns: int, conn_id: int, seq: int, stream: str) -> list[Event]:
        return _decode_slow(sides, payload, recv_ns, conn_id, seq, stream)

    def remember_quote(
        conn_id: int, symbol: str, bid: float, bid_size: float, ask: float, ask_size: float
    ) -> None:
        """A level-1 snapshot read elsewhere (the compiled window decoder): the state it sets."""
        sides[conn_id, symbol] = ((bid, bid_size), (ask, ask_size))

    decoder = row_decoder(decode if fast else slow, reset)
    decoder.remember_quote = remember_quote  # type: ignore[attr-defined]
    return decoder


def _decode_slow(
    sides: Sides, payload: bytes, recv_ns: int, conn_id: int, seq: int, stream: str
) -> list[Event]:
    """Every frame, from scratch: the definition the fast path in :func:`new_decoder` follows.

    One typed parse of the frame; its ``topic`` gives the kind and the symbol through a table
    learned once per topic. Frames of another shape (replies, REST bodies, klines) are parsed
    generically and classified by their keys.
    """
    try:
        try:
            frame = _DECODE_FRAME.decode(payload)
        except msgspec.ValidationError:  # valid JSON, another shape (klines, ...)
            return _decode_general(sides, json_any.decode(payload), recv_ns, conn_id, seq, stream)
        topic = frame.topic
        if topic is None:  # control reply or REST body
            return _decode_general(sides, json_any.decode(payload), recv_ns, conn_id, seq, stream)
        kind, symbol = _CHANNEL_NAMES.get(topic) or _CHANNELS.learn(topic)
        if kind == _BOOK:
            return _level1(sides, frame, symbol, recv_ns, conn_id, seq)
        if kind == _TRADES_KIND:
            return _trades(frame, symbol, recv_ns, conn_id, seq)
        return []  # tickers, deeper books, ...
    except Exception as exc:  # decode never raises: anything unreadable is a DecodeError
        return [decode_error(NAME, recv_ns, conn_id, seq, stream, exc)]


def _decode_general(
    sides: Sides, obj: Any, recv_ns: int, conn_id: int, seq: int, stream: str
) -> list[Event]:
    """An already-parsed frame, classified by its keys: other topics, control, REST."""
    if not isinstance(obj, dict):
        raise UnrecognizedMessage(f"unrecognized message: JSON {type(obj).__name__}")
    topic = obj.get("topic")
    if isinstance(topic, str):
        kind, symbol = _CHANNEL_NAMES.get(topic) or _CHANNELS.learn(topic)
        if kind == _BOOK:
            return _level1(sides, convert(obj, _Frame), symbol, recv_ns, conn_id, seq)
        if kind == _TRADES_KIND:
            return _trades(convert(obj, _Frame), symbol, recv_ns, conn_id, seq)
        return []  # tickers, deeper books, klines, ...
    if topic is not None:
        raise UnrecognizedMessage("unrecognized message: non-string topic")
    if "retCode" in obj:
        return _rest_quote(obj, recv_ns, conn_id, seq)
    if "op" in obj or "success" in obj:
        return []  # subscribe ack, pong
    raise UnrecognizedMessage(f"unrecognized message with keys {sorted(obj)[:8]}")


def _level1(
    sides: Sides, msg: _Frame, symbol: str, recv_ns: int, conn_id: int, seq: int
) -> list[Event]:
    book = msg.data
    ts = msg.ts
    if type(book) is not _BookData or book.b is None or book.a is None or ts is None:
        raise UnrecognizedMessage("orderbook message without ts, data.b and data.a")
    key = (conn_id, symbol)
    if msg.type == "snapshot":
        bid: Level | None = book.b[0] if book.b else _EMPTY
        ask: Level | None = book.a[0] if book.a else _EMPTY
    elif msg.type == "delta":
        bid, ask = sides.get(key, (None, None))
        if book.b:
            bid = _first_live(book.b)
        if book.a:
            ask = _first_live(book.a)
    else:
        raise UnrecognizedMessage(f"unknown orderbook message type {msg.type!r}")
    sides[key] = (bid, ask)
    if bid is None or ask is None:
        return []
    return [
        Quote(
            NAME, symbol, recv_ns, ts * NS_PER_MS, conn_id, seq,
            bid[0], bid[1], ask[0], ask[1],
        )
    ]  # fmt: skip


def _trades(msg: _Frame, symbol: str, recv_ns: int, conn_id: int, seq: int) -> list[Event]:
    items = msg.data
    if type(items) is not list or msg.ts is None:
        raise UnrecognizedMessage("publicTrade message without ts and a data array")
    exch_ns = msg.ts * NS_PER_MS
    events: list[Event] = []
    for item in items:
        side = _SIDES.get(item.S)
        if side is None:
            raise UnrecognizedMessage(f"unknown taker side {item.S!r} in trade {item.i}")
        events.append(
            Trade(NAME, symbol, recv_ns, exch_ns, conn_id, seq, item.p, item.v, side, item.i)
        )
    return events


def _rest_quote(obj: dict[str, Any], recv_ns: int, conn_id: int, seq: int) -> list[Event]:
    """A REST body: the level-1 orderbook gives a quote; other endpoints give nothing."""
    if obj["retCode"] != 0:
        raise UnrecognizedMessage(f"exchange error {obj['retCode']}: {obj.get('retMsg')}")
    result = obj.get("result")
    if not isinstance(result, dict) or "b" not in result or "a" not in result:
        return []  # /v5/market/time, tickers, ...
    book = convert(result, _RestBook)
    bid = book.b[0] if book.b else _EMPTY
    ask = book.a[0] if book.a else _EMPTY
    return [
        Quote(
            NAME, _symbol(book.s), recv_ns, book.ts * NS_PER_MS, conn_id, seq,
            bid[0], bid[1], ask[0], ask[1],
        )
    ]  # fmt: skip


decode = new_decoder()
"""The module-level decoder; it keeps book state like any other (use fresh ones for replays)."""
