"""The interface every exchange module implements, without any I/O.

An exchange module (``binance.py``, ``bybit.py``, ``kucoin.py``, ``mexc.py``) is a sans-I/O protocol
core in the style of python-websockets: it knows URLs, subscribe messages, heartbeat rules and how
to decode a stored row, but it never opens a socket, reads a clock or touches a file. The recorder
and the replay are thin drivers around it, which is what makes live and replay agree by
construction.

Module-level contract (checked by ``tests/exchanges/test_interface.py``)::

    NAME: str                          # "binance"
    DEFAULT_METHOD: str                # "ws" or "rest"
    DEFAULT_WS_URL: str                # endpoint the recorder connects to (before query/tokens)
    DEFAULT_REST_URL: str              # scheme://host[:port] of the REST API
    HEARTBEAT_INTERVAL_S: float | None # how often heartbeat_message() must be sent (None: never)
    MAX_STREAMS_PER_CONNECTION: int    # the exchange's documented cap
    DEFAULT_POLL_INTERVAL_S: float     # REST polling period that stays well inside the rate limit
    STALE_AFTER_S: float               # no data this long on a WS connection -> reconnect

    def native_symbol(symbol: str) -> str                 # "BTC-USDT" -> exchange spelling
    def canonical_symbol(native: str) -> str              # inverse; raises SymbolError
    def streams(symbols, trades: bool) -> list[str]       # subscriptions: one per channel+symbol
    def ws_connect_url(ws_url: str, streams) -> str       # URL to open for these streams
    def subscribe_messages(streams) -> list[bytes]        # frames to send once connected/welcomed
    def heartbeat_message(counter: int) -> bytes | None   # app-level ping; counter gives ids
    def rest_poll_requests(symbols) -> list[RestRequest]  # one poll round's requests
    def route(payload: bytes) -> str | None               # cheap: the stream of a data frame
    def decode(payload, recv_ns, conn_id, seq, stream) -> list[Event]   # never raises

``decode`` is the only function on the replay hot path; it must turn anything it cannot read into a
single :class:`~ticktape.exchanges.events.DecodeError` and return control frames (acks, pongs,
welcome) as an empty list.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol
from urllib.parse import urlencode

import msgspec

from ticktape.exchanges.events import Event

Decoder = Callable[[bytes, int, int, int, str], list[Event]]


class RestRequest(msgspec.Struct, frozen=True):
    """One REST request, described without I/O. ``stream`` is what the recorder stores."""

    method: str  # "GET" | "POST"
    path: str  # "/api/v3/ticker/bookTicker"
    query: tuple[tuple[str, str], ...] = ()
    weight: int = 1  # the exchange's request weight, for client-side rate limiting

    @property
    def path_and_query(self) -> str:
        return f"{self.path}?{urlencode(self.query)}" if self.query else self.path

    @property
    def stream(self) -> str:
        """E.g. ``GET /api/v1/market/orderbook/level1?symbol=BTC-USDT``."""
        return f"{self.method} {self.path_and_query}"


class ExchangeModule(Protocol):
    """Static type of an exchange module (see the module docstring for the contract)."""

    NAME: str
    DEFAULT_METHOD: str
    DEFAULT_WS_URL: str
    DEFAULT_REST_URL: str
    HEARTBEAT_INTERVAL_S: float | None
    MAX_STREAMS_PER_CONNECTION: int
    DEFAULT_POLL_INTERVAL_S: float
    STALE_AFTER_S: float

    def native_symbol(self, symbol: str) -> str: ...
    def canonical_symbol(self, native: str) -> str: ...
    def streams(self, symbols: Sequence[str], trades: bool) -> list[str]: ...
    def ws_connect_url(self, ws_url: str, streams: Sequence[str]) -> str: ...
    def subscribe_messages(self, streams: Sequence[str]) -> list[bytes]: ...
    def heartbeat_message(self, counter: int) -> bytes | None: ...
    def rest_poll_requests(self, symbols: Sequence[str]) -> list[RestRequest]: ...
    def route(self, payload: bytes) -> str | None: ...
    def decode(
        self, payload: bytes, recv_ns: int, conn_id: int, seq: int, stream: str
    ) -> list[Event]: ...
