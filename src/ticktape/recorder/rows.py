"""Row identity: connection ids and the per-connection row writer (``seq`` counter).

Contract (schema v1, ARCHITECTURE.md):
- ``conn_id`` is unique within a dataset, also across recorder restarts on the same day:
  ``start_ms * 1_000_000 + counter`` where ``start_ms`` is the recorder's start time in Unix ms
  and ``counter`` counts connections of this run from 0. Two runs collide only if the second
  starts less than ``counter`` ms after the first; a million connections per run fit.
- ``seq`` counts the rows of one ``conn_id`` in append order from 0, without holes.
- ``recv_ns`` comes from the one :class:`~ticktape.recorder.clock.Clock`, so it never decreases
  within a connection.

:class:`ConnRows` is used by the REST poller, the KuCoin token fetch and the clock probe; the
WebSocket listener keeps the same three fields (``conn_id``, ``seq``, ``stream``) itself so its
per-frame path has no extra attribute hop (see ``ws_connection.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from ticktape.recorder.clock import Clock

# RowBuffer.append(recv_ns, stream, conn_id, seq, kind, req_ns, binary, payload)
AppendRow = Callable[[int, str, int, int, str, "int | None", bool, bytes], None]
# on_row(exchange, recv_ns, stream, conn_id, seq, kind, req_ns, binary, payload): the live hook
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


def hooked(append: AppendRow, exchange: str, hook: RowHook | None) -> AppendRow:
    """``append`` itself, or a wrapper that also passes every row to ``hook`` (live strategies).

    Without a hook the hot path pays nothing: callers hold ``append`` directly.
    """
    if hook is None:
        return append

    def append_and_notify(
        recv_ns: int,
        stream: str,
        conn_id: int,
        seq: int,
        kind: str,
        req_ns: int | None,
        binary: bool,
        payload: bytes,
    ) -> None:
        append(recv_ns, stream, conn_id, seq, kind, req_ns, binary, payload)
        hook(exchange, recv_ns, stream, conn_id, seq, kind, req_ns, binary, payload)

    return append_and_notify


class ConnRows:
    """Appends the rows of one ``conn_id``: stamps ``recv_ns`` and numbers ``seq`` from 0."""

    __slots__ = ("append", "clock", "conn_id", "seq", "stream")

    def __init__(self, append: AppendRow, clock: Clock, conn_id: int, stream: str) -> None:
        self.append = append
        self.clock = clock
        self.conn_id = conn_id
        self.stream = stream  # default ``stream`` of this connection's rows
        self.seq = 0

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
        """Append one row now (or at ``recv_ns``, which must come from the same clock); return
        its ``recv_ns``. ``str`` payloads are stored as UTF-8."""
        if recv_ns is None:
            recv_ns = self.clock.now_ns()
        if isinstance(payload, str):
            payload = payload.encode()
        seq = self.seq
        self.seq = seq + 1
        self.append(
            recv_ns, stream or self.stream, self.conn_id, seq, kind, req_ns, binary, payload
        )
        return recv_ns
