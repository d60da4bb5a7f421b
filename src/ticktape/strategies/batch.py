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
* ``bid``, ``bid_size``, ``ask``, ``ask_size`` (float64) hold a quote's values; for a trade,
  ``bid`` is its price and ``bid_size`` its size (also reachable as ``price`` and ``size``), and
  ``side`` is 0 (taker bought) or 1 (taker sold); other events hold 0.0 and side -1.
* ``exact`` is False when an integer field of some event does not fit comfortably in int64
  (``|x| >= 2**62``): a strategy must then fall back to its per-event path for the batch, which
  handles Python's unbounded integers. Every integer column is then meaningless.
* ``events`` is a sequence of the events themselves. The replay builds it lazily (events decoded
  by the compiled decoder exist only as columns until someone indexes or iterates ``events``), so
  batch strategies should read columns and index ``events`` only where they need an object.

A batch must not be mutated; strategies only read it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import compress
from operator import attrgetter
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ticktape.exchanges.events import BUY, Event, Quote, Trade

QUOTE: Final = 0
TRADE: Final = 1
OTHER: Final = 2
KIND_OF_TYPE: Final[dict[type, int]] = {Quote: QUOTE, Trade: TRADE}

SAFE_INT: Final = 1 << 62  # columns hold only values with |x| < SAFE_INT (see ``exact``)


class EventBatch:
    """Events in replay order and their columns (see the module docstring for the contract)."""

    __slots__ = (
        "ask", "ask_size", "bid", "bid_size", "conn_id", "events", "exact", "exch_ns", "exchange",
        "exchanges", "has_exch_ns", "has_req_ns", "kind", "recv_ns", "req_ns", "seq", "side",
        "symbol", "symbols",
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
        values: MarketValues | None = None,
        exact: bool = True,
    ) -> None:
        self.events = events
        if values is None:
            values = market_values(events, kind)
        self.bid, self.bid_size, self.ask, self.ask_size, self.side = values
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
        return len(self.kind)

    @property
    def price(self) -> np.ndarray:
        """Trades' prices (the ``bid`` column; see the module docstring)."""
        return self.bid

    @property
    def size(self) -> np.ndarray:
        """Trades' sizes (the ``bid_size`` column)."""
        return self.bid_size

    @classmethod
    def from_events(cls, events: Sequence[Event]) -> EventBatch:
        """Build every column from the events themselves (live use, tests, any event source)."""
        n = len(events)
        try:
            recv_ns = _ints(events, "recv_ns", n)
            conn_id = _ints(events, "conn_id", n)
            seq = _ints(events, "seq", n)
        except OverflowError:
            return cls._inexact(events)
        exchange, exchanges = intern_codes(map(_EXCHANGE, events), n)
        batch = cls.with_identity(
            events, recv_ns=recv_ns, conn_id=conn_id, seq=seq, exchange=exchange,
            exchanges=exchanges, req_ns=None, has_req_ns=None,
        )  # fmt: skip
        if batch.exact and not (fits(recv_ns) and fits(conn_id) and fits(seq)):
            batch.exact = False
        return batch

    @classmethod
    def with_identity(
        cls,
        events: Sequence[Event],
        *,
        recv_ns: np.ndarray,
        conn_id: np.ndarray,
        seq: np.ndarray,
        exchange: np.ndarray,
        exchanges: list[str],
        req_ns: np.ndarray | None,
        has_req_ns: np.ndarray | None,
        codes: SymbolCodes | None = None,
    ) -> EventBatch:
        """Build a batch whose identity columns the caller already knows.

        The replay driver knows, per event, the row it came from, and every event carries its
        row's ``exchange``, ``recv_ns``, ``conn_id`` and ``seq`` (the events contract), so only
        the type, ``symbol`` and ``exch_ns`` are read from the events here, in one pass.
        ``req_ns``/``has_req_ns`` (the row's REST request time; both or neither) count for
        market events only; None reads ``req_ns`` from the events. ``codes`` keeps symbol codes
        from batch to batch (pass the same one for every window). The caller guarantees
        ``|recv_ns| < 2**62``.
        """
        columns = object_columns(events, codes or SymbolCodes())
        kind, symbol, symbols = columns.kind, columns.symbol, columns.symbols
        exch_ns, has_exch_ns, exact = columns.exch_ns, columns.has_exch_ns, columns.exact
        market = kind != OTHER
        if req_ns is None or has_req_ns is None:
            market_events = compress(events, market.tolist())
            req, has_req, ok = _optional_ints([e.req_ns for e in market_events])  # type: ignore[union-attr]
            exact = exact and ok
            req_ns = np.zeros(len(events), dtype=np.int64)
            has_req_ns = np.zeros(len(events), dtype=bool)
            req_ns[market] = req
            has_req_ns[market] = has_req
        else:
            has_req_ns = has_req_ns & market
            req_ns = np.where(has_req_ns, req_ns, 0)
            exact = exact and fits(req_ns)
        return cls(
            events, kind=kind, recv_ns=recv_ns, conn_id=conn_id, seq=seq, exchange=exchange,
            exchanges=exchanges, symbol=symbol, symbols=symbols, exch_ns=exch_ns,
            has_exch_ns=has_exch_ns, req_ns=req_ns, has_req_ns=has_req_ns, exact=exact,
        )  # fmt: skip

    @classmethod
    def _inexact(cls, events: Sequence[Event]) -> EventBatch:
        empty = np.zeros(len(events), dtype=np.int64)
        none = np.zeros(len(events), dtype=bool)
        return cls(
            events, kind=kind_codes(events), recv_ns=empty, conn_id=empty, seq=empty,
            exchange=empty, exchanges=[], symbol=empty, symbols=[], exch_ns=empty,
            has_exch_ns=none, req_ns=empty, has_req_ns=none, exact=False,
        )  # fmt: skip


