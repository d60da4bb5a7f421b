"""Which subscription a data frame belongs to, as RE2 patterns the recorder applies per batch.

The recorder must not parse payloads on its per-frame path, yet the ``stream`` column should name
the subscription a frame belongs to (``btcusdt@bookTicker``, ``orderbook.1.BTCUSDT``, ...): that
is what SQL users filter on, and grouping Parquet rows by stream is what makes the files small.
So the extraction runs once per batch on the recorder's disk thread, with ``pyarrow.compute``'s
RE2 (C++, GIL released: ~180-360 ns/row on one core here). Each pattern has one named group,
``stream``, and must return exactly what the exchange module's ``route()`` returns for a data
frame (``tests/exchanges/test_routing.py`` checks this on every captured frame). A frame with no
match (acks, pongs, welcome) keeps its connection's label.
"""

from __future__ import annotations

from typing import Final

import pyarrow as pa
import pyarrow.compute as pc

STREAM_PATTERNS: Final[dict[str, str]] = {
    # combined-stream wrapper: {"stream":"btcusdt@bookTicker","data":{...}}
    "binance": r'^\{"stream":"(?P<stream>[^"]+)"',
    # {"topic":"orderbook.1.BTCUSDT","ts":...}; acks and pongs have no topic
    "bybit": r'"topic":"(?P<stream>[^"]+)"',
    # key order varies: the topic can be anywhere in the object
    "kucoin": r'"topic":"(?P<stream>[^"]+)"',
    # protobuf PushDataV3ApiWrapper: field 1 (tag 0x0a), one-byte length, the channel name;
    # the next field's tag (0x1a, 0x22, ...) is a control byte, which ends the match
    "mexc": r"^\x0a[\x00-\x7f](?P<stream>[\x20-\x7e]+)",
}


def extract_streams(exchange: str, payloads: pa.Array) -> pa.Array | None:
    """The subscription of each payload (binary array) as a string array, null where none matches.

    ``None`` if the exchange has no pattern. Vectorized and GIL-free (``pyarrow.compute``).
    """
    pattern = STREAM_PATTERNS.get(exchange)
    if pattern is None:
        return None
    matched = pc.extract_regex(payloads, pattern)
    # a row that does not match is a null struct whose field still reads b"": mask it
    names = pc.if_else(pc.is_valid(matched), matched.field("stream"), pa.scalar(None, pa.binary()))
    return names.cast(pa.string())


REST_PREFIXES: Final = ("GET ", "POST ")


def routed_streams(
    exchange: str, labels: pa.Array, payloads: pa.Array, is_data: pa.Array | None = None
) -> pa.Array:
    """The ``stream`` column as schema v1 defines it (the one place this rule lives).

    A WebSocket data row gets the subscription its frame names; every other row, and a frame that
    names none (acks, pongs), keeps its label. ``labels``: the connection label per row (string or
    dictionary array; REST rows are recognised by ``GET ``/``POST ``); ``is_data``: which rows are
    ``data`` rows (None: all). Returns a string array.
    """
    plain = labels.cast(pa.string())
    routed = extract_streams(exchange, payloads)
    if routed is None or routed.null_count == len(routed):
        return plain
    is_rest = [pc.starts_with(plain, prefix) for prefix in REST_PREFIXES]
    use = pc.invert(pc.or_(*is_rest))
    if is_data is not None:
        use = pc.and_(use, is_data)
    routed = pc.if_else(use, routed, pa.scalar(None, pa.string()))
    return pc.coalesce(routed, plain)
