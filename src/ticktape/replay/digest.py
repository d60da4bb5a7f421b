"""SHA-256 digests that prove two replays saw the same events and produced the same results.

* Events: each event is encoded as msgspec msgpack (a Struct becomes a map of its field names to
  values, in field order; floats are always float64, so the bytes are exact) and the encodings are
  hashed back to back in replay order. Batching does not change the digest: a batch is encoded as
  one msgpack array and its array header is skipped, leaving exactly the concatenation of the
  events' own encodings.
* Results: each table is serialized canonically (strategy name, table name, column names and
  types, then the column values as msgpack), tables in name order. Parquet bytes are not used:
  they depend on writer versions and chunking.

Equal data gives equal digests whatever the file rotation, batch sizes or window sizes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import msgspec
import pyarrow as pa

from ticktape._native import eventpack
from ticktape.exchanges.events import Event


def _array_header_len(count: int) -> int:
    """Bytes of the msgpack array header msgspec writes before ``count`` items."""
    if count < 16:
        return 1
    if count < 2**16:
        return 3
    return 5


class EventDigest:
    """Running SHA-256 of the ordered event stream; feed it events in batches, any batching."""

    __slots__ = ("_encode", "_hash", "count")

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._encode = msgspec.msgpack.Encoder().encode
        self.count = 0

    def update(self, events: Sequence[Event]) -> None:
        """Hash ``events`` (in order) after everything hashed so far."""
        if not events:
            return
        runs = getattr(events, "msgpack_runs", None)  # the replay's lazy events: no objects
        if runs is not None and eventpack is not None:
            for chunk in runs(self._encode):
                self._hash.update(chunk)
            self.count += len(events)
            return
        if type(events) is not list:
            events = list(events)
        data = self._encode(events)
        self._hash.update(memoryview(data)[_array_header_len(len(events)) :])
        self.count += len(events)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def _fallback(value: Any) -> Any:
    return str(value)


_TABLE_ENCODER = msgspec.msgpack.Encoder(enc_hook=_fallback)


def table_bytes(table: pa.Table) -> bytes:
    """A canonical byte form of ``table``: independent of chunking and dictionary encoding."""
    columns = []
    for field, column in zip(table.schema, table.columns, strict=True):
        value_type = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
        columns.append([field.name, str(value_type), column.to_pylist()])
    return _TABLE_ENCODER.encode(columns)


def results_digest(results: Mapping[str, Mapping[str, pa.Table]]) -> str:
    """SHA-256 over every result table, strategies and tables taken in name order."""
    digest = hashlib.sha256()
    for strategy in sorted(results):
        for name in sorted(results[strategy]):
            body = table_bytes(results[strategy][name])
            header = _TABLE_ENCODER.encode([strategy, name, len(body)])
            digest.update(header)
            digest.update(body)
    return digest.hexdigest()


def combine(labelled: Iterable[tuple[str, str]]) -> str:
    """One digest over ``(label, hexdigest)`` pairs in the given order (e.g. days of a run)."""
    digest = hashlib.sha256()
    for label, value in labelled:
        digest.update(f"{label}={value}\n".encode())
    return digest.hexdigest()
