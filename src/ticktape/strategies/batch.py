"""A window of events plus the columns batch strategies read, built once and shared.

Why: a strategy that looks at one event at a time pays Python's per-event cost for every counter
and histogram it keeps. Most of the latency monitor is aggregation that numpy can do over a whole
window, so the replay driver hands strategies an :class:`EventBatch`: the events themselves (in
replay order, for whatever a strategy wants to do per event) and numpy columns of the fields that
aggregations need. The columns are computed once per window, whatever the number of strategies.

Contract:

* ``events[k]`` and row ``k`` of every column describe the same event; the order is replay order.
* ``kind`` is :data:`QUOTE`, :data:`TRADE` or :data:`OTHER` (connection events, decode errors).
* ``exchange`` indexes ``exchanges`` (names); ``symbol`` indexes ``symbols`` for market events and
  is ``-1`` for the others. Codes are local to the batch (strategies map names, not codes).
* ``exch_ns``/``req_ns`` hold 0 where the event has no such timestamp (``has_exch_ns``/
  ``has_req_ns`` say which); for :data:`OTHER` events both are absent.
* ``exact`` is False when an integer field of some event does not fit comfortably in int64
  (``|x| >= 2**62``): a strategy must then fall back to its per-event path for the batch, which
  handles Python's unbounded integers. Every integer column is then meaningless.

A batch must not be mutated; strategies only read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import compress
from operator import attrgetter
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ticktape.exchanges.events import Event, Quote, Trade

QUOTE: Final = 0
TRADE: Final = 1
OTHER: Final = 2
KIND_OF_TYPE: Final[dict[type, int]] = {Quote: QUOTE, Trade: TRADE}

SAFE_INT: Final = 1 << 62  # columns hold only values with |x| < SAFE_INT (see ``exact``)


class EventBatch:
    """Events in replay order and their columns (see the module docstring for the contract)."""

    __slots__ = (
        "conn_id", "events", "exact", "exch_ns", "exchange", "exchanges", "has_exch_ns",
        "has_req_ns", "kind", "recv_ns", "req_ns", "seq", "symbol", "symbols",
    )  # fmt: skip

    def __init__(
        self,
        events: Sequence[Event],
        *,
        kind: np.ndarray,
        recv_ns: np.ndarray,
        conn_id: np.ndarray,
        seq: np.ndarray,
        exchange: np.ndarray,
        exchanges: list[str],
        symbol: np.ndarray,
        symbols: list[str],
        exch_ns: np.ndarray,
        has_exch_ns: np.ndarray,
        req_ns: np.ndarray,
        has_req_ns: np.ndarray,
        exact: bool = True,
    ) -> None:
        self.events = events
        self.kind = kind
        self.recv_ns = recv_ns
        self.conn_id = conn_id
        self.seq = seq
        self.exchange = exchange
        self.exchanges = exchanges
        self.symbol = symbol
        self.symbols = symbols
        self.exch_ns = exch_ns
        self.has_exch_ns = has_exch_ns
        self.req_ns = req_ns
        self.has_req_ns = has_req_ns
        self.exact = exact

    def __len__(self) -> int:
        return len(self.events)

    @classmethod
    def from_events(cls, events: Sequence[Event]) -> EventBatch:
        """Build every column from the events themselves (live use, tests, any event source)."""
        n = len(events)
        kind = kind_codes(events)
        try:
            recv_ns = _ints(events, "recv_ns", n)
            conn_id = _ints(events, "conn_id", n)
            seq = _ints(events, "seq", n)
        except OverflowError:
            return cls._inexact(events, kind)
        exchange, exchanges = intern_codes(list(map(_EXCHANGE, events)))
        batch = cls.with_identity(
            events, kind, recv_ns=recv_ns, conn_id=conn_id, seq=seq, exchange=exchange,
            exchanges=exchanges, req_ns=None, has_req_ns=None,
        )  # fmt: skip
        if batch.exact and not (_fits(recv_ns) and _fits(conn_id) and _fits(seq)):
            batch.exact = False
        return batch

    @classmethod
    def with_identity(
        cls,
        events: Sequence[Event],
        kind: np.ndarray,
        *,
        recv_ns: np.ndarray,
        conn_id: np.ndarray,
        seq: np.ndarray,
        exchange: np.ndarray,
        exchanges: list[str],
        req_ns: np.ndarray | None,
        has_req_ns: np.ndarray | None,
    ) -> EventBatch:
        """Build a batch whose identity columns the caller already knows.

        The replay driver knows, per event, the row it came from, and every event carries its
        row's ``exchange``, ``recv_ns``, ``conn_id`` and ``seq`` (the events contract), so only
        ``symbol`` and ``exch_ns`` are read from the events here. ``req_ns``/``has_req_ns`` (the
        row's REST request time; both or neither) count for market events only; None reads
        ``req_ns`` from the events. The caller guarantees ``|recv_ns| < 2**62``.
        """
        n = len(events)
        market_mask = kind != OTHER
        all_market = bool(market_mask.all())
        market = events if all_market else list(compress(events, market_mask.tolist()))
        exact = True
        if not market:
            symbols: list[str] = []
            symbol = np.full(n, -1, dtype=np.int32)
            exch_ns, has_exch_ns = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
        else:
            codes, symbols = intern_codes(list(map(_SYMBOL, market)))
            exch, has_exch, exact = _optional_ints(list(map(_EXCH_NS, market)))
            symbol, exch_ns, has_exch_ns = _spread(
                (codes, -1), (exch, 0), (has_exch, False), mask=None if all_market else market_mask
            )
        if req_ns is None or has_req_ns is None:
            if market:
                req, has_req, ok = _optional_ints(list(map(_REQ_NS, market)))
                exact = exact and ok
                req_ns, has_req_ns = _spread(
                    (req, 0), (has_req, False), mask=None if all_market else market_mask
                )
            else:
                req_ns, has_req_ns = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
        else:
            has_req_ns = has_req_ns & market_mask
            req_ns = np.where(has_req_ns, req_ns, 0)
            exact = exact and _fits(req_ns)
        return cls(
            events, kind=kind, recv_ns=recv_ns, conn_id=conn_id, seq=seq, exchange=exchange,
            exchanges=exchanges, symbol=symbol, symbols=symbols, exch_ns=exch_ns,
            has_exch_ns=has_exch_ns, req_ns=req_ns, has_req_ns=has_req_ns, exact=exact,
        )  # fmt: skip

    @classmethod
    def _inexact(cls, events: Sequence[Event], kind: np.ndarray) -> EventBatch:
        empty = np.zeros(len(events), dtype=np.int64)
        none = np.zeros(len(events), dtype=bool)
        return cls(
            events, kind=kind, recv_ns=empty, conn_id=empty, seq=empty, exchange=empty,
            exchanges=[], symbol=empty, symbols=[], exch_ns=empty, has_exch_ns=none,
            req_ns=empty, has_req_ns=none, exact=False,
        )  # fmt: skip


_EXCHANGE: Final = attrgetter("exchange")
_SYMBOL: Final = attrgetter("symbol")
_EXCH_NS: Final = attrgetter("exch_ns")
_REQ_NS: Final = attrgetter("req_ns")


class _Interner(dict[str, int]):
    """``name -> code`` in order of first appearance; unknown names get the next code."""

    def __missing__(self, name: str) -> int:
        code = self[name] = len(self)
        return code


def kind_codes(events: Sequence[Event]) -> np.ndarray:
    """:data:`QUOTE`/:data:`TRADE`/:data:`OTHER` per event (int8)."""
    kinds = KIND_OF_TYPE.get
    return np.fromiter(
        (OTHER if k is None else k for k in map(kinds, map(type, events))), np.int8, len(events)
    )


def intern_codes(names: list[str]) -> tuple[np.ndarray, list[str]]:
    """Codes (int32) for ``names`` and the list of distinct names they index."""
    table = _Interner()
    codes = np.fromiter(map(table.__getitem__, names), np.int32, len(names))
    return codes, list(table)


def _spread(*columns: tuple[np.ndarray, object], mask: np.ndarray | None) -> list[np.ndarray]:
    """Columns of the market events -> columns of all events (``fill`` for the others)."""
    if mask is None:
        return [values for values, _ in columns]
    out = []
    for values, fill in columns:
        full = np.full(len(mask), fill, dtype=values.dtype)
        full[mask] = values
        out.append(full)
    return out


def _ints(events: Sequence[Event], name: str, n: int) -> np.ndarray:
    return np.fromiter(map(attrgetter(name), events), np.int64, n)


def _fits(values: np.ndarray) -> bool:
    """All ``|x| < 2**62`` (so differences of two values fit in int64)."""
    if not len(values):
        return True
    return bool(values.max() < SAFE_INT) and bool(values.min() > -SAFE_INT)


def _optional_ints(values: list[int | None]) -> tuple[np.ndarray, np.ndarray, bool]:
    """``(values with None as 0, mask of present values, all present values fit)``."""
    n = len(values)
    if values.count(None) == n:
        return np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool), True
    try:
        array = pa.array(values, pa.int64())
    except (OverflowError, pa.ArrowException):
        return np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool), False
    if not array.null_count:
        filled = array.to_numpy()
        return filled, np.ones(n, dtype=bool), _fits(filled)
    filled = pc.fill_null(array, 0).to_numpy()
    return filled, array.is_valid().to_numpy(zero_copy_only=False), _fits(filled)
