"""The compiled JSON codecs (``_json_codecs.pxi``: Binance, Bybit, KuCoin) against Python.

The Python decoders (``ticktape.exchanges.binance`` / ``bybit`` / ``kucoin``: msgspec typed
Structs) define every result. A codec may read a frame only if Python gives exactly one Quote or
Trade with the same values; anything else it must refuse, and Python decodes the row. So every
test here checks, for each frame a codec reads, that both Python decoders (the fast path and
the slow path that defines it) give that one event with equal values (floats with ``==``); and
that the frames the exchanges actually send (real captures, the synthetic and benchmark
generators) ARE read, or the codec would be correct but useless.

The codec is always paired with its route the way the replay pairs them: ``native_codec(stream)``
of the exchange module gives the codec, the canonical symbol and the channel bytes to expect.

Binance and Bybit frames in the exact layout the exchange writes are read by a faster canonical
reader; everything else goes to the general reader. A leading space is enough to send a frame to
the general reader, so every frame checked here is also read with one, and both answers must be
the same (read or refused, and the same values).
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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ticktape._native import fastdecode
from ticktape.analysis import synthetic
from ticktape.exchanges import binance, bybit, kucoin, registry
from ticktape.exchanges.events import BUY, SELL, Quote, Trade

QUOTE, TRADE = 1, 2  # read_one's status values
MAX_MS = 9_000_000_000_000  # _numbers.pxi: the largest ms timestamp a codec multiplies
REPO = Path(__file__).parents[2]
MODULES: dict[str, ModuleType] = {"binance": binance, "bybit": bybit, "kucoin": kucoin}
EXCHANGE_OF = {
    "binance_book": "binance",
    "binance_trade": "binance",
    "bybit_book": "bybit",
    "bybit_trade": "bybit",
    "kucoin_level1": "kucoin",
    "kucoin_match": "kucoin",
}
CODEC_NAMES = tuple(EXCHANGE_OF)
EXAMPLES = settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

Read = tuple[int, float, float, float, float, int | None, int, str]


def _load(name: str, path: Path) -> ModuleType:
    """A module from a file outside the packages (the sample loaders, the benchmark)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


samples = _load(
    "_json_codecs_exchange_samples", REPO / "tests" / "exchanges" / "exchange_samples.py"
)


# ---- the oracle -------------------------------------------------------------------------------


def route_of(exchange: str, payload: bytes) -> tuple[str, str, bytes] | None:
    """``(codec, symbol, expect)`` the replay would give this frame's route, or None."""
    module = MODULES[exchange]
    stream = module.route(payload)
    if stream is None:
        return None
    found: tuple[str, str, bytes] | None = module.native_codec(stream)
    return found


def checked(codec: str, payload: bytes, expect: bytes) -> Read | None:
    """The codec's answer; if it reads the frame, both Python decoders must agree exactly. The
    general reader (reached through a leading space) must give the same answer as the codec."""
    got: Read | None = fastdecode.read_one(fastdecode.CODECS[codec], payload, expect)
    general = fastdecode.read_one(fastdecode.CODECS[codec], b" " + payload, expect)
    assert general == got, (codec, payload, got, general)
    if got is None:
        return None
    exchange = EXCHANGE_OF[codec]
    stream = expect.decode()
    routed = MODULES[exchange].native_codec(stream)
    assert routed is not None and routed[0] == codec and routed[2] == expect
    status, f0, f1, f2, f3, exch_ns, side, trade_id = got
    fast = registry.new_decoder(exchange)
    slow = MODULES[exchange].new_decoder(fast=False)
    for decoder in (fast, slow):
        events = decoder(payload, 0, 1, 0, stream)
        assert len(events) == 1, (codec, payload, got, events)
        (event,) = events
        assert event.symbol == routed[1], (payload, event)
        assert event.exch_ns == exch_ns, (payload, got, event)
        if status == QUOTE:
            assert codec.endswith(("book", "level1"))
            assert type(event) is Quote, (payload, got, event)
            assert (event.bid, event.bid_size, event.ask, event.ask_size) == (f0, f1, f2, f3), (
                payload, got, event,
            )  # fmt: skip
        else:
            assert status == TRADE and codec.endswith(("trade", "match"))
            assert type(event) is Trade, (payload, got, event)
            assert (event.price, event.size) == (f0, f1), (payload, got, event)
            assert event.side == (BUY, SELL)[side], (payload, got, event)
            assert event.trade_id == trade_id, (payload, got, event)
    return got


def accepted(codec: str, payload: bytes, expect: bytes) -> Read:
    got = checked(codec, payload, expect)
    assert got is not None, (codec, payload)
    return got


# ---- canonical frames, built from a tree so tests can reshape them ----------------------------


class Raw(str):
    """JSON text written as is (numbers, literals, or deliberately broken text)."""


