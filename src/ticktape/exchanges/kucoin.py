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

KuCoin's key order is not stable (the 2021 capture puts ``data`` first), so topics are found by a
byte search and fields by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote

import msgspec

from ticktape.exchanges._support import (
    JSON_ERRORS,
    NO_HINT,
    NS_PER_MS,
    StreamHints,
    SymbolMemo,
    UnrecognizedMessage,
    check_stream_count,
    chunks,
    convert,
    decode_error,
    json_any,
    query_value,
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


class _Level1Data(msgspec.Struct):
    asks: list[float]  # [price, size]
    bids: list[float]
    timestamp: int


class _Level1(msgspec.Struct):
    topic: str
    data: _Level1Data


class _TickerData(msgspec.Struct):
    bestBid: float | None = None
    bestBidSize: float | None = None
    bestAsk: float | None = None
    bestAskSize: float | None = None
    time: int | None = None
    Time: int | None = None  # spelling of one docs example


class _Ticker(msgspec.Struct):
    topic: str
    data: _TickerData
    subject: str = ""


class _MatchData(msgspec.Struct):
    price: float
    size: float
    side: str
    time: str | int  # nanoseconds, a decimal string on the wire
    tradeId: str


class _Match(msgspec.Struct):
    topic: str
    data: _MatchData


class _RestLevel1(msgspec.Struct):
    bestBid: float | None = None
    bestBidSize: float | None = None
    bestAsk: float | None = None
    bestAskSize: float | None = None
    time: int | None = None


_DECODE_LEVEL1 = typed_decoder(_Level1)
_DECODE_TICKER = typed_decoder(_Ticker)
_DECODE_MATCH = typed_decoder(_Match)

_symbol = SymbolMemo(canonical)

_OTHER, _LEVEL1_KIND, _MATCH_KIND, _TICKER_KIND = 0, 1, 2, 3


def _classify(stream: str) -> tuple[int, str]:
    """``"/spotMarket/level1:BTC-USDT"`` -> ``(_LEVEL1_KIND, "BTC-USDT")``."""
    channel, _, native = stream.partition(":")
    kind = {LEVEL1: _LEVEL1_KIND, MATCH: _MATCH_KIND, TICKER: _TICKER_KIND}.get(
        f"{channel}:", _OTHER
    )
    if kind == _OTHER or native == "all" or "," in native:
        return NO_HINT
    return kind, canonical(native)


_HINTS = StreamHints(_classify)
_HINT_TABLE = _HINTS.table


def _side(level: list[float]) -> tuple[float, float]:
    if not level:
        return 0.0, 0.0
    price, size = level
    return price, size


# ---- decoding ---------------------------------------------------------------------------------


class KucoinDecoder:
    """Decodes stored KuCoin rows into events (stateless)."""

    __slots__ = ()

    def decode(
        self, payload: bytes, recv_ns: int, conn_id: int, seq: int, stream: str
    ) -> list[Event]:
        """Events in ``payload``; ``[]`` for control frames and channels we do not normalize;
        exactly one :class:`DecodeError` for anything unreadable. Never raises.

        Fast path: the row's ``stream`` (the topic, as :func:`route` names it) picks the typed
        decoder and gives the symbol; the frame's ``topic`` must match, else the payload is read
        without the hint (:class:`~ticktape.exchanges._support.StreamHints`).
        """
        try:
            kind, symbol = _HINT_TABLE.get(stream) or _HINTS.learn(stream)
            if kind == _LEVEL1_KIND:
                try:
                    book = _DECODE_LEVEL1.decode(payload)
                except JSON_ERRORS:
                    pass
                else:
                    if book.topic == stream:
                        return [_level1_quote(book.data, symbol, recv_ns, conn_id, seq)]
            elif kind == _MATCH_KIND:
                try:
                    match = _DECODE_MATCH.decode(payload)
                except JSON_ERRORS:
                    pass
                else:
                    if match.topic == stream:
                        return [_trade(match.data, symbol, recv_ns, conn_id, seq)]
            elif kind == _TICKER_KIND:
                try:
                    ticker = _DECODE_TICKER.decode(payload)
                except JSON_ERRORS:
                    pass
                else:
                    if ticker.topic == stream:
                        return [_ticker_quote(ticker.data, symbol, recv_ns, conn_id, seq)]
            return _decode_unhinted(payload, recv_ns, conn_id, seq, stream)
        except Exception as exc:  # decode never raises: anything unreadable is a DecodeError
            return [decode_error(NAME, recv_ns, conn_id, seq, stream, exc)]

    __call__ = decode

    def reset(self, conn_id: int | None = None) -> None:
        """Nothing to forget (interface parity with the stateful decoders)."""


def _decode_unhinted(
    payload: bytes, recv_ns: int, conn_id: int, seq: int, stream: str
) -> list[Event]:
    """Read the payload alone: its topic if it has one, else its shape."""
    topic = string_after(payload, _TOPIC)
    if topic is None:
        return _decode_untopical(json_any.decode(payload), recv_ns, conn_id, seq, stream)
    if topic.startswith(LEVEL1):
        book = _DECODE_LEVEL1.decode(payload)
        symbol = _symbol(book.topic[len(LEVEL1) :])
        return [_level1_quote(book.data, symbol, recv_ns, conn_id, seq)]
    if topic.startswith(MATCH):
        match = _DECODE_MATCH.decode(payload)
        return [_trade(match.data, _symbol(match.topic[len(MATCH) :]), recv_ns, conn_id, seq)]
    if topic.startswith(TICKER):
        ticker = _DECODE_TICKER.decode(payload)
        native = ticker.topic[len(TICKER) :]
        symbol = _symbol(ticker.subject if native == "all" else native)
        return [_ticker_quote(ticker.data, symbol, recv_ns, conn_id, seq)]
    json_any.decode(payload)  # other topics: validate only
    return []


def _level1_quote(book: _Level1Data, symbol: str, recv_ns: int, conn_id: int, seq: int) -> Quote:
    bid, bid_size = _side(book.bids)
    ask, ask_size = _side(book.asks)
    return Quote(
        NAME, symbol, recv_ns, book.timestamp * NS_PER_MS, conn_id, seq,
        bid, bid_size, ask, ask_size,
    )  # fmt: skip


def _trade(match: _MatchData, symbol: str, recv_ns: int, conn_id: int, seq: int) -> Trade:
    side = _SIDES.get(match.side)
    if side is None:
        raise UnrecognizedMessage(f"unknown taker side {match.side!r}")
    return Trade(
        NAME, symbol, recv_ns, int(match.time), conn_id, seq,
        match.price, match.size, side, match.tradeId,
    )  # fmt: skip


def _ticker_quote(
    tick: _TickerData | _RestLevel1, symbol: str, recv_ns: int, conn_id: int, seq: int
) -> Quote:
    time_ms = tick.time if tick.time is not None else getattr(tick, "Time", None)
    return Quote(
        NAME, symbol, recv_ns, None if time_ms is None else time_ms * NS_PER_MS, conn_id, seq,
        tick.bestBid or 0.0, tick.bestBidSize or 0.0, tick.bestAsk or 0.0, tick.bestAskSize or 0.0,
    )  # fmt: skip


def _decode_untopical(obj: Any, recv_ns: int, conn_id: int, seq: int, stream: str) -> list[Event]:
    """Frames without a topic: control frames, Pro/UTA frames, or a REST response body."""
    if not isinstance(obj, dict):
        raise UnrecognizedMessage(f"unrecognized message: JSON {type(obj).__name__}")
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
        tick = convert(data, _RestLevel1)
        return [_ticker_quote(tick, _symbol(unquote(native)), recv_ns, conn_id, seq)]
    raise UnrecognizedMessage(f"unrecognized message with keys {sorted(obj)[:8]}")


def new_decoder() -> KucoinDecoder:
    """A fresh decoder (KuCoin decoding keeps no state, so any instance behaves the same)."""
    return KucoinDecoder()


_DEFAULT = KucoinDecoder()
decode = _DEFAULT.decode
