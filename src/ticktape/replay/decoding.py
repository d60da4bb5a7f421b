"""Rows of one window -> each row's events, with as little Python per row as possible.

What a row becomes depends only on its route (``kind``, ``exchange``, ``stream``):

* ``data`` -> its exchange's decoder ``decode(payload, recv_ns, conn_id, seq, stream)``;
* ``open`` -> :class:`Connected` (url = payload), ``close`` -> :class:`Disconnected` (reason)
  and the decoder's ``reset(conn_id)`` (if it has one) so its per-connection state is dropped;
* ``sent``, ``clock``, ``error`` and unknown kinds -> nothing.

Speed: the rows of one decoder are gathered with numpy and decoded by one ``map`` over columns
(the decoder calls are the only per-row Python), then put back in row order with one object
array assignment. A decoder only ever sees its own exchange's rows, in order, so this is the
order it would see row by row; when a window holds a ``close`` row of an exchange, that
exchange's rows go one by one instead, so ``reset`` lands exactly between the right rows.
A decoder that raises despite its contract yields one :class:`DecodeError` for that row and the
``map`` carries on with the next row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

import msgspec
import numpy as np

from ticktape import schema
from ticktape.exchanges.base import Decoder
from ticktape.exchanges.events import (
    Connected,
    DecodeError,
    Disconnected,
    Event,
    Gap,
    Quote,
    Trade,
)
from ticktape.replay.merge import NO_REQ, Columns, Routes

RowEvents = list[Event] | tuple[()]  # what one row became (a decoder's list, or nothing)

SKIP, DATA, OPEN, CLOSE = 0, 1, 2, 3
_ACTION: Final = {schema.KIND_DATA: DATA, schema.KIND_OPEN: OPEN, schema.KIND_CLOSE: CLOSE}
_NOTHING: Final = ()


class WindowDecoder:
    """Per-route plans (extended as the merge interns new routes) and the per-window decode.

    ``decoder_for(exchange)`` returns the (cached) decoder of an exchange.
    """

    def __init__(self, routes: Routes, decoder_for: Callable[[str], Decoder]) -> None:
        self.routes = routes
        self._decoder_for = decoder_for
        self.exchanges: list[str] = []  # exchange codes, in order of first route
        self._exchange_code: dict[str, int] = {}
        self._actions: list[int] = []
        self._route_exchange: list[int] = []
        self._streams: list[str] = []
        self.action = np.zeros(0, dtype=np.int8)  # per route id
        self.route_exchange = np.zeros(0, dtype=np.int32)  # per route id: exchange code
        self.stream = np.zeros(0, dtype=object)  # per route id: stream name

    def refresh(self) -> None:
        """Take in routes the merge interned since the last call."""
        routes = self.routes
        if len(self._actions) == len(routes):
            return
        for route in range(len(self._actions), len(routes)):
            exchange = routes.exchanges[route]
            code = self._exchange_code.get(exchange)
            if code is None:
                code = self._exchange_code[exchange] = len(self.exchanges)
                self.exchanges.append(exchange)
            self._actions.append(_ACTION.get(routes.kinds[route], SKIP))
            self._route_exchange.append(code)
            self._streams.append(routes.streams[route])
        self.action = np.array(self._actions, dtype=np.int8)
        self.route_exchange = np.array(self._route_exchange, dtype=np.int32)
        self.stream = np.empty(len(self._streams), dtype=object)
        self.stream[:] = self._streams

    def decode(self, window: Columns) -> list[RowEvents]:
        """Each row's events (``()`` for none), in row order."""
        self.refresh()
        rows = len(window)
        route = window.route
        action = self.action[route]
        exchange = self.route_exchange[route]
        ordered: set[int] = set()
        if (action == CLOSE).any():
            ordered = set(np.unique(exchange[action == CLOSE]).tolist())
        outs = np.empty(rows, dtype=object)
        outs.fill(_NOTHING)
        present = np.bincount(exchange[action != SKIP], minlength=len(self.exchanges))
        for code in np.flatnonzero(present).tolist():
            name = self.exchanges[code]
            mine = exchange == code
            if code in ordered:
                index = np.flatnonzero(mine & (action != SKIP))
                outs[index] = _object_array(self._one_by_one(window, index, action[index], name))
                continue
            data = np.flatnonzero(mine & (action == DATA))
            if len(data):
                if len(data) == rows:
                    return self._map(window, data, name)  # type: ignore[return-value]
                outs[data] = _object_array(self._map(window, data, name))
            opens = np.flatnonzero(mine & (action == OPEN))
            if len(opens):
                outs[opens] = _object_array(self._one_by_one(window, opens, action[opens], name))
        return outs.tolist()  # type: ignore[no-any-return]

    def _map(self, window: Columns, index: np.ndarray, exchange: str) -> list[list[Event]]:
        """Decode the data rows ``index`` (all of ``exchange``) with one ``map``."""
        payloads = window.payload[index].tolist()
        recv = window.recv[index].tolist()
        conn = window.conn[index].tolist()
        seq = window.seq[index].tolist()
        streams = self.stream[window.route[index]].tolist()
        decoded = map(self._decoder_for(exchange), payloads, recv, conn, seq, streams)
        outs: list[list[Event]] = []
        while True:
            try:
                outs.extend(decoded)
                return outs
            except Exception as exc:  # a decoder broke its never-raise contract: that row only
                k = len(outs)
                outs.append([decoder_raised(exchange, recv[k], conn[k], seq[k], streams[k], exc)])

    def _one_by_one(
        self, window: Columns, index: np.ndarray, actions: np.ndarray, exchange: str
    ) -> list[RowEvents]:
        """Rows of one exchange, in order, each by its action (data, open, close)."""
        decoder = self._decoder_for(exchange) if (actions != OPEN).any() else None
        outs: list[RowEvents] = []
        for k, act in zip(index.tolist(), actions.tolist(), strict=True):
            recv, conn, seq = int(window.recv[k]), int(window.conn[k]), int(window.seq[k])
            stream = self.stream[window.route[k]]
            payload = window.payload[k]
            if act == DATA:
                assert decoder is not None
                try:
                    outs.append(decoder(payload, recv, conn, seq, stream))
                except Exception as exc:
                    outs.append([decoder_raised(exchange, recv, conn, seq, stream, exc)])
            elif act == OPEN:
                outs.append([Connected(exchange, recv, conn, seq, stream, _text(payload))])
            else:
                reset = getattr(decoder, "reset", None)
                if reset is not None:
                    reset(conn)
                outs.append([Disconnected(exchange, recv, conn, seq, stream, _text(payload))])
        return outs