class Obj(list[tuple[str, Any]]):
    """A JSON object as an ordered member list: keys may repeat (msgspec's input may)."""


def dump(value: Any, space: str = "") -> str:
    """JSON text of a tree; ``space`` goes around every separator."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, Obj):
        inner = f"{space},{space}".join(
            f"{json.dumps(k)}{space}:{space}{dump(v, space)}" for k, v in value
        )
        return f"{{{space}{inner}{space}}}"
    if isinstance(value, list):
        return f"[{space}" + f"{space},{space}".join(dump(v, space) for v in value) + f"{space}]"
    raise TypeError(value)


BOOK_STREAM = "btcusdt@bookTicker"
TRADE_STREAM = "btcusdt@trade"
BYBIT_BOOK = "orderbook.1.BTCUSDT"
BYBIT_TRADES = "publicTrade.BTCUSDT"
KUCOIN_LEVEL1 = "/spotMarket/level1:BTC-USDT"
KUCOIN_MATCH = "/market/match:BTC-USDT"
EXPECT = {
    "binance_book": BOOK_STREAM.encode(),
    "binance_trade": TRADE_STREAM.encode(),
    "bybit_book": BYBIT_BOOK.encode(),
    "bybit_trade": BYBIT_TRADES.encode(),
    "kucoin_level1": KUCOIN_LEVEL1.encode(),
    "kucoin_match": KUCOIN_MATCH.encode(),
}


def canonical_tree(codec: str) -> Obj:
    """The frame each codec exists for, as the exchange sends it (see the samples' READMEs)."""
    if codec == "binance_book":
        return Obj([("stream", BOOK_STREAM), ("data", Obj([
            ("u", Raw("400900217")), ("s", "BTCUSDT"), ("b", "25.35190000"),
            ("B", "31.21000000"), ("a", "25.36520000"), ("A", "40.66000000"),
        ]))])  # fmt: skip
    if codec == "binance_trade":
        return Obj([("stream", TRADE_STREAM), ("data", Obj([
            ("e", "trade"), ("E", Raw("1672515782136")), ("s", "BTCUSDT"), ("t", Raw("12345")),
            ("p", "0.00100000"), ("q", "100.00000000"), ("T", Raw("1672515782136")),
            ("m", True), ("M", True),
        ]))])  # fmt: skip
    if codec == "bybit_book":
        return Obj([
            ("topic", BYBIT_BOOK), ("ts", Raw("1680652806504")), ("type", "snapshot"),
            ("data", Obj([
                ("s", "BTCUSDT"), ("b", [["28165.07", "0.175231"]]),
                ("a", [["28165.08", "0.996816"]]), ("u", Raw("20404754")),
                ("seq", Raw("4281281856")),
            ])),
            ("cts", Raw("1680652806502")),
        ])  # fmt: skip
    if codec == "bybit_trade":
        return Obj([
            ("topic", BYBIT_TRADES), ("ts", Raw("1786310822606")), ("type", "snapshot"),
            ("data", [Obj([
                ("i", "2290000001189048101"), ("T", Raw("1786310822605")), ("p", "65140.5"),
                ("v", "0.002705"), ("S", "Buy"), ("seq", Raw("112488547164")),
                ("s", "BTCUSDT"), ("BT", False), ("RPI", False),
            ])]),
        ])  # fmt: skip
    if codec == "kucoin_level1":
        return Obj([
            ("topic", KUCOIN_LEVEL1), ("type", "message"), ("subject", "level1"),
            ("data", Obj([
                ("asks", ["67890.1", "0.5"]), ("bids", ["67890", "1.25"]),
                ("timestamp", Raw("1729843222921")),
            ])),
        ])  # fmt: skip
    assert codec == "kucoin_match"
    return Obj([
        ("data", Obj([
            ("symbol", "BTC-USDT"), ("sequence", "1612701563869"), ("side", "sell"),
            ("size", "81.8814"), ("price", "0.0000001117"),
            ("takerOrderId", "6085c097587c2000060cde57"), ("time", "1619378327739050725"),
            ("type", "match"), ("makerOrderId", "6085c06144b3790006512a4d"),
            ("tradeId", "6085c09769bc506996295e36"),
        ])),
        ("subject", "trade.l3match"), ("topic", KUCOIN_MATCH), ("type", "message"),
    ])  # fmt: skip


def canonical(codec: str) -> bytes:
    return dump(canonical_tree(codec)).encode()


EXPECTED_VALUES: dict[str, Read] = {
    "binance_book": (QUOTE, 25.3519, 31.21, 25.3652, 40.66, None, 0, ""),
    "binance_trade": (TRADE, 0.001, 100.0, 0, 0, 1672515782136 * 10**6, 1, "12345"),
    "bybit_book": (QUOTE, 28165.07, 0.175231, 28165.08, 0.996816, 1680652806504 * 10**6, 0, ""),
    "bybit_trade": (TRADE, 65140.5, 0.002705, 0, 0, 1786310822606 * 10**6, 0,
                    "2290000001189048101"),
    "kucoin_level1": (QUOTE, 67890.0, 1.25, 67890.1, 0.5, 1729843222921 * 10**6, 0, ""),
    "kucoin_match": (TRADE, 1.117e-07, 81.8814, 0, 0, 1619378327739050725, 1,
                     "6085c09769bc506996295e36"),
}  # fmt: skip


def values(got: Read) -> tuple[Any, ...]:
    """What a read means (a trade's f2/f3 are not part of it)."""
    status, f0, f1, f2, f3, exch_ns, side, trade_id = got
    if status == QUOTE:
        return (status, f0, f1, f2, f3, exch_ns)
    return (status, f0, f1, exch_ns, side, trade_id)


@pytest.mark.parametrize("codec", CODEC_NAMES)
def test_the_canonical_frame_is_read_with_its_values(codec: str) -> None:
    got = accepted(codec, canonical(codec), EXPECT[codec])
    assert values(got) == values(EXPECTED_VALUES[codec])


@pytest.mark.parametrize("codec", CODEC_NAMES)
@pytest.mark.parametrize("space", [" ", "\n", "\t", "\r\n  "])
def test_whitespace_and_any_key_order_are_read(codec: str, space: str) -> None:
    tree = canonical_tree(codec)
    want = values(accepted(codec, canonical(codec), EXPECT[codec]))
    payload = (space + dump(tree, space) + space).encode()
    assert values(accepted(codec, payload, EXPECT[codec])) == want
    reversed_tree = Obj(reversed(tree))
    for _, value in reversed_tree:
        if isinstance(value, Obj):
            value.reverse()
        elif isinstance(value, list) and value and isinstance(value[0], Obj):
            value[0].reverse()
    assert values(accepted(codec, dump(reversed_tree).encode(), EXPECT[codec])) == want


# ---- real captured frames and the generators ---------------------------------------------------


def real_frames() -> list[tuple[str, bytes]]:
    """(exchange, payload) of every real Binance, Bybit and KuCoin frame in the samples."""
    return [(f.exchange, f.payload) for f in samples.all_frames() if f.exchange in MODULES]


def test_real_frames_read_exactly_as_python_does() -> None:
    reads = dict.fromkeys(CODEC_NAMES, 0)
    routed = dict.fromkeys(CODEC_NAMES, 0)
    for exchange, payload in real_frames():
        found = route_of(exchange, payload)
        if found is None:
            continue
        codec, _symbol, expect = found
        routed[codec] += 1
        if checked(codec, payload, expect) is not None:
            reads[codec] += 1
        for other in CODEC_NAMES:  # a codec on another route's frame: refused or still exact
            if other != codec and EXCHANGE_OF[other] == exchange:
                assert fastdecode.read_one(fastdecode.CODECS[other], payload, expect) is None
    # Every real frame of a codec's canonical shape is read. Not read: Binance aggTrade (no
    # codec), the 2023 Bybit orderbook.1 delta (state-dependent), the Bybit publicTrade frames
    # with several trades (two 2-trade frames of 2026, the 4-trade frame of 2023).
    assert reads == {
        "binance_book": 84,
        "binance_trade": 0,
        "bybit_book": 1,
        "bybit_trade": 17,
        "kucoin_level1": 0,
        "kucoin_match": 18,
    }, (reads, routed)
    assert routed["bybit_book"] == 2 and routed["bybit_trade"] == 20, routed


def test_synthetic_frames_are_read_with_their_values() -> None:
    tick = synthetic.Tick("BTC-USDT", "64996.8", "1.234567", "65003.2", "0.5", 1753142400123, 7)
    trade_args = ("BTC-USDT", "65001.5", "0.000123", True, 1753142400456, 987654321)
    for exchange, book, trade in [
        ("binance", "binance_book", "binance_trade"),
        ("bybit", "bybit_book", "bybit_trade"),
        ("kucoin", "kucoin_level1", "kucoin_match"),
    ]:
        stream, _, payload = synthetic.quote_message(exchange, tick)
        assert route_of(exchange, payload) == (book, "BTC-USDT", stream.encode())
        got = accepted(book, payload, stream.encode())
        assert got[1:5] == (64996.8, 1.234567, 65003.2, 0.5)
        for buy in (True, False):
            args = (*trade_args[:3], buy, *trade_args[4:])
            stream, _, payload = synthetic.trade_message(exchange, *args)
            assert route_of(exchange, payload) == (trade, "BTC-USDT", stream.encode())
            got = accepted(trade, payload, stream.encode())
            assert got[1:3] == (65001.5, 0.000123) and got[6] == (0 if buy else 1)


def test_benchmark_frames_are_read_with_their_values() -> None:
    bench = _load("_bench_replay_for_json_codecs", REPO / "bench" / "replay.py")
    rng = random.Random(5)
    for exchange in MODULES:
        for trade in (False, True):
            for n, (symbol, mid) in enumerate(bench.BASE_PRICE.items()):
                for k in range(20):
                    ms = 1753142400000 + k
                    payload = bench.payload(exchange, trade, symbol, 40 * n + k, ms, mid, rng)
                    found = route_of(exchange, payload)
                    assert found is not None
                    accepted(found[0], payload, found[2])


# ---- hand-written refusals ---------------------------------------------------------------------


def _swap(codec: str, old: str, new: str) -> bytes:
    text = canonical(codec).decode()
    assert old in text, (codec, old)
    return text.replace(old, new, 1).encode()


SWAPS: list[tuple[str, str, str, str]] = [
    # (case, codec, text of its canonical frame, replaced by): each must be refused
    ("escape in a skipped string", "binance_book", '"BTCUSDT"', '"BTC\\u0055SDT"'),
    ("escape spelling a key", "binance_book", '"b":', '"\\u0062":'),
    ("escaped quote in a trade id", "kucoin_match", '"6085c09769bc', '"\\"6085c09769bc'),
    ("non-ASCII byte in a string", "bybit_trade", '"BTCUSDT"', '"BTC\u00e9"'),
    ("control byte in a string", "bybit_book", '"BTCUSDT"', '"BTC\tX"'),
    ("duplicate price key", "binance_book", '"b":"25.35190000"', '"b":"25.35190000","b":"1"'),
    ("duplicate stream key", "binance_book", '"data"', f'"stream":"{BOOK_STREAM}","data"'),
    ("duplicate data key", "kucoin_level1", '"subject":"level1",', '"data":{},'),
    ("trade with order ids", "binance_trade", '"T":', '"b":88,"a":50,"T":'),
    ("bookTicker with an event time", "binance_book", '"u":', '"E":1,"u":'),
    ("price as a JSON number", "binance_book", '"25.35190000"', "25.3519"),
    ("price with an exponent", "bybit_trade", '"65140.5"', '"6.51405e4"'),
    ("null symbol", "binance_book", '"s":"BTCUSDT"', '"s":null'),
    ("trade id with 19 digits", "binance_trade", '"t":12345', '"t":1234567890123456789'),
    ("event time as a string", "binance_trade", '"E":1672515782136', '"E":"1672515782136"'),
    ("event time too large", "binance_trade", '"E":1672515782136', f'"E":{MAX_MS + 1}'),
    ("delta", "bybit_book", '"snapshot"', '"delta"'),
    ("two levels", "bybit_book", '["28165.07","0.175231"]',
     '["28165.07","0.175231"],["28165","1"]'),
    ("empty side", "bybit_book", '[["28165.08","0.996816"]]', "[]"),
    ("level of three", "bybit_book", '"0.996816"]', '"0.996816","1"]'),
    ("two trades", "bybit_trade", "}]}", '},{"i":"2","p":"1","v":"1","S":"Buy"}]}'),
    ("no trades", "bybit_trade", '[{"i"', '[],"x":[{"i"'),
    ("unknown taker side", "bybit_trade", '"Buy"', '"buy"'),
    ("no timestamp", "bybit_trade", '"ts":1786310822606,', ""),
    ("time with a leading zero", "kucoin_match", '"1619378327739050725"',
     '"01619378327739050725"'),
    ("time not below 2**62", "kucoin_match", '"1619378327739050725"', f'"{2**62}"'),
    ("time as a JSON number", "kucoin_match", '"1619378327739050725"', "1619378327739050725"),
    ("level1 with a ticker field", "kucoin_level1", '"timestamp"', '"bestBid":"1","timestamp"'),
    ("level1 side of three", "kucoin_level1", '"0.5"]', '"0.5","1"]'),
    ("level1 empty side", "kucoin_level1", '["67890.1","0.5"]', "[]"),
    ("match with a level1 field", "kucoin_match", '"symbol"', '"timestamp":1,"symbol"'),
    ("null subject", "kucoin_match", '"trade.l3match"', "null"),
    ("nesting 40 deep", "bybit_trade", '"BT":false', '"BT":' + "[" * 40 + "]" * 40),
    # known keys again after the part of the frame a canonical reader matches
    ("maker flag again at the end", "binance_trade", '"M":true', '"M":true,"m":false'),
    ("book side again at the end", "bybit_book", '"seq":4281281856',
     '"seq":4281281856,"b":[["1","2"]]'),
    ("trade price again at the end", "bybit_trade", '"RPI":false', '"RPI":false,"p":"1"'),
    ("topic again at the end", "bybit_book", '"cts":1680652806502',
     f'"cts":1680652806502,"topic":"{BYBIT_BOOK}"'),
    ("type again at the end", "bybit_trade", "}]}", '}],"type":"snapshot"}'),
    ("bad number in a skipped field", "binance_book", "400900217", "0400900217"),
]  # fmt: skip
AGG_TRADE = (
    b'{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1633998523963,"s":"BTCUSDT",'
    b'"a":15683430,"p":"0.35280000","q":"58.00000000","f":19862790,"l":19862790,'
    b'"T":1633998523963,"m":false,"M":true}}'
)
RAW_BOOK_TICKER = (
    b'{"u":400900217,"s":"BTCUSDT","b":"25.3519","B":"31.21","a":"25.3652","A":"40.66"}'
)
SWAPPED = {case for case, *_ in SWAPS}
BAD_SYNTAX = {"control byte in a string", "bad number in a skipped field"}
REFUSED: dict[str, tuple[str, bytes, bytes]] = {
    case: (codec, _swap(codec, old, new), EXPECT[codec]) for case, codec, old, new in SWAPS
}
REFUSED.update({
    "wrong expect": ("binance_book", canonical("binance_book"), b"ethusdt@bookTicker"),
    "expect a prefix": ("bybit_book", canonical("bybit_book"), b"orderbook.1.BTCUSD"),
    "trailing garbage": ("binance_book", canonical("binance_book") + b"x", EXPECT["binance_book"]),
    "a second root": ("kucoin_match", canonical("kucoin_match") + b" {}", EXPECT["kucoin_match"]),
    "truncated": ("bybit_trade", canonical("bybit_trade")[:-1], EXPECT["bybit_trade"]),
    "root is an array": ("binance_book", b"[" + canonical("binance_book") + b"]",
                         EXPECT["binance_book"]),
    "raw /ws frame": ("binance_book", RAW_BOOK_TICKER, EXPECT["binance_book"]),
    "aggTrade": ("binance_trade", AGG_TRADE, b"btcusdt@aggTrade"),
    "empty payload": ("binance_book", b"", EXPECT["binance_book"]),
})  # fmt: skip


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused(case: str) -> None:
    codec, payload, expect = REFUSED[case]
    if case in SWAPPED and case not in BAD_SYNTAX:  # refused for what it says, not its syntax
        json.loads(payload)
    assert fastdecode.read_one(fastdecode.CODECS[codec], payload, expect) is None


def test_nesting_within_the_limit_is_read() -> None:
    payload = _swap("bybit_trade", '"BT":false', '"BT":' + "[" * 20 + "]" * 20)
    accepted("bybit_trade", payload, EXPECT["bybit_trade"])


KEY_SPOTS = {
    # (codec, a key of its canonical frame): one-letter keys are read without a loop, longer
    # ones by the string scan; an unknown key and a known one of each
    "binance_book": ['"u":', '"b":', '"stream":'],
    "binance_trade": ['"M":', '"m":', '"data":'],
    "bybit_book": ['"s":', '"a":', '"seq":', '"ts":'],
    "bybit_trade": ['"T":', '"S":', '"RPI":', '"topic":'],
    "kucoin_level1": ['"subject":', '"bids":'],
    "kucoin_match": ['"symbol":', '"tradeId":'],
}


@pytest.mark.parametrize("codec", CODEC_NAMES)
def test_a_key_byte_of_any_value_is_read_exactly_or_refused(codec: str) -> None:
    """Every byte in place of a key's first letter: only bytes a plain string may hold leave a
    key the codec can skip or read (and Python must agree); control bytes, quotes, backslashes
    and non-ASCII bytes refuse the frame."""
    text = canonical(codec)
    for spot in KEY_SPOTS[codec]:
        at = text.index(spot.encode()) + 1
        for byte in range(256):
            payload = text[:at] + bytes([byte]) + text[at + 1 :]
            got = checked(codec, payload, EXPECT[codec])
            if not 0x20 <= byte <= 0x7E or byte in b'"\\':
                assert got is None, (codec, payload)


OFF_LAYOUT: list[tuple[str, str, str]] = [
    # (codec, text of its canonical frame, replaced by): frames Python reads that leave the
    # exchange's own layout part of the way in, so the canonical reader gives up on them late
    ("binance_book", '"40.66000000"}}', '"40.66000000","x":[1,{"y":null}]}}'),
    ("binance_book", '"u":400900217,"s":"BTCUSDT",', '"s":"BTCUSDT","u":400900217,'),
    ("binance_trade", '"M":true', '"M":true,"X":-1.5e3'),
    ("binance_trade", '"T":1672515782136,', ""),
    ("bybit_book", '"s":"BTCUSDT",', ""),
    ("bybit_book", '"0.996816"]]', '"0.996816"]],"b2":[]'),
    ("bybit_trade", '"T":1786310822605,', ""),
    ("bybit_trade", '"S":"Buy"', '"S" : "Buy"'),
    ("bybit_trade", "}]}", '}],"cts":1}'),
]  # fmt: skip


@pytest.mark.parametrize(("codec", "old", "new"), OFF_LAYOUT)
def test_frames_off_the_exchange_layout_are_read(codec: str, old: str, new: str) -> None:
    payload = _swap(codec, old, new)
    assert values(accepted(codec, payload, EXPECT[codec])) == values(EXPECTED_VALUES[codec])


DECIMAL_EDGES = [
    # digit counts around the 15 a decimal is read in one multiply-add per digit, the limits of
    # parse_decimal (16 significant digits, 2**53, 22 fraction digits, 64 bytes), and a
    # mantissa that would wrap around 2**64 to a small number if its digits were not counted
    "123456789012345", "1234567890123456", "12345678901234567", "12345678901234.5",
    "123456789012345.6", "1234567890123456.7", "0.000000000000001", "0.0000000000000012345",
    "0.0000000000000000000001", "0.00000000000000000000001", "1.000000000000000000000000",
    "100000000000000000000", "18446744073709551623", "18446744073709551616.1",
    "1.8446744073709551623", "9007199254740992", "9007199254740993", "900719925474099.3",
    "90071992547409.92", "0.9007199254740993", "9007199254740992.000000000000000000",
    "1" * 64, "1." + "0" * 62, "1." + "0" * 63, "0." + "0" * 21 + "1", "0." + "0" * 22 + "1",
    "00", "01.5", "0.", ".0", "1.2.3", "1..2", "0.0", "0", "10.50",
]  # fmt: skip


@pytest.mark.parametrize("codec", CODEC_NAMES)
def test_decimals_at_the_limits_are_read_exactly_or_refused(codec: str) -> None:
    for path in PRICE_FIELDS[codec]:
        for text in DECIMAL_EDGES:
            tree = canonical_tree(codec)
            set_at(tree, path, text)
            got = checked(codec, dump(tree).encode(), EXPECT[codec])
            strict = fastdecode.parse_decimal_text(text.encode())
            assert (got is None) == (strict is None), (codec, path, text, got)
            if strict is not None:
                assert strict == float(text)


# ---- hypothesis: random prices, integers, mutated frames ----------------------------------------

PRICE_FIELDS: dict[str, list[tuple[Any, ...]]] = {
    # paths to the string leaves holding prices and sizes: (member key, member key | index, ...)
    "binance_book": [("data", "b"), ("data", "B"), ("data", "a"), ("data", "A")],
    "binance_trade": [("data", "p"), ("data", "q")],
    "bybit_book": [("data", "b", 0, 0), ("data", "b", 0, 1), ("data", "a", 0, 0),
                   ("data", "a", 0, 1)],
    "bybit_trade": [("data", 0, "p"), ("data", 0, "v")],
    "kucoin_level1": [("data", "asks", 0), ("data", "asks", 1), ("data", "bids", 0),
                      ("data", "bids", 1)],
    "kucoin_match": [("data", "price"), ("data", "size")],
}  # fmt: skip


def set_at(tree: Any, path: tuple[Any, ...], value: Any) -> None:
    """Replace the value at ``path`` (keys of objects, indexes of arrays) in place."""
    *head, last = path
    node = tree
    for step in head:
        node = dict(node)[step] if isinstance(node, Obj) else node[step]
    if isinstance(node, Obj):
        node[[k for k, _ in node].index(last)] = (last, value)
    else:
        node[last] = value


decimal_texts = st.one_of(
    st.from_regex(r"\A[0-9]{1,20}(\.[0-9]{1,26})?\Z"),
    st.builds(
        lambda whole, frac, zeros: f"{whole}.{'0' * zeros}{frac}",
        st.integers(0, 10**9), st.integers(0, 10**17), st.integers(0, 12),
    ),
    st.floats(min_value=0, max_value=1e12, allow_nan=False).map(repr),
    st.sampled_from([
        "0", "0.0", "00", "00.1", "01", "1.", ".5", "1e5", "1E-3", "-1", "+1", "1_0", " 1", "1 ",
        "NaN", "inf", "", "0x10", "9007199254740992", "9007199254740993", "9999999999999999",
        "0.1000000000000000055511151231257827", "123456789012345.6", "1234567890123456.7",
        "0.00000000000000000000001", "0.0000000000000000000001", "1.7976931348623157e308",
    ]),
)  # fmt: skip


@pytest.mark.parametrize("codec", CODEC_NAMES)
@EXAMPLES
@given(data=st.data())
def test_random_decimals_are_read_exactly_or_refused(codec: str, data: st.DataObject) -> None:
    tree = canonical_tree(codec)
    path = data.draw(st.sampled_from(PRICE_FIELDS[codec]))
    text = data.draw(decimal_texts)
    set_at(tree, path, text)
    got = checked(codec, dump(tree).encode(), EXPECT[codec])
    strict = fastdecode.parse_decimal_text(text.encode())
    assert (got is None) == (strict is None), (text, got)
    if strict is not None:
        assert strict == float(text)


INT_FIELDS: dict[str, list[tuple[tuple[Any, ...], int, bool]]] = {
    # (path, the largest value read, JSON string?)
    "binance_trade": [(("data", "E"), MAX_MS, False), (("data", "t"), 10**18 - 1, False)],
    "bybit_book": [(("ts",), MAX_MS, False)],
    "bybit_trade": [(("ts",), MAX_MS, False)],
    "kucoin_level1": [(("data", "timestamp"), MAX_MS, False)],
    "kucoin_match": [(("data", "time"), 2**62 - 1, True)],
}
integer_texts = st.one_of(
    st.integers(0, 2**64).map(str),
    st.integers(0, 10**19).map(lambda v: f"0{v}"),
    st.sampled_from([
        "0", "-0", "-1", "1.0", "1e3", "", str(MAX_MS), str(MAX_MS + 1), str(2**62 - 1),
        str(2**62), "999999999999999999", "1000000000000000000", " 1", "true", "null",
    ]),
)  # fmt: skip


@pytest.mark.parametrize("codec", sorted(INT_FIELDS))
@EXAMPLES
@given(data=st.data())
def test_random_integers_are_read_exactly_or_refused(codec: str, data: st.DataObject) -> None:
    tree = canonical_tree(codec)
    path, limit, quoted = data.draw(st.sampled_from(INT_FIELDS[codec]))
    text = data.draw(integer_texts)
    set_at(tree, path, text if quoted else Raw(text))
    got = checked(codec, dump(tree).encode(), EXPECT[codec])
    bare = text if quoted else text.strip(" ")  # JSON whitespace around a bare number is fine
    strict = bare.isdigit() and bare.isascii() and (bare == "0" or bare[0] != "0")
    assert (got is not None) == (strict and int(bare) <= limit), (text, got)


# Mutations: structural ones on the tree (reorder, duplicate, drop, add or retype the members of
# objects and the items of arrays), then byte-level ones on the text (flip, delete, insert or append
# JSON-significant bytes, truncate). Added keys are mostly ones the exchange's Structs know,
# since a known key Python type-checks is where a codec could wrongly skip what Python rejects.

STRUCT_KEYS = {
    "binance": ["stream", "data", "s", "b", "B", "a", "A", "E", "t", "p", "q", "m"],
    "bybit": ["topic", "ts", "type", "data", "b", "a", "i", "p", "v", "S"],
    "kucoin": ["topic", "subject", "data", "asks", "bids", "timestamp", "bestBid", "bestBidSize",
               "bestAsk", "bestAskSize", "Time", "price", "size", "side", "tradeId", "time"],
}  # fmt: skip
OTHER_KEYS = ["e", "u", "T", "M", "cts", "seq", "type", "symbol", "sequence", "x", "", "stream",
              "topic", "subject", "data"]  # fmt: skip
SIGNIFICANT = b'"\\,:{}[]0123456789.eE-+ \t\ntrufalsn\x00\x7f\xc3'

scalars = st.one_of(
    st.none(),
    st.booleans(),
    decimal_texts,
    st.sampled_from(["snapshot", "delta", "Buy", "Sell", "buy", "sell", BOOK_STREAM,
                     TRADE_STREAM, BYBIT_BOOK, BYBIT_TRADES, KUCOIN_LEVEL1, KUCOIN_MATCH]),
    st.text(max_size=6),
    integer_texts.map(Raw),
    st.sampled_from(["1.5", "-2", "1e400", "-0.0e-0"]).map(Raw),
)  # fmt: skip


def _json_values(keys: list[str]) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.lists(st.tuples(st.sampled_from(keys), inner), max_size=3).map(Obj),
        ),
        max_leaves=6,
    )