class SymbolCodes:
    """Symbol codes shared by the batches of one replay (so they are learned once).

    ``by_class[Quote][symbol]`` is ``2 * code + QUOTE`` (``Trade``: ``+ TRADE``); ``names[code]``
    is the symbol. Codes only grow; a batch's ``symbols`` is ``names`` as it was then.
    """

    __slots__ = ("by_class", "names")

    def __init__(self) -> None:
        self.by_class: dict[type, dict[str, int]] = {Quote: {}, Trade: {}}
        self.names: dict[str, int] = {}

    def learn(self, event: Event, market_kind: int) -> int:
        symbol = event.symbol  # type: ignore[union-attr]
        code = 2 * self.code(symbol) + market_kind
        self.by_class[type(event)][symbol] = code
        return code

    def code(self, symbol: str) -> int:
        """The code of ``symbol`` (a new one if it has none yet)."""
        return self.names.setdefault(symbol, len(self.names))

    def names_list(self) -> list[str]:
        """The symbols by code, as they are now."""
        return list(self.names)


class ObjectColumns:
    """The columns :func:`object_columns` reads from event objects."""

    __slots__ = ("exact", "exch_ns", "has_exch_ns", "kind", "symbol", "symbols")

    def __init__(
        self, kind: np.ndarray, symbol: np.ndarray, symbols: list[str], exch_ns: np.ndarray,
        has_exch_ns: np.ndarray, exact: bool,
    ) -> None:  # fmt: skip
        self.kind, self.symbol, self.symbols = kind, symbol, symbols
        self.exch_ns, self.has_exch_ns, self.exact = exch_ns, has_exch_ns, exact


def object_columns(events: Sequence[Event], codes: SymbolCodes) -> ObjectColumns:
    """Kind and symbol codes and ``exch_ns`` of event objects (``exact``: every ``exch_ns``
    fits, see the module docstring); ``codes`` learns new symbols."""
    kind, symbol, stamps, symbols = _read_events(events, codes)
    exch_ns, has_exch_ns, exact = _optional_ints(stamps)
    return ObjectColumns(kind, symbol, symbols, exch_ns, has_exch_ns, exact)