def insert_gaps(
    outs: list[RowEvents], gaps: Sequence[tuple[int, str]], window: Columns, routes: Routes
) -> None:
    """Put a :class:`Gap` before the events of each gap row (``(row, detail)``)."""
    for row, detail in gaps:
        route = int(window.route[row])
        gap = Gap(
            routes.exchanges[route], int(window.recv[row]), int(window.conn[row]),
            int(window.seq[row]), routes.streams[route], detail,
        )  # fmt: skip
        outs[row] = [gap, *outs[row]]


def stamp_requests(outs: list[RowEvents], window: Columns) -> bool:
    """Copy each REST row's ``req_ns`` onto its Quote/Trade events; False if there are none."""
    rest = np.flatnonzero(window.req != NO_REQ)
    if not len(rest):
        return False
    for row in rest.tolist():
        req_ns = int(window.req[row])
        outs[row] = [
            msgspec.structs.replace(e, req_ns=req_ns) if type(e) is Quote or type(e) is Trade else e
            for e in outs[row]
        ]
    return True


def decoder_raised(
    exchange: str, recv_ns: int, conn_id: int, seq: int, stream: str, exc: Exception
) -> DecodeError:
    return DecodeError(exchange, recv_ns, conn_id, seq, stream, f"decoder raised {exc!r}")


def failing_decoder(exchange: str, message: str) -> Decoder:
    """The decoder of an exchange without one: every data row becomes a DecodeError."""

    def decode(payload: bytes, recv_ns: int, conn_id: int, seq: int, stream: str) -> list[Event]:
        return [DecodeError(exchange, recv_ns, conn_id, seq, stream, message)]

    return decode


def _object_array(items: list[RowEvents]) -> np.ndarray:
    return np.fromiter(items, dtype=object, count=len(items))


def _text(payload: bytes) -> str:
    return payload.decode("utf-8", "replace")
