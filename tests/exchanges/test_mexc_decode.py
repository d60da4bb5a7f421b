"""MEXC decoding of the real binary protobuf frames, the encoder, and an independent walker.

``walk`` below is a hand-written protobuf reader (tags, varints, length-delimited fields) that
shares no code with the decoder (which uses protobuf's upb parser). It is the oracle the decoded
values are checked against, and the alternative ``mexc.py``'s docstring measures.
"""

from __future__ import annotations

import timeit

import exchange_samples as samples
import pytest

from ticktape.exchanges import mexc, mexc_proto
from ticktape.exchanges.events import BUY, SELL, DecodeError, Quote, Trade

FRAMES = samples.mexc_frames()
RECV = 1_790_281_243_500_000_000


# ---- an independent protobuf walker -----------------------------------------------------------


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def walk(buf: bytes) -> dict[int, list[int | bytes]]:
    """Field number -> values in order (varints as int, length-delimited as bytes)."""
    fields: dict[int, list[int | bytes]] = {}
    pos = 0
    while pos < len(buf):
        tag, pos = _varint(buf, pos)
        wire_type = tag & 7
        value: int | bytes
        if wire_type == 0:
            value, pos = _varint(buf, pos)
        elif wire_type == 2:
            length, pos = _varint(buf, pos)
            value, pos = buf[pos : pos + length], pos + length
        elif wire_type == 1:
            value, pos = int.from_bytes(buf[pos : pos + 8], "little"), pos + 8
        elif wire_type == 5:
            value, pos = int.from_bytes(buf[pos : pos + 4], "little"), pos + 4
        else:
            raise ValueError(f"wire type {wire_type}")
        fields.setdefault(tag >> 3, []).append(value)
    if pos != len(buf):
        raise ValueError("truncated")
    return fields


def _one(fields: dict[int, list[int | bytes]], number: int) -> int | bytes:
    [value] = fields[number]
    return value


def walk_quote(frame: bytes) -> tuple[str, int, float, float, float, float]:
    """(symbol, sendTime ms, bid, bid qty, ask, ask qty) of a book-ticker frame."""
    wrapper = walk(frame)
    body = walk(bytes(_one(wrapper, 315 if 315 in wrapper else 305)))  # type: ignore[arg-type]
    prices = [float(_one(body, n)) for n in (1, 2, 3, 4)]  # type: ignore[arg-type]
    symbol = bytes(_one(wrapper, 3)).decode()  # type: ignore[arg-type]
    return (symbol, int(_one(wrapper, 6)), *prices)  # type: ignore[return-value,call-overload]


def walk_deals(frame: bytes) -> list[tuple[float, float, int, int, str]]:
    wrapper = walk(frame)
    body = walk(bytes(_one(wrapper, 314)))  # type: ignore[arg-type]
    deals = []
    for raw in body[1]:
        item = walk(bytes(raw))  # type: ignore[arg-type]
        trade_id = bytes(item[5][0]).decode() if 5 in item else ""  # type: ignore[arg-type]
        deals.append(
            (float(_one(item, 1)), float(_one(item, 2)), int(_one(item, 3)),  # type: ignore[arg-type]
             int(_one(item, 4)), trade_id)  # type: ignore[call-overload]
        )  # fmt: skip
    return deals


# ---- the real frames --------------------------------------------------------------------------


def test_hex_listing_and_bin_files_agree() -> None:
    assert samples.mexc_hex_frames() == FRAMES


@pytest.mark.parametrize("frame_id", ["A1", "B1", "C1"])
def test_book_ticker_frames_match_the_walker(frame_id: str) -> None:
    frame = FRAMES[frame_id]
    symbol, send_ms, bid, bid_qty, ask, ask_qty = walk_quote(frame)
    for stream in (mexc.route(frame), "", "garbage"):
        assert mexc.decode(frame, RECV, 5, 6, stream or "") == [
            Quote("mexc", mexc.canonical_symbol(symbol), RECV, send_ms * 1_000_000, 5, 6,
                  bid, bid_qty, ask, ask_qty)
        ]  # fmt: skip


def test_book_ticker_literal_values() -> None:
    assert mexc.decode(FRAMES["A1"], RECV, 5, 6, "") == [
        Quote("mexc", "BTC-USDT", RECV, 1790281243450 * 10**6, 5, 6,
              84270.0, 0.006387, 84270.01, 5.42169969)
    ]  # fmt: skip
    [b1] = mexc.decode(FRAMES["B1"], RECV, 5, 6, "")
    assert (b1.exch_ns, b1.bid, b1.bid_size, b1.ask, b1.ask_size) == (  # type: ignore[union-attr]
        1790145447239000000, 86503.92, 14.91335308, 86503.93, 0.004965,
    )  # fmt: skip
    [c1] = mexc.decode(FRAMES["C1"], RECV, 5, 6, "")
    assert (c1.symbol, c1.bid, c1.bid_size, c1.ask, c1.ask_size) == (  # type: ignore[union-attr]
        "HYPE-USDT", 72.29, 7.01, 72.34, 82.1,
    )  # fmt: skip


