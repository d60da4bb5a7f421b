"""MEXC spot: protobuf WebSocket and JSON REST top of book and trades, sans-I/O (protocols.md 4).

Connection: ``wss://wbs-api.mexc.com/ws``, then ``{"method":"SUBSCRIPTION","params":[...]}`` (at
most 30 subscriptions per connection) and ``{"method":"PING"}`` every 20 s (the server drops a
subscribed connection after 60 s without traffic). Control replies are JSON text frames
(``{"id":0,"code":0,"msg":"PONG"}``); market data are binary protobuf ``PushDataV3ApiWrapper``
frames (schema in :mod:`ticktape.exchanges.mexc_proto`).

Decoded (other frames return ``[]``: JSON acks and pongs, depth, kline, batch tickers, ...):

* body 315 ``publicAggreBookTicker`` and body 305 ``publicBookTicker`` -> :class:`Quote`;
* body 314 ``publicAggreDeals`` -> one :class:`Trade` per deal, ``side`` from ``tradeType``
  (1 = taker bought, 2 = taker sold), ``trade_id`` = ``tradeId`` (``""`` before 2026-06);
* ``exch_ns`` = the wrapper's ``sendTime`` (ms -> ns; ``None`` if absent) for both;
* REST ``GET /api/v3/ticker/bookTicker`` (object, or array) -> :class:`Quote`, ``exch_ns=None``.

How push frames are read, fastest first. Measured with ``timeit`` on this machine (Python
3.11, protobuf 7.36 upb backend, 2 shared cores) on the real 132-byte aggre.bookTicker frame
``frame_A1.bin``, each producing the same :class:`Quote`:

==========================================================  =========
layout reader (this module's fast path, incl. the call)       0.9 µs
upb parse + field access + 4 ``float()`` + Quote (slow path)  1.5 µs
tuned hand-written walker (Python loop over tags/varints)     3.2 µs
generic walker used as the oracle in the tests                6.4 µs
==========================================================  =========

A walker pays Python bytecode per field and upb ~55 ns per field read (each string created
anew), plus ~0.3 µs to build its message tree. The layout reader does neither: MEXC writes
every frame of a channel field by field in the same order, so frames differ only in their
decimal texts and varint values. ``frame.translate(SHAPE_TABLE)`` (C speed) maps those to two
wildcard bytes; the resulting *shape*, plus the few bytes the shape leaves open where they
decide the structure (lengths and tags that happen to be digits), identify the frame's exact
layout, which :func:`mexc_proto.frame_layout` reads once and a ``struct`` format then extracts
in one C call. Frames of any other layout (unknown fields, other field orders, non-ASCII text,
other bodies) go to upb, which stays the definition of the result; the tests hold the two
equal on real, generated and mutated frames. The walker lives on in
``tests/exchanges/test_mexc_decode.py`` as an independent oracle (and an opt-in speed check).

A push frame names its own channel and symbol, so the result depends on the payload alone
(``stream`` only tells a REST error body from a WebSocket reply).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any, Final

import msgspec

from ticktape.exchanges import mexc_proto
from ticktape.exchanges._support import (
    NS_PER_MS,
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
)
from ticktape.exchanges.base import RestRequest
from ticktape.exchanges.events import BUY, SELL, Event, Quote, Trade
from ticktape.symbols import canonical, concatenated

NAME: str = "mexc"
DEFAULT_METHOD: str = "ws"
DEFAULT_WS_URL: str = "wss://wbs-api.mexc.com/ws"
DEFAULT_REST_URL: str = "https://api.mexc.com"
HEARTBEAT_INTERVAL_S: float | None = 20.0
MAX_STREAMS_PER_CONNECTION: int = 30
DEFAULT_POLL_INTERVAL_S: float = 1.0  # 1 request/s per symbol against 500 per 10 s per endpoint
STALE_AFTER_S: float = 30.0  # PONGs arrive every 20 s; the server itself gives up after 60 s
WAIT_FOR_WELCOME: bool = False

BOOK_TICKER_CHANNEL = "spot@public.aggre.bookTicker.v3.api.pb@100ms@"
DEALS_CHANNEL = "spot@public.aggre.deals.v3.api.pb@100ms@"

_SIDES = {1: BUY, 2: SELL}
_Wrapper: Any = mexc_proto.PushDataV3ApiWrapper


# ---- symbols, streams, connection -------------------------------------------------------------


def native_symbol(symbol: str) -> str:
    """``"BTC-USDT"`` (or any spelling ``symbols.canonical`` reads) -> ``"BTCUSDT"``."""
    return concatenated(canonical(symbol))


def canonical_symbol(native: str) -> str:
    """``"BTCUSDT"`` -> ``"BTC-USDT"``; raises :class:`SymbolError`."""
    return canonical(native)


def streams(symbols: Sequence[str], trades: bool = False) -> list[str]:
    """The 100 ms aggregated book ticker (and deals with ``trades``) per symbol, uppercase."""
    names: list[str] = []
    for symbol in symbols:
        native = native_symbol(symbol)
        names.append(f"{BOOK_TICKER_CHANNEL}{native}")
        if trades:
            names.append(f"{DEALS_CHANNEL}{native}")
    return names


def ws_connect_url(ws_url: str, streams: Sequence[str]) -> str:
    """The URL as given: MEXC subscribes by message (:func:`subscribe_messages`)."""
    check_stream_count(NAME, streams, MAX_STREAMS_PER_CONNECTION)
    return ws_url


def subscribe_messages(streams: Sequence[str]) -> list[bytes]:
    """One ``{"method":"SUBSCRIPTION","params":[...]}`` with every stream (at most 30)."""
    check_stream_count(NAME, streams, MAX_STREAMS_PER_CONNECTION)
    if not streams:
        return []
    return [msgspec.json.encode({"method": "SUBSCRIPTION", "params": list(streams)})]


def heartbeat_message(counter: int) -> bytes | None:
    """``{"method":"PING"}`` (MEXC replies ``{"id":0,"code":0,"msg":"PONG"}``; no id to echo)."""
    return b'{"method":"PING"}'


def rest_poll_requests(symbols: Sequence[str]) -> list[RestRequest]:
    """One ``GET /api/v3/ticker/bookTicker?symbol=BTCUSDT`` (weight 1) per symbol."""
    return [
        RestRequest("GET", "/api/v3/ticker/bookTicker", (("symbol", native_symbol(s)),))
        for s in symbols
    ]


def route(payload: bytes) -> str | None:
    """The channel of a binary push frame (protobuf field 1, always first); ``None`` for JSON.

    A byte-level read of tag ``0x0a`` and its length varint; the full frame is not parsed.
    """
    if payload[:1] != b"\n":
        return None
    length = 0
    shift = 0
    pos = 1
    while pos < 6 and pos < len(payload):  # a channel name is far shorter than 2**28 bytes
        byte = payload[pos]
        pos += 1
        length |= (byte & 0x7F) << shift
        if byte < 0x80:
            end = pos + length
            if end > len(payload):
                return None
            try:
                return payload[pos:end].decode()
            except UnicodeDecodeError:
                return None
        shift += 7
    return None


# ---- decoding ---------------------------------------------------------------------------------


class _RestBookTicker(msgspec.Struct):
    symbol: str
    bidPrice: float | None = None
    bidQty: float | None = None
    askPrice: float | None = None
    askQty: float | None = None


_symbol = SymbolMemo(canonical)
_SYMBOLS = _symbol.cache


_Plan = tuple[bool, str, Callable[[bytes], tuple[Any, ...]], tuple[tuple[int, int, int, str], ...]]
"""How to read every frame of one layout: ``(book, symbol, unpack, deals)``. ``unpack(frame)``
gives sendTime's first two bytes (ints) and its four high bytes, then the layout's texts (a book
ticker: bid, bid quantity, ask, ask quantity; deals: price, quantity and trade id of each deal,
in frame order); ``deals`` holds ``(price, quantity, trade id or -1, side)`` indices into that
tuple."""
_Entry = tuple[
    Callable[[bytes], Any], Any, "_Plan | None", dict[Any, "_Plan | None"], tuple[int, ...]
]
"""Per shape: ``(read the open bytes, their first value, its plan, {other values: plan}, the open
positions)``."""
_MISSING: Final[Any] = object()
_MAX_SHAPES: Final = 20_000  # real recordings show hundreds; hostile input cannot grow the table
_MAX_VARIANTS: Final = 64  # layouts per shape (normally one; a few for digits in symbols)
_MAX_HIGHS: Final = 100_000  # sendTime high parts remembered (one per 16 s of data)


def new_decoder(fast: bool = True) -> RowDecoder:
    """A fresh decoder: ``decoder(payload, recv_ns, conn_id, seq, stream) -> list[Event]``.

    Events in ``payload``; ``[]`` for control frames and channels we do not normalize; exactly
    one :class:`DecodeError` for anything unreadable. Never raises. MEXC decoding keeps no
    state (``decoder.reset(conn_id)`` does nothing; the layout tables are caches).

    Fast path (a book ticker or deals push frame laid out as MEXC writes it): the frame's shape
    (``translate``, see :data:`mexc_proto.SHAPE_TABLE`) and the bytes at its open structural
    positions find its layout in a table learned once per layout; one ``struct`` unpack then
    gives the decimal texts and sendTime. Anything else goes to :func:`_decode_slow` (protobuf's
    parser), which is the complete definition of the result; a layout only ever stands for
    frames the parser reads the same way (see :func:`mexc_proto.frame_layout`).

    ``fast=False``: a decoder that always takes :func:`_decode_slow` (the definition alone),
    for the tests that hold the fast path to it; slower, not for replays.
    """
    if not fast:
        return stateless_decoder(_decode_slow)

    plans = _PLANS
    shape_table = mexc_proto.SHAPE_TABLE
    highs = _SEND_TIME_HIGHS

    def decode(payload: bytes, recv_ns: int, conn_id: int, seq: int, stream: str) -> list[Event]:
        try:
            shape = payload.translate(shape_table)
            entry = plans.get(shape)
            if entry is None:
                plan = _learn(payload, shape)
            else:
                key = entry[0](payload)
                plan = entry[2] if key == entry[1] else entry[3].get(key, _MISSING)
                if plan is _MISSING:
                    plan = _learn(payload, shape)
            if plan is not None:
                book, symbol, unpack, deals = plan
                if book:
                    low0, low1, high, bid, bid_size, ask, ask_size = unpack(payload)
                    send_ms = low0 + (low1 << 7) + (highs.get(high) or _high(high))
                    return [
                        Quote(NAME, symbol, recv_ns, send_ms * 1_000_000, conn_id, seq,
                              float(bid), float(bid_size), float(ask), float(ask_size))
                    ]  # fmt: skip
                fields = unpack(payload)
                high = fields[2]
                send_ms = fields[0] + (fields[1] << 7) + (highs.get(high) or _high(high))
                trades: list[Event] = []  # a loop, not a comprehension: no closure cells here
                for price, size, trade_id, side in deals:
                    trades.append(
                        Trade(NAME, symbol, recv_ns, send_ms * 1_000_000, conn_id, seq,
                              float(fields[price]), float(fields[size]), side,
                              "" if trade_id < 0 else fields[trade_id].decode())
                    )  # fmt: skip
                return trades
        except Exception:  # e.g. a text float() refuses: the slow path gives the verdict
            pass
        return _decode_slow(payload, recv_ns, conn_id, seq, stream)

    return row_decoder(decode)


def native_codec(stream: str) -> tuple[str, str, bytes] | None:
    """How the compiled window decoder (``ticktape._native``) may read rows of ``stream`` (a push
    channel, ``spot@public....@BTCUSDT``): ``("mexc_push", canonical symbol, native symbol)``, or
    None. The codec accepts a frame only if its ``symbol`` field equals the native symbol, which
    is where :func:`_push_symbol` takes the symbol from.
    """
    if not stream.startswith("spot@public."):
        return None
    native = stream.rpartition("@")[2]
    try:
        symbol = _SYMBOLS.get(native) or _symbol(native)
        expect = native.encode("ascii")
    except Exception:
        return None
    return "mexc_push", symbol, expect


_PLANS: dict[bytes, _Entry] = {}
_SEND_TIME_HIGHS: dict[bytes, int] = {}
"""The four high bytes of a 6-byte sendTime varint -> what they add to its first two bytes read
as plain ints (their own value, minus the two continuation bits of the first two bytes)."""


def _learn(payload: bytes, shape: bytes) -> _Plan | None:
    """Read the layout of ``payload`` once and remember the plan (or that there is none).

    Beyond the table's bounds, frames of new layouts are simply read by the slow path.
    """
    checks, layout = mexc_proto.frame_layout(payload, shape)
    plan = None if layout is None else _plan(layout)
    read = itemgetter(*checks)
    entry = _PLANS.get(shape)
    if entry is None:
        if len(_PLANS) < _MAX_SHAPES:
            _PLANS[shape] = (read, read(payload), plan, {}, checks)
    elif entry[4] == checks and len(entry[3]) < _MAX_VARIANTS:
        entry[3][read(payload)] = plan
    return plan


def _plan(layout: mexc_proto.FrameLayout) -> _Plan | None:
    """The plan of a layout; ``None`` if the frame cannot become events (unknown symbol or
    trade type: the slow path reports those)."""
    try:
        native = layout.symbol.decode()
        symbol = _SYMBOLS.get(native) or _symbol(native)
    except Exception:
        return None
    spans = sorted([*layout.texts, *(span for span in layout.trade_ids if span is not None)])
    cursor = layout.send_time_at + 6
    fmt = f"<{layout.send_time_at}xBB4s"
    for start, length in spans:
        fmt += f"{start - cursor}x{length}s"
        cursor = start + length
    index = {span: 3 + i for i, span in enumerate(spans)}
    deals: list[tuple[int, int, int, str]] = []
    trades = zip(layout.trade_types, layout.trade_ids, strict=True)
    for n, (trade_type, trade_id) in enumerate(trades):
        side = _SIDES.get(trade_type)
        if side is None:
            return None
        price, size = layout.texts[2 * n], layout.texts[2 * n + 1]
        deals.append((index[price], index[size], -1 if trade_id is None else index[trade_id], side))
    book = layout.body != mexc_proto.DEALS_BODY
    return book, symbol, struct.Struct(fmt).unpack_from, tuple(deals)


def _high(high: bytes) -> int:
    """See :data:`_SEND_TIME_HIGHS`; remembered."""
    value = sum((byte & 0x7F) << (14 + 7 * i) for i, byte in enumerate(high)) - 0x80 - (0x80 << 7)
    if len(_SEND_TIME_HIGHS) >= _MAX_HIGHS:
        _SEND_TIME_HIGHS.clear()
    _SEND_TIME_HIGHS[high] = value
    return value


def _decode_slow(payload: bytes, recv_ns: int, conn_id: int, seq: int, stream: str) -> list[Event]:
    """Every frame, from scratch, with protobuf's parser: the definition the fast path follows."""
    try:
        if payload[:1] == b"\n":  # protobuf: field 1 (channel), length-delimited
            wrapper = _Wrapper.FromString(payload)
            if wrapper.WhichOneof("body") == "publicAggreBookTicker":  # the hot case, inline
                tick = wrapper.publicAggreBookTicker
                send_ms = wrapper.sendTime
                return [
                    Quote(
                        NAME, _SYMBOLS.get(wrapper.symbol) or _push_symbol(wrapper), recv_ns,
                        send_ms * NS_PER_MS if send_ms else None, conn_id, seq,
                        float(tick.bidPrice), float(tick.bidQuantity),
                        float(tick.askPrice), float(tick.askQuantity),
                    )
                ]  # fmt: skip
            return _decode_push(wrapper, recv_ns, conn_id, seq)
        return _decode_json(json_any.decode(payload), recv_ns, conn_id, seq, stream)
    except Exception as exc:  # decode never raises: anything unreadable is a DecodeError
        return [decode_error(NAME, recv_ns, conn_id, seq, stream, exc)]


