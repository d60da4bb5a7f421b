"""Each decoder's fast path gives exactly the events of its own slow path, for any input.

Every exchange module keeps the complete definition of its result in ``_decode_slow`` (the
decoder as it was before the speed-up; MEXC: protobuf's parser) and takes a fast path only for
the frames it sends most. ``new_decoder(fast=False)`` is a decoder that always takes the slow
path, with the same per-connection state and ``reset`` (Bybit's level-1 sides), so the two can
be fed the same rows. Events are compared by ``repr`` (exact floats, ``nan`` equal to itself),
so every field counts, the text of a ``DecodeError`` included. Inputs: every real frame,
hypothesis-built frames of each exchange's shapes with plausible and wild field values (missing
keys, extra keys, shuffled order, numbers as strings and strings as numbers, bad symbols,
non-UTF-8 and multi-byte protobuf lengths), every single mutation of the hot frames, and random
byte-level mutations. Bybit keeps state per connection, so its frames are also compared as whole
sequences over several connections.

What the slow paths themselves must give is pinned by the literal-value tests on real frames
(``test_<exchange>_decode.py``), the MEXC walker and the Bybit level-1 model.
"""

from __future__ import annotations

import json
import random
import types
from collections.abc import Callable, Sequence
from typing import Any

import exchange_samples as samples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typical_frames import dumps, field, typical_frames

from ticktape.exchanges import binance, bybit, kucoin, mexc, registry
from ticktape.exchanges._support import RowDecoder

MODULES: dict[str, types.ModuleType] = {
    "binance": binance,
    "bybit": bybit,
    "kucoin": kucoin,
    "mexc": mexc,
}
EXCHANGES = registry.EXCHANGES
SLOW_TWIN: dict[str, RowDecoder] = {
    name: MODULES[name].new_decoder(fast=False) for name in EXCHANGES
}
"""The slow-path twin of each module-level ``decode``, fed the same rows by :func:`assert_same`
(Bybit's module-level decoder keeps state, so its twin must live as long)."""

REST_STREAMS = {
    "binance": "GET /api/v3/ticker/bookTicker?symbol=BTCUSDT",
    "bybit": "GET /v5/market/orderbook?category=spot&symbol=BTCUSDT&limit=1",
    "kucoin": "GET /api/v1/market/orderbook/level1?symbol=BTC-USDT",
    "mexc": "GET /api/v3/ticker/bookTicker?symbol=BTCUSDT",
}
SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


def labels(exchange: str, payload: bytes) -> list[str]:
    """The stream labels a row can carry: its subscription, a REST request, a connection label."""
    route = registry.get(exchange).route(payload)
    return [route or "", REST_STREAMS[exchange], "a,b"]


def assert_same_sequence(exchange: str, rows: Sequence[tuple[bytes, int, str]]) -> None:
    """Feed ``(payload, conn_id, stream)`` rows (``b"RESET"``: reset that connection) through a
    fresh decoder and a fresh slow-path-only decoder; every row's events must be equal."""
    fast = registry.new_decoder(exchange)
    slow = MODULES[exchange].new_decoder(fast=False)
    for seq, (payload, conn_id, stream) in enumerate(rows):
        if payload == b"RESET":
            fast.reset(conn_id)  # type: ignore[attr-defined]
            slow.reset(conn_id)
            continue
        recv_ns = 1_753_142_400_000_000_000 + seq
        got = fast(payload, recv_ns, conn_id, seq, stream)
        want = slow(payload, recv_ns, conn_id, seq, stream)
        assert repr(got) == repr(want), (exchange, payload, stream)


def assert_same(exchange: str, payload: bytes) -> None:
    """One payload under each label, each through fresh decoders (and the module's ``decode``)."""
    for stream in labels(exchange, payload):
        assert_same_sequence(exchange, [(payload, 7, stream)])
        got = registry.get(exchange).decode(payload, 5, 6, 7, stream)
        assert repr(got) == repr(SLOW_TWIN[exchange](payload, 5, 6, 7, stream))


# ---- real frames ------------------------------------------------------------------------------


def test_every_real_frame_decodes_exactly_like_the_slow_path() -> None:
    frames = samples.all_frames()
    for frame in frames:
        assert_same(frame.exchange, frame.payload)
    for exchange in EXCHANGES:  # and as one recording, so Bybit's book state carries over
        rows = [(f.payload, 1, f.stream) for f in frames if f.exchange == exchange]
        assert_same_sequence(exchange, rows)


