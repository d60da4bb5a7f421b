"""Normalized events: what every exchange decoder emits and every strategy consumes.

Events are immutable ``msgspec.Struct`` objects rather than frozen dataclasses: building one costs
~60 ns against ~850 ns for ``@dataclass(frozen=True, slots=True)`` (measured on this machine),
and the replay creates one per message. ``gc=False`` is safe because events hold only scalars.

Every event carries the identity of the row it came from: ``exchange``, ``recv_ns`` (local receive
time, ns since the Unix epoch), ``conn_id`` and ``seq``. A message that yields several events
keeps its ``(conn_id, seq)`` on each. ``exch_ns`` is the exchange's own timestamp converted to ns
(``None`` when the message has none, e.g. Binance spot bookTicker). ``req_ns`` (the last field
of ``Quote`` and ``Trade``, default ``None``) is the row's ``req_ns`` for REST responses: when
the request was sent, so the round trip is ``recv_ns - req_ns``; WebSocket events leave it ``None``.

Prices and sizes are floats: parsing a decimal string to an IEEE double is exact-deterministic on
every machine, and the arithmetic downstream is float anyway. Identifiers that may exceed 2**53
(trade ids, sequence numbers) stay ``str`` or Python ``int``; they are never floats.
"""

from __future__ import annotations

from typing import Final

import msgspec

BUY: Final = "buy"
SELL: Final = "sell"


class Quote(msgspec.Struct, frozen=True, gc=False):
    """Top of book on one exchange for one symbol. A side with no order has price and size 0.0."""

    exchange: str
    symbol: str  # canonical, e.g. "BTC-USDT"
    recv_ns: int
    exch_ns: int | None
    conn_id: int
    seq: int
    bid: float
    bid_size: float
    ask: float
    ask_size: float
    req_ns: int | None = None  # REST: when the request was sent (round trip = recv_ns - req_ns)


class Trade(msgspec.Struct, frozen=True, gc=False):
    """One public trade. ``side`` is the taker's side: ``"buy"`` or ``"sell"``."""

    exchange: str
    symbol: str
    recv_ns: int
    exch_ns: int | None
    conn_id: int
    seq: int
    price: float
    size: float
    side: str
    trade_id: str
    req_ns: int | None = None  # REST: when the request was sent (round trip = recv_ns - req_ns)


class Connected(msgspec.Struct, frozen=True, gc=False):
    """A connection opened (an ``open`` row); ``url`` is that row's payload."""

    exchange: str
    recv_ns: int
    conn_id: int
    seq: int
    stream: str
    url: str


class Disconnected(msgspec.Struct, frozen=True, gc=False):
    """A connection closed (a ``close`` row). Quotes it delivered are no longer live."""

    exchange: str
    recv_ns: int
    conn_id: int
    seq: int
    stream: str
    reason: str


class Gap(msgspec.Struct, frozen=True, gc=False):
    """Data is known to be missing: ``seq`` jumped, or an exchange sequence number skipped."""

    exchange: str
    recv_ns: int
    conn_id: int
    seq: int
    stream: str
    detail: str


class DecodeError(msgspec.Struct, frozen=True, gc=False):
    """A ``data`` row that could not be decoded. Counted and reported; never fatal."""

    exchange: str
    recv_ns: int
    conn_id: int
    seq: int
    stream: str
    error: str


Event = Quote | Trade | Connected | Disconnected | Gap | DecodeError

MarketEvent = Quote | Trade
