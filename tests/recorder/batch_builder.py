"""Build schema-v1 record batches row by row in tests (the recorder itself builds them from its
per-connection row store, ``recorder/batches.py``)."""

from __future__ import annotations

import pyarrow as pa

from ticktape.schema import RECORD_SCHEMA

_ROW_COLUMNS = ("recv_ns", "stream", "conn_id", "seq", "kind", "req_ns", "binary", "payload")


class BatchBuilder:
    """``append(recv_ns, stream, conn_id, seq, kind, req_ns, binary, payload)``, then ``take()``."""

    def __init__(self, exchange: str) -> None:
        self.exchange = exchange
        self._rows: list[tuple[object, ...]] = []

    def append(self, *row: object) -> None:
        self._rows.append(row)

    def take(self) -> pa.RecordBatch | None:
        """The rows appended so far as one ``RECORD_SCHEMA`` batch (append order), or None."""
        if not self._rows:
            return None
        columns = dict(zip(_ROW_COLUMNS, zip(*self._rows, strict=True), strict=True))
        columns["exchange"] = (self.exchange,) * len(self._rows)
        self._rows = []
        table = pa.table({name: list(columns[name]) for name in RECORD_SCHEMA.names})
        return table.cast(RECORD_SCHEMA).to_batches()[0]
