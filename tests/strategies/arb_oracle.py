"""A frozen copy of the arbitrage strategy as it was before the speed-up (commit e89e236).

The oracle of ``test_arb_batch.py``: the current ``ArbStrategy`` (``on_event`` and ``on_batch``)
must give exactly its signals, tables and summary. Not to be edited except to follow a rule
change made on purpose in both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from math import inf
from typing import Final

import pyarrow as pa

from ticktape.exchanges.events import Disconnected, Event, Quote
from ticktape.strategies import arb_tables as tables
from ticktape.strategies import fees
from ticktape.strategies.base import Signal, StrategyConfigError, ns_from_seconds

NAME: Final = "arb"
DEFAULT_MIN_EDGE_BPS: Final = 1.0
_NEVER: Final = 1 << 62  # a deadline later than any ns timestamp


class _Book:
    """Latest quote of every exchange for one symbol, as flat lists indexed by exchange number."""

    __slots__ = (
        "ask", "ask_size", "bid", "bid_size", "conn", "deadline", "eff_ask", "eff_bid",
        "episodes", "hurdle", "open_count", "symbol",
    )  # fmt: skip

    def __init__(self, symbol: str, cap: int) -> None:
        self.symbol = symbol
        self.bid = [0.0] * cap
        self.bid_size = [0.0] * cap
        self.ask = [0.0] * cap
        self.ask_size = [0.0] * cap
        self.eff_bid = [0.0] * cap  # bid * (1 - fee); 0.0 when the bid side is unusable
        self.eff_ask = [inf] * cap  # ask * (1 + fee); inf when the ask side is unusable
        self.hurdle = [inf] * cap  # ask * (1 + fee + min_edge): a sell bid must beat this
        self.deadline = [-1] * cap  # fresh while now < deadline; -1: no live quote
        self.conn = [-1] * cap
        self.episodes: list[_Episode | None] = [None] * (cap * cap)  # [buy * cap + sell]
        self.open_count = [0] * cap  # open episodes involving each exchange

    def grow(self, old: int, new: int) -> None:
        pad = new - old
        self.bid += [0.0] * pad
        self.bid_size += [0.0] * pad
        self.ask += [0.0] * pad
        self.ask_size += [0.0] * pad
        self.eff_bid += [0.0] * pad
        self.eff_ask += [inf] * pad
        self.hurdle += [inf] * pad
        self.deadline += [-1] * pad
        self.conn += [-1] * pad
        self.open_count += [0] * pad
        grid: list[_Episode | None] = [None] * (new * new)
        for k, episode in enumerate(self.episodes):
            if episode is not None:
                grid[(k // old) * new + k % old] = episode
        self.episodes = grid


class _Episode:
    """One open opportunity; its current state and its running maxima."""

    __slots__ = (
        "ask", "ask_size", "best_profit", "bid", "bid_size", "book", "buy", "edge_bps",
        "episode_id", "max_edge_bps", "max_size", "open_edge_bps", "profit", "sell", "size",
        "start_ns", "updates",
    )  # fmt: skip

    def __init__(self, episode_id: int, book: _Book, buy: int, sell: int, start_ns: int) -> None:
        self.episode_id = episode_id
        self.book = book
        self.buy = buy
        self.sell = sell
        self.start_ns = start_ns
        self.updates = 0
        self.ask = self.ask_size = self.bid = self.bid_size = 0.0
        self.edge_bps = self.size = self.profit = 0.0
        self.max_edge_bps = self.max_size = self.best_profit = -inf
        self.open_edge_bps = 0.0

    def observe(self) -> bool:
        """Take the book's current prices for this pair; False when nothing changed."""
        book, buy, sell = self.book, self.buy, self.sell
        ask, ask_size, bid, bid_size = (
            book.ask[buy],
            book.ask_size[buy],
            book.bid[sell],
            book.bid_size[sell],
        )
        if (
            ask == self.ask
            and ask_size == self.ask_size
            and bid == self.bid
            and bid_size == self.bid_size
        ):
            return False
        self.ask, self.ask_size, self.bid, self.bid_size = ask, ask_size, bid, bid_size
        net = book.eff_bid[sell] - book.eff_ask[buy]
        self.edge_bps = net / ask * 1e4
        self.size = ask_size if ask_size < bid_size else bid_size
        self.profit = net * self.size
        if self.edge_bps > self.max_edge_bps:
            self.max_edge_bps = self.edge_bps
        if self.size > self.max_size:
            self.max_size = self.size
        if self.profit > self.best_profit:
            self.best_profit = self.profit
        return True


