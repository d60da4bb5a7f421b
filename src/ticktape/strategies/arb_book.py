"""The arbitrage strategy's state: per-symbol books, per-(symbol, exchange) slots, open episodes.

Laid out for the hot path in ``arb.py``. A quote is handled through its :class:`Slot` (found once
per batch from the batch's codes, or by two dict lookups per event). Per quote a slot stores the
quote's values as a :data:`QuoteValues` tuple (built from a batch's columns without any event
object) and the two numbers every pair test compares, its effective bid and its hurdle;
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
"""

from __future__ import annotations

from math import inf
from typing import Final

NO_DEADLINE: Final = -1  # the deadline of a slot without a live quote

QuoteValues = tuple[int, int, float, float, float, float]
"""What the strategy keeps of a quote: ``(recv_ns, conn_id, bid, bid_size, ask, ask_size)``."""
RECV: Final = 0  # positions in QuoteValues
CONN: Final = 1
BID: Final = 2
BID_SIZE: Final = 3
ASK: Final = 4
ASK_SIZE: Final = 5


class Book:
    """Every exchange's latest quote for one symbol; ``slots[i]`` is exchange number ``i``."""

    __slots__ = ("episodes", "low_hurdle", "slots", "symbol", "top_bid")

    def __init__(self, symbol: str, cap: int) -> None:
        self.symbol = symbol
        self.top_bid = 0.0  # >= every slot's effective bid
        self.low_hurdle = inf  # <= every slot's hurdle
        self.episodes: list[Episode | None] = [None] * (cap * cap)  # [buy * cap + sell]
        self.slots: list[Slot | None] = [None] * cap  # by exchange number; None: never quoted

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
        "_ask_of", "_eff_ask", "ask_mult", "bid_mult", "book", "eff_bid", "hurdle",
        "hurdle_mult", "index", "limit_ns", "open_count", "quote",
    )  # fmt: skip

    def __init__(
        self, book: Book, index: int, ask_mult: float, bid_mult: float, hurdle_mult: float,
        limit_ns: int,
    ) -> None:  # fmt: skip
        self.book = book
        self.index = index
        self.ask_mult, self.bid_mult, self.hurdle_mult = ask_mult, bid_mult, hurdle_mult
        self.limit_ns = limit_ns
        self.open_count = 0  # open episodes of this book involving this exchange
        self.quote: QuoteValues | None = None  # latest; None: none yet, or its connection closed
        self.eff_bid = 0.0  # of ``quote``: bid * (1 - fee); 0.0 when the bid side is unusable
        self.hurdle = inf  # of ``quote``: ask * (1 + fee + min_edge); inf when unusable
        self._ask_of: QuoteValues | None = None  # the quote ``_eff_ask`` was computed for
        self._eff_ask = inf

    def store(self, quote: QuoteValues, eff_ask: float, eff_bid: float, hurdle: float) -> None:
        self.quote, self.eff_bid, self.hurdle = quote, eff_bid, hurdle
        self._ask_of, self._eff_ask = quote, eff_ask

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
        if quote is None:
            return inf
        if self._ask_of is not quote:
            self._ask_of, self._eff_ask = quote, effective(quote, self)[0]
        return self._eff_ask


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
