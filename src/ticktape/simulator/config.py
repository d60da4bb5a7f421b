"""Simulator configuration: what to serve, how the market behaves, and what goes wrong when.

Everything here is plain immutable data (frozen dataclasses) so a config can be built in a test,
printed, and reused: two simulators built from equal configs serve the same quote sequences.

Times in scripted events (``start_s``, ``end_s``, ``at_s``) are seconds since the simulator
started (its model clock, a monotonic clock anchored when the servers come up). Prices are in
quote currency; ``*_bps`` values are basis points (1 bps = 0.01 %).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

from ticktape.symbols import SymbolError, canonical

EXCHANGES: Final = ("binance", "bybit", "kucoin", "mexc")

FaultAction = Literal[
    "drop",  # close every connection of the exchange (clean close frame, or TCP abort if abrupt)
    "stall",  # keep sockets open but send nothing for `seconds`
    "burst",  # send `count` data frames at once on every connection
    "malformed",  # send one malformed frame (invalid JSON text; truncated protobuf on MEXC)
    "rest_error",  # the next `count` REST requests fail with the rate-limit error (`status`)
    "rest_ban",  # every REST request fails for `seconds` (418 on Binance/MEXC)
    "server_shutdown",  # Binance `serverShutdown` event, then close after `seconds` (if > 0)
]
FAULT_ACTIONS: Final = (
    "drop",
    "stall",
    "burst",
    "malformed",
    "rest_error",
    "rest_ban",
    "server_shutdown",
)


class SimConfigError(ValueError):
    """The simulator configuration is inconsistent; the message says which field and why."""


@dataclass(frozen=True, slots=True)
class ExchangeProfile:
    """How one exchange quotes: its spread, sizes, update rates, noise and clock lag.

    ``quote_hz`` / ``trade_hz`` are messages per second per stream (one symbol's top of book or
    trades). ``noise_bps`` bounds the exchange's idiosyncratic deviation from the common mid
    (uniform in ``[-noise_bps, +noise_bps]``), so with the defaults two exchanges never cross
    unless a dislocation says so. ``lag_ms`` is the exchange clock's lag: every exchange
    timestamp in a frame is ``send time - lag_ms``.
    """

    spread_bps: float = 2.0
    noise_bps: float = 0.3
    size_usd: float = 20_000.0  # mean notional of a top-of-book level or a trade
    quote_hz: float = 20.0
    trade_hz: float = 5.0
    lag_ms: float = 0.0


DEFAULT_PROFILES: Final = {
    "binance": ExchangeProfile(spread_bps=2.0, size_usd=40_000.0, quote_hz=20.0, trade_hz=5.0),
    "bybit": ExchangeProfile(spread_bps=2.4, size_usd=25_000.0, quote_hz=20.0, trade_hz=4.0),
    "kucoin": ExchangeProfile(spread_bps=3.0, size_usd=12_000.0, quote_hz=20.0, trade_hz=3.0),
    "mexc": ExchangeProfile(spread_bps=2.6, size_usd=8_000.0, quote_hz=10.0, trade_hz=3.0),
}


@dataclass(frozen=True, slots=True)
class Dislocation:
    """A scripted arbitrage window, injected exactly.

    During ``[start_s, end_s]`` the ask of ``buy_exchange`` is held at its value ``A`` at
    ``start_s`` and every quote ``sell_exchange`` sends has bid ``A * (1 + edge_bps / 1e4)``
    (rounded to the price tick). Other exchanges widen their quotes to straddle
    ``[A, A * (1 + edge)]`` so this is the only crossing pair, and the common mid pauses.
    """

    symbol: str
    buy_exchange: str
    sell_exchange: str
    start_s: float
    end_s: float
    edge_bps: float


@dataclass(frozen=True, slots=True)
class Lag:
    """Scripted exchange-clock lag: in ``[start_s, end_s)`` timestamps are send time - lag_ms."""

    exchange: str
    lag_ms: float
    start_s: float = 0.0
    end_s: float = math.inf


@dataclass(frozen=True, slots=True)
class Fault:
    """A fault fired at ``at_s`` seconds after start (see :data:`FaultAction` for the actions).

    ``seconds`` is the stall / ban length or the delay before a serverShutdown close;
    ``count`` the burst size or the number of failing REST requests; ``status`` overrides the
    HTTP status of REST errors (default: the exchange's own rate-limit status).
    """

    at_s: float
    exchange: str
    action: FaultAction
    abrupt: bool = False
    seconds: float = 0.0
    count: int = 1
    status: int | None = None
    retry_after_s: float = 1.0


@dataclass(frozen=True, slots=True)
class SimConfig:
    """Everything the simulator serves.

    ``symbols`` accept any spelling :func:`ticktape.symbols.canonical` understands and are
    stored canonical. ``rate_hz`` / ``trade_rate_hz``, when given, override every profile's
    ``quote_hz`` / ``trade_hz``. ``samples=True`` serves the real captured frames from
    ``samples_dir`` instead of generated quotes (REST stays generated).
    """

    seed: int = 7
    symbols: tuple[str, ...] = ("BTC-USDT", "ETH-USDT")
    exchanges: tuple[str, ...] = EXCHANGES
    rate_hz: float | None = None
    trade_rate_hz: float | None = None
    profiles: dict[str, ExchangeProfile] = field(default_factory=dict)
    initial_prices: dict[str, float] = field(default_factory=dict)
    volatility_bps: float = 0.1  # max |step| of the common mid per 10 ms (uniform steps)
    random_dislocations_per_min: float = 1.0
    random_edge_bps: tuple[float, float] = (10.0, 40.0)  # gross; taker fees take 15-20 bps
    random_duration_s: tuple[float, float] = (0.5, 3.0)
    dislocations: tuple[Dislocation, ...] = ()
    lags: tuple[Lag, ...] = ()
    faults: tuple[Fault, ...] = ()
    binance_ping_interval_s: float = 20.0
    binance_pong_timeout_s: float = 60.0
    mexc_no_subscription_timeout_s: float = 30.0
    kucoin_ping_interval_ms: int = 18_000
    kucoin_ping_timeout_ms: int = 10_000
    enforce_inbound_limits: bool = True  # Binance 5 msg/s, KuCoin 100/10 s, MEXC 100/s
    connection_lifetime_s: float | None = None  # e.g. 86400 to mimic the 24 h cap
    log_sent: bool = True  # keep the in-memory send log (off for long standalone runs)
    samples: bool = False
    samples_dir: Path | None = None
    samples_rate_hz: float = 50.0
    host: str = "127.0.0.1"

    def __post_init__(self) -> None:
        try:
            syms = tuple(canonical(s) for s in self.symbols)
        except SymbolError as exc:
            raise SimConfigError(f"SimConfig.symbols: {exc}") from exc
        object.__setattr__(self, "symbols", syms)
        object.__setattr__(self, "exchanges", tuple(self.exchanges))
        object.__setattr__(self, "dislocations", tuple(self.dislocations))
        object.__setattr__(self, "lags", tuple(self.lags))
        object.__setattr__(self, "faults", tuple(self.faults))
        if not syms:
            raise SimConfigError("SimConfig.symbols is empty: give at least one, e.g. BTC-USDT")
        for name in self.exchanges:
            _check_exchange(name, "SimConfig.exchanges")
        for name in self.profiles:
            _check_exchange(name, "SimConfig.profiles")
        for hz_name in ("rate_hz", "trade_rate_hz"):
            hz = getattr(self, hz_name)
            if hz is not None and not 0 < hz <= 1000:
                raise SimConfigError(f"SimConfig.{hz_name}={hz}: expected 0 < rate <= 1000")
        self._check_dislocations()
        for lag in self.lags:
            _check_exchange(lag.exchange, "Lag.exchange")
        for fault in self.faults:
            _check_exchange(fault.exchange, "Fault.exchange")
            if fault.action not in FAULT_ACTIONS:
                raise SimConfigError(
                    f"Fault.action={fault.action!r}: expected one of {', '.join(FAULT_ACTIONS)}"
                )
            if fault.exchange not in self.exchanges:
                raise SimConfigError(f"Fault at {fault.at_s}s: {fault.exchange!r} is not simulated")
            if fault.action == "server_shutdown" and fault.exchange != "binance":
                raise SimConfigError("Fault server_shutdown exists only on binance")

    def _check_dislocations(self) -> None:
        by_symbol: dict[str, list[Dislocation]] = {}
        for d in self.dislocations:
            where = f"Dislocation({d.symbol}, {d.buy_exchange}->{d.sell_exchange})"
            sym = canonical(d.symbol)
            if sym not in self.symbols:
                raise SimConfigError(f"{where}: symbol not in SimConfig.symbols {self.symbols}")
            for name in (d.buy_exchange, d.sell_exchange):
                if name not in self.exchanges:
                    raise SimConfigError(f"{where}: {name!r} is not a simulated exchange")
            if d.buy_exchange == d.sell_exchange:
                raise SimConfigError(f"{where}: buy and sell exchange must differ")
            if not 0 <= d.start_s < d.end_s:
                raise SimConfigError(f"{where}: need 0 <= start_s < end_s")
            if d.edge_bps <= 0:
                raise SimConfigError(f"{where}: edge_bps must be > 0")
            by_symbol.setdefault(sym, []).append(d)
        for sym, items in by_symbol.items():
            items.sort(key=lambda d: d.start_s)
            for a, b in itertools.pairwise(items):
                if b.start_s < a.end_s + 1.0:
                    raise SimConfigError(
                        f"dislocations on {sym} at {a.start_s}s and {b.start_s}s overlap: "
                        "leave at least 1 s between them"
                    )

    def profile(self, exchange: str) -> ExchangeProfile:
        """The effective profile of ``exchange`` (defaults, then overrides, then global rates)."""
        base = self.profiles.get(exchange, DEFAULT_PROFILES[exchange])
        quote_hz = self.rate_hz if self.rate_hz is not None else base.quote_hz
        trade_hz = self.trade_rate_hz if self.trade_rate_hz is not None else base.trade_hz
        return ExchangeProfile(
            spread_bps=base.spread_bps,
            noise_bps=base.noise_bps,
            size_usd=base.size_usd,
            quote_hz=quote_hz,
            trade_hz=trade_hz,
            lag_ms=base.lag_ms,
        )

    def lag_ms(self, exchange: str, t_s: float) -> float:
        """Exchange-clock lag at model time ``t_s``: the last matching scripted Lag wins."""
        lag = self.profile(exchange).lag_ms
        for item in self.lags:
            if item.exchange == exchange and item.start_s <= t_s < item.end_s:
                lag = item.lag_ms
        return lag


def _check_exchange(name: str, where: str) -> None:
    if name not in EXCHANGES:
        raise SimConfigError(f"{where}: unknown exchange {name!r}; expected one of {EXCHANGES}")
