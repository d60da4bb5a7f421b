"""The :class:`Simulator`: starts one server per exchange on 127.0.0.1 and exposes the faults.

Owns the shared :class:`~ticktape.simulator.context.SimContext` (model clock, market, send log),
the aiohttp runners, and the task that fires the config's fault schedule. Every server runs on
its own ephemeral port because the real exchanges' paths overlap (Binance and MEXC both serve
``/api/v3/...``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from aiohttp import web

from ticktape.simulator.binance_server import BinanceServer
from ticktape.simulator.bybit_server import BybitServer
from ticktape.simulator.config import Fault, SimConfig, SimConfigError
from ticktape.simulator.context import ConnectionInfo, SimContext
from ticktape.simulator.kucoin_server import KucoinServer
from ticktape.simulator.market import MarketModel
from ticktape.simulator.mexc_server import MexcServer
from ticktape.simulator.sent_log import SentLog
from ticktape.simulator.server_base import ExchangeServer

_SERVERS: dict[str, type[ExchangeServer]] = {
    "binance": BinanceServer,
    "bybit": BybitServer,
    "kucoin": KucoinServer,
    "mexc": MexcServer,
}


class SimulatorError(RuntimeError):
    """The simulator was used in a state that does not allow it (not started, unknown name)."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a simulated exchange listens. KuCoin clients get ``ws_url`` from bullet-public."""

    exchange: str
    ws_url: str
    rest_url: str


