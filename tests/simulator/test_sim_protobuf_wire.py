"""The hand-written protobuf writer and the MEXC encoders against real captured frames."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ticktape.simulator import mexc_wire
from ticktape.simulator.market import SimQuote, SimTrade, SymbolSpec
from ticktape.simulator.protobuf_writer import MessageWriter, tag, varint


def test_varint_known_values() -> None:
    assert varint(0) == b"\x00"
    assert varint(1) == b"\x01"
    assert varint(127) == b"\x7f"
    assert varint(128) == b"\x80\x01"
    assert varint(300) == b"\xac\x02"
    assert varint(-1) == b"\xff" * 9 + b"\x01"  # int64 -1: ten bytes
    assert tag(315, 2) == b"\xda\x13"
    with pytest.raises(ValueError):
        tag(0, 0)


def test_proto3_defaults_are_omitted_but_submessages_are_not() -> None:
    w = MessageWriter().int_field(1, 0).string_field(2, "").string_field(3, None)
    assert bytes(w) == b""
    assert bytes(MessageWriter().message_field(5, b"")) == b"\x2a\x00"


def test_frame_a1_reencoded_from_its_fields_is_identical(samples_dir: Path) -> None:
    body = mexc_wire.book_ticker_body(
        "84270", "0.006387", "84270.01", "5.42169969", "82164153436", 1790281240471
    )
    frame = mexc_wire.wrapper(
        "spot@public.aggre.bookTicker.v3.api.pb@100ms@BTCUSDT", "BTCUSDT", 1790281243450, 315, body
    )
    assert frame == (samples_dir / "mexc" / "frame_A1.bin").read_bytes()


@pytest.mark.parametrize(
    ("name", "channel", "symbol", "send_ms", "fields"),
    [
        (
            "frame_B1.bin",
            "spot@public.aggre.bookTicker.v3.api.pb@10ms@BTCUSDT",
            "BTCUSDT",
            1790145447239,
            ("86503.92", "14.91335308", "86503.93", "0.004965", "81999275445", 1790145447233),
        ),
        (
            "frame_C1.bin",
            "spot@public.aggre.bookTicker.v3.api.pb@100ms@HYPEUSDT",
            "HYPEUSDT",
            1780505866106,
            ("72.29", "7.01", "72.34", "82.1", "1320043356", 1780505866058),
        ),
    ],
)
def test_other_book_ticker_frames_reencode(
    samples_dir: Path, name: str, channel: str, symbol: str, send_ms: int, fields: tuple
) -> None:
    frame = mexc_wire.wrapper(channel, symbol, send_ms, 315, mexc_wire.book_ticker_body(*fields))
    assert frame == (samples_dir / "mexc" / name).read_bytes()


def test_deals_frame_a2_reencodes(samples_dir: Path) -> None:
    items = [
        mexc_wire.deal_item(
            "84270", "0.00099829", 2, 1790281246176, "731901896985399296X0_731901896985399297X0"
        ),
        mexc_wire.deal_item(
            "84270", "0.00019169", 1, 1790281246177, "731901896985399298X0_731901896985399299X0"
        ),
    ]
    body = mexc_wire.deals_body(items, "spot@public.aggre.deals.v3.api.pb@100ms")
    frame = mexc_wire.wrapper(
        "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT", "BTCUSDT", 1790281246250, 314, body
    )
    assert frame == (samples_dir / "mexc" / "frame_A2.bin").read_bytes()


def test_writer_reencodes_limit_depth_and_kline_frames(samples_dir: Path) -> None:
    """The writer is general enough for every real frame we have (A3 depth, A4 kline)."""
    asks = [
        ("84270.01", "5.42169969"),
        ("84270.02", "0.00117646"),
        ("84270.03", "0.00124397"),
        ("84270.05", "0.00122284"),
        ("84270.26", "0.00108947"),
    ]
    bids = [
        ("84270.00", "0.00638700"),
        ("84267.03", "0.00234800"),
        ("84264.15", "0.04789506"),
        ("84263.45", "0.04789506"),
        ("84263.40", "2.07853100"),
    ]
    depth = MessageWriter()
    for number, levels in ((1, asks), (2, bids)):
        for price, qty in levels:
            depth.message_field(number, MessageWriter().string_field(1, price).string_field(2, qty))
    depth.string_field(3, "spot@public.limit.depth.v3.api.pb").string_field(4, "82164155643")
    depth.int_field(5, 1790281247239)
    a3 = mexc_wire.wrapper(
        "spot@public.limit.depth.v3.api.pb@BTCUSDT@5", "BTCUSDT", 1790281247251, 303, bytes(depth)
    )
    assert a3 == (samples_dir / "mexc" / "frame_A3.bin").read_bytes()

    kline = MessageWriter().string_field(1, "Min1").int_field(2, 1790281200)
    for number, text in enumerate(
        ("84300.14", "84270", "84300.15", "84270", "2.84044203", "239393.69"), start=3
    ):
        kline.string_field(number, text)
    kline.int_field(9, 1790281260)
    a4 = (
        MessageWriter()
        .string_field(1, "spot@public.kline.v3.api.pb@BTCUSDT@Min1")
        .string_field(3, "BTCUSDT")
        .string_field(4, "2fb942154ef44a4ab2ef98c8afb6a4a7")
        .int_field(5, 1790281249008)
        .message_field(308, kline)
    )
    assert bytes(a4) == (samples_dir / "mexc" / "frame_A4.bin").read_bytes()


def test_simulated_frames_use_the_same_layout() -> None:
    spec = SymbolSpec("BTC-USDT", 84270.0, 2, 8)
    q = SimQuote("mexc", "BTC-USDT", 3, 0.3, 8427000, 638700, 8427001, 542169969)
    channel = "spot@public.aggre.bookTicker.v3.api.pb@100ms@BTCUSDT"
    frame = mexc_wire.book_ticker(q, spec, 1790281243450, channel)
    assert frame.startswith(b"\x0a\x34" + channel.encode() + b"\x1a\x07BTCUSDT\x30")
    assert b"\xda\x13" in frame
    assert b"\x0a\x0584270\x12\x080.006387\x1a\x0884270.01\x22\x0a5.42169969" in frame
    t = SimTrade("mexc", "BTC-USDT", 5, 1.0, 8427000, 99829, "sell")
    deals = mexc_wire.deals([t], spec, 1790281246250, channel.replace("bookTicker", "deals"))
    assert b"\xd2\x13" in deals  # field 314, wire type 2
    assert b"\x18\x02" in deals  # tradeType 2 = sell


@given(st.integers(min_value=-(2**63), max_value=2**64 - 1))
def test_varint_round_trips(value: int) -> None:
    encoded = varint(value)
    decoded = shift = 0
    for i, byte in enumerate(encoded):
        decoded |= (byte & 0x7F) << shift
        shift += 7
        assert bool(byte & 0x80) == (i < len(encoded) - 1)  # continuation bits
    assert decoded == value % 2**64
