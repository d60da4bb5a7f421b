"""Taker fees and quote-staleness limits used by the arbitrage strategy.

Taker fees (fraction of notional, spot, regular non-VIP account, no fee-token discount, no
promotions). An arbitrage that crosses the spread on both venues pays the taker fee twice, so these
numbers decide whether an opportunity is real:

=========  ======  ==============================================================================
exchange   taker   source / assumption
=========  ======  ==============================================================================
binance    0.10%   Binance spot fee schedule, "Regular User" tier (0.1000% maker / 0.1000% taker);
                   paying fees in BNB (25% off) is *not* assumed.
bybit      0.10%   Bybit spot fee rates, non-VIP tier (0.1000% maker / 0.1000% taker).
kucoin     0.10%   KuCoin spot fee schedule, class A pairs (BTC, ETH, ...), LV0 (0.1% / 0.1%);
                   class B/C pairs cost more (0.2% / 0.3%) - override for those.
mexc       0.05%   MEXC spot fee schedule, default tier (0% maker / 0.05% taker). MEXC changes
                   spot fees often (promotional 0% pairs exist); override when they differ.
=========  ======  ==============================================================================

These were the published defaults for the tiers named (as of 2025); they could not be re-checked
from this machine (no internet) and exchanges revise them, so every value can be overridden with
``ArbStrategy(taker_fees={...})`` (or ``create("arb", taker_fees=...)``). An exchange missing from
the table is charged :data:`UNKNOWN_EXCHANGE_TAKER_FEE` (the highest default, so an opportunity is
never overstated) and the arbitrage summary says so.

Staleness: a top-of-book quote is only trusted for a while after it was received. WebSocket BBO
feeds push every 10-100 ms while the book moves but can go quiet when it does not, so the default
is :data:`DEFAULT_WS_STALENESS_S`; a REST poller refreshes once per poll, so its quote is trusted
for :data:`REST_STALENESS_POLLS` poll intervals (one slow or failed poll is tolerated, two are not).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from ticktape.strategies.base import StrategyConfigError

DEFAULT_TAKER_FEES: Final[Mapping[str, float]] = MappingProxyType(
    {
        "binance": 0.0010,
        "bybit": 0.0010,
        "kucoin": 0.0010,
        "mexc": 0.0005,
    }
)

UNKNOWN_EXCHANGE_TAKER_FEE: Final = max(DEFAULT_TAKER_FEES.values())

DEFAULT_WS_STALENESS_S: Final = 5.0
REST_STALENESS_POLLS: Final = 3.0


def taker_fees(overrides: Mapping[str, float] | None = None) -> dict[str, float]:
    """The default table with ``overrides`` applied; each fee must be a fraction in [0, 0.1)."""
    table = dict(DEFAULT_TAKER_FEES)
    for exchange, fee in (overrides or {}).items():
        if isinstance(fee, bool) or not isinstance(fee, int | float) or not 0.0 <= fee < 0.1:
            raise StrategyConfigError(
                f"taker fee for {exchange!r} must be a fraction of notional in [0, 0.1) "
                f"(0.001 = 0.1%), got {fee!r}"
            )
        table[exchange] = float(fee)
    return table


def default_staleness(method: str, poll_interval_s: float | None = None) -> float:
    """How long (seconds) a quote from a feed recorded with ``method`` stays fresh.

    ``"ws"``: :data:`DEFAULT_WS_STALENESS_S`. ``"rest"``: ``REST_STALENESS_POLLS`` times
    ``poll_interval_s`` (required for REST).
    """
    if method == "ws":
        return DEFAULT_WS_STALENESS_S
    if method == "rest":
        if poll_interval_s is None or not poll_interval_s > 0:
            raise StrategyConfigError(
                f"REST staleness needs the poll interval in seconds (> 0), got {poll_interval_s!r}"
            )
        return REST_STALENESS_POLLS * float(poll_interval_s)
    raise StrategyConfigError(f"unknown recording method {method!r}: choose from ws, rest")
