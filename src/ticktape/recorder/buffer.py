"""The per-exchange columnar append buffer on the recorder's hot path.

Connection tasks (all on one asyncio thread) call :meth:`RowBuffer.append` once per frame; a flush
task calls :meth:`RowBuffer.take` about once a second and hands the batch to the
:class:`~ticktape.recorder.writer.RotatingWriter`.

Why it looks like this: ``append`` is the only per-frame cost of recording, so it does nothing but
eight ``list.append`` calls on per-column lists (CPython 3.11 specialises ``self.x.append(v)`` on a
list into a direct call). No per-row tuple or object is built, so the cyclic GC is not woken by
millions of tracked containers, and there is no ``zip(*rows)`` transpose at flush time: each
column list goes straight to :func:`pyarrow.array` in C. Values are not checked on append; a bad
value surfaces as :class:`RowBufferError` from :meth:`take`, naming the column and row.

Not thread-safe: ``append`` and ``take`` must run on the same thread (the event loop).
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from ticktape.schema import RECORD_SCHEMA

_ZERO_INDEX = pa.scalar(0, pa.int32())


class RowBufferError(ValueError):
    """A value appended to a :class:`RowBuffer` does not fit schema v1."""


class RowBuffer:
    """Rows of one exchange, stored column by column until :meth:`take`.

    ``exchange`` is the value of the ``exchange`` column of every row (``binance``, ...).
    """

    __slots__ = (
        "_binary",
        "_conn_id",
        "_counted_bytes",
        "_counted_rows",
        "_exchange_dictionary",
        "_kind",
        "_payload",
        "_recv_ns",
        "_req_ns",
        "_seq",
        "_stream",
        "exchange",
    )

    def __init__(self, exchange: str) -> None:
        if not exchange:
            raise RowBufferError("exchange name must not be empty")
        self.exchange = exchange
        self._exchange_dictionary = pa.array([exchange], pa.string())
        self._reset()

    def _reset(self) -> None:
        self._recv_ns: list[int] = []
        self._stream: list[str] = []
        self._conn_id: list[int] = []
        self._seq: list[int] = []
        self._kind: list[str] = []
        self._req_ns: list[int | None] = []
        self._binary: list[bool] = []
        self._payload: list[bytes] = []
        self._counted_rows = 0
        self._counted_bytes = 0

    def append(
        self,
        recv_ns: int,
        stream: str,
        conn_id: int,
        seq: int,
        kind: str,
        req_ns: int | None,
        binary: bool,
        payload: bytes,
    ) -> None:
        """Add one row (see ARCHITECTURE.md for the columns). ``payload`` is kept, not copied.

        ``payload`` is ``bytes`` (a ``str`` is stored as its UTF-8 bytes, which for a WebSocket
        text frame are the bytes received).
        """
        self._recv_ns.append(recv_ns)
        self._stream.append(stream)
        self._conn_id.append(conn_id)
        self._seq.append(seq)
        self._kind.append(kind)
        self._req_ns.append(req_ns)
        self._binary.append(binary)
        self._payload.append(payload)

    def __len__(self) -> int:
        return len(self._recv_ns)

    @property
    def nbytes(self) -> int:
        """Payload bytes buffered so far (the rest of a row is ~40 bytes more).

        Computed lazily and incrementally, so ``append`` pays nothing for it and calling it after
        every append still costs O(1) amortised per row.
        """
        payload = self._payload
        if self._counted_rows < len(payload):
            self._counted_bytes += sum(map(len, payload[self._counted_rows :]))
            self._counted_rows = len(payload)
        return self._counted_bytes

    def clear(self) -> None:
        """Drop every buffered row (for a caller that chooses to discard after an error)."""
        self._reset()

    def take(self) -> pa.RecordBatch | None:
        """Return the buffered rows as one ``RECORD_SCHEMA`` batch and empty the buffer.

        ``None`` if nothing is buffered. On :class:`RowBufferError` the rows stay buffered.
        Row order is append order.
        """
        n = len(self._recv_ns)
        if n == 0:
            return None
        columns = (
            ("recv_ns", self._recv_ns),
            ("stream", self._stream),
            ("conn_id", self._conn_id),
            ("seq", self._seq),
            ("kind", self._kind),
            ("req_ns", self._req_ns),
            ("binary", self._binary),
            ("payload", self._payload),
        )
        arrays: dict[str, pa.Array] = {}
        for name, values in columns:
            field = RECORD_SCHEMA.field(name)
            try:
                array = pa.array(values, field.type)
            except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
                raise RowBufferError(_describe_bad_value(name, values, field.type, exc)) from exc
            if not field.nullable and array.null_count:
                row = array.is_null().index(True).as_py()
                raise RowBufferError(f"column {name!r}: row {row} is None (not allowed)")
            arrays[name] = array
        arrays["exchange"] = pa.DictionaryArray.from_arrays(
            pa.repeat(_ZERO_INDEX, n), self._exchange_dictionary
        )
        self._reset()
        return pa.RecordBatch.from_arrays(
            [arrays[name] for name in RECORD_SCHEMA.names], schema=RECORD_SCHEMA
        )


def _describe_bad_value(
    name: str, values: Sequence[object], type_: pa.DataType, exc: Exception
) -> str:
    """Find the first value of ``values`` that does not convert to ``type_`` (error path only)."""
    for row, value in enumerate(values):
        try:
            pa.array([value], type_)
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            return (
                f"column {name!r}: row {row} has {type(value).__name__} {value!r:.60}, "
                f"which is not {type_} ({exc})"
            )
    return f"column {name!r}: values do not convert to {type_} ({exc})"