def test_deals_frame_gives_one_trade_per_deal() -> None:
    frame = FRAMES["A2"]
    trades = mexc.decode(frame, RECV, 5, 6, mexc.route(frame) or "")
    assert trades == [
        Trade("mexc", "BTC-USDT", RECV, 1790281246250 * 10**6, 5, 6, 84270.0, 0.00099829, SELL,
              "731901896985399296X0_731901896985399297X0"),
        Trade("mexc", "BTC-USDT", RECV, 1790281246250 * 10**6, 5, 6, 84270.0, 0.00019169, BUY,
              "731901896985399298X0_731901896985399299X0"),
    ]  # fmt: skip
    for trade, (price, qty, trade_type, _time, trade_id) in zip(
        trades, walk_deals(frame), strict=True
    ):
        assert isinstance(trade, Trade)
        assert (trade.price, trade.size, trade.trade_id) == (price, qty, trade_id)
        assert trade.side == {1: BUY, 2: SELL}[trade_type]


@pytest.mark.parametrize("frame_id", ["A3", "A4"])
def test_depth_and_kline_frames_give_nothing(frame_id: str) -> None:
    assert mexc.decode(FRAMES[frame_id], RECV, 5, 6, mexc.route(FRAMES[frame_id]) or "") == []


def test_route_reads_the_channel() -> None:
    expected = {
        "A1": "spot@public.aggre.bookTicker.v3.api.pb@100ms@BTCUSDT",
        "A2": "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT",
        "A3": "spot@public.limit.depth.v3.api.pb@BTCUSDT@5",
        "A4": "spot@public.kline.v3.api.pb@BTCUSDT@Min1",
        "B1": "spot@public.aggre.bookTicker.v3.api.pb@10ms@BTCUSDT",
        "C1": "spot@public.aggre.bookTicker.v3.api.pb@100ms@HYPEUSDT",
    }
    assert {i: mexc.route(f) for i, f in FRAMES.items()} == expected
    assert mexc.route(FRAMES["A1"]) in mexc.streams(["BTC-USDT"])
    assert mexc.route(b'{"id":0,"code":0,"msg":"PONG"}') is None
    assert mexc.route(b"\n\x7fshort") is None  # length runs past the end
    assert mexc.route(b"") is None
    long_channel = "spot@" + "x" * 200
    frame = mexc_proto.PushDataV3ApiWrapper(channel=long_channel).SerializeToString()
    assert mexc.route(frame) == long_channel  # two-byte length varint


# ---- encoder ----------------------------------------------------------------------------------


def test_encoder_reproduces_the_real_frame_byte_for_byte() -> None:
    assert (
        mexc_proto.encode_book_ticker(
            "spot@public.aggre.bookTicker.v3.api.pb@100ms@BTCUSDT", "BTCUSDT", 1790281243450,
            "84270", "0.006387", "84270.01", "5.42169969",
            version="82164153436", last_order_create_time_ms=1790281240471,
        )
        == FRAMES["A1"]
    )  # fmt: skip
    assert (
        mexc_proto.encode_deals(
            "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT", "BTCUSDT", 1790281246250,
            [("84270", "0.00099829", 2, 1790281246176, "731901896985399296X0_731901896985399297X0"),
             ("84270", "0.00019169", 1, 1790281246177, "731901896985399298X0_731901896985399299X0"),
            ],
            event_type="spot@public.aggre.deals.v3.api.pb@100ms",
        )
        == FRAMES["A2"]
    )  # fmt: skip