# ---- values -----------------------------------------------------------------------------------

DECIMAL = st.from_regex(
    r"-?(0|[1-9][0-9]{0,19})(\.[0-9]{1,20})?([eE][-+]?[0-9]{1,3})?", fullmatch=True
)
ODD_NUMBER_TEXT = st.sampled_from(
    ["", " 1", "1 ", "nan", "NaN", "inf", "-inf", "1e400", "-0", "0", "0.0", "00.5", ".5", "1.",
     "+1", "1_0", "0x10", "\uff11", "1e-400", "123456789012345678901234567890", "9007199254740993",
     "18446744073709551616", "1.5\u00a0", "abc"]
)  # fmt: skip
NUMBER_TEXT = st.one_of(DECIMAL, DECIMAL, DECIMAL, DECIMAL, DECIMAL, DECIMAL, ODD_NUMBER_TEXT)
WILD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    NUMBER_TEXT,
    st.text(max_size=6),
    st.lists(st.sampled_from(["1", 2, None]), max_size=3),
    st.just({}),
    st.just({"x": 1}),
)
MS = st.integers(0, 2**45)


@st.composite
def shaped(draw: st.DrawFn, fields: dict[str, st.SearchStrategy[Any]]) -> dict[str, Any]:
    """A well-formed object with these keys, then up to three perturbations: a key dropped, a
    value replaced by a wild one, a list grown or shrunk, an extra key, the key order shuffled.
    Near-valid frames are where a fast path and the full definition could part ways."""
    obj: dict[str, Any] = {key: draw(plausible) for key, plausible in fields.items()}
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 1, 1, 2, 2, 3]))):
        action = draw(st.integers(0, 6))
        if action == 4:
            obj[draw(st.sampled_from(["extra", "x", "s", "e", "type"]))] = draw(WILD)
            continue
        if action == 5:
            items = list(obj.items())
            draw(st.randoms(use_true_random=False)).shuffle(items)
            obj = dict(items)
            continue
        if not obj:
            continue
        key = draw(st.sampled_from(sorted(obj)))
        value = obj[key]
        if action == 0:
            del obj[key]
        elif action in (1, 2) or not isinstance(value, list):
            obj[key] = draw(WILD)
        elif value and draw(st.booleans()):
            obj[key] = value[:-1]
        else:
            obj[key] = [*value, value[0] if value else draw(WILD)]
    return obj


def check_json(exchange: str, obj: object) -> None:
    assert_same(exchange, dumps(obj))


# ---- message kinds ----------------------------------------------------------------------------


@st.composite
def kind_data(draw: st.DrawFn, kinds: dict[str, dict[str, Any]], kind: str) -> dict[str, Any]:
    """The fields of one message kind (sometimes with a field of another kind), perturbed."""
    fields = dict(kinds[kind])
    if draw(st.integers(0, 4)) == 0:
        other = kinds[draw(st.sampled_from(sorted(kinds)))]
        key = draw(st.sampled_from(sorted(other)))
        fields[key] = other[key]
    return draw(shaped(fields))


# ---- Binance ----------------------------------------------------------------------------------

SYMBOL_PAIRS = [("btcusdt", "BTCUSDT"), ("ethusdt", "ETHUSDT"), ("b!d", "B!D")]
BINANCE_KINDS: dict[str, dict[str, Any]] = {
    "bookTicker": {"u": st.integers(0, 2**40), "b": NUMBER_TEXT, "B": NUMBER_TEXT,
                   "a": NUMBER_TEXT, "A": NUMBER_TEXT},
    "trade": {"e": st.just("trade"), "E": MS, "t": st.integers(0, 2**63), "p": NUMBER_TEXT,
              "q": NUMBER_TEXT, "T": MS, "m": st.booleans(), "M": st.booleans()},
    "aggTrade": {"e": st.just("aggTrade"), "E": MS, "a": st.integers(0, 2**63),
                 "p": NUMBER_TEXT, "q": NUMBER_TEXT, "f": MS, "l": MS, "T": MS, "m": st.booleans()},
    "depth5": {"lastUpdateId": MS, "bids": st.just([["1", "2"]]), "asks": st.just([])},
}  # fmt: skip
BINANCE_REST = {
    "symbol": st.sampled_from(["BTCUSDT", "ETHUSDT", "NOPE"]),
    "bidPrice": NUMBER_TEXT,
    "bidQty": NUMBER_TEXT,
    "askPrice": NUMBER_TEXT,
    "askQty": NUMBER_TEXT,
}