def _read_events(
    events: Sequence[Event], table: SymbolCodes
) -> tuple[np.ndarray, np.ndarray, list[int | None], list[str]]:
    """Kind codes, symbol codes (-1: none), ``exch_ns`` (None: none) and the symbols the codes
    index.

    Each pass over 64k event objects costs about a cache miss per event, so the common window
    (only quotes and trades of known symbols) takes two list comprehensions, the cheapest loops
    CPython has. A new symbol or a non-market event makes the first one raise; the window then
    goes through :func:`_read_events_slowly`, which learns the symbol (once per replay).
    """
    by_class = table.by_class
    try:
        codes = [by_class[e.__class__][e.symbol] for e in events]  # type: ignore[union-attr]
    except (KeyError, AttributeError):
        codes, stamps = _read_events_slowly(events, table)
    else:
        stamps = [e.exch_ns for e in events]  # type: ignore[union-attr]
    code_array = np.array(codes, dtype=np.int32)
    market = code_array >= 0
    kind = np.where(market, code_array & 1, OTHER).astype(np.int8)
    symbol = np.where(market, code_array >> 1, -1).astype(np.int32)
    return kind, symbol, stamps, list(table.names)


def _read_events_slowly(
    events: Sequence[Event], table: SymbolCodes
) -> tuple[list[int], list[int | None]]:
    """One pass with an ``except`` per new symbol or non-market event (code -1, no stamp)."""
    n = len(events)
    codes = [-1] * n
    stamps: list[int | None] = [None] * n
    by_class = table.by_class
    it = iter(events)
    k = 0
    while True:
        try:
            for event in it:
                codes[k] = by_class[event.__class__][event.symbol]  # type: ignore[union-attr]
                stamps[k] = event.exch_ns  # type: ignore[union-attr]
                k += 1
            return codes, stamps
        except (KeyError, AttributeError):
            event = events[k]
            market_kind = KIND_OF_TYPE.get(type(event))
            if market_kind is not None:  # a new symbol
                codes[k] = table.learn(event, market_kind)
                stamps[k] = event.exch_ns  # type: ignore[union-attr]
            k += 1


MarketValues = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""``(bid, bid_size, ask, ask_size, side)`` columns (see the module docstring)."""

_QUOTE_VALUES: Final = attrgetter("bid", "bid_size", "ask", "ask_size")
_TRADE_VALUES: Final = attrgetter("price", "size", "side")


def market_values(events: Sequence[Event], kind: np.ndarray) -> MarketValues:
    """The value columns of ``events`` (``kind`` their kind codes), read from the objects."""
    n = len(kind)
    values = np.zeros((4, n), dtype=np.float64)
    side = np.full(n, -1, dtype=np.int8)
    quotes = np.flatnonzero(kind == QUOTE)
    if len(quotes):
        values[:, quotes] = np.array(
            [_QUOTE_VALUES(events[k]) for k in quotes.tolist()], dtype=np.float64
        ).T
    trades = np.flatnonzero(kind == TRADE).tolist()
    if trades:
        read = [_TRADE_VALUES(events[k]) for k in trades]
        values[0, trades] = [r[0] for r in read]
        values[1, trades] = [r[1] for r in read]
        side[trades] = [0 if r[2] == BUY else 1 for r in read]
    return values[0], values[1], values[2], values[3], side


_EXCHANGE: Final = attrgetter("exchange")


class _Interner(dict[str, int]):
    """``name -> code`` in order of first appearance; unknown names get the next code."""

    def __missing__(self, name: str) -> int:
        code = self[name] = len(self)
        return code


class _Kinds(dict[type, int]):
    """``type -> kind code``; any type but Quote and Trade is :data:`OTHER`."""

    def __missing__(self, key: type) -> int:
        return OTHER


_KINDS: Final = _Kinds(KIND_OF_TYPE)


def kind_codes(events: Sequence[Event]) -> np.ndarray:
    """:data:`QUOTE`/:data:`TRADE`/:data:`OTHER` per event (int8)."""
    return np.fromiter(map(_KINDS.__getitem__, map(type, events)), np.int8, len(events))


def intern_codes(names: Iterable[str], count: int) -> tuple[np.ndarray, list[str]]:
    """Codes (int32) for the ``count`` ``names`` and the list of distinct names they index."""
    table = _Interner()
    codes = np.fromiter(map(table.__getitem__, names), np.int32, count)
    return codes, list(table)


def _ints(events: Sequence[Event], name: str, n: int) -> np.ndarray:
    return np.fromiter(map(attrgetter(name), events), np.int64, n)


def fits(values: np.ndarray) -> bool:
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
        return filled, np.ones(n, dtype=bool), fits(filled)
    filled = pc.fill_null(array, 0).to_numpy()
    return filled, array.is_valid().to_numpy(zero_copy_only=False), fits(filled)
