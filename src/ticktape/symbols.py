"""Canonical symbols (``BTC-USDT``) and the user's spellings of them.

Users type ``BTCUSDT``, ``btcusdt``, ``BTC-USDT`` or ``BTC/USDT``; every exchange module maps the
canonical form to its own spelling. Splitting an unseparated symbol needs the quote currency, so
we try the known quote assets longest first.
"""

from __future__ import annotations

from typing import Final

QUOTE_ASSETS: Final = (
    "FDUSD", "USDT", "USDC", "TUSD", "BUSD", "USDE", "USD1", "DAI", "EUR", "TRY", "BRL", "JPY",
    "GBP", "BTC", "ETH", "BNB", "USD",
)  # fmt: skip


class SymbolError(ValueError):
    """A symbol the user gave cannot be understood."""


def canonical(symbol: str) -> str:
    """Return ``BASE-QUOTE`` for any common spelling; raise :class:`SymbolError` if ambiguous."""
    text = symbol.strip().upper()
    for sep in ("-", "/", "_"):
        if sep in text:
            base, _, quote = text.partition(sep)
            if base.isalnum() and quote.isalnum():
                return f"{base}-{quote}"
            raise SymbolError(f"bad symbol {symbol!r}: expected e.g. BTCUSDT or BTC-USDT")
    if not text.isalnum():
        raise SymbolError(f"bad symbol {symbol!r}: expected e.g. BTCUSDT or BTC-USDT")
    for quote in QUOTE_ASSETS:
        if text.endswith(quote) and len(text) > len(quote):
            return f"{text[: -len(quote)]}-{quote}"
    raise SymbolError(
        f"cannot split {symbol!r} into base and quote asset; write it as BASE-QUOTE (e.g. BTC-USDT)"
    )


def split(canonical_symbol: str) -> tuple[str, str]:
    """``"BTC-USDT"`` -> ``("BTC", "USDT")``."""
    base, _, quote = canonical_symbol.partition("-")
    return base, quote


def concatenated(canonical_symbol: str) -> str:
    """``"BTC-USDT"`` -> ``"BTCUSDT"`` (Binance, Bybit and MEXC spelling)."""
    return canonical_symbol.replace("-", "")
