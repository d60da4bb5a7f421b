"""The seeded market: a common mid per symbol, each exchange's quotes and trades around it.

Everything is a pure function of ``(config, exchange, symbol, index)``: the k-th quote of an
exchange's stream sits at model time ``k / quote_hz`` and its prices and sizes never depend on
when, or whether, anybody asked for it. That is what makes "same seed, same quote sequence"
hold over the wire regardless of connect times, and what lets a test compute the expected
answer without a socket.

Model:
- Common mid: a log random walk on a 10 ms grid, steps uniform in ``±volatility_bps``. Random
  numbers come from per-block seeded generators (1024 steps a block) with cached block sums,
  so any time can be evaluated in O(block) without storing the path.
- Each exchange: ``mid * (1 + noise)`` with noise uniform in ``±noise_bps``, its own spread
  (bid rounded down, ask rounded up to the price tick) and sizes around ``size_usd``.
- Dislocations (scripted and seeded-random, never overlapping per symbol) follow the contract
  of :class:`~ticktape.simulator.config.Dislocation`; the common mid pauses during them so it
  is continuous when they end.

Prices are integers in ticks and sizes integers in lots (:class:`SymbolSpec` says how many
decimals), so formatting is exact and platform independent.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import random
from dataclasses import dataclass
from typing import Final

from ticktape.simulator.config import Dislocation, SimConfig

WALK_STEP_S: Final = 0.01
_BLOCK: Final = 1024
_KNOWN_PRICES: Final = {
    "BTC": 65_000.0,
    "ETH": 3_000.0,
    "SOL": 150.0,
    "BNB": 600.0,
    "XRP": 0.6,
    "DOGE": 0.15,
    "HYPE": 40.0,
}
_U64: Final = float(2**64)


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """Price tick and lot size of a symbol, as decimal places (tick = 10**-price_decimals)."""

    symbol: str
    initial_price: float
    price_decimals: int
    qty_decimals: int

    @classmethod
    def for_price(cls, symbol: str, price: float) -> SymbolSpec:
        magnitude = math.floor(math.log10(price))
        return cls(
            symbol=symbol,
            initial_price=price,
            price_decimals=max(2, min(8, 6 - magnitude)),
            qty_decimals=max(0, min(8, magnitude + 2)),
        )


@dataclass(frozen=True, slots=True)
class SimQuote:
    """Top of book of one exchange stream at index ``k`` (model time ``t_s``)."""

    exchange: str
    symbol: str
    k: int
    t_s: float
    bid: int  # ticks
    bid_size: int  # lots
    ask: int
    ask_size: int


@dataclass(frozen=True, slots=True)
class SimTrade:
    """Trade ``j`` of one exchange stream; ``side`` is the taker side ``"buy"``/``"sell"``."""

    exchange: str
    symbol: str
    j: int
    t_s: float
    price: int  # ticks
    size: int  # lots
    side: str


def _units(seed: int, tag: str) -> tuple[float, float, float, float]:
    """Four uniforms in [0, 1) from a hash of ``(seed, tag)``: stable across processes."""
    digest = hashlib.blake2b(f"{seed}|{tag}".encode(), digest_size=32).digest()
    a, b, c, d = (int.from_bytes(digest[i : i + 8], "little") / _U64 for i in (0, 8, 16, 24))
    return a, b, c, d


class _Walk:
    """Log-mid random walk of one symbol on the 10 ms grid, evaluated lazily by block."""

    def __init__(self, seed: int, symbol: str, p0: float, step_bps: float) -> None:
        self._seed = seed
        self._symbol = symbol
        self._log_p0 = math.log(p0)
        self._step = step_bps / 1e4
        self._block_start: list[float] = [0.0]  # cumulative log move at the start of block b
        self._cache: dict[int, list[float]] = {}

    def _block(self, b: int) -> list[float]:
        cached = self._cache.get(b)
        if cached is not None:
            return cached
        rng = random.Random(f"{self._seed}|walk|{self._symbol}|{b}")
        step = self._step
        acc = 0.0
        cum = []
        for _ in range(_BLOCK):
            cum.append(acc)
            acc += step * (2.0 * rng.random() - 1.0)
        cum.append(acc)
        if len(self._cache) >= 8:
            self._cache.pop(next(iter(self._cache)))
        self._cache[b] = cum
        return cum

    def mid(self, t_s: float) -> float:
        n = max(0, int(t_s / WALK_STEP_S))
        b, i = divmod(n, _BLOCK)
        while len(self._block_start) <= b:
            last = len(self._block_start) - 1
            self._block_start.append(self._block_start[last] + self._block(last)[_BLOCK])
        return math.exp(self._log_p0 + self._block_start[b] + self._block(b)[i])


class _SymbolPlan:
    """Dislocation windows of one symbol (scripted plus lazily generated random ones)."""

    def __init__(self, config: SimConfig, symbol: str) -> None:
        self._config = config
        self._symbol = symbol
        self._scripted = sorted(
            (d for d in config.dislocations if d.symbol == symbol), key=lambda d: d.start_s
        )
        self._rng = random.Random(f"{config.seed}|dislocations|{symbol}")
        self._random_until = 0.0  # random windows are generated for starts below this time
        self._next_random_start = self._draw_gap(0.0)
        self.windows: list[Dislocation] = list(self._scripted)
        self._starts: list[float] = [d.start_s for d in self.windows]
        self._paused_before: list[float] = []
        self._reindex()

    def _draw_gap(self, after: float) -> float:
        rate = self._config.random_dislocations_per_min
        if rate <= 0 or len(self._config.exchanges) < 2:
            return math.inf
        return after + 1.0 + self._rng.expovariate(rate / 60.0)

    def _reindex(self) -> None:
        self.windows.sort(key=lambda d: d.start_s)
        self._starts = [d.start_s for d in self.windows]
        total = 0.0
        self._paused_before = []
        for d in self.windows:
            self._paused_before.append(total)
            total += d.end_s - d.start_s

    def ensure(self, t_s: float) -> None:
        """Generate random windows until every window starting before ``t_s + 10`` is known."""
        horizon = t_s + 10.0
        if horizon <= self._random_until:
            return
        added = False
        cfg = self._config
        while self._next_random_start < horizon:
            start = self._next_random_start
            duration = self._rng.uniform(*cfg.random_duration_s)
            edge = self._rng.uniform(*cfg.random_edge_bps)
            buy, sell = self._rng.sample(list(cfg.exchanges), 2)
            end = start + duration
            clash = next(
                (d for d in self._scripted if start < d.end_s + 1.0 and d.start_s < end + 1.0),
                None,
            )
            if clash is not None:
                self._next_random_start = self._draw_gap(clash.end_s)
                continue
            self.windows.append(Dislocation(self._symbol, buy, sell, start, end, round(edge, 3)))
            added = True
            self._next_random_start = self._draw_gap(end)
        self._random_until = horizon
        if added:
            self._reindex()

    def around(self, t_s: float) -> list[Dislocation]:
        """Windows whose neighbourhood (one tick either side) may contain ``t_s``: the last two
        starting before ``t_s + 1`` (windows are at least 1 s apart)."""
        self.ensure(t_s)
        i = bisect.bisect_right(self._starts, t_s + 1.0)
        return self.windows[max(0, i - 2) : i]

    def walk_time(self, t_s: float) -> float:
        """``t_s`` minus the time spent inside dislocations so far (the mid pauses there)."""
        self.ensure(t_s)
        i = bisect.bisect_right(self._starts, t_s) - 1
        if i < 0:
            return t_s
        d = self.windows[i]
        return t_s - self._paused_before[i] - (min(t_s, d.end_s) - d.start_s)


class MarketModel:
    """Quotes and trades of every (exchange, symbol) stream: pure functions of the index."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.specs: dict[str, SymbolSpec] = {}
        self._walks: dict[str, _Walk] = {}
        self._plans: dict[str, _SymbolPlan] = {}
        for symbol in config.symbols:
            p0 = config.initial_prices.get(symbol) or _default_price(config.seed, symbol)
            self.specs[symbol] = SymbolSpec.for_price(symbol, p0)
            self._walks[symbol] = _Walk(config.seed, symbol, p0, config.volatility_bps)
            self._plans[symbol] = _SymbolPlan(config, symbol)
        self._profiles = {name: config.profile(name) for name in config.exchanges}

    def quote_hz(self, exchange: str) -> float:
        return self._profiles[exchange].quote_hz

    def trade_hz(self, exchange: str) -> float:
        return self._profiles[exchange].trade_hz

    def dislocations(self, symbol: str, until_s: float) -> list[Dislocation]:
        """Every dislocation (scripted and random) of ``symbol`` starting before ``until_s``."""
        plan = self._plans[symbol]
        plan.ensure(until_s)
        return [d for d in plan.windows if d.start_s < until_s]

    def mid(self, symbol: str, t_s: float) -> float:
        """The common mid at model time ``t_s`` (pauses inside dislocations)."""
        return self._walks[symbol].mid(self._plans[symbol].walk_time(t_s))

    def _base(self, exchange: str, symbol: str, k: int) -> SimQuote:
        prof = self._profiles[exchange]
        spec = self.specs[symbol]
        t_s = k / prof.quote_hz
        mid = self.mid(symbol, t_s)
        u_noise, u_bid, u_ask, _ = _units(self.config.seed, f"q|{exchange}|{symbol}|{k}")
        m = mid * (1.0 + prof.noise_bps / 1e4 * (2.0 * u_noise - 1.0))
        half = prof.spread_bps / 2e4
        scale = 10**spec.price_decimals
        bid = math.floor(m * (1.0 - half) * scale)
        ask = max(bid + 1, math.ceil(m * (1.0 + half) * scale))
        lots_per_unit = 10**spec.qty_decimals
        mean_qty = prof.size_usd / mid * lots_per_unit
        return SimQuote(
            exchange,
            symbol,
            k,
            t_s,
            bid,
            max(1, round(mean_qty * (0.2 + 1.6 * u_bid))),
            ask,
            max(1, round(mean_qty * (0.2 + 1.6 * u_ask))),
        )

    def quote(self, exchange: str, symbol: str, k: int) -> SimQuote:
        """The k-th top-of-book quote of ``exchange`` for ``symbol``, dislocations applied."""
        base = self._base(exchange, symbol, k)
        for d in self._plans[symbol].around(base.t_s):
            shifted = self._dislocated(base, d)
            if shifted is not None:
                return shifted
        return base

    def _dislocated(self, base: SimQuote, d: Dislocation) -> SimQuote | None:
        """``base`` as dislocation ``d`` changes it, or None if ``d`` does not touch it."""
        t = base.t_s
        exchange = base.exchange
        inside = d.start_s <= t <= d.end_s
        if exchange in (d.buy_exchange, d.sell_exchange) and not inside:
            return None
        buy_hz = self._profiles[d.buy_exchange].quote_hz
        anchor = self._base(d.buy_exchange, base.symbol, math.floor(d.start_s * buy_hz))
        if exchange == d.buy_exchange:
            return _with_prices(base, anchor.bid, anchor.ask)
        sell_bid = round(anchor.ask * (1.0 + d.edge_bps / 1e4))
        if exchange == d.sell_exchange:
            return _with_prices(base, sell_bid, sell_bid + (base.ask - base.bid))
        sell_hz = self._profiles[d.sell_exchange].quote_hz
        lo = d.start_s - 1.0 / self._profiles[exchange].quote_hz
        hi = d.end_s + max(1.0 / buy_hz, 1.0 / sell_hz)
        if not lo <= t <= hi:
            return None
        return _with_prices(base, min(base.bid, anchor.ask), max(base.ask, sell_bid))

    def latest_quote(self, exchange: str, symbol: str, t_s: float) -> SimQuote:
        """The quote an exchange shows at model time ``t_s`` (its last tick at or before it)."""
        return self.quote(exchange, symbol, math.floor(t_s * self.quote_hz(exchange)))

    def trade(self, exchange: str, symbol: str, j: int) -> SimTrade:
        """The j-th public trade: at the exchange's current ask (taker buy) or bid (sell)."""
        prof = self._profiles[exchange]
        t_s = j / prof.trade_hz
        quote = self.latest_quote(exchange, symbol, t_s)
        u_side, u_size, _, _ = _units(self.config.seed, f"t|{exchange}|{symbol}|{j}")
        spec = self.specs[symbol]
        price_units = quote.ask / 10**spec.price_decimals
        mean_qty = prof.size_usd / price_units * 10**spec.qty_decimals
        size = max(1, round(mean_qty * (0.02 + 0.3 * u_size)))
        if u_side < 0.5:
            return SimTrade(exchange, symbol, j, t_s, quote.ask, size, "buy")
        return SimTrade(exchange, symbol, j, t_s, quote.bid, size, "sell")


