"""KuCoin spot (classic API): token flow, WebSocket and REST top of book and trades, sans-I/O.

Facts in protocols.md section 3. Connecting is a three-step dance the recorder drives with the
helpers here (the token part lives in :mod:`ticktape.exchanges.kucoin_token` and is re-exported),
none of which does I/O:

1. send :func:`token_request` (``POST /api/v1/bullet-public``) and feed the body to
   :func:`parse_token` -> :class:`KucoinToken` (endpoint, token, ping interval/timeout);
2. open :func:`token_connect_url` (``<endpoint>?token=..&connectId=..``) and wait for the welcome
   frame (:data:`WAIT_FOR_WELCOME`, :func:`is_welcome`) before subscribing;
3. send :func:`subscribe_messages` (one per channel and group of at most 100 symbols) and
   :func:`heartbeat_message` every ``token.ping_interval_s``.

Decoded (other valid JSON returns ``[]``: welcome, ack, pong, level2, candles, Pro/UTA frames, ...):

* ``/spotMarket/level1:<SYM>`` -> :class:`Quote`, ``exch_ns`` = ``data.timestamp`` (ms -> ns);
* ``/market/ticker:<SYM>`` -> :class:`Quote` from ``bestBid``/``bestAsk`` (+ sizes), ``exch_ns`` =
  ``data.time`` (ms; the docs' ``Time`` spelling is accepted too); ``/market/ticker:all`` takes the
  symbol from ``subject``;
* ``/market/match:<SYM>`` -> :class:`Trade`, ``exch_ns`` = ``data.time``, already nanoseconds as a
  decimal string (kept exact through ``int``), ``side`` = ``data.side`` (the taker's);
* REST ``GET /api/v1/market/orderbook/level1?symbol=..`` -> :class:`Quote`, ``exch_ns`` =
  ``data.time`` (ms); the symbol comes from the row's ``stream`` (the body has none); a ``code``
  other than ``"200000"`` -> :class:`DecodeError`.

KuCoin's key order is not stable (the 2021 capture puts ``data`` first), so :func:`route` finds
the topic by a byte search and the decoder reads fields by name, never by position.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote

import msgspec

from ticktape.exchanges._support import (
    NS_PER_MS,
    OTHER_CHANNEL,
    ChannelTable,
    RowDecoder,
    SymbolMemo,
    UnrecognizedMessage,
    check_stream_count,
    chunks,
    convert,
    decode_error,
    json_any,
    query_value,
    row_decoder,
    stateless_decoder,
    string_after,
    typed_decoder,
)
from ticktape.exchanges.base import RestRequest
from ticktape.exchanges.events import BUY, SELL, Event, Quote, Trade

# The token flow lives in kucoin_token; ``X as X`` re-exports it as part of this module's interface.
from ticktape.exchanges.kucoin_token import KucoinToken as KucoinToken
from ticktape.exchanges.kucoin_token import KucoinTokenError as KucoinTokenError
from ticktape.exchanges.kucoin_token import is_welcome as is_welcome
from ticktape.exchanges.kucoin_token import parse_token as parse_token
from ticktape.exchanges.kucoin_token import token_connect_url as token_connect_url
from ticktape.exchanges.kucoin_token import token_request as token_request
from ticktape.symbols import canonical

NAME: str = "kucoin"
DEFAULT_METHOD: str = "ws"
DEFAULT_WS_URL: str = "wss://ws-api-spot.kucoin.com/"  # fallback only: use the token's endpoint
DEFAULT_REST_URL: str = "https://api.kucoin.com"
HEARTBEAT_INTERVAL_S: float | None = 18.0  # default pingInterval; prefer KucoinToken's value
MAX_STREAMS_PER_CONNECTION: int = 300  # community practice; KuCoin's current page is unverified
MAX_SYMBOLS_PER_TOPIC: int = 100
DEFAULT_POLL_INTERVAL_S: float = 1.0  # weight 2 per symbol per second against 2000 per 30 s
STALE_AFTER_S: float = 30.0  # pongs arrive every ping interval (18 s), so silence means trouble
WAIT_FOR_WELCOME: bool = True

LEVEL1 = "/spotMarket/level1:"
TICKER = "/market/ticker:"
MATCH = "/market/match:"
_TOPIC = b'"topic":"'
_SIDES = {"buy": BUY, "sell": SELL}


# ---- symbols, streams, connection -------------------------------------------------------------


def native_symbol(symbol: str) -> str:
    """KuCoin spells symbols canonically: ``"BTCUSDT"``/``"BTC-USDT"`` -> ``"BTC-USDT"``."""
    return canonical(symbol)


def canonical_symbol(native: str) -> str:
    """``"BTC-USDT"`` -> ``"BTC-USDT"`` (validated); raises :class:`SymbolError`."""
    return canonical(native)


def streams(symbols: Sequence[str], trades: bool = False) -> list[str]:
    """``/spotMarket/level1:BTC-USDT`` (and ``/market/match:BTC-USDT``) per symbol."""
    names: list[str] = []
    for symbol in symbols:
        native = native_symbol(symbol)
        names.append(f"{LEVEL1}{native}")
        if trades:
            names.append(f"{MATCH}{native}")
    return names


def ws_connect_url(ws_url: str, streams: Sequence[str]) -> str:
    """``ws_url`` unchanged: build it with :func:`token_connect_url`; topics go by message."""
    check_stream_count(NAME, streams, MAX_STREAMS_PER_CONNECTION)
    return ws_url


def subscribe_messages(streams: Sequence[str]) -> list[bytes]:
    """One subscribe per channel and group of <=100 symbols, ids 1, 2, ... (acks echo them).

    Channels keep the order of their first stream; symbols keep their order within a channel.
    """
    check_stream_count(NAME, streams, MAX_STREAMS_PER_CONNECTION)
    by_channel: dict[str, list[str]] = {}
    for name in streams:
        channel, sep, symbol = name.partition(":")
        if not sep or not symbol:
            raise ValueError(f"kucoin: bad stream {name!r}: expected '<channel>:<SYMBOL>'")
        by_channel.setdefault(channel, []).append(symbol)
    messages: list[bytes] = []
    for channel, symbols in by_channel.items():
        for group in chunks(symbols, MAX_SYMBOLS_PER_TOPIC):
            message = {
                "id": len(messages) + 1,
                "type": "subscribe",
                "topic": f"{channel}:{','.join(group)}",
                "privateChannel": False,
                "response": True,
            }
            messages.append(msgspec.json.encode(message))
    return messages


def heartbeat_message(counter: int) -> bytes | None:
    """``{"id":"<counter>","type":"ping"}``; the pong echoes the id."""
    return b'{"id":"%d","type":"ping"}' % counter


def rest_poll_requests(symbols: Sequence[str]) -> list[RestRequest]:
    """One ``GET /api/v1/market/orderbook/level1?symbol=BTC-USDT`` (weight 2) per symbol."""
    return [
        RestRequest(
            "GET", "/api/v1/market/orderbook/level1", (("symbol", native_symbol(s)),), weight=2
        )
        for s in symbols
    ]


def route(payload: bytes) -> str | None:
    """The ``topic`` of a data frame (searched: key order varies); ``None`` for control frames."""
    return string_after(payload, _TOPIC)


# ---- wire shapes ------------------------------------------------------------------------------


class _Data(msgspec.Struct, gc=False):
    """The ``data`` fields of level1, ticker and match frames (and the REST level1 body) in one
    shape, so a frame is parsed once whatever its topic; each builder checks what it needs."""

    asks: list[float] | None = None  # level1: [price, size]
    bids: list[float] | None = None
    timestamp: int | None = None  # level1, ms
    bestBid: float | None = None  # ticker, REST level1
    bestBidSize: float | None = None
    bestAsk: float | None = None
    bestAskSize: float | None = None
    Time: int | None = None  # ticker time in one docs example
    price: float | None = None  # match
    size: float | None = None
    side: str | None = None
    tradeId: str | None = None
    time: int | str | None = None  # ticker/REST: int ms; match: decimal string of ns


class _Frame(msgspec.Struct, gc=False):
    topic: str | None = None
    subject: str | None = None
    data: _Data | None = None


_DECODE_FRAME = typed_decoder(_Frame)

_symbol = SymbolMemo(canonical)

_LEVEL1_KIND, _MATCH_KIND, _TICKER_KIND, _TICKER_ALL_KIND = 1, 2, 3, 4
_KIND_BY_CHANNEL = {LEVEL1: _LEVEL1_KIND, MATCH: _MATCH_KIND, TICKER: _TICKER_KIND}


def _classify(topic: str) -> tuple[int, str]:
    """``"/spotMarket/level1:BTC-USDT"`` -> ``(_LEVEL1_KIND, "BTC-USDT")``; others -> kind 0."""
    channel, sep, native = topic.partition(":")
    kind = _KIND_BY_CHANNEL.get(channel + sep, OTHER_CHANNEL)
    if kind == OTHER_CHANNEL:
        return OTHER_CHANNEL, ""
    if kind == _TICKER_KIND and native == "all":
        return _TICKER_ALL_KIND, ""  # the symbol is in each frame's subject
    return kind, canonical(native)


_CHANNELS = ChannelTable(_classify)
_CHANNEL_NAMES = _CHANNELS.names


def _side(level: list[float]) -> tuple[float, float]:
    if not level:
        return 0.0, 0.0
    price, size = level
    return price, size


def native_codec(stream: str) -> tuple[str, str, bytes] | None:
    """How the compiled window decoder (``ticktape._native``) may read rows of ``stream``:
    ``(codec name, canonical symbol, bytes the frame's "topic" must equal)``, or None (REST
    rows, tickers, control routes: Python reads them)."""
    try:
        kind, symbol = _CHANNEL_NAMES.get(stream) or _CHANNELS.learn(stream)
    except Exception:
        return None
    codec = {_LEVEL1_KIND: "kucoin_level1", _MATCH_KIND: "kucoin_match"}.get(kind)
    return None if codec is None else (codec, symbol, stream.encode())


# ---- decoding ---------------------------------------------------------------------------------


def new_decoder(fast: bool = True) -> RowDecoder:
    """A fresh decoder: ``decoder(payload, recv_ns, conn_id, seq, stream) -> list[Event]``.

    Events in ``payload``; ``[]`` for control frames and channels we do not normalize; exactly
    one :class:`DecodeError` for anything unreadable. Never raises. KuCoin decoding keeps no
    state (``decoder.reset(conn_id)`` does nothing). The result depends on the payload alone,
    except REST bodies, whose symbol is in ``stream``.

    Fast path (a level1 or match frame): one typed parse (any key order), the topic looked up
    in a table learned once per topic, the event built inline. Anything else goes to
    :func:`_decode_slow`, which parses the payload afresh and is the complete definition of
    the result.

    ``fast=False``: a decoder that always takes :func:`_decode_slow` (the definition alone),
    for the tests that hold the fast path to it; slower, not for replays.
    """
    if not fast:
        return stateless_decoder(_decode_slow)

    parse = _DECODE_FRAME.decode
    names = _CHANNEL_NAMES
    learn = _CHANNELS.learn

    def decode(payload: bytes, recv_ns: int, conn_id: int, seq: int, stream: str) -> list[Event]:
        try:
            frame = parse(payload)
            topic = frame.topic
            kind, symbol = names.get(topic) or learn(topic)  # type: ignore[arg-type]
            data = frame.data
            if data is None:
                pass  # the slow path reads it as a control frame or REST body
            elif kind == _LEVEL1_KIND:
                asks, bids, timestamp = data.asks, data.bids, data.timestamp
                if (
                    asks is not None and bids is not None and timestamp is not None
                    and len(asks) == 2 and len(bids) == 2
                ):  # fmt: skip
                    return [
                        Quote(NAME, symbol, recv_ns, timestamp * NS_PER_MS, conn_id, seq,
                              bids[0], bids[1], asks[0], asks[1])
                    ]  # fmt: skip
            elif kind == _MATCH_KIND:
                side = _SIDES.get(data.side)  # type: ignore[arg-type]
                price, size, time_ns, trade_id = data.price, data.size, data.time, data.tradeId
                if (
                    side is not None and price is not None and size is not None
                    and time_ns is not None and trade_id is not None
                ):  # fmt: skip
                    return [
                        Trade(NAME, symbol, recv_ns, int(time_ns), conn_id, seq, price, size,
                              side, trade_id)
                    ]  # fmt: skip
            elif kind == OTHER_CHANNEL:
                return []  # level2, candles, snapshots, ...
        except Exception:  # e.g. int() of a malformed match time: the slow path says why
            pass
        return _decode_slow(payload, recv_ns, conn_id, seq, stream)

    return row_decoder(decode)


def _decode_slow(payload: bytes, recv_ns: int, conn_id: int, seq: int, stream: str) -> list[Event]:
    """Every frame, from scratch: the definition the fast path in :func:`new_decoder` follows.

    One typed parse of the frame (any key order); its ``topic`` gives the kind and the symbol
    through a table learned once per topic. Frames of another shape (control frames, REST
    bodies, depth) are parsed generically and classified by keys.
    """
    try:
        try:
            frame = _DECODE_FRAME.decode(payload)
        except msgspec.ValidationError:  # valid JSON, another shape (level2 depth, errors)
            return _decode_general(json_any.decode(payload), recv_ns, conn_id, seq, stream)
        topic = frame.topic
        if topic is None or frame.data is None:  # control frame or REST body
            return _decode_general(json_any.decode(payload), recv_ns, conn_id, seq, stream)
        kind, symbol = _CHANNEL_NAMES.get(topic) or _CHANNELS.learn(topic)
        return _events(kind, symbol, frame, recv_ns, conn_id, seq)
    except Exception as exc:  # decode never raises: anything unreadable is a DecodeError
        return [decode_error(NAME, recv_ns, conn_id, seq, stream, exc)]


def _decode_general(obj: Any, recv_ns: int, conn_id: int, seq: int, stream: str) -> list[Event]:
    """An already-parsed frame, classified by its keys: topics, control frames, REST bodies."""
    if not isinstance(obj, dict):
        raise UnrecognizedMessage(f"unrecognized message: JSON {type(obj).__name__}")
    topic = obj.get("topic")
    if isinstance(topic, str):
        kind, symbol = _CHANNEL_NAMES.get(topic) or _CHANNELS.learn(topic)
        if kind == OTHER_CHANNEL:
            return []  # level2, candles, snapshots, ...
        frame = convert(obj, _Frame)
        if frame.data is None:
            raise UnrecognizedMessage(f"{topic}: message without data")
        return _events(kind, symbol, frame, recv_ns, conn_id, seq)
    if topic is not None:
        raise UnrecognizedMessage("unrecognized message: non-string topic")
    return _decode_untopical(obj, recv_ns, conn_id, seq, stream)


def _events(
    kind: int, symbol: str, frame: _Frame, recv_ns: int, conn_id: int, seq: int
) -> list[Event]:
    """The event of one frame whose ``data`` is present; ``[]`` for channels not normalized."""
    data = frame.data
    assert data is not None  # checked by both callers
    if kind == _LEVEL1_KIND:
        return [_level1_quote(data, symbol, recv_ns, conn_id, seq)]
    if kind == _MATCH_KIND:
        return [_trade(data, symbol, recv_ns, conn_id, seq)]
    if kind in (_TICKER_KIND, _TICKER_ALL_KIND):
        symbol = symbol or _symbol(frame.subject or "")  # /market/ticker:all
        return [_ticker_quote(data, symbol, recv_ns, conn_id, seq)]
    return []


def _level1_quote(data: _Data, symbol: str, recv_ns: int, conn_id: int, seq: int) -> Quote:
    asks, bids, timestamp = data.asks, data.bids, data.timestamp
    if asks is None or bids is None or timestamp is None:
        raise UnrecognizedMessage("level1 message without asks, bids and timestamp")
    bid, bid_size = _side(bids)
    ask, ask_size = _side(asks)
    return Quote(
        NAME, symbol, recv_ns, timestamp * NS_PER_MS, conn_id, seq,
        bid, bid_size, ask, ask_size,
    )  # fmt: skip


def _trade(data: _Data, symbol: str, recv_ns: int, conn_id: int, seq: int) -> Trade:
    side = _SIDES.get(data.side or "")
    price, size, time_ns, trade_id = data.price, data.size, data.time, data.tradeId
    if side is None:
        raise UnrecognizedMessage(f"unknown taker side {data.side!r}")
    if price is None or size is None or time_ns is None or trade_id is None:
        raise UnrecognizedMessage("match message without price, size, time and tradeId")
    return Trade(
        NAME, symbol, recv_ns, int(time_ns), conn_id, seq, price, size, side, trade_id,
    )  # fmt: skip


def _ticker_quote(data: _Data, symbol: str, recv_ns: int, conn_id: int, seq: int) -> Quote:
    time_ms = data.time if data.time is not None else data.Time
    if time_ms is not None and type(time_ms) is not int:
        raise UnrecognizedMessage("ticker time is not an integer (ms)")
    return Quote(
        NAME, symbol, recv_ns, None if time_ms is None else time_ms * NS_PER_MS, conn_id, seq,
        data.bestBid or 0.0, data.bestBidSize or 0.0, data.bestAsk or 0.0, data.bestAskSize or 0.0,
    )  # fmt: skip


def _decode_untopical(
    obj: dict[str, Any], recv_ns: int, conn_id: int, seq: int, stream: str
) -> list[Event]:
    """Frames without a topic: control frames, Pro/UTA frames, or a REST response body."""
    if "type" in obj or "T" in obj or "sessionId" in obj:
        return []  # welcome, ack, pong, notice, error reply; Pro/UTA frames
    if "code" in obj:  # REST envelope {"code":"200000","data":...}
        if obj["code"] != "200000":
            raise UnrecognizedMessage(f"exchange error {obj['code']}: {obj.get('msg')}")
        data = obj.get("data")
        if data is None:
            raise UnrecognizedMessage("exchange sent no data (unknown symbol?)")
        if not isinstance(data, dict) or "bestBid" not in data:
            return []  # another endpoint (level2 snapshot, timestamp, ...)
        native = query_value(stream, "symbol")
        if not native:
            raise UnrecognizedMessage(f"no symbol in the REST stream {stream!r}")
        tick = convert(data, _Data)
        return [_ticker_quote(tick, _symbol(unquote(native)), recv_ns, conn_id, seq)]
    raise UnrecognizedMessage(f"unrecognized message with keys {sorted(obj)[:8]}")


decode = new_decoder()
"""The module-level decoder (stateless, so shared use is fine); same contract as a fresh one."""
