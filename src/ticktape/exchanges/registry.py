"""The exchanges ticktape speaks, by name: the one place that lists them.

``get("bybit")`` returns the module (see :mod:`ticktape.exchanges.base` for its contract);
``new_decoder("bybit")`` a fresh decoder with its own per-connection state. Adding an exchange =
adding its module and one entry here.
"""

from __future__ import annotations

from typing import Final

from ticktape.exchanges import binance, bybit, kucoin, mexc
from ticktape.exchanges.base import Decoder, ExchangeModule

EXCHANGES: Final = ("binance", "bybit", "kucoin", "mexc")

_MODULES: Final[dict[str, ExchangeModule]] = {
    "binance": binance,
    "bybit": bybit,
    "kucoin": kucoin,
    "mexc": mexc,
}


class UnknownExchangeError(ValueError):
    """A name that is not one of :data:`EXCHANGES`."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown exchange {name!r}: choose from {', '.join(EXCHANGES)}")
        self.name = name


def get(name: str) -> ExchangeModule:
    """The exchange module called ``name``; raises :class:`UnknownExchangeError`."""
    try:
        return _MODULES[name]
    except (KeyError, TypeError):
        raise UnknownExchangeError(name) from None


def new_decoder(name: str) -> Decoder:
    """A fresh decoder for ``name`` (its own per-connection state); see the module's ``decode``."""
    module = get(name)
    factory = getattr(module, "new_decoder")  # noqa: B009 - not in the ExchangeModule protocol
    decoder: Decoder = factory()
    return decoder