VALUES = {e: _json_values(STRUCT_KEYS[e] + OTHER_KEYS) for e in STRUCT_KEYS}
"""Any JSON value, its object keys mostly ones the exchange's Structs know."""
KEYS = {e: st.sampled_from(STRUCT_KEYS[e]) | st.sampled_from(OTHER_KEYS) for e in STRUCT_KEYS}


def containers_in(tree: Any) -> list[Any]:
    """Every object and array of a tree, the root first."""
    found: list[Any] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, Obj):
            found.append(node)
            stack.extend(v for _, v in reversed(node))
        elif isinstance(node, list):
            found.append(node)
            stack.extend(reversed(node))
    return found


@st.composite
def mutated(draw: st.DrawFn, codec: str) -> bytes:
    keys, any_value = KEYS[EXCHANGE_OF[codec]], VALUES[EXCHANGE_OF[codec]]
    tree = canonical_tree(codec)
    for _ in range(draw(st.integers(0, 3))):
        node = draw(st.sampled_from(containers_in(tree)))
        action = draw(st.sampled_from(["shuffle", "dup", "drop", "add", "set"]))
        if action == "shuffle":
            node[:] = draw(st.permutations(list(node)))
        elif action == "add":
            at = draw(st.integers(0, len(node)))
            item = draw(any_value)
            node.insert(at, (draw(keys), item) if isinstance(node, Obj) else item)
        elif node:
            j = draw(st.integers(0, len(node) - 1))
            if action == "dup":  # a member or item again, the same or another value
                item = node[j]
                if draw(st.booleans()):
                    other = draw(any_value)
                    item = (item[0], other) if isinstance(node, Obj) else other
                node.insert(draw(st.integers(0, len(node))), item)
            elif action == "drop":
                del node[j]
            else:
                other = draw(any_value)
                node[j] = (node[j][0], other) if isinstance(node, Obj) else other
    text = bytearray(dump(tree, draw(st.sampled_from(["", " ", "\n "]))).encode())
    for _ in range(draw(st.integers(0, 2))):
        action = draw(st.sampled_from(["flip", "delete", "insert", "append", "truncate"]))
        at = draw(st.integers(0, max(len(text) - 1, 0)))
        if action == "flip" and text:
            text[at] = draw(st.sampled_from(SIGNIFICANT) | st.integers(0, 255))
        elif action == "delete":
            del text[at : at + draw(st.integers(1, 4))]
        elif action in ("insert", "append"):
            if action == "append":
                at = len(text)
            text[at:at] = draw(st.binary(max_size=3) | st.lists(
                st.sampled_from(SIGNIFICANT), min_size=1, max_size=3).map(bytes))  # fmt: skip
        else:
            del text[at:]
    return bytes(text)


