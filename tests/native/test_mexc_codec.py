"""The compiled MEXC push codec (``_mexc_codec.pxi``) against the Python decoder.

The Python decoder (upb parse + ``float()``, ``ticktape.exchanges.mexc``) defines every result.
The codec may read a frame only if Python gives exactly one Quote / Trade with the same values;
anything else it must refuse (Python then decodes the row). So every test here checks, for each
frame the codec reads, that both Python decoders (the layout fast path and the upb-only slow
path) give that one event; and that the frames MEXC actually sends (real captures, the encoders,
the synthetic and benchmark generators) ARE read, or the codec would be correct but useless.
"""

from __future__ import annotations

import importlib.util
import json
import random
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ticktape._native import fastdecode as _built
from ticktape.analysis import synthetic
from ticktape.exchanges import mexc, mexc_proto, registry
from ticktape.exchanges.events import BUY, SELL, Quote, Trade

assert _built is not None, "ticktape._native.fastdecode is not built (see setup.py)"
fastdecode: ModuleType = _built
CODEC = fastdecode.CODECS["mexc_push"]
QUOTE, TRADE = 1, 2  # read_one's status values
MAX_MS = 9_000_000_000_000  # _numbers.pxi: the largest sendTime the codec multiplies
SAMPLES = Path(__file__).parents[1] / "fixtures" / "samples" / "mexc"
REPO = Path(__file__).parents[2]
BOOK_CHANNEL = "spot@public.aggre.bookTicker.v3.api.pb@100ms@BTCUSDT"
DEALS_CHANNEL = "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT"
SEND_MS = 1_790_281_243_450

_FAST = registry.new_decoder("mexc")
_SLOW = mexc.new_decoder(fast=False)

Read = tuple[int, float, float, float, float, int | None, int, str]


def _frame(name: str) -> bytes:
    return (SAMPLES / f"frame_{name}.bin").read_bytes()


def checked(payload: bytes, expect: bytes = b"BTCUSDT") -> Read | None:
    """The codec's answer; if it reads the frame, both Python decoders must agree exactly."""
    got: Read | None = fastdecode.read_one(CODEC, payload, expect)
    if got is None:
        return None
    status, f0, f1, f2, f3, exch_ns, side, trade_id = got
    symbol = mexc.canonical_symbol(expect.decode())
    for decoder in (_FAST, _SLOW):
        events = decoder(payload, 0, 1, 0, BOOK_CHANNEL)
        assert len(events) == 1, (payload, got, events)
        (decoded,) = events
        if status == QUOTE:
            assert isinstance(decoded, Quote), (payload, got, decoded)
            quote = (decoded.bid, decoded.bid_size, decoded.ask, decoded.ask_size)
            assert quote == (f0, f1, f2, f3)
        else:
            assert status == TRADE and isinstance(decoded, Trade), (payload, got, decoded)
            assert (decoded.price, decoded.size) == (f0, f1)
            assert decoded.side == (BUY, SELL)[side]
            assert decoded.trade_id == trade_id
        assert decoded.symbol == symbol
        assert decoded.exch_ns == exch_ns
    return got


def accepted(payload: bytes, expect: bytes = b"BTCUSDT") -> Read:
    got = checked(payload, expect)
    assert got is not None, payload
    return got


# ---- a protobuf writer of our own, able to write what MEXC never does -------------------------


def varint(value: int, pad: int = 0) -> bytes:
    """``value`` (mod 2**64) as a varint, with ``pad`` extra non-minimal bytes (0x80 .. 0x00)."""
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        if not value:
            out.append(byte)
            break
        out.append(byte | 0x80)
    for _ in range(pad):
        out[-1] |= 0x80
        out.append(0)
    return bytes(out)


def text(number: int, data: bytes, pad_tag: int = 0, pad_len: int = 0) -> bytes:
    return varint(number << 3 | 2, pad_tag) + varint(len(data), pad_len) + data


def number(field: int, value: int, pad_tag: int = 0, pad_value: int = 0) -> bytes:
    return varint(field << 3, pad_tag) + varint(value, pad_value)


