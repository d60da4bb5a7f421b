"""The exchange-module contract (``ticktape.exchanges.base``) holds for all four modules.

Also: the registry, symbol spellings, and the shapes of URLs, subscribe and heartbeat frames.
"""

from __future__ import annotations

import inspect
import json
import types

import pytest

from ticktape.exchanges import base, binance, bybit, kucoin, mexc, registry
from ticktape.exchanges._support import TooManyStreamsError
from ticktape.exchanges.base import RestRequest
from ticktape.exchanges.events import DecodeError, Quote
from ticktape.symbols import SymbolError

MODULES = {"binance": binance, "bybit": bybit, "kucoin": kucoin, "mexc": mexc}
CONSTANTS = {
    "NAME": str,
    "DEFAULT_METHOD": str,
    "DEFAULT_WS_URL": str,
    "DEFAULT_REST_URL": str,
    "MAX_STREAMS_PER_CONNECTION": int,
    "DEFAULT_POLL_INTERVAL_S": float,
    "STALE_AFTER_S": float,
    "WAIT_FOR_WELCOME": bool,
}
FUNCTIONS = {
    "native_symbol": ["symbol"],
    "canonical_symbol": ["native"],
    "streams": ["symbols", "trades"],
    "ws_connect_url": ["ws_url", "streams"],
    "subscribe_messages": ["streams"],
    "heartbeat_message": ["counter"],
    "rest_poll_requests": ["symbols"],
    "route": ["payload"],
    "decode": ["payload", "recv_ns", "conn_id", "seq", "stream"],
    "new_decoder": [],
}


@pytest.fixture(params=sorted(MODULES))
def module(request: pytest.FixtureRequest) -> types.ModuleType:
    return MODULES[request.param]


def test_constants_have_contract_types_and_sane_values(module: types.ModuleType) -> None:
    for name, kind in CONSTANTS.items():
        assert isinstance(getattr(module, name), kind), name
    assert module.NAME in registry.EXCHANGES
    assert module.DEFAULT_METHOD == "ws"
    assert module.DEFAULT_WS_URL.startswith("wss://")
    assert module.DEFAULT_REST_URL.startswith("https://")
    assert "/" not in module.DEFAULT_REST_URL.removeprefix("https://")
    assert module.HEARTBEAT_INTERVAL_S is None or module.HEARTBEAT_INTERVAL_S > 0
    assert module.MAX_STREAMS_PER_CONNECTION > 0
    assert 0 < module.DEFAULT_POLL_INTERVAL_S <= 60
    assert (module.HEARTBEAT_INTERVAL_S or 0) < module.STALE_AFTER_S
    assert module.WAIT_FOR_WELCOME is (module is kucoin)


def test_functions_have_contract_parameters(module: types.ModuleType) -> None:
    for name, params in FUNCTIONS.items():
        function = getattr(module, name)
        assert callable(function), name
        assert list(inspect.signature(function).parameters)[: len(params)] == params, name


def test_protocol_members_exist_on_every_module(module: types.ModuleType) -> None:
    members = {
        name
        for name in dir(base.ExchangeModule)
        if not name.startswith("_") and name not in dir(object)
    } | set(base.ExchangeModule.__annotations__)
    missing = {name for name in members if not hasattr(module, name)}
    assert not missing


def test_heartbeat_interval_matches_the_protocol() -> None:
    assert binance.HEARTBEAT_INTERVAL_S is None
    assert bybit.HEARTBEAT_INTERVAL_S == 20.0
    assert kucoin.HEARTBEAT_INTERVAL_S == 18.0
    assert mexc.HEARTBEAT_INTERVAL_S == 20.0


def test_new_decoder_is_a_callable_with_the_decode_signature(module: types.ModuleType) -> None:
    decoder = module.new_decoder()
    events = decoder(b"{}", 5, 6, 7, "")
    assert isinstance(events, list)
    assert decoder is not module.new_decoder()  # fresh state every time
    assert module.decode(b"{}", 5, 6, 7, "") == events


def test_decode_errors_carry_the_row_identity(module: types.ModuleType) -> None:
    [event] = module.decode(b"\x00not a frame", 11, 22, 33, "some-stream")
    assert isinstance(event, DecodeError)
    assert (event.exchange, event.recv_ns, event.conn_id, event.seq, event.stream) == (
        module.NAME, 11, 22, 33, "some-stream",
    )  # fmt: skip
    assert event.error and len(event.error) <= 160 and "\n" not in event.error


# ---- registry ---------------------------------------------------------------------------------


def test_registry_lists_and_returns_the_modules() -> None:
    assert registry.EXCHANGES == ("binance", "bybit", "kucoin", "mexc")
    for name in registry.EXCHANGES:
        assert registry.get(name) is MODULES[name]
        decoder = registry.new_decoder(name)
        assert callable(decoder)
        assert type(decoder) is type(MODULES[name].new_decoder())