def test_tardis_decoded_messages_reencoded_decode_to_the_same_values() -> None:
    depth, book, deals = samples.mexc_tardis_decoded()
    book_body = book["publicAggreBookTicker"]
    assert isinstance(book_body, dict)
    frame = mexc_proto.encode_book_ticker(
        str(book["channel"]), str(book["symbol"]), int(str(book["sendTime"])),
        book_body["bidPrice"], book_body["bidQuantity"], book_body["askPrice"],
        book_body["askQuantity"],
    )  # fmt: skip
    assert mexc.decode(frame, 1, 1, 1, "") == [
        Quote("mexc", "BTC-USDT", 1, 1782208005090000000, 1, 1,
              62383.56, 0.07956651, 62383.57, 0.09556)
    ]  # fmt: skip
    deals_body = deals["publicAggreDeals"]
    assert isinstance(deals_body, dict)
    items = [
        (d["price"], d["quantity"], d["tradeType"], int(d["time"]), "") for d in deals_body["deals"]
    ]
    frame = mexc_proto.encode_deals(str(deals["channel"]), "BTCUSDT", 1782208006171, items)
    trades = mexc.decode(frame, 1, 1, 1, "")
    assert [(t.price, t.size, t.side) for t in trades] == [  # type: ignore[union-attr]
        (62383.56, 0.00008235, SELL), (62383.57, 0.00019595, BUY), (62383.57, 0.00059353, BUY),
        (62383.56, 0.00027168, SELL), (62383.57, 0.00002555, SELL),
    ]  # fmt: skip
    assert {t.trade_id for t in trades} == {""}  # type: ignore[union-attr]
    depth_frame = mexc_proto.PushDataV3ApiWrapper(
        channel=str(depth["channel"]), symbol="BTCUSDT", sendTime=1782208005090
    )
    depth_frame.publicAggreDepths.bids.add(price="61759.73", quantity="0.0001778")
    assert mexc.decode(depth_frame.SerializeToString(), 1, 1, 1, "") == []


def test_plain_book_ticker_body_305() -> None:
    frame = mexc_proto.encode_book_ticker(
        "spot@public.bookTicker.v3.api.pb@BTCUSDT", "BTCUSDT", 1700000000000,
        "1.5", "2", "1.6", "3", aggregated=False,
    )  # fmt: skip
    assert walk(frame).keys() == {1, 3, 6, 305}
    assert mexc.decode(frame, 1, 1, 1, "") == [
        Quote("mexc", "BTC-USDT", 1, 1700000000000000000, 1, 1, 1.5, 2.0, 1.6, 3.0)
    ]


# ---- the layout reader (fast path) ------------------------------------------------------------


def _book(symbol: str, bid: str = "84270.5", send_ms: int = 1_753_142_400_000) -> bytes:
    return mexc_proto.encode_book_ticker(
        f"{mexc.BOOK_TICKER_CHANNEL}{symbol}", symbol, send_ms, bid, "1.25", "84270.6", "0.5",
        version="82164153436", last_order_create_time_ms=send_ms - 3,
    )  # fmt: skip


def test_frames_of_one_layout_share_a_plan_and_keep_their_own_values() -> None:
    first, second = _book("BTCUSDT", "84270.5"), _book("BTCUSDT", "91234.5", 1_753_142_999_999)
    shape = first.translate(mexc_proto.SHAPE_TABLE)
    assert second.translate(mexc_proto.SHAPE_TABLE) == shape  # same layout, other digits
    [a], [b] = mexc.decode(first, 1, 1, 1, ""), mexc.decode(second, 2, 1, 2, "")
    assert (a.bid, a.exch_ns) == (84270.5, 1_753_142_400_000_000_000)
    assert (b.bid, b.exch_ns) == (91234.5, 1_753_142_999_999_000_000)
    assert shape in mexc._PLANS


def test_symbols_that_differ_in_a_digit_share_a_shape_but_not_a_plan() -> None:
    one, two = _book("1INCHUSDT"), _book("2INCHUSDT")
    assert one.translate(mexc_proto.SHAPE_TABLE) == two.translate(mexc_proto.SHAPE_TABLE)
    for _ in range(2):  # learned, then from the table
        assert mexc.decode(one, 1, 1, 1, "")[0].symbol == "1INCH-USDT"  # type: ignore[union-attr]
        assert mexc.decode(two, 1, 1, 1, "")[0].symbol == "2INCH-USDT"  # type: ignore[union-attr]


def test_past_the_table_bound_frames_are_still_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mexc, "_PLANS", {})
    monkeypatch.setattr(mexc, "_MAX_SHAPES", 1)
    frames = [_book("BTCUSDT", bid) for bid in ("1.5", "12.5", "123.5")]  # three shapes
    decoder = mexc.new_decoder()
    assert [decoder(f, 1, 1, 1, "")[0].bid for f in frames] == [1.5, 12.5, 123.5]  # type: ignore[union-attr]
    assert len(mexc._PLANS) == 1


def test_unknown_fields_are_skipped() -> None:
    """MEXC adds fields over time: a new wrapper field, a new body field, an unknown body."""
    new_wrapper_field = FRAMES["A1"] + b"\xb8\x06\x05"  # field 103, varint 5
    assert mexc.decode(new_wrapper_field, 1, 1, 1, "") == mexc.decode(FRAMES["A1"], 1, 1, 1, "")
    wrapper = mexc_proto.parse_wrapper(FRAMES["A1"])
    body = wrapper.publicAggreBookTicker.SerializeToString() + b"\x3a\x03abc"  # field 7, "abc"
    wrapper.ClearField("publicAggreBookTicker")
    frame = wrapper.SerializeToString() + b"\xda\x13" + bytes([len(body)]) + body
    assert mexc.decode(frame, 1, 1, 1, "") == mexc.decode(FRAMES["A1"], 1, 1, 1, "")
    unknown_body = (
        mexc_proto.PushDataV3ApiWrapper(
            channel="spot@public.deals.v3.api.pb@BTCUSDT", symbol="BTCUSDT"
        ).SerializeToString()
        + b"\xea\x12\x00"
    )  # field 301 (no schema here), empty
    assert mexc.decode(unknown_body, 1, 1, 1, "") == []


