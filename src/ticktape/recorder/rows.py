"""Row identity and the per-connection row store the hot path appends to.

Contract (schema v1, ARCHITECTURE.md):
- ``conn_id`` is unique within a dataset, also across recorder restarts on the same day:
  ``start_ms * 1_000_000 + counter`` where ``start_ms`` is the recorder's start time in Unix ms
  and ``counter`` counts connections of this run from 0. Two runs collide only if the second
  starts less than ``counter`` ms after the first; a million connections per run fit.
- ``seq`` counts the rows of one ``conn_id`` in append order from 0, without holes: it is the
  row's position in its :class:`ConnBuffer`, never stored per row.
- ``recv_ns`` comes from the one :class:`~ticktape.recorder.clock.Clock`, so it never decreases
  within a connection.

Why a store per connection rather than one 8-column append per row and exchange: on a
connection, ``exchange``, ``conn_id`` and (for data rows) ``stream``, ``kind`` and ``req_ns`` are
constant and ``seq`` is the position, so the per-frame work is three ``list.append`` calls
(``recv``, ``payload``, ``binary``) made inline by the WebSocket listener, and the flush builds
those five columns without touching a Python object per row. Rows that differ (``open``,
``sent``, ``close``, REST responses with ``req_ns``, ...) are rare and listed in ``special``.
Measured on the loopback blaster, this roughly halves the recorder's cost per message.

Threading: every method runs on the event loop thread; :meth:`ConnBuffer.take` hands plain lists
(a :class:`ConnChunk`) to the disk thread, which builds the Arrow batch (``batches.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from ticktape.recorder.clock import Clock
from ticktape.schema import KIND_DATA

# on_row(exchange, recv_ns, stream, conn_id, seq, kind, req_ns, binary, payload): live hook
RowHook = Callable[[str, int, str, int, int, str, "int | None", bool, bytes], None]

CONN_ID_STRIDE: Final = 1_000_000

# ``stream`` of rows about a WebSocket control frame we sent (kind ``sent``).
STREAM_PONG: Final = "pong"
STREAM_CLOSE: Final = "close"
STREAM_CLOCK: Final = "clock"


class ConnIds:
    """Hands out ``conn_id`` values for one recorder run (see module docstring)."""

    __slots__ = ("_next", "start_ms")

    def __init__(self, start_ms: int) -> None:
        self.start_ms = start_ms
        self._next = start_ms * CONN_ID_STRIDE

    def next(self) -> int:
        conn_id = self._next
        self._next += 1
        if conn_id - self.start_ms * CONN_ID_STRIDE >= CONN_ID_STRIDE:
            raise RuntimeError("more than a million connections in one run: conn_id space used up")
        return conn_id


@dataclass(frozen=True, slots=True)
class ConnChunk:
    """Rows of one connection taken at one flush: row ``i`` has ``seq = base_seq + i``.

    ``special`` lists ``(i, kind, stream, req_ns)`` for rows that are not plain data rows on
    the connection's own ``stream`` (``None`` there = the default).
    """

    conn_id: int
    stream: str
    base_seq: int
    recv: list[int]
    payload: list[bytes]
    binary: list[bool]
    special: list[tuple[int, str, str | None, int | None]]


class ConnBuffer:
    """The rows of one ``conn_id`` not yet flushed (see the module docstring).

    The WebSocket listener appends data rows itself with ``recv.append``, ``payload.append``
    and ``binary.append`` (the same three lists for the whole life of the buffer); everything
    else goes through :meth:`add`.
    """

    __slots__ = (
        "_last_taken_data_ns",
        "base_seq",
        "binary",
        "clock",
        "closed",
        "conn_id",
        "control",
        "exchange",
        "hook",
        "payload",
        "recv",
        "special",
        "stream",
    )

    def __init__(
        self,
        exchange: str,
        conn_id: int,
        stream: str,
        clock: Clock,
        hook: RowHook | None = None,
    ) -> None:
        self.exchange = exchange
        self.conn_id = conn_id
        self.stream = stream  # default ``stream`` of this connection's rows
        self.clock = clock
        self.hook = hook
        self.base_seq = 0  # seq of recv[0]
        self.recv: list[int] = []
        self.payload: list[bytes] = []
        self.binary: list[bool] = []
        self.special: list[tuple[int, str, str | None, int | None]] = []
        self.control = 0  # rows that are not data rows, over the whole connection
        self.closed = False  # no more rows will come (the flush then forgets the buffer)
        self._last_taken_data_ns = 0

    @property
    def seq(self) -> int:
        """The ``seq`` the next row will get (= rows so far)."""
        return self.base_seq + len(self.recv)

    def messages(self) -> int:
        """Data rows so far."""
        return self.base_seq + len(self.recv) - self.control

    def last_data_ns(self) -> int:
        """``recv_ns`` of the newest data row (0 if none yet); for the stale watchdog, so the
        per-frame path does not have to store it. Costs O(control rows at the tail)."""
        recv, special = self.recv, self.special
        i, j = len(recv) - 1, len(special) - 1
        while i >= 0:
            while j >= 0 and special[j][0] > i:
                j -= 1
            if j >= 0 and special[j][0] == i and special[j][1] != KIND_DATA:
                i -= 1
                continue
            return recv[i]
        return self._last_taken_data_ns

    def add(
        self,
        kind: str,
        payload: bytes | str,
        *,
        stream: str | None = None,
        req_ns: int | None = None,
        binary: bool = False,
        recv_ns: int | None = None,
    ) -> int:
        """Append one row now (or at ``recv_ns``, from the same clock); return its ``recv_ns``.

        ``str`` payloads are stored as UTF-8. ``stream`` None = the connection's stream.
        """
        if recv_ns is None:
            recv_ns = self.clock.now_ns()
        if isinstance(payload, str):
            payload = payload.encode()
        index = len(self.recv)
        self.recv.append(recv_ns)
        self.payload.append(payload)
        self.binary.append(binary)
        if kind != KIND_DATA or stream is not None or req_ns is not None:
            self.special.append((index, kind, stream, req_ns))
        if kind != KIND_DATA:
            self.control += 1
        if self.hook is not None:
            self.hook(
                self.exchange,
                recv_ns,
                stream or self.stream,
                self.conn_id,
                self.base_seq + index,
                kind,
                req_ns,
                binary,
                payload,
            )
        return recv_ns

    def take(self) -> ConnChunk | None:
        """Everything since the last take, as plain lists; None if there is nothing."""
        n = len(self.recv)
        if n == 0:
            return None
        self._last_taken_data_ns = self.last_data_ns()
        # Copy and clear in place: the listener holds bound ``append`` methods of these lists.
        chunk = ConnChunk(
            self.conn_id,
            self.stream,
            self.base_seq,
            self.recv.copy(),
            self.payload.copy(),
            self.binary.copy(),
            self.special,
        )
        self.recv.clear()
        self.payload.clear()
        self.binary.clear()
        self.special = []
        self.base_seq += n
        return chunk


class ExchangeRows:
    """Every :class:`ConnBuffer` of one exchange; the flush takes them all at once."""

    __slots__ = ("buffers", "clock", "exchange", "hook")

    def __init__(self, exchange: str, clock: Clock, hook: RowHook | None = None) -> None:
        self.exchange = exchange
        self.clock = clock
        self.hook = hook
        self.buffers: list[ConnBuffer] = []

    def open(self, conn_id: int, stream: str) -> ConnBuffer:
        """A new buffer for a new connection (mark it ``closed`` after its last row)."""
        buffer = ConnBuffer(self.exchange, conn_id, stream, self.clock, self.hook)
        self.buffers.append(buffer)
        return buffer

    def take(self) -> list[ConnChunk]:
        """Every buffer's rows; buffers that are closed are forgotten once emptied."""
        chunks = []
        for buffer in self.buffers:
            chunk = buffer.take()
            if chunk is not None:
                chunks.append(chunk)
        self.buffers = [b for b in self.buffers if not b.closed]
        return chunks
