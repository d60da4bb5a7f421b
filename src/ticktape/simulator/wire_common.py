"""Pieces every exchange encoder shares: the channel vocabulary, symbol lookup, id numbering.

Each exchange's ``*_wire`` module turns :class:`~ticktape.simulator.market.SimQuote` /
:class:`~ticktape.simulator.market.SimTrade` values into exact frame bytes. They are written from
the protocol notes, independently of ``ticktape.exchanges`` (whose decoders they exist to test).
JSON is produced with ``orjson`` from dicts built in the exchange's key order: compact
separators, insertion order kept, exactly like the real feeds.

Sequence numbers and ids are pure functions of the stream index, so they are deterministic and
survive reconnects the way real ones do (a new connection continues the same numbering).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final, Literal

Channel = Literal["quote", "trade"]
QUOTE: Final = "quote"
TRADE: Final = "trade"


@dataclass(frozen=True, slots=True)
class StreamRef:
    """A native stream name resolved to the simulator's (channel, canonical symbol)."""

    name: str
    channel: Channel
    symbol: str  # canonical; "" when the exchange would accept the name but we do not simulate it


def symbol_offset(symbol: str, modulus: int) -> int:
    """A stable per-symbol offset in ``[0, modulus)`` so different symbols' ids do not collide."""
    digest = hashlib.blake2b(symbol.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") % modulus


def cross_seq(t_s: float, channel: Channel, base: int) -> int:
    """A cross-stream sequence number: increases with model time, quotes before trades."""
    return base + round(t_s * 10_000) * 2 + (1 if channel == TRADE else 0)


def exch_ns(send_ns: int, lag_ms: float) -> int:
    """The exchange's own timestamp for a frame sent at ``send_ns``: send time minus lag."""
    return send_ns - round(lag_ms * 1_000_000)
