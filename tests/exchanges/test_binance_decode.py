"""Binance decoding against the real 2021 combined-stream capture, field by field."""

from __future__ import annotations

import json

import exchange_samples as samples
import pytest

from ticktape.exchanges import binance
from ticktape.exchanges.events import BUY, SELL, DecodeError, Quote, Trade

FRAMES = samples.binance_ws()


def _decode(payload: bytes, stream: str | None = None) -> list[object]:
    return list(binance.decode(payload, 1_700_000_000_000_000_000, 7, 42, stream or ""))


def test_every_frame_decodes_to_the_expected_kind() -> None:
    counts = {"bookTicker": 0, "aggTrade": 0, "depth@100ms": 0}
    for payload in FRAMES:
        stream = json.loads(payload)["stream"]
        events = binance.decode(payload, 1, 2, 3, binance.route(payload) or "")
        channel = stream.split("@", 1)[1]
        counts[channel] += 1
        if channel == "bookTicker":
            assert [type(e) for e in events] == [Quote]
        elif channel == "aggTrade":
            assert [type(e) for e in events] == [Trade]
        else:
            assert events == []
    assert counts == {"bookTicker": 84, "aggTrade": 2, "depth@100ms": 14}


@pytest.mark.parametrize("payload", [p for p in FRAMES if b"@bookTicker" in p])
def test_book_ticker_fields(payload: bytes) -> None:
    data = json.loads(payload)["data"]
    for stream in (binance.route(payload), "", "btcusdt@trade", "a@bookTicker,b@trade"):
        [quote] = _decode(payload, stream)
        assert isinstance(quote, Quote)
        assert quote.exchange == "binance"
        assert quote.symbol == binance.canonical_symbol(data["s"])
        assert (quote.recv_ns, quote.conn_id, quote.seq) == (1_700_000_000_000_000_000, 7, 42)
        assert quote.exch_ns is None  # spot bookTicker has no event time
        assert quote.bid == float(data["b"]) and quote.bid_size == float(data["B"])
        assert quote.ask == float(data["a"]) and quote.ask_size == float(data["A"])


def test_book_ticker_literal_values() -> None:
    first = next(p for p in FRAMES if b"nknusdt@bookTicker" in p)
    assert _decode(first, "nknusdt@bookTicker") == [
        Quote("binance", "NKN-USDT", 1_700_000_000_000_000_000, None, 7, 42,
              0.3521, 672.0, 0.3526, 3199.0)
    ]  # fmt: skip
    blz = next(p for p in FRAMES if b"blzeth@bookTicker" in p)
    [quote] = _decode(blz)
    assert (quote.symbol, quote.bid, quote.bid_size, quote.ask, quote.ask_size) == (
        "BLZ-ETH", 0.00006547, 100.0, 0.00006560, 1528.0,
    )  # fmt: skip
    lrc = next(p for p in FRAMES if b"lrcbtc@bookTicker" in p)
    assert _decode(lrc)[0].symbol == "LRC-BTC"  # type: ignore[attr-defined]


def test_agg_trades_literal_values() -> None:
    nkn, lrc = [p for p in FRAMES if b"@aggTrade" in p]
    assert _decode(nkn, "nknusdt@aggTrade") == [
        Trade("binance", "NKN-USDT", 1_700_000_000_000_000_000, 1633998523963 * 10**6, 7, 42,
              0.3528, 58.0, BUY, "15683430")
    ]  # fmt: skip
    [trade] = _decode(lrc)
    assert isinstance(trade, Trade)
    assert (trade.symbol, trade.price, trade.size, trade.side, trade.trade_id) == (
        "LRC-BTC", 0.00000638, 177.0, BUY, "9213679",
    )  # fmt: skip
    assert trade.exch_ns == 1633998534486000000


def test_trade_stream_and_taker_side() -> None:
    """The docs' ``@trade`` example (no trade frame in the capture): m=true -> taker sold."""
    data = (
        b'{"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100",'
        b'"T":1672515782136,"m":true,"M":true}'
    )
    combined = b'{"stream":"bnbbtc@trade","data":' + data + b"}"
    expected = Trade(
        "binance", "BNB-BTC", 5, 1672515782136000000, 1, 2, 0.001, 100.0, SELL, "12345"
    )
    assert binance.decode(combined, 5, 1, 2, "bnbbtc@trade") == [expected]
    assert binance.decode(combined, 5, 1, 2, "") == [expected]
    assert binance.decode(data, 5, 1, 2, "bnbbtc@trade") == [expected]  # raw /ws frame
    assert binance.route(combined) == "bnbbtc@trade"
    assert binance.route(data) == "bnbbtc@trade"


