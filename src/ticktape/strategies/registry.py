"""The strategy registry: names users type (``--strategy arb``) -> strategy objects.

Strategies are created fresh per run (they hold state); ``create`` imports the module lazily so a
driver that only records does not pay for the strategies it does not use.
"""

from __future__ import annotations

import inspect
from typing import Any, Final

from ticktape.strategies.base import Strategy, StrategyConfigError, UnknownStrategyError

STRATEGIES: Final = ("arb", "latency")


def create(name: str, **config: Any) -> Strategy:
    """A new strategy named ``name`` configured with ``config`` (its keyword arguments).

    Raises :class:`UnknownStrategyError` for a name not in :data:`STRATEGIES` and
    :class:`StrategyConfigError` for an option the strategy does not have or a bad value.
    """
    if name == "arb":
        from ticktape.strategies.arb import ArbStrategy as factory
    elif name == "latency":
        from ticktape.strategies.latency import LatencyStrategy as factory  # type: ignore[assignment]
    else:
        raise UnknownStrategyError(
            f"unknown strategy {name!r}: choose from {', '.join(STRATEGIES)}"
        )
    options = [p for p in inspect.signature(factory).parameters if p != "self"]
    unknown = sorted(set(config) - set(options))
    if unknown:
        raise StrategyConfigError(
            f"strategy {name!r} has no option {', '.join(map(repr, unknown))}: "
            f"choose from {', '.join(options)}"
        )
    return factory(**config)