@st.composite
def binance_objects(draw: st.DrawFn) -> object:
    shape = draw(st.integers(0, 9))
    kind = draw(st.sampled_from(sorted(BINANCE_KINDS)))
    lower, upper = draw(st.sampled_from(SYMBOL_PAIRS))
    data = draw(kind_data(BINANCE_KINDS, kind))
    if shape <= 5:  # combined stream
        data = {"s": upper, **data} if draw(st.booleans()) else data
        streams = st.sampled_from([f"{lower}@{kind}", f"{upper}@{kind}", lower, "@trade"])
        name = draw(st.one_of(st.just(f"{lower}@{kind}"), st.just(f"{lower}@{kind}"), streams))
        return draw(shaped({"stream": st.just(name), "data": st.just(data)}))
    if shape == 6:  # raw /ws frame
        return {"s": upper, **data}
    if shape == 7:
        return draw(shaped(BINANCE_REST))
    if shape == 8:
        return draw(st.lists(shaped(BINANCE_REST), max_size=3))
    return draw(shaped({"code": st.integers(-2000, 0), "msg": st.text(max_size=8)}))


@SETTINGS
@given(obj=binance_objects())
def test_binance_frames_of_every_shape_decode_like_the_slow_path(obj: object) -> None:
    check_json("binance", obj)


# ---- Bybit ------------------------------------------------------------------------------------

LEVEL_OK = st.tuples(NUMBER_TEXT, st.sampled_from(["0", "1.5", "0.000", "2"])).map(list)
LEVEL = st.one_of(LEVEL_OK, LEVEL_OK, LEVEL_OK, LEVEL_OK, st.lists(WILD, max_size=3))
LEVELS = st.lists(LEVEL, max_size=3)
BYBIT_TOPICS = ["orderbook.1.", "publicTrade.", "tickers.", "orderbook.50.", "kline.1."]
BYBIT_BOOK = {
    "s": st.just("BTCUSDT"),
    "b": LEVELS,
    "a": LEVELS,
    "u": st.integers(0, 2**40),
    "seq": st.integers(0, 2**40),
}
BYBIT_TRADE = {
    "i": st.one_of(st.integers(0, 2**63).map(str), st.integers(0, 2**63)),
    "T": MS,
    "p": NUMBER_TEXT,
    "v": NUMBER_TEXT,
    "S": st.sampled_from(["Buy", "Sell", "Buy", "Sell", "buy", "None"]),
    "s": st.just("BTCUSDT"),
    "BT": st.booleans(),
}


@st.composite
def bybit_objects(draw: st.DrawFn) -> object:
    shape = draw(st.integers(0, 9))
    if shape <= 6:
        channel = draw(st.sampled_from(BYBIT_TOPICS))
        symbol = draw(st.sampled_from(["BTCUSDT", "BTCUSDT", "ETHUSDT", "B!D", ""]))
        if channel == "publicTrade." or draw(st.integers(0, 9)) == 0:
            data: object = draw(st.lists(shaped(BYBIT_TRADE), max_size=3))
        else:
            data = draw(shaped(BYBIT_BOOK))
        frame = {
            "topic": st.just(channel + symbol),
            "ts": MS,
            "type": st.sampled_from(["snapshot", "snapshot", "delta", "delta", "other"]),
            "data": st.just(data),
            "cts": MS,
        }
        return draw(shaped(frame))
    if shape == 7:  # REST body
        result = draw(shaped({**BYBIT_BOOK, "ts": MS}))
        body = {"retCode": st.sampled_from([0, 0, 10001]), "retMsg": st.just("OK"),
                "result": st.just(result), "time": MS}  # fmt: skip
        return draw(shaped(body))
    ack = {"success": st.booleans(), "ret_msg": st.just(""), "op": st.sampled_from(["pong"])}
    return draw(shaped(ack))


@SETTINGS
@given(obj=bybit_objects())
def test_bybit_frames_of_every_shape_decode_like_the_slow_path(obj: object) -> None:
    check_json("bybit", obj)


@SETTINGS
@given(
    rows=st.lists(
        st.tuples(
            st.one_of(bybit_objects().map(dumps), st.just(b"RESET")), st.sampled_from([1, 2])
        ),
        max_size=15,
    )
)
def test_bybit_book_state_evolves_like_the_slow_path(rows: list[tuple[bytes, int]]) -> None:
    assert_same_sequence("bybit", [(payload, conn_id, "") for payload, conn_id in rows])


