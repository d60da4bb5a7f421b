"""``_native/eventpack`` writes exactly msgspec's msgpack bytes for Quote and Trade events.

The event digest hashes compiled rows through it and every other event through msgspec, so a
replay's digest must not depend on which path an event took; this pins the bytes on random
events: ints at every msgpack width boundary, negative ones, None timestamps, NaN/inf/-0.0,
long and non-ASCII names, empty and long trade ids.
"""

from __future__ import annotations

import msgspec
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ticktape import _native
from ticktape.exchanges.events import BUY, SELL, Event, Quote, Trade

EDGES = [0, 1, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**62, 2**63 - 1, -1, -32,
         -33, -128, -129, -32768, -32769, -(2**31), -(2**31) - 1, -(2**63)]  # fmt: skip
ints = st.one_of(st.sampled_from(EDGES), st.integers(min_value=-(2**63), max_value=2**63 - 1))
floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
names = st.one_of(st.sampled_from(["binance", "BTC-USDT"]), st.text(max_size=300))
optional = st.one_of(st.none(), ints)

quotes = st.builds(Quote, names, names, ints, optional, ints, ints, floats, floats, floats,
                   floats, optional)  # fmt: skip
trades = st.builds(Trade, names, names, ints, optional, ints, ints, floats, floats,
                   st.sampled_from([BUY, SELL]), names, optional)  # fmt: skip


def pack(events: list[Event]) -> bytes:
    assert _native.eventpack is not None
    n = len(events)
    exchanges = sorted({e.exchange for e in events})
    symbols = sorted({e.symbol for e in events})  # type: ignore[union-attr]

    def column(name: str, dtype: type, default: object = 0) -> np.ndarray:
        values = [getattr(e, name) for e in events]
        return np.array([default if v is None else v for v in values], dtype=dtype)

    kind = np.array([0 if type(e) is Quote else 1 for e in events], dtype=np.int8)
    f0 = np.array([e.bid if type(e) is Quote else e.price for e in events])  # type: ignore[union-attr]
    f1 = np.array([e.bid_size if type(e) is Quote else e.size for e in events])  # type: ignore[union-attr]
    f2 = np.array([e.ask if type(e) is Quote else 0.0 for e in events])  # type: ignore[union-attr]
    f3 = np.array([e.ask_size if type(e) is Quote else 0.0 for e in events])  # type: ignore[union-attr]
    return _native.eventpack.pack_events(  # type: ignore[no-any-return]
        np.arange(n, dtype=np.int64), kind,
        np.array([exchanges.index(e.exchange) for e in events], dtype=np.int32),
        [x.encode() for x in exchanges],
        np.array([symbols.index(e.symbol) for e in events], dtype=np.int32),  # type: ignore[union-attr]
        [x.encode() for x in symbols],
        column("recv_ns", np.int64), column("exch_ns", np.int64),
        np.array([e.exch_ns is not None for e in events], dtype=np.uint8),  # type: ignore[union-attr]
        column("conn_id", np.int64), column("seq", np.int64), f0, f1, f2, f3,
        np.array([1 if getattr(e, "side", BUY) == SELL else 0 for e in events], dtype=np.int8),
        column("req_ns", np.int64),
        np.array([e.req_ns is not None for e in events], dtype=np.uint8),  # type: ignore[union-attr]
        [getattr(e, "trade_id", "").encode() for e in events],
    )  # fmt: skip


@settings(max_examples=300, derandomize=True)
@given(st.lists(st.one_of(quotes, trades), min_size=1, max_size=6))
def test_bytes_equal_msgspec(events: list[Event]) -> None:
    encode = msgspec.msgpack.Encoder().encode
    assert pack(events) == b"".join(encode(e) for e in events)


def test_a_real_quote_and_trade() -> None:
    events: list[Event] = [
        Quote("binance", "BTC-USDT", 1753142400000000000, None, 5, 127, 1.5, 2.0, 3.25, 4.0),
        Trade("kucoin", "ETH-USDT", 1753142400000000001, 1753142399990000000, 6, 128, 3000.5,
              0.25, SELL, "11067996711960577", 1753142399000000000),
    ]  # fmt: skip
    encode = msgspec.msgpack.Encoder().encode
    assert pack(events) == encode(events[0]) + encode(events[1])