@pytest.mark.parametrize("codec", CODEC_NAMES)
@EXAMPLES
@given(data=st.data())
def test_known_keys_with_any_value_are_read_exactly_or_refused(
    codec: str, data: st.DataObject
) -> None:
    """One key the exchange's Structs know, added anywhere or set, with any JSON value: a codec
    skipping such a key would read frames Python rejects (msgspec type-checks it)."""
    keys = STRUCT_KEYS[EXCHANGE_OF[codec]]
    tree = canonical_tree(codec)
    obj = data.draw(st.sampled_from([c for c in containers_in(tree) if isinstance(c, Obj)]))
    key = data.draw(st.sampled_from(keys))
    value = data.draw(VALUES[EXCHANGE_OF[codec]])
    present = [j for j, (k, _) in enumerate(obj) if k == key]
    if present and data.draw(st.booleans()):
        obj[present[0]] = (key, value)
    else:
        obj.insert(data.draw(st.integers(0, len(obj))), (key, value))
    checked(codec, dump(tree).encode(), EXPECT[codec])


@pytest.mark.parametrize("codec", CODEC_NAMES)
@EXAMPLES
@given(data=st.data())
def test_mutated_frames_are_read_exactly_or_refused(codec: str, data: st.DataObject) -> None:
    payload = data.draw(mutated(codec))
    checked(codec, payload, EXPECT[codec])


