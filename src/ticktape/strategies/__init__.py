"""Strategies: pure consumers of normalized events, run identically live and in replay.

``create(name, **config)`` builds one by name (``STRATEGIES`` lists the names); the contract every
strategy follows is in :mod:`ticktape.strategies.base`.
"""

from ticktape.strategies.base import (
    Signal,
    Strategy,
    StrategyConfigError,
    StrategyError,
    UnknownStrategyError,
    run,
)
from ticktape.strategies.registry import STRATEGIES, create

__all__ = [
    "STRATEGIES",
    "Signal",
    "Strategy",
    "StrategyConfigError",
    "StrategyError",
    "UnknownStrategyError",
    "create",
    "run",
]