class OracleArbStrategy:
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
        self._books: dict[str, _Book] = {}
        self._open: dict[int, _Episode] = {}  # by episode id: deterministic iteration order
        self._next_deadline = _NEVER  # <= every open episode's staleness deadline
        self._next_id = 0
        self._last_ns = 0
        self._finished = False
        self._signals = tables.Columns(tables.SIGNALS_SCHEMA)
        self._episodes = tables.Columns(tables.EPISODES_SCHEMA)

    # ----------------------------------------------------------------------------- hot path
    def on_event(self, event: Event) -> list[Signal]:
        """Process one event (replay order); return the signals it caused (usually none)."""
        out: list[Signal] = []
        now = event.recv_ns
        self._last_ns = now
        if now >= self._next_deadline:
            self._expire(now, out)
        if type(event) is not Quote:
            if type(event) is Disconnected:
                self._on_disconnect(event, now, out)
            return out
        book = self._books.get(event.symbol)
        if book is None:
            book = self._add_book(event.symbol)
        i = self._index.get(event.exchange)
        if i is None:
            i = self._add_exchange(event.exchange)
        bid, bid_size, ask, ask_size = event.bid, event.bid_size, event.ask, event.ask_size
        if 0.0 < ask < inf and 0.0 < ask_size < inf:
            if 0.0 < bid < inf and 0.0 < bid_size < inf:
                if bid < ask:
                    eff_ask, hurdle = ask * self._ask_mult[i], ask * self._hurdle_mult[i]
                    eff_bid = bid * self._bid_mult[i]
                else:
                    eff_ask, hurdle, eff_bid = inf, inf, 0.0
                    self._ignored[i]["crossed"] += 1
            else:
                eff_ask, hurdle, eff_bid = ask * self._ask_mult[i], ask * self._hurdle_mult[i], 0.0
                self._ignored[i]["no_bid"] += 1
        else:
            eff_ask = hurdle = inf
            eff_bid = bid * self._bid_mult[i] if 0.0 < bid < inf and 0.0 < bid_size < inf else 0.0
            self._ignored[i]["no_ask"] += 1
        unchanged = (
            book.deadline[i] > now and eff_ask == book.eff_ask[i] and eff_bid == book.eff_bid[i]
        )
        book.bid[i], book.bid_size[i], book.ask[i], book.ask_size[i] = bid, bid_size, ask, ask_size
        book.eff_ask[i], book.eff_bid[i], book.hurdle[i] = eff_ask, eff_bid, hurdle
        book.deadline[i] = now + self._limit_ns[i]
        book.conn[i] = event.conn_id
        if unchanged:
            # Same usable prices, already fresh: no pair can open or close; only sizes may move.
            if book.open_count[i]:
                self._refresh(book, i, now, out)
            return out
        if not book.open_count[i] and hurdle >= max(book.eff_bid) and eff_bid <= min(book.hurdle):
            return out  # no other quote (fresh or not) beats this one: nothing can open
        self._scan(book, i, now, eff_bid, hurdle, out)
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

    def _scan(
        self, book: _Book, i: int, now: int, eff_bid: float, hurdle: float, out: list[Signal]
    ) -> None:
        """Re-evaluate every pair involving exchange ``i`` after its quote changed."""
        cap = self._cap
        grid, deadline, other_bid, other_hurdle = (
            book.episodes,
            book.deadline,
            book.eff_bid,
            book.hurdle,
        )
        for j in range(len(self._exchanges)):
            if j == i:
                continue
            fresh = deadline[j] > now
            k = i * cap + j  # i buys, j sells
            episode = grid[k]
            if fresh and other_bid[j] > hurdle:
                if episode is None:
                    self._open_episode(book, i, j, now, out)
                elif episode.observe():
                    self._emit(episode, "update", now, "", out)
            elif episode is not None:
                reason = tables.CLOSE_INVALID_QUOTE if hurdle == inf else tables.CLOSE_EDGE_GONE
                self._close(episode, now, now, reason, out)
            k = j * cap + i  # j buys, i sells
            episode = grid[k]
            if fresh and eff_bid > other_hurdle[j]:
                if episode is None:
                    self._open_episode(book, j, i, now, out)
                elif episode.observe():
                    self._emit(episode, "update", now, "", out)
            elif episode is not None:
                reason = tables.CLOSE_INVALID_QUOTE if eff_bid == 0.0 else tables.CLOSE_EDGE_GONE
                self._close(episode, now, now, reason, out)

    def _refresh(self, book: _Book, i: int, now: int, out: list[Signal]) -> None:
        cap = self._cap
        grid = book.episodes
        for j in range(len(self._exchanges)):
            for episode in (grid[i * cap + j], grid[j * cap + i]):
                if episode is not None and episode.observe():
                    self._emit(episode, "update", now, "", out)

    # ----------------------------------------------------------------------------- episodes
    def _open_episode(self, book: _Book, buy: int, sell: int, now: int, out: list[Signal]) -> None:
        episode = _Episode(self._next_id, book, buy, sell, now)
        self._next_id += 1
        episode.observe()
        episode.open_edge_bps = episode.edge_bps
        book.episodes[buy * self._cap + sell] = episode
        book.open_count[buy] += 1
        book.open_count[sell] += 1
        self._open[episode.episode_id] = episode
        deadline = min(book.deadline[buy], book.deadline[sell])
        if deadline < self._next_deadline:
            self._next_deadline = deadline
        self._emit(episode, "open", now, "", out)

    def _close(
        self, episode: _Episode, now: int, end_ns: int, reason: str, out: list[Signal]
    ) -> None:
        book = episode.book
        book.episodes[episode.buy * self._cap + episode.sell] = None
        book.open_count[episode.buy] -= 1
        book.open_count[episode.sell] -= 1
        del self._open[episode.episode_id]
        self._emit(episode, "close", now, reason, out)
        self._episodes.append(
            episode.episode_id, book.symbol, self._exchanges[episode.buy],
            self._exchanges[episode.sell], episode.start_ns, end_ns, end_ns - episode.start_ns,
            episode.open_edge_bps, episode.max_edge_bps, episode.max_size, episode.best_profit,
            episode.updates, reason,
        )  # fmt: skip

    def _emit(self, episode: _Episode, kind: str, now: int, reason: str, out: list[Signal]) -> None:
        if kind == "update":
            episode.updates += 1
        buy, sell = self._exchanges[episode.buy], self._exchanges[episode.sell]
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
            book = episode.book
            deadline = min(book.deadline[episode.buy], book.deadline[episode.sell])
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
            if book.conn[i] == event.conn_id:
                book.deadline[i] = -1
        for episode in list(self._open.values()):
            book = episode.book
            if book.deadline[episode.buy] == -1 or book.deadline[episode.sell] == -1:
                self._close(episode, now, now, tables.CLOSE_DISCONNECT, out)

    # ----------------------------------------------------------------------------- set-up
    def _add_book(self, symbol: str) -> _Book:
        book = _Book(symbol, self._cap)
        self._books[symbol] = book
        return book

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