def book(
    bid: bytes = b"84270",
    bid_qty: bytes = b"0.006387",
    ask: bytes = b"84270.01",
    ask_qty: bytes = b"5.42169969",
    body: int = 315,
    extra: bytes = b"",
    send_ms: int | None = SEND_MS,
    symbol: bytes | None = b"BTCUSDT",
    wrapper_extra: bytes = b"",
) -> bytes:
    fields = b"".join(text(n, v) for n, v in ((1, bid), (2, bid_qty), (3, ask), (4, ask_qty)))
    return (
        text(1, BOOK_CHANNEL.encode())
        + (b"" if symbol is None else text(3, symbol))
        + (b"" if send_ms is None else number(6, send_ms))
        + wrapper_extra
        + text(body, fields + extra)
    )


def deal(
    price: bytes = b"84270",
    qty: bytes = b"0.00099829",
    trade_type: int = 2,
    trade_id: bytes | None = b"731901896985399296X0",
    extra: bytes = b"",
) -> bytes:
    item = text(1, price) + text(2, qty) + number(3, trade_type) + number(4, SEND_MS - 74)
    return item + (b"" if trade_id is None else text(5, trade_id)) + extra


def deals(*items: bytes, send_ms: int | None = SEND_MS, body_extra: bytes = b"") -> bytes:
    body = b"".join(text(1, item) for item in items) + text(2, DEALS_CHANNEL[:-8].encode())
    return (
        text(1, DEALS_CHANNEL.encode())
        + text(3, b"BTCUSDT")
        + (b"" if send_ms is None else number(6, send_ms))
        + text(314, body + body_extra)
    )


# ---- real frames ------------------------------------------------------------------------------


def test_real_book_ticker_frames_are_read() -> None:
    assert accepted(_frame("A1")) == (
        QUOTE, 84270.0, 0.006387, 84270.01, 5.42169969, 1_790_281_243_450_000_000, 0, ""
    )  # fmt: skip
    assert accepted(_frame("B1"))[0] == QUOTE
    assert accepted(_frame("C1"), b"HYPEUSDT")[1:5] == (72.29, 7.01, 72.34, 82.1)


@pytest.mark.parametrize(
    ("name", "expect"),
    [
        ("A1", b"HYPEUSDT"),  # another route's symbol
        ("C1", b"BTCUSDT"),
        ("A2", b"BTCUSDT"),  # two deals: two trades
        ("A3", b"BTCUSDT"),  # limit depth
        ("A4", b"BTCUSDT"),  # kline (symbolId, createTime, no symbol)
    ],
)
def test_real_frames_not_ours_are_refused(name: str, expect: bytes) -> None:
    assert fastdecode.read_one(CODEC, _frame(name), expect) is None


def test_the_real_deals_frame_split_into_one_deal_frames_is_read() -> None:
    wrapper = mexc_proto.parse_wrapper(_frame("A2"))
    expected = [
        (84270.0, 0.00099829, 1, "731901896985399296X0_731901896985399297X0"),
        (84270.0, 0.00019169, 0, "731901896985399298X0_731901896985399299X0"),
    ]
    for index, values in enumerate(expected):
        one = mexc_proto.PushDataV3ApiWrapper()
        one.CopyFrom(wrapper)
        del one.publicAggreDeals.deals[:]
        one.publicAggreDeals.deals.append(wrapper.publicAggreDeals.deals[index])
        got = accepted(one.SerializeToString())
        assert (got[0], got[1], got[2], got[6], got[7]) == (TRADE, *values)
        assert got[5] == 1_790_281_246_250_000_000