def test_raw_book_ticker_frame() -> None:
    """A ``/ws`` (non-combined) frame is the ``data`` object alone."""
    payload = next(p for p in FRAMES if b"@bookTicker" in p)
    raw = payload[payload.index(b'"data":') + len(b'"data":') : -1]
    assert raw.startswith(b'{"u":')
    assert binance.route(raw) == "nknusdt@bookTicker"
    assert _decode(raw) == _decode(payload)


def test_depth_and_other_streams_are_ignored() -> None:
    for payload in FRAMES:
        if b"@depth" in payload:
            assert _decode(payload, binance.route(payload)) == []
    assert (
        _decode(samples.binance_rest_depth(), "GET /api/v3/depth?symbol=RUNEEUR&limit=1000") == []
    )
    shutdown = b'{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1770123456789}}'
    assert _decode(shutdown) == []
    assert _decode(b'{"e":"serverShutdown","E":1770123456789}') == []


@pytest.mark.parametrize(
    "payload",
    [
        b'{"result":null,"id":1}',
        b'{"result":["btcusdt@aggTrade"],"id":3}',
        b'{"code":2,"msg":"Invalid request: unknown variant"}',
        b'{"lastUpdateId":160,"bids":[["0.0024","10"]],"asks":[["0.0026","100"]]}',
    ],
)
def test_control_frames_give_nothing(payload: bytes) -> None:
    assert _decode(payload) == []
    assert binance.route(payload) is None


def test_rest_book_ticker_object_array_and_error() -> None:
    stream = "GET /api/v3/ticker/bookTicker?symbol=LTCBTC"
    body = (
        b'{"symbol":"LTCBTC","bidPrice":"4.00000000","bidQty":"431.00000000",'
        b'"askPrice":"4.00000200","askQty":"9.00000000"}'
    )
    expected = Quote("binance", "LTC-BTC", 9, None, 3, 0, 4.0, 431.0, 4.000002, 9.0)
    assert binance.decode(body, 9, 3, 0, stream) == [expected]
    two = b"[" + body + b"," + body.replace(b"LTCBTC", b"BNBUSDT") + b"]"
    quotes = binance.decode(two, 9, 3, 0, "GET /api/v3/ticker/bookTicker")
    assert [q.symbol for q in quotes] == ["LTC-BTC", "BNB-USDT"]  # type: ignore[union-attr]
    [error] = binance.decode(b'{"code":-1121,"msg":"Invalid symbol."}', 9, 3, 0, stream)
    assert isinstance(error, DecodeError)
    assert error.error == "exchange error -1121: Invalid symbol."


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (b"", "bad JSON"),
        (b"not json", "bad JSON"),
        (b'{"stream":"btcusdt@bookTicker","data":{"s":"BTCUSDT","b":"x"}}', "unexpected shape"),
        (b'{"stream":"btcusdt@bookTicker","data":{"u":1,"s":"BTCUSDT","b":"1","B":"1","a":"1"', ""),
        (b'{"stream":"qqqzzz@bookTicker","data":{"s":"QQQZZZ","b":"1","B":"1","a":"1","A":"1"}}',
         "bad symbol"),
        (b"42", "unrecognized"),
        (b'{"hello":"world"}', "unrecognized"),
    ],
)  # fmt: skip
def test_unreadable_frames_give_one_decode_error(payload: bytes, fragment: str) -> None:
    events = _decode(payload, "btcusdt@bookTicker")
    assert len(events) == 1 and isinstance(events[0], DecodeError)
    assert fragment in events[0].error
    assert _decode(payload) == [
        DecodeError("binance", 1_700_000_000_000_000_000, 7, 42, "", events[0].error)
    ]


def test_the_stream_label_never_changes_the_result() -> None:
    labels = ("", "nknusdt@bookTicker", "lrcbtc@aggTrade", "x@depth", "a@bookTicker,a@trade")
    for payload in FRAMES:
        right = _decode(payload, binance.route(payload))
        for label in labels:
            assert [msg_fields(e) for e in _decode(payload, label)] == [
                msg_fields(e) for e in right
            ]


def msg_fields(event: object) -> tuple[object, ...]:
    """Everything but ``stream`` (which a DecodeError echoes)."""
    return tuple(v for k, v in vars_of(event).items() if k != "stream")


def vars_of(event: object) -> dict[str, object]:
    return {f: getattr(event, f) for f in event.__struct_fields__}  # type: ignore[attr-defined]


def test_route_names_every_frame_by_its_stream() -> None:
    for payload in FRAMES:
        assert binance.route(payload) == json.loads(payload)["stream"]
    assert binance.route(b"") is None
    assert binance.route(b'{"stream":"\xff\xfe"}') is None
