"""KuCoin decoding (real 2021 classic capture, docs examples for level1) and the token flow."""

from __future__ import annotations

import json

import exchange_samples as samples
import pytest

from ticktape.exchanges import kucoin
from ticktape.exchanges.events import BUY, SELL, DecodeError, Quote, Trade

RECEIVED = samples.kucoin_ws_received()
RECV = 1_619_378_326_000_000_000

# The docs' level1 example (no level1 frame in the 2021 capture), and the same data in the
# capture's key order (data first): KuCoin's key order is not stable.
LEVEL1 = (
    b'{"topic":"/spotMarket/level1:BTC-USDT","type":"message","subject":"level1","data":'
    b'{"asks":["68145.8","0.51987471"],"bids":["68145.7","1.29267802"],"timestamp":1729816058766}}'
)
LEVEL1_REORDERED = (
    b'{"data":{"timestamp":1729816058766,"bids":["68145.7","1.29267802"],'
    b'"asks":["68145.8","0.51987471"]},"subject":"level1","topic":"/spotMarket/level1:BTC-USDT",'
    b'"type":"message"}'
)


def _subject(payload: bytes) -> str:
    message = json.loads(payload)
    return str(message.get("subject") or message["type"])


def test_every_received_frame_decodes_to_the_expected_kind() -> None:
    counts: dict[str, int] = {}
    for seq, payload in enumerate(RECEIVED):
        subject = _subject(payload)
        counts[subject] = counts.get(subject, 0) + 1
        events = kucoin.decode(payload, RECV, 1, seq, kucoin.route(payload) or "")
        if subject == "trade.ticker":
            assert [type(e) for e in events] == [Quote]
        elif subject == "trade.l3match":
            assert [type(e) for e in events] == [Trade]
        else:  # welcome, ack, trade.l2update
            assert events == []
    assert counts == {
        "welcome": 1, "ack": 13, "trade.ticker": 30, "trade.l2update": 25, "trade.l3match": 18,
    }  # fmt: skip


@pytest.mark.parametrize("payload", [p for p in RECEIVED if b"trade.ticker" in p])
def test_ticker_fields(payload: bytes) -> None:
    message = json.loads(payload)
    data = message["data"]
    for stream in (message["topic"], "", "/market/match:BTC-USDT"):
        [quote] = kucoin.decode(payload, RECV, 4, 8, stream)
        assert isinstance(quote, Quote)
        assert quote.exchange == "kucoin"
        assert quote.symbol == message["topic"].split(":", 1)[1]
        assert (quote.recv_ns, quote.conn_id, quote.seq) == (RECV, 4, 8)
        assert quote.exch_ns == data["time"] * 1_000_000
        assert quote.bid == float(data["bestBid"]) and quote.bid_size == float(data["bestBidSize"])
        assert quote.ask == float(data["bestAsk"]) and quote.ask_size == float(data["bestAskSize"])


@pytest.mark.parametrize("payload", [p for p in RECEIVED if b"trade.l3match" in p])
def test_match_fields_keep_nanoseconds_exact(payload: bytes) -> None:
    message = json.loads(payload)
    data = message["data"]
    for stream in (message["topic"], ""):
        [trade] = kucoin.decode(payload, RECV, 4, 8, stream)
        assert isinstance(trade, Trade)
        assert trade.symbol == data["symbol"]
        assert trade.exch_ns == int(data["time"])  # 19 digits: exact, never via float
        assert str(trade.exch_ns) == data["time"]
        assert trade.price == float(data["price"]) and trade.size == float(data["size"])
        assert trade.side == {"buy": BUY, "sell": SELL}[data["side"]]
        assert trade.trade_id == data["tradeId"]


def test_literal_values() -> None:
    snx = next(p for p in RECEIVED if b"/market/ticker:SNX-BTC" in p)
    assert kucoin.decode(snx, RECV, 4, 8, "/market/ticker:SNX-BTC") == [
        Quote("kucoin", "SNX-BTC", RECV, 1619378326323000000, 4, 8,
              0.00028678, 3.70422021, 0.00028717, 14.04274325)
    ]  # fmt: skip
    bchsv = [p for p in RECEIVED if b"/market/match:BCHSV-USDT" in p]
    first = next(p for p in bchsv if b"1619378353108210342" in p)
    assert kucoin.decode(first, RECV, 4, 8, "") == [
        Trade("kucoin", "BCHSV-USDT", RECV, 1619378353108210342, 4, 8,
              243.17, 4.51160575, BUY, "6085c0b169bc50686d66dbc7")
    ]  # fmt: skip
    dappt = next(p for p in RECEIVED if b"/market/match:DAPPT-BTC" in p)
    [trade] = kucoin.decode(dappt, RECV, 4, 8, "")
    assert (trade.price, trade.size, trade.exch_ns) == (  # type: ignore[union-attr]
        0.0000001117, 81.8814, 1619378327739050725,
    )  # fmt: skip


