"""Property tests: no input makes a decoder or ``route`` raise, and outputs keep their invariants.

Inputs: random bytes, real frames truncated anywhere, real frames with bytes overwritten, each
with several ``stream`` labels (the recorder stores the connection's label, streams joined by
","). Plus: msgspec's string-to-float is exactly ``float(text)``, and the Bybit level-1 state
machine agrees with a tiny model.
"""

from __future__ import annotations

import math

import exchange_samples as samples
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ticktape.exchanges import bybit, registry
from ticktape.exchanges.events import (
    BUY,
    SELL,
    Connected,
    DecodeError,
    Disconnected,
    Gap,
    Quote,
    Trade,
)

FRAMES = samples.all_frames()
EXCHANGES = registry.EXCHANGES
STREAMS = [
    "",
    "btcusdt@bookTicker,btcusdt@trade",
    "orderbook.1.BTCUSDT,publicTrade.BTCUSDT",
    "/spotMarket/level1:BTC-USDT,/market/match:BTC-USDT",
    "btcusdt@bookTicker",
    "nknusdt@aggTrade",
    "orderbook.1.BTCUSDT",
    "publicTrade.BTCUSDT",
    "/spotMarket/level1:BTC-USDT",
    "/market/match:BCHSV-USDT",
    "/market/ticker:SNX-BTC",
    "spot@public.aggre.bookTicker.v3.api.pb@100ms@BTCUSDT",
    "GET /api/v1/market/orderbook/level1?symbol=BTC-USDT",
    "GET /api/v3/ticker/bookTicker?symbol=BTCUSDT",
]
FUZZ = settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)

frames = st.sampled_from(FRAMES)
streams = st.sampled_from(STREAMS)


def check_events(events: object, exchange: str, seq: int) -> None:
    assert isinstance(events, list)
    for event in events:
        assert isinstance(event, Quote | Trade | DecodeError)
        assert not isinstance(event, Connected | Disconnected | Gap)
        assert event.exchange == exchange and event.seq == seq
        if isinstance(event, Trade):
            assert event.side in (BUY, SELL)
            assert isinstance(event.trade_id, str)
        if isinstance(event, Quote | Trade):
            assert event.exch_ns is None or isinstance(event.exch_ns, int)
    if any(isinstance(event, DecodeError) for event in events):
        assert len(events) == 1


def decode_all_ways(exchange: str, payload: bytes, stream: str) -> None:
    module = registry.get(exchange)
    route = module.route(payload)
    assert route is None or isinstance(route, str)
    for label in (stream, route or "", ""):
        check_events(module.decode(payload, 1, 2, 3, label), exchange, 3)
        check_events(registry.new_decoder(exchange)(payload, 1, 2, 3, label), exchange, 3)


@FUZZ
@given(exchange=st.sampled_from(EXCHANGES), payload=st.binary(max_size=400), stream=streams)
def test_random_bytes_never_raise(exchange: str, payload: bytes, stream: str) -> None:
    decode_all_ways(exchange, payload, stream)


@FUZZ
@given(
    exchange=st.sampled_from(EXCHANGES),
    prefix=st.sampled_from([b"{", b'{"stream":"', b'{"topic":"', b"\n", b"\n4", b"[", b'{"u":']),
    payload=st.binary(max_size=200),
    stream=streams,
)
def test_random_bytes_behind_real_prefixes_never_raise(
    exchange: str, prefix: bytes, payload: bytes, stream: str
) -> None:
    decode_all_ways(exchange, prefix + payload, stream)


@FUZZ
@given(frame=frames, data=st.data())
def test_truncated_real_frames_never_raise(frame: samples.Frame, data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(frame.payload)))
    decode_all_ways(frame.exchange, frame.payload[:cut], frame.stream)


@FUZZ
@given(frame=frames, data=st.data())
def test_mutated_real_frames_never_raise(frame: samples.Frame, data: st.DataObject) -> None:
    payload = bytearray(frame.payload)
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(payload) - 1))
        payload[position] = data.draw(st.integers(0, 255))
    decode_all_ways(frame.exchange, bytes(payload), frame.stream)


@FUZZ
@given(frame=frames, data=st.data())
def test_spliced_real_frames_never_raise(frame: samples.Frame, data: st.DataObject) -> None:
    """Delete or duplicate a slice: shifts lengths and varints in protobuf, nesting in JSON."""
    start = data.draw(st.integers(0, len(frame.payload)))
    end = data.draw(st.integers(start, len(frame.payload)))
    piece = frame.payload[start:end]
    for payload in (frame.payload[:start] + frame.payload[end:], frame.payload[:end] + piece):
        decode_all_ways(frame.exchange, payload, frame.stream)


