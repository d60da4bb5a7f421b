"""A local stand-in for Binance, Bybit, KuCoin (classic) and MEXC spot on 127.0.0.1.

The other side of the wire, for tests, benchmarks and ``record --simulate``: real paths, real
handshakes (KuCoin token + welcome, acks, pongs, Binance server pings), real frame shapes and
key orders (MEXC data as binary protobuf), all encoded here independently of
``ticktape.exchanges`` so decoder tests are meaningful. Quotes come from a seeded market model:
fully deterministic given the seed (the k-th quote of a stream never depends on timing).

Usage::

    from ticktape.simulator import Dislocation, Fault, Lag, SimConfig, Simulator

    config = SimConfig(
        seed=7,
        symbols=("BTC-USDT", "ETH-USDT"),
        rate_hz=20,                      # quotes per second per stream (all exchanges)
        random_dislocations_per_min=0,   # only the scripted one below
        dislocations=(Dislocation("BTC-USDT", "kucoin", "binance", 5.0, 7.0, edge_bps=10),),
        lags=(Lag("bybit", lag_ms=40),), # bybit timestamps = send time - 40 ms
        faults=(Fault(at_s=8.0, exchange="bybit", action="drop", abrupt=True),),
    )
    async with Simulator(config) as sim:         # servers on 127.0.0.1, ephemeral ports
        sim.endpoints["bybit"].ws_url            # ws://127.0.0.1:P/v5/public/spot
        sim.endpoints["binance"].ws_url          # ws://127.0.0.1:P/stream (append ?streams=..)
        sim.endpoints["mexc"].ws_url             # ws://127.0.0.1:P/ws
        sim.endpoints["kucoin"].rest_url         # POST /api/v1/bullet-public -> WS endpoint
        await sim.drop("bybit", abrupt=True)     # TCP reset; abrupt=False: close frame 1001
        sim.stall("kucoin", 5.0)                 # sockets open, nothing sent for 5 s
        await sim.burst("binance", 50)           # 50 frames back to back per connection
        await sim.send_malformed("mexc")         # truncated protobuf (binary=False: bad JSON)
        sim.rest_error("binance", count=2)       # next 2 REST calls: 429 + Retry-After
        sim.rest_ban("mexc", 10.0)               # 418 for 10 s (Bybit 403, KuCoin 429000)
        await sim.server_shutdown(close_after_s=1.0)   # Binance serverShutdown event
        sim.sent_log                             # SentLog of SentFrame, in send order
        sim.dump_sent_log("sent.parquet")        # or .jsonl
        sim.market.quote("binance", "BTC-USDT", k)     # the k-th quote, no socket needed

Endpoints (paths as the real exchanges):

- Binance: WS ``/stream?streams=a/b`` (combined), ``/ws/<stream>`` and ``/ws`` (raw); streams
  ``<sym>@bookTicker`` and ``<sym>@trade``; SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS /
  SET_PROPERTY / GET_PROPERTY; server pings every ``binance_ping_interval_s``. REST
  ``GET /api/v3/ticker/bookTicker`` (``symbol=``, ``symbols=[..]`` or none), ``/api/v3/time``.
- Bybit: WS ``/v5/public/spot`` with ``orderbook.1.<SYM>`` and ``publicTrade.<SYM>``. REST
  ``/v5/market/orderbook?category=spot&symbol=..&limit=1``, ``/v5/market/time``.
- KuCoin: REST ``POST /api/v1/bullet-public`` (token + this server's WS endpoint),
  ``/api/v1/market/orderbook/level1?symbol=``, ``/api/v1/timestamp``; WS ``/?token=..``
  with ``/spotMarket/level1:``, ``/market/ticker:``, ``/market/match:`` topics.
- MEXC: WS ``/ws`` with ``spot@public.aggre.bookTicker.v3.api.pb@(100ms|10ms)@<SYM>`` and
  ``spot@public.aggre.deals.v3.api.pb@(100ms|10ms)@<SYM>`` (binary protobuf). REST
  ``/api/v3/ticker/bookTicker``, ``/api/v3/time``.

Send log: every WebSocket frame (kinds ``text``/``binary``, plus Binance ``ping`` frames) and
REST body (kind ``rest``) with the simulator's connection id, ``time.time_ns()`` send time and
the exact bytes handed to the transport; ``sim.connections`` lists connections in accept order
(use it to pair a client's connection with a ``conn_id``). ``SimConfig(log_sent=False)`` turns
it off for long runs.

Fault semantics: a stall holds data, control replies and Binance pings (missed ticks are
conflated; protocol-level pongs to *client* pings are still answered by aiohttp on Bybit,
KuCoin and MEXC, and REST keeps answering); a clean drop sends close 1001 and completes the
close handshake (a drop requested during a stall closes when the stall ends); an abrupt drop is
a TCP reset with no close frame, so the client may miss frames the log lists just before it.

Guarantees: exchange timestamps in frames are ``send time - lag`` (the send clock is
``time.time_ns()``, the one logged); scripted dislocations follow
:class:`~ticktape.simulator.config.Dislocation` exactly at the tick level; with the default
profiles no two exchanges cross outside dislocations (and stalls, which make quotes stale).
``SimConfig(samples=True)`` serves the real captured frames of ``tests/fixtures/samples``
byte for byte instead of generated ones, once per connection, after the first subscription
(Binance: after connect). Standalone: ``python -m ticktape.simulator --seed 7 --duration 60``.
"""

from __future__ import annotations

from ticktape.simulator.config import (
    DEFAULT_PROFILES,
    EXCHANGES,
    Dislocation,
    ExchangeProfile,
    Fault,
    Lag,
    SimConfig,
    SimConfigError,
)
from ticktape.simulator.context import ConnectionInfo
from ticktape.simulator.market import MarketModel, SimQuote, SimTrade, SymbolSpec
from ticktape.simulator.samples import SamplesError
from ticktape.simulator.sent_log import SentFrame, SentLog, load_jsonl
from ticktape.simulator.simulator import Endpoint, Simulator, SimulatorError

__all__ = [
    "DEFAULT_PROFILES",
    "EXCHANGES",
    "ConnectionInfo",
    "Dislocation",
    "Endpoint",
    "ExchangeProfile",
    "Fault",
    "Lag",
    "MarketModel",
    "SamplesError",
    "SentFrame",
    "SentLog",
    "SimConfig",
    "SimConfigError",
    "SimQuote",
    "SimTrade",
    "Simulator",
    "SimulatorError",
    "SymbolSpec",
    "load_jsonl",
]