def _read_frames() -> dict[str, list[tuple[bytes, bytes]]]:
    """Per codec, ``(payload, expect)`` of every real and generated frame it reads."""
    frames: dict[str, list[tuple[bytes, bytes]]] = {c: [(canonical(c), EXPECT[c])] for c in EXPECT}
    for exchange, payload in real_frames():
        found = route_of(exchange, payload)
        if found is not None:
            codec, _, expect = found
            if fastdecode.read_one(fastdecode.CODECS[codec], payload, expect) is not None:
                frames[codec].append((payload, expect))
    tick = synthetic.Tick("BTC-USDT", "64996.8", "1.234567", "65003.2", "0.5", 1753142400123, 7)
    for exchange in MODULES:
        for stream, _, payload in (
            synthetic.quote_message(exchange, tick),
            synthetic.trade_message(exchange, "BTC-USDT", "1.5", "2", False, 1753142400456, 98),
        ):
            found = route_of(exchange, payload)
            assert found is not None and found[2] == stream.encode()
            frames[found[0]].append((payload, found[2]))
    return frames


READ_FRAMES = _read_frames()


@pytest.mark.parametrize("codec", CODEC_NAMES)
@EXAMPLES
@given(data=st.data())
def test_mutated_real_frames_are_read_exactly_or_refused(codec: str, data: st.DataObject) -> None:
    """Byte mutations of every real and generated frame a codec reads (exact wire bytes)."""
    payload, expect = data.draw(st.sampled_from(READ_FRAMES[codec]))
    text = bytearray(payload)
    for _ in range(data.draw(st.integers(1, 3))):
        if not text:
            break
        at = data.draw(st.integers(0, len(text) - 1))
        action = data.draw(st.sampled_from(["flip", "delete", "insert"]))
        if action == "flip":
            text[at] = data.draw(st.sampled_from(SIGNIFICANT))
        elif action == "delete":
            del text[at]
        else:
            text.insert(at, data.draw(st.sampled_from(SIGNIFICANT)))
    checked(codec, bytes(text), expect)