@st.composite
def bybit_level1_frames(draw: st.DrawFn) -> bytes:
    """Well-formed level-1 snapshots and deltas of two symbols, each side absent, empty, or with
    zero and non-zero sizes: the frames whose result depends on what the connection saw before.
    (Among :func:`bybit_objects` they are too rare to meet often in one sequence.)"""
    book = {
        "s": "BTCUSDT",
        "b": draw(st.lists(LEVEL_OK, max_size=2)),
        "a": draw(st.lists(LEVEL_OK, max_size=2)),
        "u": draw(st.integers(0, 2**40)),
    }
    frame = {
        "topic": "orderbook.1." + draw(st.sampled_from(["BTCUSDT", "ETHUSDT"])),
        "ts": draw(MS),
        "type": draw(st.sampled_from(["snapshot", "delta", "delta"])),
        "data": book,
    }
    return dumps(frame)


@SETTINGS
@given(
    rows=st.lists(
        st.tuples(
            st.one_of(bybit_level1_frames(), bybit_level1_frames(), st.just(b"RESET")),
            st.sampled_from([1, 2]),
        ),
        max_size=15,
    )
)
def test_bybit_level1_sequences_evolve_like_the_slow_path(rows: list[tuple[bytes, int]]) -> None:
    assert_same_sequence("bybit", [(payload, conn_id, "") for payload, conn_id in rows])


# ---- KuCoin -----------------------------------------------------------------------------------

KUCOIN_CHANNELS = {
    "level1": "/spotMarket/level1:",
    "match": "/market/match:",
    "ticker": "/market/ticker:",
    "level2": "/market/level2:",
}
KUCOIN_KINDS: dict[str, dict[str, Any]] = {
    "level1": {"asks": st.lists(NUMBER_TEXT, min_size=2, max_size=2),
               "bids": st.lists(NUMBER_TEXT, min_size=2, max_size=2), "timestamp": MS},
    "match": {"makerOrderId": st.just("6720da3e"), "price": NUMBER_TEXT, "size": NUMBER_TEXT,
              "side": st.sampled_from(["buy", "sell", "buy", "sell", "Buy"]),
              "sequence": st.integers(0, 2**63).map(str), "symbol": st.just("BTC-USDT"),
              "time": st.one_of(st.integers(0, 2**63).map(str), MS),
              "tradeId": st.integers(0, 2**63).map(str), "type": st.just("match")},
    "ticker": {"bestBid": NUMBER_TEXT, "bestBidSize": NUMBER_TEXT, "bestAsk": NUMBER_TEXT,
               "bestAskSize": NUMBER_TEXT, "price": NUMBER_TEXT, "size": NUMBER_TEXT,
               "sequence": st.integers(0, 2**63).map(str), "time": MS, "Time": MS},
    "level2": {"changes": st.just({"asks": [], "bids": []}), "sequenceStart": MS},
}  # fmt: skip


@st.composite
def kucoin_objects(draw: st.DrawFn) -> object:
    shape = draw(st.integers(0, 9))
    kind = draw(st.sampled_from(sorted(KUCOIN_KINDS)))
    data = draw(kind_data(KUCOIN_KINDS, kind))
    if shape <= 6:
        symbol = draw(st.sampled_from(["BTC-USDT", "BTC-USDT", "all", "B!D", "", "BTC-USDT,X-Y"]))
        frame = {
            "topic": st.just(KUCOIN_CHANNELS[kind] + symbol),
            "type": st.just("message"),
            "subject": st.sampled_from(["level1", "trade.l3match", "trade.ticker", "ETH-USDT"]),
            "data": st.just(data),
        }
        return draw(shaped(frame))
    if shape <= 8:
        body = {"code": st.sampled_from(["200000", "200000", "400100"]), "data": st.just(data)}
        return draw(shaped(body))
    return draw(shaped({"id": st.just("1"), "type": st.sampled_from(["welcome", "ack", "pong"])}))


@SETTINGS
@given(obj=kucoin_objects())
def test_kucoin_frames_of_every_shape_decode_like_the_slow_path(obj: object) -> None:
    check_json("kucoin", obj)


# ---- MEXC -------------------------------------------------------------------------------------


