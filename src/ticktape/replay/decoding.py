"""Rows of one window -> an :class:`EventBatch` of their events, in row order.

What a row becomes depends only on its route (``kind``, ``exchange``, ``stream``):

* ``data`` -> its exchange's decoder ``decode(payload, recv_ns, conn_id, seq, stream)``;
* ``open`` -> :class:`Connected` (url = payload), ``close`` -> :class:`Disconnected` (reason)
  and the decoder's ``reset(conn_id)`` (if it has one) so its per-connection state is dropped;
* ``sent``, ``clock``, ``error`` and unknown kinds -> nothing;
* a row that breaks its connection's ``seq`` sequence gets a :class:`Gap` before its events;
* REST rows (``req_ns`` set) get ``req_ns`` copied onto their ``Quote``/``Trade`` events.

Two decoders read the ``data`` rows, one definition. The compiled window decoder
(:mod:`ticktape._native.fastdecode`) reads, in one call per window, every row whose route has a
codec (``native_codec`` of the exchange module) and whose payload is exactly a frame it knows,
straight into columns: no Python object per row. Every other row goes to the exchange's Python
decoder, which is the definition of the result; the codecs refuse whatever they could read
differently (``tests/native`` holds them to the Python decoders). The compiled path is used only
with the registry's decoders (a custom ``decoder_for`` decodes everything itself) and only when
the extension is built.

Decoder state: Bybit's decoder remembers each connection's level-1 sides, which snapshots set.
Snapshots read by the compiled decoder are handed to it (``decoder.remember_quote``) before it
next runs on a row of that exchange and at the end of every window, so its state is always what
it would be had it read every row itself.

Speed: the Python loop visits only the rows left to Python (one loop step, the call and
``list.extend`` each); everything else is numpy over the window. A decoder that raises despite
its contract yields one :class:`DecodeError` for that row and decoding goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

import msgspec
import numpy as np

from ticktape import schema
from ticktape._native import fastdecode
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
from ticktape.replay.window_events import NativeRows, WindowEvents
from ticktape.strategies.batch import SymbolCodes

SKIP, DATA, OPEN, CLOSE = 0, 1, 2, 3
_ACTION: Final = {schema.KIND_DATA: DATA, schema.KIND_OPEN: OPEN, schema.KIND_CLOSE: CLOSE}


class WindowDecoder:
    """Per-route handlers and codecs (extended as the merge interns new routes) and the
    per-window decode.

    ``decoder_for(exchange)`` returns the (cached) decoder of an exchange; it is asked when the
    first route of that exchange that needs it appears. ``native``: let the compiled decoder
    read the rows it can (only valid when ``decoder_for`` gives the registry's decoders).
    ``codes`` keeps symbol codes from window to window.
    """

    def __init__(
        self,
        routes: Routes,
        decoder_for: Callable[[str], Decoder],
        *,
        native: bool = False,
        codes: SymbolCodes | None = None,
    ) -> None:
        self.routes = routes
        self._decoder_for = decoder_for
        self._native = native and fastdecode is not None
        self.codes = codes or SymbolCodes()
        self.exchanges: list[str] = []  # exchange codes, in order of first route
        self._exchange_code: dict[str, int] = {}
        self._actions: list[int] = []
        self._route_exchange: list[int] = []
        self._handlers: list[Decoder] = []
        self._codecs: list[int] = []
        self._expect: list[bytes | None] = []
        self._route_symbol: list[int] = []
        self._exchange_of: dict[int, str] = {}  # id(handler) -> its exchange (handlers kept)
        self._shared = False  # a handler serves several exchanges: name rows by their route
        self.action = np.zeros(0, dtype=np.int8)  # per route id
        self.route_exchange = np.zeros(0, dtype=np.int32)  # per route id: exchange code
        self.stream = np.zeros(0, dtype=object)  # per route id: stream name
        self.handler = np.zeros(0, dtype=object)  # per route id: what decodes its rows
        self.codec = np.zeros(0, dtype=np.int8)  # per route id: compiled codec (0: none)
        self.route_symbol = np.zeros(0, dtype=np.int32)  # per route id: symbol code (codecs)
        self._remember: dict[int, Callable[..., None]] = {}  # exchange code -> remember_quote
        self.compiled_rows = 0  # rows the compiled decoder has read so far

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
            action = _ACTION.get(routes.kinds[route], SKIP)
            self._actions.append(action)
            self._route_exchange.append(code)
            codec, expect, symbol = 0, None, -1
            if action == DATA:
                handler = self._decoder_for(exchange)
                if self._native:
                    codec, expect, symbol = self._codec_of(exchange, routes.streams[route])
                    remember = getattr(handler, "remember_quote", None)
                    if codec and remember is not None:
                        self._remember[code] = remember
            elif action == OPEN:
                handler = _connected(exchange)
            elif action == CLOSE:
                handler = _disconnected(exchange, self._decoder_for(exchange))
            else:
                handler = _skip
            self._handlers.append(handler)
            self._codecs.append(codec)
            self._expect.append(expect)
            self._route_symbol.append(symbol)
            if action != SKIP:
                known = self._exchange_of.setdefault(id(handler), exchange)
                self._shared = self._shared or known != exchange
        self.action = np.array(self._actions, dtype=np.int8)
        self.route_exchange = np.array(self._route_exchange, dtype=np.int32)
        self.stream = _objects(routes.streams)
        self.handler = _objects(self._handlers)
        self.codec = np.array(self._codecs, dtype=np.int8)
        self.route_symbol = np.array(self._route_symbol, dtype=np.int32)

    def _codec_of(self, exchange: str, stream: str) -> tuple[int, bytes | None, int]:
        """``(codec id, expected bytes, symbol code)`` of a data route; ``(0, None, -1)``: none."""
        from ticktape.exchanges import registry

        assert fastdecode is not None
        try:
            module = registry.get(exchange)
        except ValueError:
            return 0, None, -1
        native_codec = getattr(module, "native_codec", None)
        found = None if native_codec is None else native_codec(stream)
        if found is None:
            return 0, None, -1
        name, symbol, expect = found
        return int(fastdecode.CODECS[name]), expect, self.codes.code(symbol)

    def decode(self, window: Columns, gaps: Sequence[tuple[int, str]] = ()) -> WindowEvents:
        """The window's events (``gaps`` lists ``(row, detail)`` in row order)."""
        self.refresh()
        n = len(window)
        native = self._read_native(window)
        python = self.action[window.route] != SKIP
        if native is not None:
            python &= native.status == 0
        rows = np.flatnonzero(python)
        objs: list[Event] = []
        ends: list[int] = []
        visited: list[np.ndarray] = []  # rows visited in order (gap rows once more, first)
        syncs = self._sync_points(window, native, rows) if native is not None else []
        stops = sorted([*((row, 0, detail) for row, detail in gaps), *((r, 1, "") for r in syncs)])
        start = 0
        for stop_row, what, detail in [*stops, (n, 2, "")]:
            stop = int(np.searchsorted(rows, stop_row))
            if stop > start:
                part = rows[start:stop]
                self._decode_rows(window, part, objs, ends)
                visited.append(part)
                start = stop
            if what == 0:
                objs.append(self._gap(window, stop_row, detail))
                ends.append(len(objs))
                visited.append(np.array([stop_row]))
            elif what == 1:
                self._sync(window, native, stop_row)  # type: ignore[arg-type]
        if native is not None and self._remember:
            self._sync(window, native, n)
        counts = np.diff(np.fromiter(ends, np.int64, len(ends)), prepend=0)
        obj_rows = np.repeat(np.concatenate(visited), counts) if visited else np.zeros(0, np.int64)
        if bool((window.req != NO_REQ).any()) and objs:
            _stamp_requests(objs, window.req[obj_rows])
        return WindowEvents(window, objs, obj_rows, native)

    # ------------------------------------------------------------------------------ compiled
    def _read_native(self, window: Columns) -> NativeRows | None:
        """Run the compiled decoder over the window (None: no row has a codec)."""
        if not self._native or not len(self.codec):
            return None
        codecs = self.codec[window.route]
        if not codecs.any():
            return None
        native = NativeRows(len(window))
        assert fastdecode is not None
        self.compiled_rows += fastdecode.decode_window(
            window.addr, window.size, window.route, self.codec, self._expect, native.status,
            native.f0, native.f1, native.f2, native.f3, native.exch_ns, native.has_exch,
            native.side, native.tid_start, native.tid_len,
        )  # fmt: skip
        native.symbol = self.route_symbol[window.route]
        native.exchange = self.route_exchange[window.route]
        return native

    def _sync_points(self, window: Columns, native: NativeRows, rows: np.ndarray) -> list[int]:
        """Python rows before which a stateful decoder must first learn the snapshots the
        compiled decoder read since its last update (see the module docstring)."""
        if not self._remember or not len(rows):
            return []
        points: set[int] = set()
        quote_rows = native.status == 1
        row_exchange = self.route_exchange[window.route]
        for code in self._remember:
            mine = rows[row_exchange[rows] == code]
            if not len(mine):
                continue
            read = np.flatnonzero(quote_rows & (row_exchange == code))
            if not len(read):
                continue
            before = np.searchsorted(read, mine)  # compiled quotes before each Python row
            changed = np.diff(before, prepend=0) > 0
            points.update(mine[changed].tolist())
        return sorted(points)

    def _sync(self, window: Columns, native: NativeRows, stop: int) -> None:
        """Hand every stateful decoder the last compiled snapshot per (connection, symbol) among
        the rows it has not seen yet, up to row ``stop``."""
        low = native.synced
        if stop <= low:
            return
        native.synced = stop
        status = native.status[low:stop]
        names = self.codes.names_list()
        for code, remember in self._remember.items():
            read = np.flatnonzero((status == 1) & (native.exchange[low:stop] == code)) + low
            if not len(read):
                continue
            key = window.conn[read] * (len(names) + 1) + native.symbol[read]
            _, last_from_end = np.unique(key[::-1], return_index=True)
            for k in np.sort(read[len(read) - 1 - last_from_end]).tolist():
                remember(
                    int(window.conn[k]), names[int(native.symbol[k])], float(native.f0[k]),
                    float(native.f1[k]), float(native.f2[k]), float(native.f3[k]),
                )  # fmt: skip

    # -------------------------------------------------------------------------------- python
    def _decode_rows(
        self, window: Columns, rows: np.ndarray, events: list[Event], ends: list[int]
    ) -> None:
        """The Python loop: append the events of ``rows`` (in order) to ``events``, and after
        each row the running event count to ``ends``."""
        if len(rows) == len(window):
            rows = slice(None)  # type: ignore[assignment]  # every row: no gathers
        routes = window.route[rows]
        handlers = self.handler[routes].tolist()
        streams = self.stream[routes].tolist()
        payloads = window.payloads(rows)
        recv = window.recv[rows].tolist()
        conn = window.conn[rows].tolist()
        seq = window.seq[rows].tolist()
        extend = events.extend
        mark = ends.append
        base = len(ends)
        columns = zip(handlers, payloads, recv, conn, seq, streams, strict=True)
        for handle, payload, recv_ns, conn_id, seq_no, stream in columns:
            try:
                extend(handle(payload, recv_ns, conn_id, seq_no, stream))
            except Exception as exc:  # a decoder broke its never-raise contract: that row only
                exchange = self.routes.exchanges[int(routes[len(ends) - base])]
                events.append(decoder_raised(exchange, recv_ns, conn_id, seq_no, stream, exc))
            mark(len(events))

    def _gap(self, window: Columns, row: int, detail: str) -> Gap:
        route = int(window.route[row])
        return Gap(
            self.routes.exchanges[route], int(window.recv[row]), int(window.conn[row]),
            int(window.seq[row]), self.routes.streams[route], detail,
        )  # fmt: skip


def _stamp_requests(events: list[Event], req: np.ndarray) -> None:
    """Copy each REST row's ``req_ns`` (``req[k]`` for event ``k``) onto Quote/Trade events."""
    for k in np.flatnonzero(req != NO_REQ).tolist():
        event = events[k]
        if type(event) is Quote or type(event) is Trade:
            events[k] = msgspec.structs.replace(event, req_ns=int(req[k]))


def decoder_raised(
    exchange: str, recv_ns: int, conn_id: int, seq: int, stream: str, exc: Exception
) -> DecodeError:
    return DecodeError(exchange, recv_ns, conn_id, seq, stream, f"decoder raised {exc!r}")


def failing_decoder(exchange: str, message: str) -> Decoder:
    """The decoder of an exchange without one: every data row becomes a DecodeError."""

    def decode(payload: bytes, recv_ns: int, conn_id: int, seq: int, stream: str) -> list[Event]:
        return [DecodeError(exchange, recv_ns, conn_id, seq, stream, message)]

    return decode


def _connected(exchange: str) -> Decoder:
    def handle(payload: bytes, recv_ns: int, conn_id: int, seq: int, stream: str) -> list[Event]:
        return [Connected(exchange, recv_ns, conn_id, seq, stream, _text(payload))]

    return handle


def _disconnected(exchange: str, decoder: Decoder) -> Decoder:
    """Disconnected event; the decoder forgets that connection's state (e.g. an order book)."""
    reset = getattr(decoder, "reset", None)

    def handle(payload: bytes, recv_ns: int, conn_id: int, seq: int, stream: str) -> list[Event]:
        if reset is not None:
            reset(conn_id)
        return [Disconnected(exchange, recv_ns, conn_id, seq, stream, _text(payload))]

    return handle


def _skip(payload: bytes, recv_ns: int, conn_id: int, seq: int, stream: str) -> list[Event]:
    return []


def _objects(items: Sequence[Any]) -> np.ndarray:
    array = np.empty(len(items), dtype=object)
    array[:] = items
    return array


def _text(payload: bytes) -> str:
    return payload.decode("utf-8", "replace")
