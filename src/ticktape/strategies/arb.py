"""Cross-exchange arbitrage: buy on A at A's ask, sell on B at B's bid, after both taker fees.

Rules (each one is a test in ``tests/strategies/test_arb_rules.py``):

- Every ordered pair of exchanges (A, B), A != B, is watched for every symbol both quote.
- Net edge per unit of base asset: ``bid_B * (1 - fee_B) - ask_A * (1 + fee_A)`` (quote currency);
  ``edge_bps = net / ask_A * 1e4`` (net edge as a fraction of the buy price). An opportunity exists
  iff ``bid_B * (1 - fee_B) > ask_A * (1 + fee_A + min_edge_bps / 1e4)``, i.e. the net edge is
  strictly above ``min_edge_bps`` (so with ``min_edge_bps=0`` it must be strictly positive).
- ``size = min(ask_size_A, bid_size_B)``; ``profit = net * size`` (quote currency, before slippage:
  an upper bound of what one pair of taker orders at top of book could have made).
- A quote side is usable only if its price and size are positive and finite; a quote whose bid is
  at or above its ask (a crossed book on one exchange) is ignored entirely. Both are counted.
- A quote received at ``t`` is fresh while ``now < t + staleness`` (``now`` = ``recv_ns`` of the
  event being processed; any event advances it). It is dropped at once when the connection that
  delivered it (``exchange``, ``conn_id``) reports :class:`Disconnected`. Gaps do not drop quotes:
  a top-of-book message replaces the whole state, so the next one repairs any loss.
- Episodes: an opportunity opens, updates (any change of the two prices or sizes) and closes when
  the edge is gone, a side becomes unusable, a quote goes stale (closed by the first event at or
  after the deadline, ``end_ns`` = the deadline), its connection drops, or the data ends.

Speed (a whole replay costs ~0.5 µs per event): the state of each (symbol, exchange) is one
:class:`~ticktape.strategies.arb_book.Slot` holding that exchange's latest quote (effective
prices, deadline and connection are derived from it when needed), open episodes sit in an
exchange x exchange grid per symbol, and each symbol's book keeps a bound on the best effective
bid and the lowest hurdle. The common case, a fully usable quote on a slot with no open episode
whose hurdle is at or above the best bid and whose bid is at or below the lowest hurdle, cannot
open anything: it replaces the slot's quote and raises the bounds, nothing else. That rule is
written out in ``_quotes_inline``, the one Python loop ``on_event`` and ``on_batch`` both use,
and compiled for batches in ``_native/arbquiet.pyx`` (~0.04 µs per event against ~0.2 in
Python), which hands every other event back to that loop. ``on_batch`` finds slots once per
batch from the batch's codes and reads quote values straight from the batch columns, so no
event object is needed. Every other quote takes the general path (``_on_quote``), which
re-checks unchanged prices and scans the other exchanges. The staleness deadlines of all open
episodes are tracked as one lower bound, so checking for expiry costs one integer comparison
per event. ``tests/strategies/test_arb_batch.py`` holds every entry point (the batch path
compiled and not) to the per-event path; ``test_arb_rules.py`` (hand-computed answers) and a
brute-force reference in ``test_strategy_determinism.py`` pin what that path computes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import islice
from math import inf, nan
from typing import Any, Final

import numpy as np
import pyarrow as pa

from ticktape._native import arbquiet
from ticktape.exchanges.events import Disconnected, Event, Quote
from ticktape.strategies import arb_tables as tables
from ticktape.strategies import fees
from ticktape.strategies.arb_book import (
    CONN,
    NO_DEADLINE,
    Book,
    Episode,
    QuoteValues,
    Slot,
    State,
    effective,
)
from ticktape.strategies.base import Signal, StrategyConfigError, ns_from_seconds
from ticktape.strategies.batch import OTHER, QUOTE, EventBatch

NAME: Final = "arb"
DEFAULT_MIN_EDGE_BPS: Final = 1.0
_NEVER: Final = 1 << 62  # a deadline later than any ns timestamp
_PASS: Final = object()  # batch slot of an event that only advances time (trades, connects...)


class ArbStrategy:
    """Cross-exchange arbitrage episodes (see the module docstring for every rule).

    ``taker_fees``: overrides of :data:`~ticktape.strategies.fees.DEFAULT_TAKER_FEES` (fractions).
    ``staleness_s``: per-exchange freshness limit in seconds (see
    :func:`~ticktape.strategies.fees.default_staleness`); other exchanges get
    ``default_staleness_s``. ``min_edge_bps``: net edge an opportunity must exceed (>= 0).
    ``keep_updates``: record ``update`` rows in the ``signals`` table (``on_event`` returns them
    either way).
    """

    name = NAME

    def __init__(
        self,
        *,
        taker_fees: Mapping[str, float] | None = None,
        staleness_s: Mapping[str, float] | None = None,
        default_staleness_s: float = fees.DEFAULT_WS_STALENESS_S,
        min_edge_bps: float = DEFAULT_MIN_EDGE_BPS,
        keep_updates: bool = True,
    ) -> None:
        self._fee_table = fees.taker_fees(taker_fees)
        self._default_stale_ns = ns_from_seconds("default_staleness_s", default_staleness_s)
        self._stale_ns = {
            ex: ns_from_seconds(f"staleness_s[{ex!r}]", s) for ex, s in (staleness_s or {}).items()
        }
        if isinstance(min_edge_bps, bool) or not isinstance(min_edge_bps, int | float):
            raise StrategyConfigError(f"min_edge_bps must be a number, got {min_edge_bps!r}")
        if not 0.0 <= min_edge_bps < 10_000.0:
            raise StrategyConfigError(f"min_edge_bps must be in [0, 10000), got {min_edge_bps!r}")
        self._min_edge = float(min_edge_bps) / 1e4
        self._keep_updates = bool(keep_updates)
        self._cap = 4
        self._exchanges: list[str] = []
        self._index: dict[str, int] = {}
        self._ask_mult: list[float] = []
        self._bid_mult: list[float] = []
        self._hurdle_mult: list[float] = []
        self._limit_ns: list[int] = []
        self._ignored: list[dict[str, int]] = []
        self._assumed_fees: dict[str, float] = {}
        self._books: dict[str, Book] = {}
        self._slots: dict[str, dict[str, Slot]] = {}  # exchange -> symbol -> slot
        self._open: dict[int, Episode] = {}  # by episode id: deterministic iteration order
        self._next_deadline = _NEVER  # <= every open episode's staleness deadline
        self._next_id = 0
        self._last_ns = 0
        self._finished = False
        self._signals = tables.Columns(tables.SIGNALS_SCHEMA)
        self._episodes = tables.Columns(tables.EPISODES_SCHEMA)
        self._state = State()  # the slots' and books' hot numbers (see arb_book)
        self._slot_list: list[Slot] = []  # by slot id

    # ----------------------------------------------------------------------------- hot path
    def on_event(self, event: Event) -> list[Signal]:
        """Process one event (replay order); return the signals it caused (usually none)."""
        out: list[Signal] = []
        now = event.recv_ns
        self._last_ns = now
        if now >= self._next_deadline:
            self._expire(now, out)
        if type(event) is Quote:
            by_symbol = self._slots.get(event.exchange)
            slot = None if by_symbol is None else by_symbol.get(event.symbol)
            if slot is None:
                slot = self._slot(event.exchange, event.symbol)
            bid, bid_size, ask, ask_size = event.bid, event.bid_size, event.ask, event.ask_size
            quote = (now, event.conn_id, bid, bid_size, ask, ask_size)
            if 0.0 < bid < ask < inf and 0.0 < bid_size < inf and 0.0 < ask_size < inf:
                eff_bid, hurdle = bid * slot.bid_mult, ask * slot.hurdle_mult
            else:
                eff_bid, hurdle = 0.0, nan  # not fully usable: never the common case
            self._quotes_inline(((quote, slot, eff_bid, hurdle),), out)
        elif type(event) is Disconnected:
            self._on_disconnect(event, now, out)
        return out

    def on_events(self, events: Iterable[Event]) -> list[Signal]:
        """Process a batch; exactly the same as calling :meth:`on_event` on each in turn."""
        out: list[Signal] = []
        on_event = self.on_event
        for event in events:
            signals = on_event(event)
            if signals:
                out.extend(signals)
        return out

    def on_batch(self, batch: EventBatch) -> list[Signal]:
        """Process a columnar batch; exactly the same as :meth:`on_events` on its events.

        Still one event at a time (episodes are a sequential state machine), but each quote's
        :class:`Slot` is found once per batch from the batch's codes and its values come from
        the batch columns; then every event goes through :meth:`_quotes_inline`, exactly as in
        :meth:`on_event`. Only Disconnected events are read as objects.
        """
        n = len(batch)
        if not n:
            return []
        if not batch.exact:
            return self.on_events(batch.events)
        out: list[Signal] = []
        slot_ids, disconnects = self._batch_slots(batch)
        slots = self._slot_list
        eff_bid, hurdle = self._batch_effective(batch)
        if arbquiet is not None:
            self._compiled_batch(batch, slot_ids, disconnects, eff_bid, hurdle, out)
            self._last_ns = int(batch.recv_ns[-1])
            return out
        # One pass over an iterator of value tuples: a list of them would keep 64k tuples alive
        # and make the garbage collector walk them again and again.
        quotes = zip(
            batch.recv_ns.tolist(), batch.conn_id.tolist(), batch.bid.tolist(),
            batch.bid_size.tolist(), batch.ask.tolist(), batch.ask_size.tolist(), strict=True,
        )  # fmt: skip
        by_event = [_PASS if i < 0 else slots[i] for i in slot_ids.tolist()]
        events = zip(quotes, by_event, eff_bid.tolist(), hurdle.tolist(), strict=True)
        start = 0
        for stop in [*disconnects, n]:  # Disconnected events split the batch
            self._quotes_inline(islice(events, stop - start) if stop < n else events, out)
            if stop < n:
                next(events)
                event = batch.events[stop]
                if event.recv_ns >= self._next_deadline:
                    self._expire(event.recv_ns, out)
                self._on_disconnect(event, event.recv_ns, out)  # type: ignore[arg-type]
            start = stop + 1
        self._last_ns = int(batch.recv_ns[-1])
        return out

    def _compiled_batch(
        self,
        batch: EventBatch,
        slot_ids: np.ndarray,
        disconnects: list[int],
        eff_bid: np.ndarray,
        hurdle: np.ndarray,
        out: list[Signal],
    ) -> None:
        """:meth:`on_batch` with the common case compiled (``_native/arbquiet.pyx``): the
        compiled loop stores common-case quotes and stops at every other event, which goes
        through :meth:`_quotes_inline` as a batch of one, exactly as the Python loop would."""
        assert arbquiet is not None
        state = self._state
        recv, conn = batch.recv_ns, batch.conn_id
        bid, bid_size, ask, ask_size = batch.bid, batch.bid_size, batch.ask, batch.ask_size
        state.source = (recv, conn, bid, bid_size, ask, ask_size)
        run = arbquiet.quiet_run
        slots = self._slot_list
        k = 0
        n = len(batch)
        try:
            for stop in [*disconnects, n]:  # Disconnected events split the batch
                while k < stop:
                    k = run(
                        k, stop, slot_ids, recv, eff_bid, hurdle, self._next_deadline,
                        state.eff_bid, state.hurdle, state.open_count, state.at, state.book_of,
                        state.top_bid, state.low_hurdle,
                    )  # fmt: skip
                    if k < stop:  # Python's turn: a deadline passed, or not the common case
                        s = int(slot_ids[k])
                        quote = (
                            int(recv[k]), int(conn[k]), float(bid[k]), float(bid_size[k]),
                            float(ask[k]), float(ask_size[k]),
                        )  # fmt: skip
                        slot = _PASS if s < 0 else slots[s]
                        self._quotes_inline(
                            ((quote, slot, float(eff_bid[k]), float(hurdle[k])),), out
                        )
                        k += 1
                if stop < n:
                    event = batch.events[stop]
                    if event.recv_ns >= self._next_deadline:
                        self._expire(event.recv_ns, out)
                    self._on_disconnect(event, event.recv_ns, out)  # type: ignore[arg-type]
                    k = stop + 1
        finally:
            state.settle()

    def _quotes_inline(
        self, events: Iterable[tuple[QuoteValues, Any, float, float]], out: list[Signal]
    ) -> None:
        """The loop every quote goes through (batch or not), over ``(values, slot, eff_bid,
        hurdle)`` of events without a Disconnected: ``values`` are the event's (from the batch
        columns; only ``recv_ns`` means anything for non-quotes), ``slot`` is the Slot of a
        quote, or ``_PASS`` for an event that only advances time, and ``eff_bid``/``hurdle``
        are the quote's ``bid * (1 - fee)`` and ``ask * (1 + fee + min_edge)`` when all four of
        its values are usable (positive, finite, bid < ask), else NaN as hurdle (every
        comparison with NaN is false). While no episode is open (the usual case) there is no
        deadline to watch, so time is not even read.

        The common case is decided here, written out because a call per quote would cost more
        than the test itself: a fully usable quote, on a slot with no open episode, that cannot
        open anything (its hurdle is at or above the book's ``top_bid``, its bid at or below
        ``low_hurdle``) is stored and raises the bounds, nothing else. Every other quote takes
        :meth:`_on_quote`."""
        next_deadline = self._next_deadline
        watching = next_deadline != _NEVER
        skip = _PASS
        state = self._state
        open_count, at, quotes = state.open_count, state.at, state.quotes
        slot_eff_bid, slot_hurdle = state.eff_bid, state.hurdle
        top_bid, low_hurdle = state.top_bid, state.low_hurdle
        for quote, slot, eff_bid, hurdle in events:
            now = quote[0]
            if watching and now >= next_deadline:
                self._expire(now, out)
                next_deadline = self._next_deadline
                watching = next_deadline != _NEVER
            if slot is skip:
                continue
            s = slot.id
            if not open_count[s]:
                b = slot.book.id
                if hurdle >= top_bid[b] and eff_bid <= low_hurdle[b]:
                    quotes[s] = quote
                    at[s] = -1
                    slot_eff_bid[s] = eff_bid
                    slot_hurdle[s] = hurdle
                    if eff_bid > top_bid[b]:
                        top_bid[b] = eff_bid
                    if hurdle < low_hurdle[b]:
                        low_hurdle[b] = hurdle
                    continue
            self._on_quote(quote, slot, now, out)
            next_deadline = self._next_deadline
            watching = next_deadline != _NEVER

    def _on_quote(self, quote: QuoteValues, slot: Slot, now: int, out: list[Signal]) -> None:
        """A quote, after the staleness check: store it, then open/update/close what it changed."""
        eff_ask, eff_bid, hurdle, why = effective(quote, slot)
        if why:
            self._ignored[slot.index][why] += 1
        unchanged = slot.deadline > now and eff_ask == slot.eff_ask() and eff_bid == slot.eff_bid
        slot.store(quote, eff_ask, eff_bid, hurdle)
        book = slot.book
        if eff_bid > book.top_bid:
            book.top_bid = eff_bid
        if hurdle < book.low_hurdle:
            book.low_hurdle = hurdle
        if unchanged:
            # Same usable prices, already fresh: no pair can open or close; only sizes may move.
            if slot.open_count:
                self._refresh(slot, now, out)
            return
        if not slot.open_count and hurdle >= book.top_bid and eff_bid <= book.low_hurdle:
            return  # no other quote (fresh or not) beats this one: nothing can open
        self._scan(slot, now, eff_bid, hurdle, out)
        book.tighten()

    def _scan(self, slot: Slot, now: int, eff_bid: float, hurdle: float, out: list[Signal]) -> None:
        """Re-evaluate every pair involving ``slot``'s exchange after its quote changed."""
        cap = self._cap
        book = slot.book
        i = slot.index
        grid = book.episodes
        for other in book.slots:
            if other is None or other is slot:
                continue
            j = other.index
            fresh = other.deadline > now
            other_bid, other_hurdle = other.eff_bid, other.hurdle
            k = i * cap + j  # i buys, j sells
            episode = grid[k]
            if fresh and other_bid > hurdle:
                if episode is None:
                    self._open_episode(book, slot, other, now, out)
                elif episode.observe():
                    self._emit(episode, "update", now, "", out)
            elif episode is not None:
                reason = tables.CLOSE_INVALID_QUOTE if hurdle == inf else tables.CLOSE_EDGE_GONE
                self._close(episode, now, now, reason, out)
            k = j * cap + i  # j buys, i sells
            episode = grid[k]
            if fresh and eff_bid > other_hurdle:
                if episode is None:
                    self._open_episode(book, other, slot, now, out)
                elif episode.observe():
                    self._emit(episode, "update", now, "", out)
            elif episode is not None:
                reason = tables.CLOSE_INVALID_QUOTE if eff_bid == 0.0 else tables.CLOSE_EDGE_GONE
                self._close(episode, now, now, reason, out)

    def _refresh(self, slot: Slot, now: int, out: list[Signal]) -> None:
        cap = self._cap
        grid = slot.book.episodes
        i = slot.index
        for j in range(len(self._exchanges)):
            for episode in (grid[i * cap + j], grid[j * cap + i]):
                if episode is not None and episode.observe():
                    self._emit(episode, "update", now, "", out)

    # ----------------------------------------------------------------------------- episodes
    def _open_episode(self, book: Book, buy: Slot, sell: Slot, now: int, out: list[Signal]) -> None:
        episode = Episode(self._next_id, book, buy, sell, now)
        self._next_id += 1
        episode.observe()
        episode.open_edge_bps = episode.edge_bps
        book.episodes[buy.index * self._cap + sell.index] = episode
        buy.open_count += 1
        sell.open_count += 1
        self._open[episode.episode_id] = episode
        deadline = min(buy.deadline, sell.deadline)
        if deadline < self._next_deadline:
            self._next_deadline = deadline
        self._emit(episode, "open", now, "", out)

    def _close(
        self, episode: Episode, now: int, end_ns: int, reason: str, out: list[Signal]
    ) -> None:
        book, buy, sell = episode.book, episode.buy, episode.sell
        book.episodes[buy.index * self._cap + sell.index] = None
        buy.open_count -= 1
        sell.open_count -= 1
        del self._open[episode.episode_id]
        self._emit(episode, "close", now, reason, out)
        self._episodes.append(
            episode.episode_id, book.symbol, self._exchanges[buy.index],
            self._exchanges[sell.index], episode.start_ns, end_ns, end_ns - episode.start_ns,
            episode.open_edge_bps, episode.max_edge_bps, episode.max_size, episode.best_profit,
            episode.updates, reason,
        )  # fmt: skip

    def _emit(self, episode: Episode, kind: str, now: int, reason: str, out: list[Signal]) -> None:
        if kind == "update":
            episode.updates += 1
        buy, sell = self._exchanges[episode.buy.index], self._exchanges[episode.sell.index]
        symbol = episode.book.symbol
        if kind != "update" or self._keep_updates:
            self._signals.append(
                now, episode.episode_id, kind, symbol, buy, sell, episode.ask, episode.bid,
                episode.size, episode.edge_bps, episode.profit, reason,
            )  # fmt: skip
        fields: dict[str, float | int | str] = {
            "episode_id": episode.episode_id,
            "edge_bps": episode.edge_bps,
            "buy_price": episode.ask,
            "sell_price": episode.bid,
            "size": episode.size,
            "profit": episode.profit,
        }
        if reason:
            fields["reason"] = reason
        out.append(Signal(now, NAME, kind, (buy, sell), symbol, fields))

    def _expire(self, now: int, out: list[Signal]) -> None:
        """Close episodes whose quotes went stale at or before ``now``; recompute the bound."""
        bound = _NEVER
        for episode in list(self._open.values()):
            deadline = min(episode.buy.deadline, episode.sell.deadline)
            if deadline <= now:
                self._close(episode, now, max(deadline, episode.start_ns), tables.CLOSE_STALE, out)
            elif deadline < bound:
                bound = deadline
        self._next_deadline = bound

    def _on_disconnect(self, event: Disconnected, now: int, out: list[Signal]) -> None:
        i = self._index.get(event.exchange)
        if i is None:
            return
        for book in self._books.values():
            slot = book.slots[i]
            if slot is not None and slot.quote is not None and slot.quote[CONN] == event.conn_id:
                slot.forget()
        for episode in list(self._open.values()):
            if episode.buy.deadline == NO_DEADLINE or episode.sell.deadline == NO_DEADLINE:
                self._close(episode, now, now, tables.CLOSE_DISCONNECT, out)

    # ----------------------------------------------------------------------------- set-up
    def _slot(self, exchange: str, symbol: str) -> Slot:
        """The slot of ``exchange`` in ``symbol``'s book, creating what is missing."""
        i = self._index.get(exchange)
        if i is None:
            i = self._add_exchange(exchange)
        book = self._books.get(symbol)
        if book is None:
            book = self._books[symbol] = Book(symbol, self._cap, self._state)
        slot = book.slots[i]
        if slot is None:
            slot = book.slots[i] = Slot(
                book, i, self._ask_mult[i], self._bid_mult[i], self._hurdle_mult[i],
                self._limit_ns[i],
            )  # fmt: skip
            self._slots.setdefault(exchange, {})[symbol] = slot
            self._slot_list.append(slot)  # by slot.id
        return slot

    def _batch_slots(self, batch: EventBatch) -> tuple[np.ndarray, list[int]]:
        """Per event: its quote's slot id (``self._slot_list`` index; -1 for any other event);
        and the positions of the :class:`Disconnected` events. Exchanges get their numbers in
        the order of their first quote, exactly as event by event."""
        kind = batch.kind
        ids = np.full(len(kind), -1, dtype=np.int32)
        quotes = np.flatnonzero(kind == QUOTE)
        if len(quotes):
            exchange = batch.exchange[quotes]
            codes = np.flatnonzero(np.bincount(exchange)).tolist()
            if len(codes) > 1:
                codes.sort(key=lambda c: int(np.argmax(exchange == c)))
            for code in codes:
                if batch.exchanges[code] not in self._index:
                    self._add_exchange(batch.exchanges[code])
            n_symbols = len(batch.symbols)
            pair = exchange.astype(np.int64) * n_symbols + batch.symbol[quotes]
            present = np.flatnonzero(np.bincount(pair))
            table = np.empty(int(present[-1]) + 1, dtype=np.int32)
            for code in present.tolist():
                e, s = divmod(code, n_symbols)
                table[code] = self._slot(batch.exchanges[e], batch.symbols[s]).id
            ids[quotes] = table[pair]
        events = batch.events
        others = np.flatnonzero(kind == OTHER).tolist()
        disconnects = [k for k in others if type(events[k]) is Disconnected]
        return ids, disconnects

    def _batch_effective(self, batch: EventBatch) -> tuple[np.ndarray, np.ndarray]:
        """Per event, the ``eff_bid`` and ``hurdle`` :meth:`_quotes_inline` expects (NaN hurdle:
        not a fully usable quote). Same IEEE products as ``bid * slot.bid_mult`` one by one."""
        bid_mult = np.zeros(max(1, len(batch.exchanges)))
        hurdle_mult = np.zeros(max(1, len(batch.exchanges)))
        for code, name in enumerate(batch.exchanges):
            i = self._index.get(name)
            if i is not None:
                bid_mult[code], hurdle_mult[code] = self._bid_mult[i], self._hurdle_mult[i]
        bid, ask = batch.bid, batch.ask
        with np.errstate(invalid="ignore", over="ignore"):
            eff_bid = bid * bid_mult[batch.exchange]
            hurdle = ask * hurdle_mult[batch.exchange]
            usable = (
                (batch.kind == QUOTE) & (bid > 0.0) & (bid < ask) & (ask < inf)
                & (batch.bid_size > 0.0) & (batch.bid_size < inf)
                & (batch.ask_size > 0.0) & (batch.ask_size < inf)
            )  # fmt: skip
        hurdle[~usable] = nan
        return eff_bid, hurdle

    def _add_exchange(self, exchange: str) -> int:
        i = len(self._exchanges)
        if i == self._cap:
            new_cap = self._cap * 2
            for book in self._books.values():
                book.grow(self._cap, new_cap)
            self._cap = new_cap
        fee = self._fee_table.get(exchange)
        if fee is None:
            fee = self._assumed_fees[exchange] = fees.UNKNOWN_EXCHANGE_TAKER_FEE
        self._exchanges.append(exchange)
        self._index[exchange] = i
        self._ask_mult.append(1.0 + fee)
        self._bid_mult.append(1.0 - fee)
        self._hurdle_mult.append(1.0 + fee + self._min_edge)
        self._limit_ns.append(self._stale_ns.get(exchange, self._default_stale_ns))
        self._ignored.append({"crossed": 0, "no_bid": 0, "no_ask": 0})
        return i

    # ----------------------------------------------------------------------------- results
    def finish(self, end_ns: int) -> list[Signal]:
        """Close every open episode at ``end_ns`` (clamped to the last event time seen)."""
        out: list[Signal] = []
        if self._finished:
            return out
        self._finished = True
        end_ns = max(end_ns, self._last_ns)
        self._expire(end_ns, out)
        for episode in list(self._open.values()):
            self._close(episode, end_ns, end_ns, tables.CLOSE_END, out)
        return out

    def results(self) -> dict[str, pa.Table]:
        """``signals`` (open/update/close rows) and ``episodes`` (closed), in emission order."""
        return {"signals": self._signals.table(), "episodes": self._episodes.table()}

    def summary(self) -> str:
        ignored = {ex: self._ignored[i] for ex, i in self._index.items()}
        return tables.summary_text(self._episodes.table(), ignored, self._assumed_fees)
