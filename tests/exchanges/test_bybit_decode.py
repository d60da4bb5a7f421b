"""Bybit decoding against the real 2026-08 spot capture and the 2023 level-1 messages."""

from __future__ import annotations

import json

import exchange_samples as samples
import pytest

from ticktape.exchanges import bybit
from ticktape.exchanges.events import BUY, SELL, DecodeError, Quote, Trade

SPOT = samples.bybit_spot_frames()
SPOT_RECORDS = "cryptofeed_v3_2026-08_BYBIT_spot.records.jsonl"
LINEAR_RECORDS = "cryptofeed_v3_2026-08_BYBIT_linear_contrast.records.jsonl"
TARDIS = samples.bybit_tardis()
RECV = 1_786_310_819_000_000_000


def _channel(payload: bytes) -> str:
    message = json.loads(payload)
    return str(message.get("topic", "control")).split(".")[0]


def test_every_spot_frame_decodes_to_the_expected_kind() -> None:
    decoder = bybit.new_decoder()
    counts: dict[str, int] = {}
    for seq, payload in enumerate(SPOT):
        channel = _channel(payload)
        counts[channel] = counts.get(channel, 0) + 1
        events = decoder(payload, RECV, 1, seq, bybit.route(payload) or "")
        if channel == "publicTrade":
            assert events and all(isinstance(e, Trade) for e in events)
        else:  # acks, tickers (spot: no bid/ask), orderbook.200, kline
            assert events == []
    assert counts == {"control": 7, "tickers": 20, "orderbook": 41, "publicTrade": 18, "kline": 2}


@pytest.mark.parametrize("payload", [p for p in SPOT + TARDIS if b'"publicTrade.' in p])
def test_public_trade_fields(payload: bytes) -> None:
    message = json.loads(payload)
    for stream in (message["topic"], "", "orderbook.1.BTCUSDT"):
        trades = bybit.decode(payload, RECV, 3, 9, stream)
        assert len(trades) == len(message["data"])
        for trade, item in zip(trades, message["data"], strict=True):
            assert isinstance(trade, Trade)
            assert trade.exchange == "bybit"
            assert trade.symbol == bybit.canonical_symbol(item["s"])
            assert (trade.recv_ns, trade.conn_id, trade.seq) == (RECV, 3, 9)
            assert trade.exch_ns == message["ts"] * 1_000_000
            assert trade.price == float(item["p"]) and trade.size == float(item["v"])
            assert trade.side == {"Buy": BUY, "Sell": SELL}[item["S"]]
            assert trade.trade_id == item["i"]


def test_public_trade_literal_values() -> None:
    eth = next(p for p in SPOT if b"publicTrade.ETHUSDT" in p)
    assert bybit.decode(eth, RECV, 3, 9, "publicTrade.ETHUSDT") == [
        Trade("bybit", "ETH-USDT", RECV, 1786310821917000000, 3, 9,
              1923.28, 0.04537, SELL, "2280000001739247417")
    ]  # fmt: skip
    btc = next(p for p in SPOT if b"publicTrade.BTCUSDT" in p)
    [trade] = bybit.decode(btc, RECV, 3, 9, "")
    assert isinstance(trade, Trade)
    assert (trade.price, trade.size, trade.side, trade.trade_id) == (
        65140.5, 0.002705, BUY, "2290000001189048101",
    )  # fmt: skip
    four = bybit.decode(TARDIS[0], RECV, 3, 9, "publicTrade.BTCUSDT")
    assert [t.trade_id for t in four] == [  # type: ignore[union-attr]
        "2290000000050703789", "2290000000050703790", "2290000000050703791", "2290000000050703792",
    ]  # fmt: skip
    assert [t.size for t in four] == [0.041732, 0.008513, 0.042384, 0.055371]  # type: ignore[union-attr]
    assert {t.side for t in four} == {SELL}  # type: ignore[union-attr]
    [usdc] = bybit.decode(TARDIS[1], RECV, 3, 9, "")
    assert usdc.symbol == "BTC-USDC"  # type: ignore[union-attr]


def test_level1_snapshot_then_delta_keeps_the_other_side() -> None:
    snapshot, delta = TARDIS[2], TARDIS[3]
    decoder = bybit.new_decoder()
    assert decoder(snapshot, 10, 1, 0, "orderbook.1.BTCUSDT") == [
        Quote("bybit", "BTC-USDT", 10, 1680652806504000000, 1, 0,
              28165.07, 0.175231, 28165.08, 0.996816)
    ]  # fmt: skip
    # the delta carries only the bid; the ask comes from the snapshot on the same connection
    assert decoder(delta, 11, 1, 1, "orderbook.1.BTCUSDT") == [
        Quote("bybit", "BTC-USDT", 11, 1680652806615000000, 1, 1,
              28165.07, 0.166754, 28165.08, 0.996816)
    ]  # fmt: skip