@pytest.mark.parametrize("payload", [LEVEL1, LEVEL1_REORDERED])
def test_level1_any_key_order(payload: bytes) -> None:
    expected = [
        Quote("kucoin", "BTC-USDT", 3, 1729816058766000000, 1, 2,
              68145.7, 1.29267802, 68145.8, 0.51987471)
    ]  # fmt: skip
    assert kucoin.route(payload) == "/spotMarket/level1:BTC-USDT"
    for stream in ("/spotMarket/level1:BTC-USDT", "", "/spotMarket/level1:ETH-USDT"):
        assert kucoin.decode(payload, 3, 1, 2, stream) == expected


def test_level1_empty_side_reads_zero() -> None:
    payload = LEVEL1.replace(b'"asks":["68145.8","0.51987471"]', b'"asks":[]')
    [quote] = kucoin.decode(payload, 3, 1, 2, "/spotMarket/level1:BTC-USDT")
    assert (quote.ask, quote.ask_size, quote.bid) == (0.0, 0.0, 68145.7)  # type: ignore[union-attr]


def test_ticker_docs_spelling_and_all_topic() -> None:
    docs = (
        b'{"type":"message","topic":"/market/ticker:BTC-USDT","subject":"trade.ticker","data":'
        b'{"sequence":"1545896668986","price":"0.08","size":"0.011","bestAsk":"0.08",'
        b'"bestAskSize":"0.18","bestBid":"0.049","bestBidSize":"0.036","Time":1704873323416}}'
    )
    assert kucoin.decode(docs, 1, 1, 1, "") == [
        Quote("kucoin", "BTC-USDT", 1, 1704873323416000000, 1, 1, 0.049, 0.036, 0.08, 0.18)
    ]
    every = docs.replace(b"ticker:BTC-USDT", b"ticker:all").replace(
        b'"trade.ticker"', b'"ETH-USDT"'
    )
    [quote] = kucoin.decode(every, 1, 1, 1, "/market/ticker:all")
    assert quote.symbol == "ETH-USDT"  # type: ignore[union-attr]


def test_control_level2_and_pro_frames_give_nothing() -> None:
    for payload in (
        b'{"id":"NSkIrWGB1s","type":"welcome"}',
        b'{"id":"1","type":"ack"}',
        b'{"id":"1545910590801","type":"pong"}',
        b'{"id":"1","type":"error","code":401,"data":"token is expired"}',
        *samples.kucoin_uta(),
        *[p for p in RECEIVED if b"l2update" in p],
    ):
        assert kucoin.decode(payload, 1, 1, 1, kucoin.route(payload) or "") == []
    level2 = samples.kucoin_rest_level2()
    assert (
        kucoin.decode(level2, 1, 1, 1, "GET /api/v3/market/orderbook/level2?symbol=EQZ-BTC") == []
    )


def test_our_subscribe_frame_matches_the_captured_one() -> None:
    sent = samples.kucoin_ws_sent()
    assert len(sent) == 13
    topic = json.loads(sent[0])["topic"]
    channel, symbols = topic.split(":", 1)
    names = [f"{channel}:{symbol}" for symbol in symbols.split(",")]
    assert kucoin.subscribe_messages(names) == [sent[0]]  # byte-identical


def test_rest_level1_docs_example_and_errors() -> None:
    stream = kucoin.rest_poll_requests(["BTC-USDT"])[0].stream
    body = (
        b'{"code":"200000","data":{"time":1729172965609,"sequence":"14609309753","price":"67269",'
        b'"size":"0.000025","bestBid":"67267.5","bestBidSize":"0.000025","bestAsk":"67267.6",'
        b'"bestAskSize":"1.24808993"}}'
    )
    assert kucoin.decode(body, 7, 3, 5, stream) == [
        Quote("kucoin", "BTC-USDT", 7, 1729172965609000000, 3, 5,
              67267.5, 0.000025, 67267.6, 1.24808993)
    ]  # fmt: skip
    [error] = kucoin.decode(b'{"code":"429000","msg":"Too Many Requests"}', 7, 3, 5, stream)
    assert isinstance(error, DecodeError)
    assert error.error == "exchange error 429000: Too Many Requests"
    [error] = kucoin.decode(b'{"code":"200000","data":null}', 7, 3, 5, stream)
    assert "no data" in error.error  # type: ignore[union-attr]
    [error] = kucoin.decode(body, 7, 3, 5, "GET /api/v1/market/orderbook/level1")
    assert "no symbol" in error.error  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"{",
        LEVEL1.replace(b'"68145.8"', b'"abc"'),
        LEVEL1.replace(b'["68145.8","0.51987471"]', b'["68145.8"]'),
        LEVEL1[:-5],
        next(p for p in RECEIVED if b"l3match" in p).replace(b'"side":"buy"', b'"side":"hold"'),
        next(p for p in RECEIVED if b"l3match" in p).replace(b'"time":"', b'"time":"x'),
        LEVEL1.replace(b"BTC-USDT", b"NOTASYMBOL"),
        b'{"whatever":1}',
    ],
)
def test_unreadable_frames_give_one_decode_error(payload: bytes) -> None:
    for stream in ("", "/spotMarket/level1:BTC-USDT", "/market/match:BCHSV-USDT"):
        events = kucoin.decode(payload, 1, 1, 1, stream)
        assert len(events) == 1 and isinstance(events[0], DecodeError), events


