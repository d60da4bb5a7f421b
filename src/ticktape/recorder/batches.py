"""Turn the rows taken from connections (:class:`~ticktape.recorder.rows.ConnChunk`) into one
schema-v1 ``RecordBatch`` per exchange. Runs on the disk thread, off the event loop.

Only ``recv_ns``, ``payload`` and ``binary`` are converted from Python objects; ``seq``,
``conn_id``, ``kind``, ``stream`` and ``req_ns`` are built from each chunk's constants plus its
few special rows, with ``array.array`` buffers handed to Arrow without a copy.

The ``stream`` of a WebSocket data row is the subscription the frame belongs to, extracted here
per batch with the exchange's RE2 pattern (:mod:`ticktape.exchanges.routing`, C++ with the GIL
released) so the per-frame path never parses; frames with no subscription in them (acks, pongs)
and every other row keep the connection's label. REST rows keep their ``GET /path?query``.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence

import pyarrow as pa

from ticktape.exchanges.routing import REST_PREFIXES, routed_streams
from ticktape.recorder.rows import ConnChunk
from ticktape.schema import KIND_DATA, RECORD_SCHEMA

_INT64 = pa.int64()
_INT32 = pa.int32()


def _int64(values: array[int], n: int) -> pa.Array:
    return pa.Array.from_buffers(_INT64, n, [None, pa.py_buffer(values)])


def _dictionary(default: str, overrides: list[tuple[int, str]], n: int) -> pa.DictionaryArray:
    """``n`` copies of ``default`` except at the given positions."""
    values = [default]
    codes = {default: 0}
    indices = array("i", [0]) * n
    for i, value in overrides:
        code = codes.get(value)
        if code is None:
            code = codes[value] = len(values)
            values.append(value)
        indices[i] = code
    return pa.DictionaryArray.from_arrays(
        pa.Array.from_buffers(_INT32, n, [None, pa.py_buffer(indices)]),
        pa.array(values, pa.string()),
    )


def _routed_streams(
    exchange: str,
    label: str,
    overrides: list[tuple[int, str]],
    non_data: list[tuple[int, str]],
    payload: pa.Array,
) -> pa.DictionaryArray:
    """The ``stream`` column of one chunk (the rule: ``exchanges.routing.routed_streams``)."""
    n = len(payload)
    labels = _dictionary(label, overrides, n)
    if label.startswith(REST_PREFIXES):  # a REST poller's chunk: nothing to route
        return labels
    is_data = None
    if non_data:  # sent frames (e.g. KuCoin subscribes) mention topics too: only data rows
        mask = [True] * n
        for i, _ in non_data:
            mask[i] = False
        is_data = pa.array(mask)
    return routed_streams(exchange, labels, payload, is_data).dictionary_encode()


def chunk_batch(exchange: str, chunk: ConnChunk) -> pa.RecordBatch:
    """The rows of one chunk as a ``RECORD_SCHEMA`` batch (rows in seq order)."""
    n = len(chunk.recv)
    kinds = [(i, kind) for i, kind, _, _ in chunk.special if kind != KIND_DATA]
    streams = [(i, stream) for i, _, stream, _ in chunk.special if stream is not None]
    req = [(i, req_ns) for i, _, _, req_ns in chunk.special if req_ns is not None]
    if req:
        req_values: list[int | None] = [None] * n
        for i, req_ns in req:
            req_values[i] = req_ns
        req_ns_array = pa.array(req_values, _INT64)
    else:
        req_ns_array = pa.nulls(n, _INT64)
    payload = pa.array(chunk.payload, pa.binary())
    columns = {
        "recv_ns": pa.array(chunk.recv, _INT64),
        "exchange": _dictionary(exchange, [], n),
        "stream": _routed_streams(exchange, chunk.stream, streams, kinds, payload),
        "conn_id": _int64(array("q", [chunk.conn_id]) * n, n),
        "seq": _int64(array("q", range(chunk.base_seq, chunk.base_seq + n)), n),
        "kind": _dictionary(KIND_DATA, kinds, n),
        "req_ns": req_ns_array,
        "binary": pa.array(chunk.binary, pa.bool_()),
        "payload": payload,
    }
    return pa.RecordBatch.from_arrays([columns[name] for name in RECORD_SCHEMA.names],
                                      schema=RECORD_SCHEMA)  # fmt: skip


def exchange_batch(exchange: str, chunks: Sequence[ConnChunk]) -> pa.RecordBatch | None:
    """All chunks of one exchange in one batch (dictionaries unified); None if empty."""
    batches = [chunk_batch(exchange, c) for c in chunks if c.recv]
    if not batches:
        return None
    if len(batches) == 1:
        return batches[0]
    return pa.concat_batches(batches)