def test_level1_quote_waits_until_both_sides_are_known() -> None:
    decoder = bybit.new_decoder()
    delta = TARDIS[3]  # bid only
    assert decoder(delta, 11, 1, 1, "orderbook.1.BTCUSDT") == []
    ask_only = (
        b'{"topic":"orderbook.1.BTCUSDT","ts":1680652806700,"type":"delta","data":{"s":"BTCUSDT",'
        b'"b":[],"a":[["28165.09","0.5"]],"u":20404756,"seq":4281281880}}'
    )
    [quote] = decoder(ask_only, 12, 1, 2, "")
    assert isinstance(quote, Quote)
    assert (quote.bid, quote.bid_size, quote.ask, quote.ask_size) == (
        28165.07, 0.166754, 28165.09, 0.5,
    )  # fmt: skip
    # another connection has its own state
    assert decoder(ask_only, 13, 2, 0, "") == []
    # the default decoder is unaffected by this one
    assert bybit.new_decoder()(ask_only, 13, 1, 3, "") == []


def test_level1_delta_zero_size_empties_a_side_and_reset_forgets() -> None:
    decoder = bybit.new_decoder()
    decoder(TARDIS[2], 10, 1, 0, "")
    removed = (
        b'{"topic":"orderbook.1.BTCUSDT","ts":1680652806800,"type":"delta","data":{"s":"BTCUSDT",'
        b'"b":[["28165.07","0"]],"a":[],"u":20404757,"seq":4281281890}}'
    )
    [quote] = decoder(removed, 14, 1, 1, "")
    assert (quote.bid, quote.bid_size, quote.ask) == (0.0, 0.0, 28165.08)  # type: ignore[union-attr]
    replaced = removed.replace(b'[["28165.07","0"]]', b'[["28165.07","0"],["28165.06","1.25"]]')
    [quote] = decoder(replaced, 15, 1, 2, "")
    assert (quote.bid, quote.bid_size) == (28165.06, 1.25)  # type: ignore[union-attr]
    decoder.reset(1)
    assert decoder(TARDIS[3], 16, 1, 3, "") == []
    decoder(TARDIS[2], 17, 1, 4, "")
    decoder.reset()
    assert decoder(TARDIS[3], 18, 1, 5, "") == []


def test_level1_snapshot_with_an_empty_side_reads_zero() -> None:
    empty_ask = (
        b'{"topic":"orderbook.1.BTCUSDT","ts":1,"type":"snapshot","data":{"s":"BTCUSDT",'
        b'"b":[["5","1"]],"a":[],"u":1,"seq":1}}'
    )
    [quote] = bybit.new_decoder()(empty_ask, 1, 1, 0, "")
    assert (quote.bid, quote.bid_size, quote.ask, quote.ask_size) == (5.0, 1.0, 0.0, 0.0)  # type: ignore[union-attr]


def test_current_key_order_and_cts_decode_the_same() -> None:
    """2026 spot puts ``ts`` before ``type`` and adds ``cts``; linear puts ``type`` first."""
    spot = (
        b'{"topic":"orderbook.1.BTCUSDT","ts":1786310816516,"type":"snapshot","data":{"s":"BTCUSDT",'
        b'"b":[["65140.4","0.885797"]],"a":[["65140.5","0.472215"]],"u":62505424,"seq":112488545850},'
        b'"cts":1786310816499}'
    )
    reordered = (
        b'{"type":"snapshot","data":{"a":[["65140.5","0.472215"]],"b":[["65140.4","0.885797"]],'
        b'"seq":112488545850,"u":62505424,"s":"BTCUSDT"},"cts":1786310816499,"ts":1786310816516,'
        b'"topic":"orderbook.1.BTCUSDT"}'
    )
    expected = [
        Quote("bybit", "BTC-USDT", 1, 1786310816516000000, 1, 0,
              65140.4, 0.885797, 65140.5, 0.472215)
    ]  # fmt: skip
    for payload in (spot, reordered):
        for stream in ("orderbook.1.BTCUSDT", ""):
            assert bybit.new_decoder()(payload, 1, 1, 0, stream) == expected
        assert bybit.route(payload) == "orderbook.1.BTCUSDT"