def test_route_finds_the_topic_wherever_it_is() -> None:
    for payload in RECEIVED:
        assert kucoin.route(payload) == json.loads(payload).get("topic")


# ---- token flow -------------------------------------------------------------------------------

TOKEN_BODY = (
    b'{"code":"200000","data":{"token":"2neAiuYvAU61ZDXANAGAsiL4-iAExhsBXZxftpOeh_55i3Ysy2q2LEsEWU64'
    b"mdzUOPusi34M_wGoSf7iNyEWJ4aBZXpWhrmY9jKtqkdWoFa75w3istPvPtiYB9J6i9GjsxUuhPw3BlrzazF6ghq4L_"
    b'+8rFZ7f4p3YuZn9vYVdGs=.zcAS_oMRO6K1OgB8Ut5_9g==","instanceServers":[{"endpoint":'
    b'"wss://ws-api-spot.kucoin.com/","encrypt":true,"protocol":"websocket","pingInterval":18000,'
    b'"pingTimeout":10000}]}}'
)


def test_token_request_and_parse() -> None:
    request = kucoin.token_request()
    assert (request.method, request.path, request.stream) == (
        "POST", "/api/v1/bullet-public", "POST /api/v1/bullet-public",
    )  # fmt: skip
    token = kucoin.parse_token(TOKEN_BODY)
    assert token.endpoint == "wss://ws-api-spot.kucoin.com/"
    assert token.token.startswith("2neAiuYvAU61ZDXANAGAsiL4-") and token.token.endswith("9g==")
    assert (token.ping_interval_s, token.ping_timeout_s) == (18.0, 10.0)


def test_token_connect_url() -> None:
    token = kucoin.KucoinToken("wss://ws-api-spot.kucoin.com/", "ab+c/d=", 18.0, 10.0)
    assert kucoin.token_connect_url(token, "c1") == (
        "wss://ws-api-spot.kucoin.com/?token=ab%2Bc%2Fd%3D&connectId=c1"
    )
    assert kucoin.token_connect_url(token, "c2", "ws://127.0.0.1:8765/kucoin") == (
        "ws://127.0.0.1:8765/kucoin?token=ab%2Bc%2Fd%3D&connectId=c2"
    )
    assert kucoin.token_connect_url(token, "c3", "ws://h/x?y=1").startswith("ws://h/x?y=1&token=")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"<html>502 Bad Gateway</html>", "not JSON"),
        (b"[]", "not a JSON object"),
        (b'{"code":"400100","msg":"Invalid request"}', "refused: code '400100'"),
        (b'{"code":"200000","data":{"instanceServers":[]}}', "no token"),
        (b'{"code":"200000","data":{"token":"t","instanceServers":[]}}', "no server"),
        (b'{"code":"200000","data":{"token":"t","instanceServers":[{"endpoint":"http://x"}]}}',
         "bad endpoint"),
        (b'{"code":"200000","data":{"token":"t","instanceServers":[{"endpoint":"wss://x",'
         b'"pingInterval":"soon"}]}}', "not numbers"),
        (b'{"code":"200000","data":{"token":"t","instanceServers":[{"endpoint":"wss://x",'
         b'"pingInterval":0}]}}', "positive"),
    ],
)  # fmt: skip
def test_parse_token_errors_say_what_is_wrong(body: bytes, fragment: str) -> None:
    with pytest.raises(kucoin.KucoinTokenError, match=fragment):
        kucoin.parse_token(body)


def test_parse_token_defaults_ping_timing() -> None:
    body = b'{"code":"200000","data":{"token":"t","instanceServers":[{"endpoint":"wss://x/"}]}}'
    token = kucoin.parse_token(body)
    assert (token.ping_interval_s, token.ping_timeout_s) == (18.0, 10.0)


def test_is_welcome() -> None:
    welcome = next(p for p in RECEIVED if b"welcome" in p)
    assert kucoin.is_welcome(welcome)
    assert kucoin.is_welcome(b'{"type":"welcome","id":"x"}')
    assert not kucoin.is_welcome(b'{"id":"1","type":"ack"}')
    assert not kucoin.is_welcome(LEVEL1)