class Simulator:
    """Local stand-in for Binance, Bybit, KuCoin and MEXC spot (see the package docstring)."""

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        self.market = MarketModel(self.config)
        self._ctx = SimContext(self.config, self.market, SentLog(self.config.log_sent))
        self._servers = {name: _SERVERS[name](self._ctx) for name in self.config.exchanges}
        self._runners: list[web.AppRunner] = []
        self._fault_task: asyncio.Task[None] | None = None
        self.endpoints: dict[str, Endpoint] = {}
        self.fault_log: list[tuple[float, Fault]] = []  # (model time fired, fault)

    # ----- life cycle ------------------------------------------------------------------------
    async def start(self) -> None:
        if self._runners:
            raise SimulatorError("simulator already started")
        if self.config.samples:
            for name in self._servers:
                self._ctx.samples(name)  # fail now, with SamplesError, not inside a handler
        self._ctx.start_clock()
        host = self.config.host
        for name, server in self._servers.items():
            app = web.Application()
            app.add_routes(server.routes())
            runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
            await runner.setup()
            await web.TCPSite(runner, host, 0).start()
            self._runners.append(runner)
            port = runner.addresses[0][1]
            server.base_ws_url = f"ws://{host}:{port}"
            server.rest_url = f"http://{host}:{port}"
            self.endpoints[name] = Endpoint(name, server.ws_url, server.rest_url)
        if self.config.faults:
            self._fault_task = asyncio.create_task(self._run_fault_schedule())

    async def stop(self) -> None:
        """Close every connection (close frame 1001, bounded wait) and every listening socket."""
        if self._fault_task is not None:
            self._fault_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._fault_task
            self._fault_task = None
        for server in self._servers.values():
            await server.stop()
        conns = [c for s in self._servers.values() for c in s.conns.values() if not c.ws.closed]
        self._ctx.stopping = True
        await asyncio.gather(*(c.close(1001, "simulator stopped", timeout=1.0) for c in conns))
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ----- observation ---------------------------------------------------------------------
    @property
    def sent_log(self) -> SentLog:
        """Every frame and REST body sent so far (see :mod:`ticktape.simulator.sent_log`)."""
        return self._ctx.log

    @property
    def connections(self) -> list[ConnectionInfo]:
        """Every WebSocket connection accepted so far, open or closed, in accept order."""
        return list(self._ctx.connections)

    def open_connections(self, exchange: str) -> int:
        return len(self._server(exchange).live_conns())

    def elapsed(self) -> float:
        """Model time: seconds since :meth:`start` (what scripted times are measured against)."""
        return self._ctx.elapsed()

    def dump_sent_log(self, path: str | Path) -> Path:
        """Write the send log as Parquet (``.parquet``) or JSON lines (anything else)."""
        return self._ctx.log.dump(path)

    def _server(self, exchange: str) -> ExchangeServer:
        server = self._servers.get(exchange)
        if server is None:
            raise SimulatorError(
                f"exchange {exchange!r} is not simulated; configured: {', '.join(self._servers)}"
            )
        if not self._runners:
            raise SimulatorError("simulator not started: use `async with Simulator(...)`")
        return server

    # ----- faults ----------------------------------------------------------------------------
    async def drop(self, exchange: str, abrupt: bool = False) -> int:
        """Close every open connection of ``exchange``: a clean close frame (1001), or with
        ``abrupt`` a TCP reset without close frame. Returns how many were dropped."""
        return await self._server(exchange).drop(abrupt)

    def stall(self, exchange: str, seconds: float) -> None:
        """Keep ``exchange``'s sockets open but send nothing (data, replies, pings) for
        ``seconds``. Missed ticks are conflated: afterwards each stream resumes at the current
        tick. REST keeps answering."""
        self._server(exchange)
        self._ctx.stalled_until[exchange] = time.monotonic() + seconds

    async def burst(self, exchange: str, count: int) -> int:
        """Send ``count`` data frames back to back on every connection of ``exchange``."""
        return await self._server(exchange).burst(count)

    async def send_malformed(self, exchange: str, binary: bool | None = None) -> int:
        """Send one malformed frame on every connection: invalid JSON text, or on MEXC (default)
        a truncated protobuf binary frame. Returns frames sent."""
        use_binary = exchange == "mexc" if binary is None else binary
        if use_binary and exchange != "mexc":
            raise SimulatorError(f"{exchange} sends no binary frames; use binary=False")
        return await self._server(exchange).send_malformed(use_binary)

    def rest_error(
        self, exchange: str, status: int | None = None, count: int = 1, retry_after_s: float = 1.0
    ) -> None:
        """Fail the next ``count`` REST requests of ``exchange`` with its rate-limit response:
        Binance/MEXC 429 (+Retry-After), Bybit 403 "access too frequent", KuCoin 429 code
        429000. ``status`` overrides the HTTP status (e.g. 418)."""
        state = self._ctx.rest_state(self._server(exchange).name)
        state.errors_left, state.error_status, state.retry_after_s = count, status, retry_after_s

    def rest_ban(self, exchange: str, seconds: float, status: int | None = None) -> None:
        """Fail every REST request of ``exchange`` for ``seconds`` (default status: 418 on
        Binance/MEXC, 403 on Bybit, 429 on KuCoin); Retry-After counts down to the end."""
        state = self._ctx.rest_state(self._server(exchange).name)
        default = {"binance": 418, "mexc": 418}.get(exchange)
        state.ban_until = time.monotonic() + seconds
        state.ban_status = status or default

    async def server_shutdown(self, close_after_s: float | None = None) -> int:
        """Binance ``serverShutdown`` on every connection; close them after ``close_after_s``."""
        server = self._server("binance")
        assert isinstance(server, BinanceServer)
        return await server.server_shutdown(close_after_s)

    async def apply(self, fault: Fault) -> None:
        """Fire one fault now (what the schedule does at ``fault.at_s``)."""
        self.fault_log.append((self.elapsed(), fault))
        name, action = fault.exchange, fault.action
        if action == "drop":
            await self.drop(name, fault.abrupt)
        elif action == "stall":
            self.stall(name, fault.seconds)
        elif action == "burst":
            await self.burst(name, fault.count)
        elif action == "malformed":
            await self.send_malformed(name)
        elif action == "rest_error":
            self.rest_error(name, fault.status, fault.count, fault.retry_after_s)
        elif action == "rest_ban":
            self.rest_ban(name, fault.seconds, fault.status)
        elif action == "server_shutdown":
            if name != "binance":
                raise SimConfigError(f"Fault server_shutdown is Binance-only, got {name!r}")
            await self.server_shutdown(fault.seconds or None)

    async def _run_fault_schedule(self) -> None:
        for fault in sorted(self.config.faults, key=lambda f: f.at_s):
            delay = self._ctx.mono_at(fault.at_s) - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await self.apply(fault)