def test_tardis_captured_messages_reencoded_are_read() -> None:
    lines = (SAMPLES / "tardis-node_2026-06_mexc_live_captured.decoded.jsonl").read_text()
    _depth, book_msg, deals_msg = [json.loads(line) for line in lines.splitlines()]
    tick = book_msg["publicAggreBookTicker"]
    frame = mexc_proto.encode_book_ticker(
        book_msg["channel"], book_msg["symbol"], int(book_msg["sendTime"]), tick["bidPrice"],
        tick["bidQuantity"], tick["askPrice"], tick["askQuantity"],
    )  # fmt: skip
    assert accepted(frame)[1:6] == (62383.56, 0.07956651, 62383.57, 0.09556, 1782208005090 * 10**6)
    items = deals_msg["publicAggreDeals"]["deals"]
    for item in items:
        frame = mexc_proto.encode_deals(
            deals_msg["channel"], deals_msg["symbol"], int(deals_msg["sendTime"]),
            [(item["price"], item["quantity"], item["tradeType"], int(item["time"]), "")],
            event_type=deals_msg["publicAggreDeals"]["eventType"],
        )  # fmt: skip
        got = accepted(frame)
        assert (got[1], got[6], got[7]) == (float(item["price"]), item["tradeType"] - 1, "")


# ---- the generators: what the encoders, the synthetic day and the benchmark write ------------


PRICES = ["84270", "84270.01", "0.00000123", "0", "0.1", "1", "123456.789", "99999999.5"]
SIZES = ["0.006387", "5.42169969", "1000000", "0.00000001", "0", "12.5"]


def test_encoder_frames_are_read() -> None:
    rng = random.Random(7)
    for n in range(200):
        bid, ask = rng.choice(PRICES), rng.choice(PRICES)
        bid_qty, ask_qty = rng.choice(SIZES), rng.choice(SIZES)
        send_ms = rng.choice([0, 1, 1_790_281_243_450, MAX_MS])
        got = accepted(
            mexc_proto.encode_book_ticker(
                BOOK_CHANNEL, "BTCUSDT", send_ms, bid, bid_qty, ask, ask_qty,
                version=rng.choice(["", "82164153436"]),
                last_order_create_time_ms=rng.choice([0, send_ms, 2**63 - 1]),
                aggregated=n % 3 != 0,
            )
        )  # fmt: skip
        assert got[:5] == (QUOTE, float(bid), float(bid_qty), float(ask), float(ask_qty))
        assert got[5] == (send_ms * 10**6 if send_ms else None)
        trade_id = rng.choice(["", "1", "731901896985399296X0_731901896985399297X0"])
        trade_type = rng.choice([1, 2])
        got = accepted(
            mexc_proto.encode_deals(
                DEALS_CHANNEL, "BTCUSDT", send_ms,
                [(bid, bid_qty, trade_type, rng.choice([0, send_ms, 2**63 - 1]), trade_id)],
                event_type=rng.choice(["", DEALS_CHANNEL[:-8]]),
            )
        )  # fmt: skip
        assert got == (TRADE, float(bid), float(bid_qty), got[3], got[4], got[5],
                       trade_type - 1, trade_id)  # fmt: skip


def test_synthetic_day_frames_are_read() -> None:
    seen = set()
    rows = synthetic.connection_rows("mexc", 1, 1_753_142_400 * 10**9, 300)
    for _t, _exchange, stream, *_rest, binary, payload in rows:
        if not binary:
            continue
        got = accepted(payload, stream.rpartition("@")[2].encode())
        seen.add(got[0])
    assert seen == {QUOTE, TRADE}
    frame = synthetic.mexc_book_ticker("ETHUSDT", "3120.5", "0.25", "3120.51", "7", 1_753_142_400)
    assert accepted(frame, b"ETHUSDT")[1:6] == (3120.5, 0.25, 3120.51, 7.0, 1_753_142_400 * 10**6)
    frame = synthetic.mexc_deals("BTCUSDT", [("84270.5", "0.002", 2, 5)], 6)
    got = accepted(frame)
    assert (got[:3], got[5:]) == ((TRADE, 84270.5, 0.002), (6_000_000, 1, ""))


