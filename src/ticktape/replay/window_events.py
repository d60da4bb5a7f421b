"""One decoded window: rows read by the compiled decoder (columns) and by Python (objects),
merged into one :class:`EventBatch` in row order, with event objects built only on demand.

Why lazy: a replay that only feeds batch strategies never needs a ``Quote`` object for a row
the compiled decoder read; building one costs more than decoding it did. Whoever indexes or
iterates ``batch.events`` (the digest, ``Tape.events``, per-event strategies, paced replays)
gets exactly the objects the Python decoder would have built: the same class, the same field
values (``tests/native`` and ``tests/replay/test_replay_native.py`` check it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload

import numpy as np

from ticktape._native import eventpack, fastdecode
from ticktape.exchanges.events import BUY, SELL, Event, Quote, Trade
from ticktape.replay.merge import NO_REQ, Columns
from ticktape.strategies.batch import (
    OTHER,
    QUOTE,
    TRADE,
    EventBatch,
    SymbolCodes,
    market_values,
    object_columns,
)

NATIVE_QUOTE, NATIVE_TRADE = 1, 2  # fastdecode status codes


class NativeRows:
    """The compiled decoder's output for one window: one slot per row (``status`` 0: not read).

    ``f0..f3`` are bid, bid size, ask, ask size (trades: price, size); ``symbol``/``exchange``
    are codes (the route's); ``tid_start``/``tid_len`` locate a trade id in the payload.
    ``synced`` is how far stateful decoders have been told about these rows.
    """

    __slots__ = (
        "exch_ns", "exchange", "f0", "f1", "f2", "f3", "has_exch", "side", "status", "symbol",
        "synced", "tid_len", "tid_start",
    )  # fmt: skip

    def __init__(self, n: int) -> None:
        self.status = np.zeros(n, dtype=np.int8)
        self.f0 = np.zeros(n, dtype=np.float64)
        self.f1 = np.zeros(n, dtype=np.float64)
        self.f2 = np.zeros(n, dtype=np.float64)
        self.f3 = np.zeros(n, dtype=np.float64)
        self.exch_ns = np.zeros(n, dtype=np.int64)
        self.has_exch = np.zeros(n, dtype=np.int8)
        self.side = np.zeros(n, dtype=np.int8)
        self.tid_start = np.zeros(n, dtype=np.int32)
        self.tid_len = np.zeros(n, dtype=np.int32)
        self.symbol = np.zeros(n, dtype=np.int32)
        self.exchange = np.zeros(n, dtype=np.int32)
        self.synced = 0


class WindowEvents:
    """A decoded window before assembly: ``objs`` (Python events, in order; ``obj_rows[i]`` is
    the row of ``objs[i]``, a row's Gap first) and ``native`` (None: Python read every row)."""

    __slots__ = ("native", "obj_rows", "objs", "window")

    def __init__(
        self, window: Columns, objs: list[Event], obj_rows: np.ndarray, native: NativeRows | None
    ) -> None:
        self.window = window
        self.objs = objs
        self.obj_rows = obj_rows
        self.native = native

    def batch(
        self, exchanges: list[str], route_exchange: np.ndarray, codes: SymbolCodes
    ) -> EventBatch:
        """Every event of the window, in row order, as one batch (identity columns from rows).

        ``exchanges``/``route_exchange``: exchange names and the code of each route id.
        """
        window, objs, native = self.window, self.objs, self.native
        n = len(window)
        obj_counts = np.bincount(self.obj_rows, minlength=n) if len(objs) else None
        if native is None:
            native_rows = np.zeros(0, dtype=np.int64)
            counts = obj_counts if obj_counts is not None else np.zeros(n, dtype=np.int64)
        else:
            read = native.status != 0
            native_rows = np.flatnonzero(read)
            counts = read.astype(np.int64)
            if obj_counts is not None:
                counts += obj_counts
        total = int(counts.sum())
        identity_rows: np.ndarray | None
        if total == n and bool((counts == 1).all()):
            identity_rows = None  # event k is row k
        else:
            identity_rows = np.repeat(np.arange(n), counts)
        if len(native_rows):
            starts = np.cumsum(counts) - counts
            native_pos = starts[native_rows]
            if obj_counts is not None:
                native_pos = native_pos + obj_counts[native_rows]  # a Gap comes first
        else:
            native_pos = native_rows
        obj_pos: np.ndarray | slice
        if len(native_rows) == 0:
            obj_pos = slice(None)
        elif len(objs):
            is_obj = np.ones(total, dtype=bool)
            is_obj[native_pos] = False
            obj_pos = np.flatnonzero(is_obj)
        else:
            obj_pos = np.zeros(0, dtype=np.int64)

        def rows_of(column: np.ndarray) -> np.ndarray:
            return column if identity_rows is None else column[identity_rows]

        kind = np.empty(total, dtype=np.int8)
        symbol = np.empty(total, dtype=np.int32)
        exch_ns = np.zeros(total, dtype=np.int64)
        has_exch = np.zeros(total, dtype=bool)
        bid, bid_size, ask, ask_size = (np.zeros(total, dtype=np.float64) for _ in range(4))
        side = np.full(total, -1, dtype=np.int8)
        exact = True
        if objs:
            columns = object_columns(objs, codes)
            exact = columns.exact
            kind[obj_pos] = columns.kind
            symbol[obj_pos] = columns.symbol
            exch_ns[obj_pos] = columns.exch_ns
            has_exch[obj_pos] = columns.has_exch_ns
            values = market_values(objs, columns.kind)
            for target, source in zip((bid, bid_size, ask, ask_size, side), values, strict=True):
                target[obj_pos] = source
        if len(native_rows):
            assert native is not None
            status = native.status[native_rows]
            kind[native_pos] = np.where(status == NATIVE_QUOTE, QUOTE, TRADE)
            symbol[native_pos] = native.symbol[native_rows]
            exch_ns[native_pos] = native.exch_ns[native_rows]
            has_exch[native_pos] = native.has_exch[native_rows] != 0
            bid[native_pos] = native.f0[native_rows]
            bid_size[native_pos] = native.f1[native_rows]
            ask[native_pos] = np.where(status == NATIVE_QUOTE, native.f2[native_rows], 0.0)
            ask_size[native_pos] = np.where(status == NATIVE_QUOTE, native.f3[native_rows], 0.0)
            side[native_pos] = np.where(status == NATIVE_TRADE, native.side[native_rows], -1)

        recv = rows_of(window.recv)
        market = kind != OTHER
        req = rows_of(window.req)
        has_req = (req != NO_REQ) & market
        req_ns = np.where(has_req, req, 0)
        batch = EventBatch(
            (), kind=kind, recv_ns=recv, conn_id=rows_of(window.conn), seq=rows_of(window.seq),
            exchange=route_exchange[rows_of(window.route)], exchanges=list(exchanges),
            symbol=symbol, symbols=codes.names_list(), exch_ns=exch_ns, has_exch_ns=has_exch,
            req_ns=req_ns, has_req_ns=has_req, values=(bid, bid_size, ask, ask_size, side),
            exact=exact,
        )  # fmt: skip
        if not len(native_rows):
            batch.events = objs
        else:
            batch.events = LazyEvents(batch, objs, obj_pos, native_pos, native, native_rows, window)
        return batch


class _Columns:
    """The batch columns :class:`LazyEvents` builds events from. Holding them rather than the
    batch avoids a reference cycle (batch -> events -> batch), which only the cyclic garbage
    collector could free: with few Python objects allocated per window it seldom runs, and each
    uncollected window would keep its Arrow payload buffers alive (memory grew with the day)."""

    __slots__ = (
        "ask", "ask_size", "bid", "bid_size", "conn_id", "exch_ns", "exchange", "exchanges",
        "has_exch_ns", "has_req_ns", "kind", "recv_ns", "req_ns", "seq", "side", "symbol",
        "symbols",
    )  # fmt: skip

    def __init__(self, batch: EventBatch) -> None:
        for name in self.__slots__:
            setattr(self, name, getattr(batch, name))


class LazyEvents(Sequence[Event]):
    """``batch.events`` of a window with compiled rows: objects built when first asked for."""

    __slots__ = ("_batch", "_built", "_native", "_native_pos", "_native_rows", "_window")

    def __init__(
        self,
        batch: EventBatch,
        objs: list[Event],
        obj_pos: np.ndarray | slice,
        native_pos: np.ndarray,
        native: NativeRows,
        native_rows: np.ndarray,
        window: Columns,
    ) -> None:
        n = len(batch)
        self._batch = _Columns(batch)  # not the batch itself: batch.events is this object
        self._built: list[Any] = [None] * n
        for pos, event in zip(np.arange(n)[obj_pos].tolist(), objs, strict=True):
            self._built[pos] = event
        self._native = native  # for trade ids: event native_pos[i] came from native_rows[i]
        self._native_pos = native_pos
        self._native_rows = native_rows
        self._window = window

    def __len__(self) -> int:
        return len(self._built)

    @overload
    def __getitem__(self, index: int) -> Event: ...
    @overload
    def __getitem__(self, index: slice) -> list[Event]: ...
    def __getitem__(self, index: int | slice) -> Event | list[Event]:
        if isinstance(index, slice):
            return [self[k] for k in range(*index.indices(len(self._built)))]
        event = self._built[index]
        if event is None:  # a compiled event: build them all (one pass, see _build_all)
            self._build_all()
            event = self._built[index]
        return event  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[Event]:
        self._build_all()
        return iter(self._built)

    def _build_all(self) -> None:
        """Build every compiled event at once (column lists, one loop): what iterating costs
        (the digest, ``Tape.events``), ~5x cheaper than building them one by one."""
        built = self._built
        todo = [k for k in self._native_pos.tolist() if built[k] is None]
        if not todo:
            return
        at = np.array(todo, dtype=np.int64)
        b = self._batch
        exchanges = [b.exchanges[c] for c in b.exchange[at].tolist()]
        symbols = [b.symbols[c] for c in b.symbol[at].tolist()]
        exch_ns = [
            v if has else None
            for v, has in zip(b.exch_ns[at].tolist(), b.has_exch_ns[at].tolist(), strict=True)
        ]
        req_ns = [
            v if has else None
            for v, has in zip(b.req_ns[at].tolist(), b.has_req_ns[at].tolist(), strict=True)
        ]
        is_quote = (b.kind[at] == QUOTE).tolist()
        trades = [i for i, q in enumerate(is_quote) if not q]
        trade_ids = dict(zip(trades, self.trade_ids(at[trades]), strict=True)) if trades else {}
        rows = zip(
            todo, is_quote, exchanges, symbols, b.recv_ns[at].tolist(), exch_ns,
            b.conn_id[at].tolist(), b.seq[at].tolist(), b.bid[at].tolist(),
            b.bid_size[at].tolist(), b.ask[at].tolist(), b.ask_size[at].tolist(),
            b.side[at].tolist(), req_ns, strict=True,
        )  # fmt: skip
        for i, (k, quote, ex, sym, recv, exch, conn, seq, f0, f1, f2, f3, side, req) in enumerate(
            rows
        ):
            if quote:
                built[k] = Quote(ex, sym, recv, exch, conn, seq, f0, f1, f2, f3, req)
            else:
                built[k] = Trade(
                    ex, sym, recv, exch, conn, seq, f0, f1, SELL if side else BUY, trade_ids[i],
                    req,
                )  # fmt: skip

    def msgpack_runs(self, encode: Callable[[Event], bytes]) -> Iterator[bytes]:
        """The events' msgpack encodings back to back, in order, as a few chunks: runs of
        compiled events written from the columns (``_native/eventpack``: the same bytes msgspec
        writes for the objects), other events through ``encode``. For the event digest."""
        assert eventpack is not None
        b = self._batch
        n = len(self._built)
        native = np.zeros(n, dtype=bool)
        native[self._native_pos] = True
        edges = np.flatnonzero(np.diff(native.astype(np.int8))) + 1
        exchanges = [name.encode() for name in b.exchanges]
        symbols = [name.encode() for name in b.symbols]
        for start, stop in zip([0, *edges.tolist()], [*edges.tolist(), n], strict=True):
            if not native[start]:
                yield b"".join(encode(self[k]) for k in range(start, stop))
                continue
            at = np.arange(start, stop, dtype=np.int64)
            trades = at[b.kind[at] == TRADE]
            ids = dict(zip(trades.tolist(), self.trade_ids(trades), strict=True))
            yield eventpack.pack_events(
                at, b.kind, b.exchange, exchanges, b.symbol, symbols, b.recv_ns, b.exch_ns,
                b.has_exch_ns.view(np.uint8), b.conn_id, b.seq, b.bid, b.bid_size, b.ask,
                b.ask_size, b.side, b.req_ns, b.has_req_ns.view(np.uint8),
                [ids[k].encode() if k in ids else b"" for k in at.tolist()],
            )  # fmt: skip

    def trade_ids(self, positions: np.ndarray) -> list[str]:
        """``trade_id`` of the trade events at ``positions`` without building them."""
        ids: list[str | None] = [self._built[k] and self._built[k].trade_id for k in positions]
        missing = [i for i, v in enumerate(ids) if v is None]
        if missing:
            where = np.searchsorted(self._native_pos, positions[missing])
            rows = self._native_rows[where]
            addr = self._window.addr[rows]
            start, length = self._native.tid_start[rows], self._native.tid_len[rows]
            assert fastdecode is not None  # compiled rows exist only with the extension
            found = fastdecode.ascii_strings(addr, start, length)
            for i, value in zip(missing, found, strict=True):
                ids[i] = value
        return ids  # type: ignore[return-value]


__all__ = ["LazyEvents", "NativeRows", "WindowEvents"]