def test_every_real_frame_decodes_the_same_whatever_the_stream_label() -> None:
    for frame in FRAMES:
        module = registry.get(frame.exchange)
        stream = frame.stream or module.route(frame.payload) or ""
        expected = module.decode(frame.payload, 1, 2, 3, stream)
        assert not any(isinstance(e, DecodeError) for e in expected), frame.source
        if frame.stream:  # REST: the symbol may come from the stream
            continue
        for label in STREAMS:
            assert module.decode(frame.payload, 1, 2, 3, label) == expected, (frame.source, label)


def test_route_names_a_stream_for_every_data_frame_of_our_channels() -> None:
    ours = {
        "binance": ("@bookTicker", "@trade", "@aggTrade"),
        "bybit": ("orderbook.1.", "publicTrade."),
        "kucoin": ("/spotMarket/level1:", "/market/match:", "/market/ticker:"),
        "mexc": ("spot@public.aggre.bookTicker.", "spot@public.aggre.deals."),
    }
    for frame in FRAMES:
        module = registry.get(frame.exchange)
        route = module.route(frame.payload)
        events = module.decode(frame.payload, 1, 2, 3, frame.stream or route or "")
        if events and not frame.stream:
            assert route is not None and any(part in route for part in ours[frame.exchange])


# ---- float parsing is exact -------------------------------------------------------------------

# JSON number grammar (what msgspec accepts inside a string with strict=False; exchanges write it)
DECIMAL_TEXT = st.from_regex(
    r"-?(0|[1-9][0-9]{0,19})(\.[0-9]{1,20})?([eE][-+]?[0-9]{1,3})?", fullmatch=True
)


@settings(max_examples=2000, deadline=None, database=None)
@given(text=DECIMAL_TEXT)
def test_msgspec_string_to_float_is_exactly_python_float(text: str) -> None:
    """Prices arrive as decimal strings; the typed decoders must round exactly like ``float``.

    Magnitudes beyond a double (``1E400``) are refused instead of becoming ``inf``.
    """
    expected = float(text)
    if math.isinf(expected):
        with pytest.raises(msgspec.ValidationError, match="out of range"):
            msgspec.json.decode(f'"{text}"'.encode(), type=float, strict=False)
    else:
        assert msgspec.json.decode(f'"{text}"'.encode(), type=float, strict=False) == expected


def test_number_spellings_outside_json_grammar_are_errors_not_guesses() -> None:
    for text in ("00.5", ".5", "1.", "+1", "0x10", "1_000", " 1"):
        payload = (
            b'{"stream":"btcusdt@bookTicker","data":{"u":1,"s":"BTCUSDT","b":"%s","B":"1",'
            b'"a":"2","A":"1"}}' % text.encode()
        )
        [event] = registry.get("binance").decode(payload, 1, 2, 3, "btcusdt@bookTicker")
        assert isinstance(event, DecodeError), text


# ---- Bybit level-1 state machine vs a model ---------------------------------------------------

LEVEL = st.tuples(
    st.sampled_from(["100", "100.5", "101", "99.25"]), st.sampled_from(["0", "1", "2.5"])
)
MESSAGE = st.tuples(
    st.sampled_from(["snapshot", "delta"]),
    st.sampled_from([1, 2]),  # conn_id
    st.lists(LEVEL, max_size=2),
    st.lists(LEVEL, max_size=2),
)


def _frame(kind: str, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> bytes:
    data = {"s": "BTCUSDT", "b": [list(b) for b in bids], "a": [list(a) for a in asks], "u": 1}
    message = {"topic": "orderbook.1.BTCUSDT", "ts": 1, "type": kind, "data": data}
    return msgspec.json.encode(message)


@settings(max_examples=300, deadline=None, database=None)
@given(messages=st.lists(MESSAGE, max_size=12))
def test_bybit_level1_state_matches_a_model(
    messages: list[tuple[str, int, list[tuple[str, str]], list[tuple[str, str]]]],
) -> None:
    decoder = bybit.new_decoder()
    model: dict[int, list[tuple[float, float] | None]] = {}
    for seq, (kind, conn_id, bids, asks) in enumerate(messages):
        sides = model.setdefault(conn_id, [None, None])
        for index, levels in ((0, bids), (1, asks)):
            as_floats = [(float(p), float(s)) for p, s in levels]
            if kind == "snapshot":
                sides[index] = as_floats[0] if as_floats else (0.0, 0.0)
            elif as_floats:
                sides[index] = next((lv for lv in as_floats if lv[1] != 0.0), (0.0, 0.0))
        events = decoder(_frame(kind, bids, asks), 7, conn_id, seq, "orderbook.1.BTCUSDT")
        bid, ask = sides
        if bid is None or ask is None:
            assert events == []
        else:
            assert events == [Quote("bybit", "BTC-USDT", 7, 1_000_000, conn_id, seq, *bid, *ask)]