def _with_prices(q: SimQuote, bid: int, ask: int) -> SimQuote:
    return SimQuote(q.exchange, q.symbol, q.k, q.t_s, bid, q.bid_size, ask, q.ask_size)


def _default_price(seed: int, symbol: str) -> float:
    base = symbol.split("-", 1)[0]
    if base in _KNOWN_PRICES:
        return _KNOWN_PRICES[base]
    u, _, _, _ = _units(seed, f"p0|{symbol}")
    return round(1.0 + 99.0 * u, 2)


def fmt_fixed(units: int, decimals: int, width: int = 8) -> str:
    """Integer ``units`` of ``10**-decimals`` as a fixed-point string with ``width`` decimals
    (Binance style, ``"65000.01000000"``). ``width`` must be >= ``decimals``."""
    whole, frac = divmod(units, 10**decimals)
    if width == 0:
        return str(whole)
    digits = f"{frac:0{decimals}d}" if decimals else ""
    return f"{whole}.{digits}{'0' * (width - decimals)}"


def fmt_trim(units: int, decimals: int) -> str:
    """Integer ``units`` of ``10**-decimals`` with trailing zeros dropped (``"65000.01"``,
    ``"65000"``): the Bybit, KuCoin and MEXC style."""
    whole, frac = divmod(units, 10**decimals)
    if frac == 0 or decimals == 0:
        return str(whole)
    return f"{whole}.{frac:0{decimals}d}".rstrip("0")