PB_DECIMAL = NUMBER_TEXT.map(lambda t: t.encode())
PB_ODD_TEXT = st.sampled_from(
    [b"", b"\xff", b"8\xc3", "\uff18\uff14".encode(), b"1" * 200, b"\x1c1"]
)
PB_TEXT = st.one_of(PB_DECIMAL, PB_DECIMAL, PB_DECIMAL, PB_DECIMAL, PB_DECIMAL, PB_ODD_TEXT)
PB_INT = st.one_of(MS, st.integers(-(2**63), 2**63 - 1), st.sampled_from([0, 1, 2, 3]))
RECENT_MS = st.integers(1_500_000_000_000, 1_900_000_000_000)  # a 6-byte varint, as MEXC sends
SEND_TIME = st.one_of(RECENT_MS, RECENT_MS, RECENT_MS, PB_INT)
TRADE_TYPE = st.one_of(st.sampled_from([1, 2, 1, 2]), PB_INT)
CHANNELS = st.sampled_from(
    ["spot@public.aggre.bookTicker.v3.api.pb@100ms@BTCUSDT",
     "spot@public.aggre.deals.v3.api.pb@100ms@ETHUSDT",
     "spot@public.bookTicker.v3.api.pb@BTCUSDT", "spot@public.kline.v3.api.pb@BTCUSDT@Min1",
     "spot@public.aggre.bookTicker.v3.api.pb@10ms@HYPEUSDT", "other@x@BTCUSDT",
     "spot@public.aggre.bookTicker.v3.api.pb@100ms@B!D", ""]
)  # fmt: skip


@st.composite
def pb_message(draw: st.DrawFn, fields: list[tuple[int, int, st.SearchStrategy[Any]]]) -> bytes:
    """The fields in number order (as MEXC writes them), then up to three perturbations: a field
    dropped, repeated or moved, a length written in a non-minimal varint, an unknown field."""
    parts = [(number, wire, draw(values), False) for number, wire, values in fields]
    for _ in range(draw(st.sampled_from([0, 0, 0, 0, 1, 1, 1, 2, 3]))):
        if not parts:
            break
        action = draw(st.integers(0, 4))
        at = draw(st.integers(0, len(parts) - 1))
        if action == 0:
            del parts[at]
        elif action == 1:
            parts.insert(draw(st.integers(0, len(parts))), parts[at])
        elif action == 2:
            parts.insert(draw(st.integers(0, len(parts) - 1)), parts.pop(at))
        elif action == 3:
            number, wire, value, _ = parts[at]
            parts[at] = (number, wire, value, True)
        else:
            unknown = draw(st.sampled_from([(7, 0, 5), (9, 2, b"zz"), (302, 2, b"\n\x011")]))
            parts.insert(draw(st.integers(0, len(parts))), (*unknown, False))
    return b"".join(field(number, wire, value, padded) for number, wire, value, padded in parts)


VERSION = st.integers(0, 2**40).map(lambda v: str(v).encode())
BOOK_BODY = [(1, 2, PB_TEXT), (2, 2, PB_TEXT), (3, 2, PB_TEXT), (4, 2, PB_TEXT), (5, 2, VERSION),
             (6, 0, SEND_TIME)]  # fmt: skip
DEAL = [(1, 2, PB_TEXT), (2, 2, PB_TEXT), (3, 0, TRADE_TYPE), (4, 0, SEND_TIME),
        (5, 2, st.sampled_from([b"", b"731901896985399296X0", b"\xfe"]))]  # fmt: skip


@st.composite
def mexc_frames(draw: st.DrawFn) -> bytes:
    shape = draw(st.integers(0, 9))
    if shape == 9:
        rest = shaped(BINANCE_REST)  # MEXC's REST bookTicker has Binance's shape
        reply = shaped({"id": st.just(0), "code": st.just(0), "msg": st.just("PONG")})
        obj = draw(st.one_of(rest, reply, st.lists(rest, max_size=2)))
        return dumps(obj)
    if shape <= 5:
        body_number, body = 315, draw(pb_message(BOOK_BODY))
    elif shape == 6:
        body_number, body = 305, draw(pb_message(BOOK_BODY[:4]))
    elif shape == 7:
        deals = st.lists(pb_message(DEAL), max_size=3)
        items = b"".join(field(1, 2, deal) for deal in draw(deals))
        body_number, body = 314, items + field(2, 2, b"spot@public.aggre.deals.v3.api.pb@100ms")
    else:
        body_number, body = draw(st.sampled_from([313, 303, 308, 311, 302])), b"\n\x011"
    symbol = draw(
        st.sampled_from(["BTCUSDT", "ETHUSDT", "1INCHUSDT", "2INCHUSDT", "BTCUSDT", "", "B!D"])
    ).encode()
    wrapper = [
        (1, 2, CHANNELS.map(str.encode)),
        (3, 2, st.just(symbol)),
        (6, 0, SEND_TIME),
        (body_number, 2, st.just(body)),
    ]
    return draw(pb_message(wrapper))