def test_missing_send_time_gives_no_exchange_time() -> None:
    frame = mexc_proto.encode_book_ticker("spot@x@BTCUSDT", "", 0, "1", "2", "3", "4")
    [quote] = mexc.decode(frame, 1, 1, 1, "")
    assert quote.exch_ns is None and quote.symbol == "BTC-USDT"  # type: ignore[union-attr]


# ---- JSON frames ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        b'{"id":0,"code":0,"msg":"spot@public.aggre.deals.v3.api.pb@10ms@BTCUSDT"}',
        b'{"id":0,"code":0,"msg":"PONG"}',
        b'{"id":0,"code":30001,"msg":"Not Subscribed successfully! [spot@x]. Reason: Blocked!"}',
    ],
)
def test_json_control_frames_give_nothing(payload: bytes) -> None:
    assert mexc.decode(payload, 1, 1, 1, "") == []


def test_rest_book_ticker() -> None:
    stream = mexc.rest_poll_requests(["AE-USDT"])[0].stream
    body = (
        b'{"symbol":"AEUSDT","bidPrice":"0.11001","bidQty":"115.59","askPrice":"0.11127",'
        b'"askQty":"215.48"}'
    )
    assert mexc.decode(body, 2, 3, 4, stream) == [
        Quote("mexc", "AE-USDT", 2, None, 3, 4, 0.11001, 115.59, 0.11127, 215.48)
    ]
    assert len(mexc.decode(b"[" + body + b"," + body + b"]", 2, 3, 4, stream)) == 2
    [error] = mexc.decode(b'{"code":-1121,"msg":"Invalid symbol."}', 2, 3, 4, stream)
    assert isinstance(error, DecodeError) and "Invalid symbol" in error.error


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"\n",
        FRAMES["A1"][:-3],
        FRAMES["A1"][:40],
        b"\x0a\x03abc\xff",
        mexc_proto.encode_book_ticker("spot@x@BTCUSDT", "BTCUSDT", 1, "", "2", "3", "4"),
        mexc_proto.encode_book_ticker("spot@x@BTCUSDT", "BTCUSDT", 1, "1", "x", "3", "4"),
        mexc_proto.encode_deals("spot@d@BTCUSDT", "BTCUSDT", 1, [("1", "1", 3, 1, "t")]),
        mexc_proto.encode_book_ticker("spot@x@QQQZZZ", "QQQZZZ", 1, "1", "2", "3", "4"),
        b"\x0a\x00",  # valid protobuf, but no channel and no body
        b'{"hello":1}',
        b"[1]",
    ],
)
def test_unreadable_frames_give_one_decode_error(payload: bytes) -> None:
    events = mexc.decode(payload, 1, 1, 1, "s")
    assert len(events) == 1 and isinstance(events[0], DecodeError), events


# ---- the measurement behind the layout reader -------------------------------------------------


@pytest.mark.slow
def test_layout_reader_beats_protobuf_and_the_python_walker() -> None:
    """Opt-in (``-m slow``): the figures quoted in ``mexc.py``'s docstring."""
    frame = FRAMES["A1"]

    def walker_quote() -> Quote:
        symbol, send_ms, bid, bid_qty, ask, ask_qty = walk_quote(frame)
        return Quote("mexc", mexc.canonical_symbol(symbol), 1, send_ms * 1_000_000, 1, 1,
                     bid, bid_qty, ask, ask_qty)  # fmt: skip

    assert (
        [walker_quote()] == mexc.decode(frame, 1, 1, 1, "") == mexc._decode_slow(frame, 1, 1, 1, "")
    )
    n = 5_000
    layout = min(timeit.repeat(lambda: mexc.decode(frame, 1, 1, 1, ""), number=n, repeat=3)) / n
    upb = min(timeit.repeat(lambda: mexc._decode_slow(frame, 1, 1, 1, ""), number=n, repeat=3)) / n
    walker = min(timeit.repeat(walker_quote, number=n, repeat=3)) / n
    print(f"\nmexc bookTicker: layout {layout * 1e6:.2f} µs, upb {upb * 1e6:.2f} µs, "
          f"walker {walker * 1e6:.2f} µs")  # fmt: skip
    assert layout < upb < walker