def _decode_push(wrapper: Any, recv_ns: int, conn_id: int, seq: int) -> list[Event]:
    body = wrapper.WhichOneof("body")
    if body == "publicAggreBookTicker":
        tick = wrapper.publicAggreBookTicker
    elif body == "publicAggreDeals":
        return _deals(wrapper, recv_ns, conn_id, seq)
    elif body == "publicBookTicker":
        tick = wrapper.publicBookTicker
    elif body is None and not wrapper.channel.startswith("spot@"):
        raise UnrecognizedMessage("not a MEXC push frame (no channel, no known body)")
    else:
        return []  # depth, kline, batch ticker, bodies without a schema here
    send_ms = wrapper.sendTime
    return [
        Quote(
            NAME, _push_symbol(wrapper), recv_ns, send_ms * NS_PER_MS if send_ms else None,
            conn_id, seq, float(tick.bidPrice), float(tick.bidQuantity), float(tick.askPrice),
            float(tick.askQuantity),
        )
    ]  # fmt: skip


def _deals(wrapper: Any, recv_ns: int, conn_id: int, seq: int) -> list[Event]:
    symbol = _push_symbol(wrapper)
    send_ms = wrapper.sendTime
    exch_ns = send_ms * NS_PER_MS if send_ms else None
    events: list[Event] = []
    for deal in wrapper.publicAggreDeals.deals:
        side = _SIDES.get(deal.tradeType)
        if side is None:
            raise UnrecognizedMessage(f"unknown tradeType {deal.tradeType}")
        events.append(
            Trade(
                NAME, symbol, recv_ns, exch_ns, conn_id, seq,
                float(deal.price), float(deal.quantity), side, deal.tradeId,
            )
        )  # fmt: skip
    return events