def test_records_container_recv_frames_and_our_subscribe_frames_match_the_capture() -> None:
    records = samples.bybit_records(SPOT_RECORDS)
    sent = [str(r["data"]).encode() for r in records if r["t"] == "send"]
    ours = [
        bybit.subscribe_messages(json.loads(frame)["args"])[0] for frame in sent
    ]  # the same args give byte-identical frames
    assert ours == sent
    for payload in samples.bybit_recv_payloads(SPOT_RECORDS):
        events = bybit.decode(payload, 1, 1, 0, bybit.route(payload) or "")
        assert not any(isinstance(e, DecodeError) for e in events)


def test_linear_contrast_frames_are_not_spot_channels() -> None:
    payloads = samples.bybit_recv_payloads(LINEAR_RECORDS)
    assert len(payloads) == 6
    for payload in payloads:
        assert bybit.decode(payload, 1, 1, 0, bybit.route(payload) or "") == []


def test_deeper_books_and_tickers_are_ignored() -> None:
    assert bybit.decode(TARDIS[4], 1, 1, 0, "") == []
    assert bybit.decode(TARDIS[5], 1, 1, 0, "orderbook.50.BTCUSDT") == []
    for payload in SPOT:
        if b'"orderbook.200' in payload or b'"tickers.' in payload:
            assert bybit.decode(payload, 1, 1, 0, bybit.route(payload) or "") == []


@pytest.mark.parametrize(
    "payload",
    [
        b'{"success":true,"ret_msg":"subscribe","conn_id":"d9avt8shteepr00gfc1g-4zd1x","op":"subscribe"}',
        b'{"success":true,"ret_msg":"pong","conn_id":"0970e817-426e-429a-a679-ff7f55e0b16a","op":"ping"}',
        b'{"success":false,"ret_msg":"error:handler not found","conn_id":"x","op":"subscribe"}',
        b'{"args":["1672916271846"],"op":"pong"}',
    ],
)  # fmt: skip
def test_control_frames_give_nothing(payload: bytes) -> None:
    assert bybit.decode(payload, 1, 1, 0, "") == []
    assert bybit.route(payload) is None


def test_rest_orderbook_docs_example_and_errors() -> None:
    stream = bybit.rest_poll_requests(["BTC-USDT"])[0].stream
    body = (
        b'{"retCode":0,"retMsg":"OK","result":{"s":"BTCUSDT","a":[["65557.7","16.606555"]],'
        b'"b":[["65485.47","47.081829"]],"ts":1716863719031,"u":230704,"seq":1432604333,'
        b'"cts":1716863718905},"retExtInfo":{},"time":1716863719382}'
    )
    assert bybit.decode(body, 5, 2, 1, stream) == [
        Quote("bybit", "BTC-USDT", 5, 1716863719031000000, 2, 1,
              65485.47, 47.081829, 65557.7, 16.606555)
    ]  # fmt: skip
    [error] = bybit.decode(
        b'{"retCode":10001,"retMsg":"Not supported symbols","result":{},"retExtInfo":{},"time":1}',
        5, 2, 1, stream,
    )  # fmt: skip
    assert isinstance(error, DecodeError)
    assert error.error == "exchange error 10001: Not supported symbols"
    time_body = (
        b'{"retCode":0,"retMsg":"OK","result":{"timeSecond":"1688639403",'
        b'"timeNano":"1688639403423213947"},"retExtInfo":{},"time":1688639403423}'
    )
    assert bybit.decode(time_body, 5, 2, 1, "GET /v5/market/time") == []


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"[]",
        b'{"topic":"orderbook.1.BTCUSDT","ts":1,"type":"snapshot","data":{"s":"BTCUSDT","b":[["x","1"]],"a":[]}}',
        b'{"topic":"orderbook.1.BTCUSDT","ts":1,"type":"weird","data":{"s":"BTCUSDT","b":[],"a":[]}}',
        b'{"topic":"publicTrade.BTCUSDT","ts":1,"type":"snapshot","data":[{"i":"1","p":"1","v":"1","S":"Hold"}]}',
        b'{"topic":"publicTrade.BTCUSDT","ts":1,"type":"snapshot","data":[{"i":"1","p":"1"',
        b'{"topic":"tickers.BTCUSDT","ts":1,',
        b'{"unexpected":true}',
    ],
)  # fmt: skip
def test_unreadable_frames_give_one_decode_error(payload: bytes) -> None:
    for stream in ("", "orderbook.1.BTCUSDT", "publicTrade.BTCUSDT"):
        events = bybit.new_decoder()(payload, 1, 1, 0, stream)
        assert len(events) == 1 and isinstance(events[0], DecodeError), events


def test_route_gives_the_topic_of_every_frame() -> None:
    for payload in SPOT + TARDIS + samples.bybit_recv_payloads(LINEAR_RECORDS):
        message = json.loads(payload)
        assert bybit.route(payload) == message.get("topic")