def _bench_replay() -> ModuleType:
    path = REPO / "bench" / "replay.py"
    spec = importlib.util.spec_from_file_location("_bench_replay_for_mexc_codec", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and typing look modules up by name
    spec.loader.exec_module(module)
    return module


def test_benchmark_frames_are_read() -> None:
    bench = _bench_replay()
    rng = random.Random(3)
    for n in range(200):
        symbol = bench.SYMBOLS[n % len(bench.SYMBOLS)]
        mid = bench.BASE_PRICE[symbol] * rng.uniform(0.5, 2)
        payload = bench.payload("mexc", n % 3 == 0, symbol, n, 1_753_142_400_000 + n, mid, rng)
        got = accepted(payload, symbol.replace("-", "").encode())
        assert got[0] == (TRADE if n % 3 == 0 else QUOTE)
    frame = bench.mexc_deals("SOL-USDT", "172.25", "3.5", 2, 1_753_142_400_000, "9X0")
    got = accepted(frame, b"SOLUSDT")
    assert (got[:3], got[5:]) == ((TRADE, 172.25, 3.5), (1_753_142_400_000_000_000, 1, "9X0"))
    frame = bench.mexc_book_ticker("DOGE-USDT", "0.21", "10", "0.2101", "20", 1_753_142_400_000, 5)
    assert accepted(frame, b"DOGEUSDT")[:5] == (QUOTE, 0.21, 10.0, 0.2101, 20.0)


# ---- hand-written frames ----------------------------------------------------------------------


def test_hand_written_frames_are_read() -> None:
    assert accepted(book()) == accepted(_frame("A1"))
    assert accepted(book(body=305))[0] == QUOTE
    assert accepted(book(send_ms=None))[5] is None  # no sendTime: no exchange time
    assert accepted(book(send_ms=0))[5] is None  # proto3: 0 is "absent"
    assert accepted(book(send_ms=MAX_MS))[5] == MAX_MS * 1_000_000
    assert accepted(deals(deal(trade_type=1)))[6] == 0
    assert accepted(deals(deal(trade_type=2)))[6] == 1
    assert accepted(deals(deal(trade_id=None)))[7] == ""
    assert accepted(deals(deal(trade_id=b"")))[7] == ""
    # fields in any order (after the channel), declared extras, non-minimal varints (upb reads
    # them as the same values)
    body = text(4, b"4") + text(1, b"1") + number(6, 7) + text(3, b"3") + text(5, b"v")
    shuffled = text(1, b"c") + number(6, SEND_MS) + text(315, body + text(2, b"2"))
    shuffled += text(3, b"BTCUSDT")
    assert accepted(shuffled)[:5] == (QUOTE, 1.0, 2.0, 3.0, 4.0)
    extras = book(wrapper_extra=text(4, b"12345") + number(5, 2**64 - 1))
    assert accepted(extras)[0] == QUOTE
    padded = text(1, b"c", 0, 3) + text(3, b"BTCUSDT", 3, 4) + number(6, SEND_MS, 2, 3) + text(
        314, text(1, text(1, b"5", 3) + text(2, b"6") + number(3, 2, 0, 8), 0, 2), 3, 2
    )  # fmt: skip
    assert accepted(padded)[:3] == (TRADE, 5.0, 6.0)


WRONG = [
    # symbols: wrong, absent (Python takes the channel's), empty, a prefix, lowercase
    pytest.param(book(symbol=b"ETHUSDT"), id="other-symbol"),
    pytest.param(book(symbol=None), id="no-symbol"),
    pytest.param(book(symbol=b""), id="empty-symbol"),
    pytest.param(book(symbol=b"BTCUSD"), id="symbol-prefix"),
    pytest.param(book(symbol=b"BTCUSDTX"), id="symbol-longer"),
    pytest.param(book(symbol=b"btcusdt"), id="symbol-lowercase"),
    pytest.param(book(symbol=b"XTCUSDT"), id="symbol-first-byte"),
    pytest.param(book(symbol=b"BTCUSDX"), id="symbol-last-byte"),
    # structure
    pytest.param(book(wrapper_extra=text(305, b"")), id="two-bodies"),
    pytest.param(book() + text(314, text(1, deal())), id="book-then-deals"),
    pytest.param(book() + text(315, b""), id="body-repeated"),
    pytest.param(book(wrapper_extra=number(6, SEND_MS)), id="send-time-repeated"),
    pytest.param(book(wrapper_extra=text(3, b"BTCUSDT")), id="symbol-repeated"),
    pytest.param(book() + text(1, BOOK_CHANNEL.encode()), id="channel-repeated"),
    pytest.param(book(extra=text(1, b"1")), id="bid-repeated"),
    pytest.param(book(extra=text(4, b"1")), id="ask-qty-repeated"),
    pytest.param(book(extra=text(5, b"1") + text(5, b"2")), id="version-repeated"),
    pytest.param(book(body=305, extra=text(5, b"1")), id="version-in-305"),
    pytest.param(book(extra=text(7, b"1")), id="unknown-book-field"),
    pytest.param(book(extra=number(5, 1)), id="version-as-varint"),
    pytest.param(book(wrapper_extra=number(7, 1)), id="unknown-wrapper-field"),
    pytest.param(book(wrapper_extra=text(2, b"x")), id="wrapper-field-2"),
    pytest.param(book(wrapper_extra=text(6, b"x")), id="send-time-as-text"),
    pytest.param(book(wrapper_extra=number(3, 1)), id="symbol-as-varint"),
    pytest.param(book(send_ms=None, wrapper_extra=b"\x31" + b"\0" * 8), id="fixed64"),
    # upb skips 8 bytes (field 6 as fixed64 is unknown to it); as a varint they would parse too
    pytest.param(
        book(send_ms=None, wrapper_extra=b"\x31\x05" + text(4, b"abcde")), id="send-time-as-fixed64"
    ),
    pytest.param(book(body=303), id="depth-body"),
    pytest.param(book(body=301), id="unknown-body"),
    pytest.param(book()[:-1], id="truncated"),
    pytest.param(book() + b"\x00", id="trailing-zero"),
    pytest.param(text(3, b"BTCUSDT") + book(symbol=None), id="channel-not-first"),
    pytest.param(b"", id="empty"),
    pytest.param(b'{"id":0,"code":0,"msg":"PONG"}', id="json"),
    # values
    pytest.param(book(send_ms=MAX_MS + 1), id="send-time-too-large"),
    pytest.param(book(send_ms=2**64 - 1), id="send-time-negative"),
    pytest.param(book(ask_qty=b""), id="empty-decimal"),
    pytest.param(
        text(1, b"c")
        + text(3, b"BTCUSDT")
        + text(315, text(1, b"1") + text(2, b"2") + text(3, b"3")),
        id="no-ask-quantity",  # proto3: absent reads as "", float("") raises
    ),
    pytest.param(
        text(1, b"c")
        + text(3, b"BTCUSDT")
        + text(305, text(2, b"2") + text(3, b"3") + text(4, b"4")),
        id="no-bid-price",
    ),
    pytest.param(book(bid=b"1e5"), id="exponent"),
    pytest.param(book(bid=b"01.5"), id="leading-zero"),
    pytest.param(book(bid=b"12345678901234567"), id="long-mantissa"),
    pytest.param(book(bid=b" 1"), id="space"),
    pytest.param(book(extra=text(5, b"\xc3\xa9")), id="non-ascii-version"),
    pytest.param(book(extra=text(5, b"\x7f")), id="del-in-version"),
    pytest.param(book(wrapper_extra=text(4, b"\x00")), id="nul-in-symbol-id"),
    pytest.param(text(1, b"\xff") + book()[len(text(1, BOOK_CHANNEL.encode())) :], id="bad-utf8"),
    # varints
    pytest.param(book(send_ms=None, wrapper_extra=number(6, SEND_MS, 0, 5)), id="varint-11-bytes"),
    pytest.param(
        book(send_ms=None, wrapper_extra=b"\x30" + b"\x80" * 9 + b"\x02"), id="varint-10th-byte-2"
    ),
    pytest.param(book(send_ms=None, wrapper_extra=varint(6 << 3, 5) + varint(1)), id="tag-6-bytes"),
    pytest.param(
        book(send_ms=None, wrapper_extra=b"\xb0\x80\x80\x80\x10\x01"), id="tag-beyond-32-bits"
    ),
    pytest.param(
        book(symbol=None, wrapper_extra=text(3, b"BTCUSDT", 0, 5)), id="length-6-bytes"
    ),  # upb reads at most 5
    pytest.param(
        text(1, b"c") + text(3, b"BTCUSDT") + text(314, text(1, deal(), 0, 5)),
        id="deal-length-6-bytes",
    ),
    # deals
    pytest.param(deals(deal(), deal()), id="two-deals"),
    pytest.param(deals(), id="no-deal"),
    pytest.param(deals(deal(trade_type=3)), id="trade-type-3"),
    pytest.param(deals(deal(trade_type=0)), id="trade-type-0"),
    pytest.param(deals(deal(trade_type=2**32 + 1)), id="trade-type-wraps-to-1"),
    pytest.param(deals(deal(extra=number(3, 1))), id="trade-type-repeated"),
    pytest.param(deals(deal(extra=text(5, b"x"))), id="trade-id-repeated"),
    pytest.param(deals(deal(extra=number(6, 1))), id="unknown-deal-field"),
    pytest.param(deals(deal(trade_id=b"\x80")), id="non-ascii-trade-id"),
    pytest.param(deals(deal(), body_extra=text(2, b"again")), id="event-type-repeated"),
    pytest.param(deals(deal(), body_extra=number(3, 1)), id="unknown-deals-field"),
    pytest.param(deals(text(2, b"1") + number(3, 1)), id="deal-without-price"),
    pytest.param(deals(text(1, b"1") + text(2, b"1")), id="deal-without-trade-type"),
]


@pytest.mark.parametrize("payload", WRONG)
def test_refused(payload: bytes) -> None:
    assert fastdecode.read_one(CODEC, payload, b"BTCUSDT") is None


def test_refused_for_an_empty_expected_symbol() -> None:
    assert fastdecode.read_one(CODEC, book(symbol=b""), b"") is None


def test_every_strict_prefix_of_a_frame_is_refused() -> None:
    for frame in (_frame("A1"), deals(deal())):
        for end in range(len(frame)):
            assert fastdecode.read_one(CODEC, frame[:end], b"BTCUSDT") is None


# ---- hypothesis: generated frames, valid and wild ---------------------------------------------

PRINTABLE = st.binary(max_size=24).map(lambda b: bytes(0x20 + c % 95 for c in b))
WILD_TEXT = st.one_of(
    PRINTABLE,
    st.binary(max_size=8),
    st.text(max_size=6).map(str.encode),
    st.sampled_from([b"\x7f", b"\x00", b"\xc3\xa9", b"\xff", b"\xed\xa0\x80"]),
)


@st.composite
def strict_decimals(draw: Any) -> bytes:
    """Decimals of at most 15 significant digits, as the codec reads them."""
    whole = draw(st.integers(0, 10**8 - 1))
    fraction = draw(st.text("0123456789", max_size=7))
    return f"{whole}.{fraction}".encode() if fraction else str(whole).encode()


DECIMALS = strict_decimals()
WILD_DECIMALS = st.one_of(
    DECIMALS,
    st.text("0123456789.", max_size=30).map(str.encode),
    st.tuples(st.text("0", min_size=1, max_size=3), DECIMALS).map(lambda t: t[0].encode() + t[1]),
    st.text("123456789", min_size=15, max_size=25).map(str.encode),  # long mantissas
    st.tuples(DECIMALS, st.text("0", max_size=30)).map(lambda t: t[0] + b"." + t[1].encode()),
    st.sampled_from(
        [
            b"",
            b"1e5",
            b"-1",
            b"+1",
            b" 1",
            b"1 ",
            b"inf",
            b"nan",
            b"1_0",
            b".5",
            b"5.",
            b"0x1",
            "\uff11".encode(),
            b"1\x00",
            b"9007199254740993",
            b"0.00000000000000000000001",
            b"12345678901234567890.5",
        ]
    ),
    st.binary(max_size=6),
)


def _shuffled(draw: Any, fields: list[bytes]) -> bytes:
    return b"".join(draw(st.permutations(fields)))


OTHER_SYMBOLS = [b"ETHUSDT", b"", b"BTCUSDTX", b"btcusdt", b"BTCUSDT\0", b"XTCUSDT", b"BTCUSDX"]
PADS = st.sampled_from([0, 0, 0, 0, 1, 3])  # non-minimal varints that stay within upb's limits
SIXTY_FOUR_BITS = st.integers(0, 2**64 - 1)


FAULTS = (
    "decimal", "string", "pad", "repeat", "unknown", "deal-count", "trade-type",
    "no-trade-type", "no-book-field", "extras-in-305", "symbol", "no-symbol", "send-time",
    "channel-text", "channel-place", None,
)  # fmt: skip
"""What a wild frame gets wrong for sure (a one-off knob of that kind goes wrong, a knob drawn
several times goes wrong at half its draws), on top of rare faults of every kind (1 in 128)."""
RARE = st.sampled_from([False] * 127 + [True])  # (integers(0, 127) == 0 comes up far more often)


@st.composite
def frames(draw: Any, wild: bool) -> bytes:
    """A push frame with one body. ``wild=False``: one the codec must read (channel first, other
    fields in any order, declared extras, non-minimal varints). ``wild=True``: the same with one
    kind of fault for sure and rare others (see :data:`FAULTS`): symbols, decimals, texts,
    values, varint lengths, repeated and unknown fields, other bodies, missing fields, several
    deals, the channel's text and place."""
    fault = draw(st.sampled_from(FAULTS)) if wild else None

    def odd(kind: str) -> bool:
        """A knob drawn several times per frame."""
        if not wild:
            return False
        return draw(st.booleans()) if kind == fault else draw(RARE)

    def sure(kind: str) -> bool:
        """A one-off knob."""
        return wild and (kind == fault or draw(RARE))

    def decimal() -> bytes:
        return draw(WILD_DECIMALS if odd("decimal") else DECIMALS)

    def string() -> bytes:
        return draw(WILD_TEXT if odd("string") else PRINTABLE)

    def pad() -> int:
        return draw(st.integers(0, 9) if odd("pad") else PADS)

    def txt(n: int, value: bytes) -> bytes:
        return text(n, value, pad(), pad())

    def num(n: int, value: int) -> bytes:
        pad_value = pad()
        if not wild:  # at most 10 bytes: longer is corrupt for upb too
            pad_value = min(pad_value, 10 - len(varint(value)))
        return number(n, value, pad(), pad_value)

    def extras(fields: list[bytes]) -> list[bytes]:
        """Wild: maybe repeat one field, maybe add an unknown or mistyped one."""
        if fields and odd("repeat"):
            fields.append(draw(st.sampled_from(fields)))
        if odd("unknown"):
            field = draw(st.sampled_from([1, 2, 3, 4, 5, 6, 7, 100, 301, 303, 305, 314, 315]))
            kind = draw(st.sampled_from([0, 1, 2, 5]))
            if kind == 0:
                fields.append(num(field, draw(SIXTY_FOUR_BITS)))
            elif kind == 2:
                fields.append(txt(field, decimal() if draw(st.booleans()) else string()))
            else:
                size = 8 if kind == 1 else 4
                fixed = draw(st.binary(min_size=size, max_size=size))
                fields.append(varint(field << 3 | kind) + fixed)
        return fields

    maybe = st.booleans()
    body_number = draw(st.sampled_from([315, 305, 314]))
    if body_number == 314:
        items = []
        for _ in range(draw(st.sampled_from([0, 2, 3])) if sure("deal-count") else 1):
            fields = [txt(1, decimal()), txt(2, decimal())]
            trade_type = draw(st.sampled_from([1, 2]))
            if odd("trade-type"):
                trade_type = draw(st.sampled_from([0, 3, 2**32 + 1, 2**32 + 2, 2**64 - 1]))
            if not odd("no-trade-type"):
                fields.append(num(3, trade_type))
            if draw(maybe):
                fields.append(num(4, draw(SIXTY_FOUR_BITS)))
            if draw(maybe):
                fields.append(txt(5, string()))
            items.append(txt(1, _shuffled(draw, extras(fields))))
        if draw(maybe):
            items.append(txt(2, string()))
        body = _shuffled(draw, extras(items))
    else:
        fields = [txt(n, decimal()) for n in (1, 2, 3, 4)]
        if sure("no-book-field"):
            del fields[draw(st.integers(0, 3))]
        if body_number == 315 or sure("extras-in-305"):
            if draw(maybe):
                fields.append(txt(5, string()))
            if draw(maybe):
                fields.append(num(6, draw(SIXTY_FOUR_BITS)))
        body = _shuffled(draw, extras(fields))

    symbol = b"BTCUSDT"
    if sure("symbol"):
        symbol = draw(st.sampled_from(OTHER_SYMBOLS))
    rest = [txt(body_number, body)]
    if not sure("no-symbol"):
        rest.append(txt(3, symbol))
    if fault == "send-time" or draw(maybe):
        send_ms = draw(st.integers(0, MAX_MS))
        if sure("send-time"):
            too_large = [MAX_MS + 1, 2**63 // 10**6 + 1, 2**63 - 1, 2**63, 2**64 - 1]
            send_ms = draw(st.sampled_from(too_large))  # the second: ns overflow int64
        rest.append(num(6, send_ms))
    if draw(maybe):
        rest.append(txt(4, string()))
    if draw(maybe):
        rest.append(num(5, draw(SIXTY_FOUR_BITS)))
    channels = [BOOK_CHANNEL.encode(), DEALS_CHANNEL.encode()]
    if sure("channel-text"):  # Python takes the symbol from the channel when field 3 is absent
        channels = [b"", BOOK_CHANNEL.replace("BTC", "ETH").encode(), string()]
    # unpadded tag: a frame whose first byte is not 0x0a is JSON to the Python decoder
    channel = text(1, draw(st.sampled_from(channels)), pad() if odd("pad") else 0, pad())
    if sure("channel-place"):
        return _shuffled(draw, extras([channel, *rest]))
    return channel + _shuffled(draw, extras(rest))


SETTINGS = settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@SETTINGS
@given(frames(wild=False))
def test_generated_frames_are_read_as_python_reads_them(frame: bytes) -> None:
    accepted(frame)


@settings(SETTINGS, max_examples=500)  # 16 kinds of faults: a few dozen frames each
@given(frames(wild=True))
def test_wild_frames_are_read_only_as_python_reads_them(frame: bytes) -> None:
    event("read" if checked(frame) else "refused")


@st.composite
def mutated(draw: Any) -> bytes:
    """A real, encoded or generated frame with one to three byte-level mutations."""
    frame = draw(
        st.one_of(
            st.sampled_from(
                [
                    _frame("A1"),
                    _frame("B1"),
                    _frame("A2"),
                    book(),
                    book(body=305),
                    deals(deal()),
                    deals(deal(trade_id=None)),
                ]
            ),
            frames(wild=False),
        )
    )
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(frame)))
        kind = draw(st.sampled_from(["flip", "set", "cut", "insert", "delete", "copy"]))
        if kind == "flip" and at < len(frame):
            bit = 1 << draw(st.integers(0, 7))
            frame = frame[:at] + bytes([frame[at] ^ bit]) + frame[at + 1 :]
        elif kind == "set" and at < len(frame):
            frame = frame[:at] + bytes([draw(st.integers(0, 255))]) + frame[at + 1 :]
        elif kind == "cut":
            frame = frame[:at]
        elif kind == "insert":
            frame = frame[:at] + draw(st.binary(min_size=1, max_size=4)) + frame[at:]
        elif kind == "delete":
            frame = frame[:at] + frame[at + draw(st.integers(1, 4)) :]
        elif kind == "copy":  # a slice of itself again: repeated fields, tags in odd places
            start = draw(st.integers(0, len(frame)))
            frame = frame[:at] + frame[start : start + draw(st.integers(1, 40))] + frame[at:]
    return frame


@SETTINGS
@given(mutated())
def test_mutated_frames_are_read_only_as_python_reads_them(frame: bytes) -> None:
    event("read" if checked(frame) else "refused")
