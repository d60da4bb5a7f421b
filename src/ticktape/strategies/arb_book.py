"""The arbitrage strategy's state: per-symbol books, per-(symbol, exchange) slots, open episodes.

Laid out for the hot path in ``arb.py``. A quote is handled through its :class:`Slot` (found once
per batch from the batch's codes, or by two dict lookups per event). Per quote a slot stores the
quote's values (a :data:`QuoteValues` tuple, or for a quote stored by the compiled loop the
position of its event in the current batch, turned into that tuple when first asked for) and
the two numbers every pair test compares, its effective bid and its hurdle;
the effective ask, the staleness deadline and the connection are functions of the quote and the
exchange's constants, derived on the rare paths that need them (:meth:`Slot.eff_ask`,
:attr:`Slot.deadline`). A disconnect forgets the quote (the slot is then neither fresh nor
usable, exactly as a deadline of -1 with unusable sides).

Each :class:`Book` keeps a *bound* on the effective bids and hurdles of its slots: ``top_bid`` is
at least every slot's effective bid and ``low_hurdle`` at most every slot's hurdle. A quote whose
hurdle is at or above ``top_bid`` and whose bid is at or below ``low_hurdle`` cannot open a pair,
so (with no open episode on its slot) it is stored and nothing else happens. The bounds only
loosen between scans, which make them exact again; a loose bound costs a scan that finds nothing,
never a missed opportunity.

Where the numbers live: the fields the common case reads and writes (each slot's effective bid,
hurdle, open-episode count and stored-event position, each book's bounds) are columns of one
:class:`State` (``array.array``: plain C arrays the compiled loop ``_native/arbquiet.pyx`` reads
and writes in place, and which Python indexes as fast as attributes). :class:`Slot` and
:class:`Book` expose them as attributes, so the rest of the strategy reads like plain objects.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from math import inf
from typing import Any, Final

NO_DEADLINE: Final = -1  # the deadline of a slot without a live quote

QuoteValues = tuple[int, int, float, float, float, float]
"""What the strategy keeps of a quote: ``(recv_ns, conn_id, bid, bid_size, ask, ask_size)``."""
RECV: Final = 0  # positions in QuoteValues
CONN: Final = 1
BID: Final = 2
BID_SIZE: Final = 3
ASK: Final = 4
ASK_SIZE: Final = 5


class State:
    """The columns of every slot and book (see the module docstring); ids are positions.

    ``source`` holds the columns of the batch being processed, ``(recv_ns, conn_id, bid,
    bid_size, ask, ask_size)`` as numpy arrays: a slot whose ``at`` is ``k >= 0`` holds event
    ``k`` of that batch. :meth:`settle` turns every such slot's quote into its tuple (call it
    before ``source`` changes).
    """

    __slots__ = (
        "at", "book_of", "eff_bid", "hurdle", "low_hurdle", "open_count", "quotes", "source",
        "top_bid",
    )  # fmt: skip

    def __init__(self) -> None:
        self.eff_bid = array("d")
        self.hurdle = array("d")
        self.open_count = array("q")
        self.at = array("q")
        self.book_of = array("q")
        self.quotes: list[QuoteValues | None] = []
        self.top_bid = array("d")
        self.low_hurdle = array("d")
        self.source: Sequence[Any] | None = None

    def new_book(self) -> int:
        self.top_bid.append(0.0)  # >= every slot's effective bid
        self.low_hurdle.append(inf)  # <= every slot's hurdle
        return len(self.top_bid) - 1

    def new_slot(self, book: int) -> int:
        self.eff_bid.append(0.0)
        self.hurdle.append(inf)
        self.open_count.append(0)
        self.at.append(-1)
        self.book_of.append(book)
        self.quotes.append(None)
        return len(self.quotes) - 1

    def quote(self, slot: int) -> QuoteValues | None:
        k = self.at[slot]
        if k >= 0:  # stored by the compiled loop: read it from the batch now
            assert self.source is not None
            recv, conn, bid, bid_size, ask, ask_size = self.source
            self.quotes[slot] = (
                int(recv[k]), int(conn[k]), float(bid[k]), float(bid_size[k]), float(ask[k]),
                float(ask_size[k]),
            )  # fmt: skip
            self.at[slot] = -1
        return self.quotes[slot]

    def settle(self) -> None:
        """Give every slot holding a batch position its quote tuple; forget the batch."""
        if self.source is not None:
            for slot, k in enumerate(self.at):
                if k >= 0:
                    self.quote(slot)
        self.source = None


class Book:
    """Every exchange's latest quote for one symbol; ``slots[i]`` is exchange number ``i``."""

    __slots__ = ("episodes", "id", "slots", "state", "symbol")

    def __init__(self, symbol: str, cap: int, state: State) -> None:
        self.symbol = symbol
        self.state = state
        self.id = state.new_book()
        self.episodes: list[Episode | None] = [None] * (cap * cap)  # [buy * cap + sell]
        self.slots: list[Slot | None] = [None] * cap  # by exchange number; None: never quoted

    @property
    def top_bid(self) -> float:
        """At least every slot's effective bid."""
        return self.state.top_bid[self.id]

    @top_bid.setter
    def top_bid(self, value: float) -> None:
        self.state.top_bid[self.id] = value

    @property
    def low_hurdle(self) -> float:
        """At most every slot's hurdle."""
        return self.state.low_hurdle[self.id]

    @low_hurdle.setter
    def low_hurdle(self, value: float) -> None:
        self.state.low_hurdle[self.id] = value

    def tighten(self) -> None:
        """Make the bounds exact again (the slots' own maximum and minimum)."""
        top, low = 0.0, inf
        for slot in self.slots:
            if slot is not None:
                top = slot.eff_bid if slot.eff_bid > top else top
                low = slot.hurdle if slot.hurdle < low else low
        self.top_bid, self.low_hurdle = top, low

    def grow(self, old: int, new: int) -> None:
        """Room for ``new`` exchanges."""
        self.slots += [None] * (new - old)
        grid: list[Episode | None] = [None] * (new * new)
        for k, episode in enumerate(self.episodes):
            if episode is not None:
                grid[(k // old) * new + k % old] = episode
        self.episodes = grid


class Slot:
    """One exchange's latest quote for one symbol, and that exchange's constants."""

    __slots__ = (
        "ask_mult", "bid_mult", "book", "hurdle_mult", "id", "index", "limit_ns", "state",
    )  # fmt: skip

    def __init__(
        self, book: Book, index: int, ask_mult: float, bid_mult: float, hurdle_mult: float,
        limit_ns: int,
    ) -> None:  # fmt: skip
        self.book = book
        self.state = book.state
        self.id = self.state.new_slot(book.id)
        self.index = index
        self.ask_mult, self.bid_mult, self.hurdle_mult = ask_mult, bid_mult, hurdle_mult
        self.limit_ns = limit_ns

    @property
    def quote(self) -> QuoteValues | None:
        """The latest quote; None: none yet, or its connection closed."""
        return self.state.quote(self.id)

    @quote.setter
    def quote(self, quote: QuoteValues | None) -> None:
        self.state.quotes[self.id] = quote
        self.state.at[self.id] = -1

    @property
    def eff_bid(self) -> float:
        """Of ``quote``: bid * (1 - fee); 0.0 when the bid side is unusable."""
        return self.state.eff_bid[self.id]

    @eff_bid.setter
    def eff_bid(self, value: float) -> None:
        self.state.eff_bid[self.id] = value

    @property
    def hurdle(self) -> float:
        """Of ``quote``: ask * (1 + fee + min_edge); inf when unusable."""
        return self.state.hurdle[self.id]

    @hurdle.setter
    def hurdle(self, value: float) -> None:
        self.state.hurdle[self.id] = value

    @property
    def open_count(self) -> int:
        """Open episodes of this book involving this exchange."""
        return self.state.open_count[self.id]

    @open_count.setter
    def open_count(self, value: int) -> None:
        self.state.open_count[self.id] = value

    def store(self, quote: QuoteValues, eff_ask: float, eff_bid: float, hurdle: float) -> None:
        self.quote, self.eff_bid, self.hurdle = quote, eff_bid, hurdle

    def forget(self) -> None:
        """The quote's connection closed: no quote, no usable side."""
        self.quote, self.eff_bid, self.hurdle = None, 0.0, inf

    @property
    def deadline(self) -> int:
        """The quote is fresh while ``now < deadline``; :data:`NO_DEADLINE` without a quote."""
        quote = self.quote
        return NO_DEADLINE if quote is None else quote[RECV] + self.limit_ns

    def eff_ask(self) -> float:
        """``ask * (1 + fee)`` of the quote; inf when its ask side is unusable (or no quote)."""
        quote = self.quote
        return inf if quote is None else effective(quote, self)[0]


def effective(quote: QuoteValues, slot: Slot) -> tuple[float, float, float, str]:
    """``(eff_ask, eff_bid, hurdle, why)`` of ``quote`` on ``slot``'s exchange; ``why`` names
    the unusable part (``crossed``, ``no_bid``, ``no_ask``) or is ``""``."""
    _, _, bid, bid_size, ask, ask_size = quote
    if 0.0 < ask < inf and 0.0 < ask_size < inf:
        if 0.0 < bid < inf and 0.0 < bid_size < inf:
            if bid < ask:
                return ask * slot.ask_mult, bid * slot.bid_mult, ask * slot.hurdle_mult, ""
            return inf, 0.0, inf, "crossed"
        return ask * slot.ask_mult, 0.0, ask * slot.hurdle_mult, "no_bid"
    eff_bid = bid * slot.bid_mult if 0.0 < bid < inf and 0.0 < bid_size < inf else 0.0
    return inf, eff_bid, inf, "no_ask"


class Episode:
    """One open opportunity: buy on ``buy`` (its ask), sell on ``sell`` (its bid)."""

    __slots__ = (
        "ask", "ask_size", "best_profit", "bid", "bid_size", "book", "buy", "edge_bps",
        "episode_id", "max_edge_bps", "max_size", "open_edge_bps", "profit", "sell", "size",
        "start_ns", "updates",
    )  # fmt: skip

    def __init__(self, episode_id: int, book: Book, buy: Slot, sell: Slot, start_ns: int) -> None:
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
        buy, sell = self.buy.quote, self.sell.quote
        assert buy is not None and sell is not None
        ask, ask_size, bid, bid_size = buy[ASK], buy[ASK_SIZE], sell[BID], sell[BID_SIZE]
        if (
            ask == self.ask
            and ask_size == self.ask_size
            and bid == self.bid
            and bid_size == self.bid_size
        ):
            return False
        self.ask, self.ask_size, self.bid, self.bid_size = ask, ask_size, bid, bid_size
        net = self.sell.eff_bid - self.buy.eff_ask()
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