@SETTINGS
@given(payload=mexc_frames())
def test_mexc_frames_of_every_shape_decode_like_the_slow_path(payload: bytes) -> None:
    assert_same("mexc", payload)


# ---- byte-level mutations ---------------------------------------------------------------------

GENERATORS: dict[str, Callable[[], st.SearchStrategy[bytes]]] = {
    "binance": lambda: binance_objects().map(dumps),
    "bybit": lambda: bybit_objects().map(dumps),
    "kucoin": lambda: kucoin_objects().map(dumps),
    "mexc": mexc_frames,
}


@st.composite
def any_frame(draw: st.DrawFn) -> tuple[str, bytes]:
    if draw(st.booleans()):
        frame = draw(st.sampled_from(samples.all_frames()))
        return frame.exchange, frame.payload
    exchange = draw(st.sampled_from(EXCHANGES))
    return exchange, draw(GENERATORS[exchange]())


@SETTINGS
@given(frame=any_frame(), data=st.data())
def test_mutated_frames_decode_like_the_slow_path(
    frame: tuple[str, bytes], data: st.DataObject
) -> None:
    exchange, original = frame
    payload = bytearray(original)
    if payload:
        for _ in range(data.draw(st.integers(1, 3))):
            position = data.draw(st.integers(0, len(payload) - 1))
            payload[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(payload)))
    assert_same(exchange, bytes(payload))
    assert_same(exchange, bytes(payload[:cut]))


def test_bench_shaped_recording_decodes_like_the_slow_path() -> None:
    """Many well-formed frames like the replay benchmark's, as one recording per exchange."""
    rng = random.Random(5)
    for exchange in EXCHANGES:
        rows = [(payload, 1 + i % 3, "") for i, payload in enumerate(typical_frames(exchange, rng))]
        assert_same_sequence(exchange, rows)


# ---- every single mutation of the hot frames --------------------------------------------------

SUBSTITUTES: list[object] = [
    None, True, False, 0, 1, -1, 2**63, 2**64, 1.5, "", "1", "1.5", "abc", "nan", "1e400", " 1",
    "1_0", "buy", "Sell", "snapshot", "delta", [], ["1", "2"], ["1", "2", "3"], [["1", "2"]], {},
    {"x": 1},
]  # fmt: skip


def single_mutations(obj: Any) -> list[Any]:
    """``obj`` changed in exactly one place, in every way: each value (at any depth) replaced by
    each substitute, each key deleted, each list shrunk or grown (at either end)."""
    found: list[Any] = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            found.append({k: v for k, v in obj.items() if k != key})
            for replacement in [*SUBSTITUTES, *single_mutations(value)]:
                found.append({**obj, key: replacement})
    elif isinstance(obj, list):
        found.append(obj[:-1])
        for extra in [*obj[:1], ["7", "0"], ["7", "3"], "7"]:
            found.append([*obj, extra])
            found.append([extra, *obj])
        for index, value in enumerate(obj):
            for replacement in [*SUBSTITUTES, *single_mutations(value)]:
                found.append([*obj[:index], replacement, *obj[index + 1 :]])
    return found


def test_every_single_mutation_of_a_hot_json_frame_decodes_like_the_slow_path() -> None:
    rng = random.Random(11)
    for exchange in ("binance", "bybit", "kucoin"):
        book, trade = typical_frames(exchange, rng)[:2]
        for frame in (book, trade):
            mutants = single_mutations(json.loads(frame))
            assert len(mutants) > 100
            for mutant in mutants:
                check_json(exchange, mutant)


def test_every_single_byte_mutation_of_a_hot_mexc_frame_decodes_like_the_slow_path() -> None:
    rng = random.Random(12)
    frames = [*typical_frames("mexc", rng)[:2], *samples.mexc_frames().values()]
    for frame in frames:
        for at in range(len(frame)):
            byte = frame[at]
            for value in {0x00, 0x01, 0x7F, 0x80, 0xFF, (byte + 1) & 0xFF, (byte - 1) & 0xFF}:
                assert_same("mexc", frame[:at] + bytes([value]) + frame[at + 1 :])
            assert_same("mexc", frame[:at] + frame[at + 1 :])
            assert_same("mexc", frame[:at] + frame[at : at + 1] + frame[at:])