@pytest.mark.parametrize("name", ["foo", "Binance", "", "okx"])
def test_registry_rejects_unknown_names_with_the_choices(name: str) -> None:
    with pytest.raises(registry.UnknownExchangeError) as info:
        registry.get(name)
    assert str(info.value) == (
        f"unknown exchange {name!r}: choose from binance, bybit, kucoin, mexc"
    )
    assert isinstance(info.value, ValueError)
    with pytest.raises(registry.UnknownExchangeError):
        registry.new_decoder(name)


# ---- symbols ----------------------------------------------------------------------------------

NATIVE = {
    "binance": "BTCUSDT",
    "bybit": "BTCUSDT",
    "kucoin": "BTC-USDT",
    "mexc": "BTCUSDT",
}


@pytest.mark.parametrize("spelling", ["BTC-USDT", "BTCUSDT", "btcusdt", "BTC/USDT", "btc_usdt"])
def test_native_symbol_from_any_spelling(module: types.ModuleType, spelling: str) -> None:
    assert module.native_symbol(spelling) == NATIVE[module.NAME]


@pytest.mark.parametrize(
    "canonical", ["BTC-USDT", "ETH-BTC", "SOL-FDUSD", "PEPE-USDC", "RUNE-EUR", "HYPE-USDT"]
)
def test_canonical_native_round_trip(module: types.ModuleType, canonical: str) -> None:
    native = module.native_symbol(canonical)
    assert module.canonical_symbol(native) == canonical
    assert module.native_symbol(module.canonical_symbol(native)) == native


def test_canonical_symbol_rejects_garbage(module: types.ModuleType) -> None:
    with pytest.raises(SymbolError):
        module.canonical_symbol("NOT A SYMBOL")
    with pytest.raises(SymbolError):
        module.canonical_symbol("XYZQQQ")  # no known quote asset


# ---- streams, URLs, subscribe, heartbeat ------------------------------------------------------


def test_streams_names_per_exchange() -> None:
    symbols = ["BTC-USDT", "ETH-USDT"]
    assert binance.streams(symbols, trades=False) == ["btcusdt@bookTicker", "ethusdt@bookTicker"]
    assert binance.streams(symbols, trades=True) == [
        "btcusdt@bookTicker", "btcusdt@trade", "ethusdt@bookTicker", "ethusdt@trade",
    ]  # fmt: skip
    assert bybit.streams(symbols, trades=True) == [
        "orderbook.1.BTCUSDT", "publicTrade.BTCUSDT", "orderbook.1.ETHUSDT", "publicTrade.ETHUSDT",
    ]  # fmt: skip
    assert kucoin.streams(symbols, trades=True) == [
        "/spotMarket/level1:BTC-USDT", "/market/match:BTC-USDT",
        "/spotMarket/level1:ETH-USDT", "/market/match:ETH-USDT",
    ]  # fmt: skip
    assert mexc.streams(["BTC-USDT"], trades=True) == [
        "spot@public.aggre.bookTicker.v3.api.pb@100ms@BTCUSDT",
        "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT",
    ]


def test_binance_connects_to_combined_streams_and_sends_nothing() -> None:
    names = binance.streams(["BTC-USDT", "ETH-USDT"], trades=True)
    assert binance.ws_connect_url(binance.DEFAULT_WS_URL, names) == (
        "wss://stream.binance.com:9443/stream"
        "?streams=btcusdt@bookTicker/btcusdt@trade/ethusdt@bookTicker/ethusdt@trade"
    )
    assert binance.ws_connect_url("ws://127.0.0.1:9000/stream?x=1", names[:1]) == (
        "ws://127.0.0.1:9000/stream?x=1&streams=btcusdt@bookTicker"
    )
    assert binance.subscribe_messages(names) == []
    assert binance.heartbeat_message(7) is None


def test_bybit_subscribes_ten_args_per_message_and_pings_with_counter() -> None:
    names = [f"orderbook.1.C{i}USDT" for i in range(23)]
    messages = bybit.subscribe_messages(names)
    decoded = [json.loads(m) for m in messages]
    assert [len(d["args"]) for d in decoded] == [10, 10, 3]
    assert [a for d in decoded for a in d["args"]] == names
    assert all(d["op"] == "subscribe" for d in decoded)
    assert messages[2] == (
        b'{"op":"subscribe","args":["orderbook.1.C20USDT","orderbook.1.C21USDT",'
        b'"orderbook.1.C22USDT"]}'
    )
    assert bybit.heartbeat_message(42) == b'{"req_id":"42","op":"ping"}'
    assert bybit.ws_connect_url(bybit.DEFAULT_WS_URL, names) == bybit.DEFAULT_WS_URL