def _push_symbol(wrapper: Any) -> str:
    """Wrapper field 3 if present, else the channel's last ``@`` part (``...@BTCUSDT``)."""
    native = wrapper.symbol or wrapper.channel.rpartition("@")[2]
    return _SYMBOLS.get(native) or _symbol(native)


def _decode_json(obj: Any, recv_ns: int, conn_id: int, seq: int, stream: str) -> list[Event]:
    """JSON text: control replies, or a REST bookTicker body (object or array)."""
    if isinstance(obj, list):
        return [_rest_quote(item, recv_ns, conn_id, seq) for item in obj]
    if not isinstance(obj, dict):
        raise UnrecognizedMessage(f"unrecognized message: JSON {type(obj).__name__}")
    if "symbol" in obj and "bidPrice" in obj:
        return [_rest_quote(obj, recv_ns, conn_id, seq)]
    if "code" in obj and "msg" in obj:
        if is_rest(stream):
            raise UnrecognizedMessage(f"exchange error {obj['code']}: {obj['msg']}")
        return []  # subscription reply, PONG
    raise UnrecognizedMessage(f"unrecognized message with keys {sorted(obj)[:8]}")


def _rest_quote(obj: Any, recv_ns: int, conn_id: int, seq: int) -> Quote:
    tick = convert(obj, _RestBookTicker)
    return Quote(
        NAME, _symbol(tick.symbol), recv_ns, None, conn_id, seq,
        tick.bidPrice or 0.0, tick.bidQty or 0.0, tick.askPrice or 0.0, tick.askQty or 0.0,
    )  # fmt: skip


decode = new_decoder()
"""The module-level decoder (stateless, so shared use is fine); same contract as a fresh one."""