def test_kucoin_subscribes_per_channel_in_groups_of_100() -> None:
    symbols = [f"C{i}-USDT" for i in range(150)]
    names = kucoin.streams(symbols, trades=True)
    messages = [json.loads(m) for m in kucoin.subscribe_messages(names)]
    assert [m["id"] for m in messages] == [1, 2, 3, 4]
    topics = [m["topic"] for m in messages]
    assert topics[0] == "/spotMarket/level1:" + ",".join(symbols[:100])
    assert topics[1] == "/spotMarket/level1:" + ",".join(symbols[100:])
    assert topics[2] == "/market/match:" + ",".join(symbols[:100])
    assert topics[3] == "/market/match:" + ",".join(symbols[100:])
    assert all(
        m["type"] == "subscribe" and m["privateChannel"] is False and m["response"] is True
        for m in messages
    )
    assert kucoin.subscribe_messages(["/spotMarket/level1:BTC-USDT"]) == [
        b'{"id":1,"type":"subscribe","topic":"/spotMarket/level1:BTC-USDT",'
        b'"privateChannel":false,"response":true}'
    ]
    assert kucoin.heartbeat_message(9) == b'{"id":"9","type":"ping"}'
    with pytest.raises(ValueError, match="expected '<channel>:<SYMBOL>'"):
        kucoin.subscribe_messages(["/spotMarket/level1"])


def test_mexc_subscribes_in_one_message_and_pings() -> None:
    names = mexc.streams(["BTC-USDT", "ETH-USDT"], trades=True)
    [message] = mexc.subscribe_messages(names)
    assert json.loads(message) == {"method": "SUBSCRIPTION", "params": names}
    assert mexc.subscribe_messages([]) == []
    assert mexc.heartbeat_message(3) == b'{"method":"PING"}'
    assert mexc.ws_connect_url(mexc.DEFAULT_WS_URL, names) == "wss://wbs-api.mexc.com/ws"


def test_too_many_streams_is_a_clear_error(module: types.ModuleType) -> None:
    names = [f"s{i}" for i in range(module.MAX_STREAMS_PER_CONNECTION + 1)]
    with pytest.raises(TooManyStreamsError, match="at most"):
        module.subscribe_messages(names)
    with pytest.raises(TooManyStreamsError):
        module.ws_connect_url(module.DEFAULT_WS_URL, names)


def test_bybit_rejects_args_longer_than_21000_characters() -> None:
    names = ["x" * 100] * 220
    with pytest.raises(TooManyStreamsError, match="21000"):
        bybit.subscribe_messages(names)


# ---- REST polling -----------------------------------------------------------------------------


def test_rest_poll_requests() -> None:
    [request] = binance.rest_poll_requests(["BTC-USDT"])
    assert request == RestRequest("GET", "/api/v3/ticker/bookTicker", (("symbol", "BTCUSDT"),), 2)
    assert request.stream == "GET /api/v3/ticker/bookTicker?symbol=BTCUSDT"
    [request] = bybit.rest_poll_requests(["BTC-USDT"])
    assert request.stream == "GET /v5/market/orderbook?category=spot&symbol=BTCUSDT&limit=1"
    [request] = kucoin.rest_poll_requests(["BTC-USDT"])
    assert request.stream == "GET /api/v1/market/orderbook/level1?symbol=BTC-USDT"
    assert request.weight == 2
    [request] = mexc.rest_poll_requests(["BTC-USDT"])
    assert request.stream == "GET /api/v3/ticker/bookTicker?symbol=BTCUSDT"
    assert len(mexc.rest_poll_requests(["BTC-USDT", "ETH-USDT", "SOL-USDT"])) == 3


def test_rest_streams_decode_with_their_symbol() -> None:
    """A REST row is stored under ``request.stream``; decoding it needs nothing else."""
    binance_shape = (
        b'{"symbol":"BTCUSDT","bidPrice":"1.5","bidQty":"2","askPrice":"1.6","askQty":"3"}'
    )
    bodies = {
        "binance": binance_shape,
        "bybit": b'{"retCode":0,"retMsg":"OK","result":{"s":"BTCUSDT","a":[["1.6","3"]],'
        b'"b":[["1.5","2"]],"ts":1716863719031,"u":1,"seq":2,"cts":3},"retExtInfo":{},"time":4}',
        "kucoin": b'{"code":"200000","data":{"time":1729172965609,"sequence":"1","price":"1",'
        b'"size":"1","bestBid":"1.5","bestBidSize":"2","bestAsk":"1.6","bestAskSize":"3"}}',
        "mexc": binance_shape,
    }  # fmt: skip
    for name, body in bodies.items():
        module = MODULES[name]
        [request] = module.rest_poll_requests(["BTC-USDT"])
        [quote] = module.decode(body, 100, 1, 0, request.stream)
        assert isinstance(quote, Quote)
        assert (quote.exchange, quote.symbol) == (name, "BTC-USDT")
        assert (quote.bid, quote.bid_size, quote.ask, quote.ask_size) == (1.5, 2.0, 1.6, 3.0)
