"""Binance spot stand-in: ``/stream?streams=..`` (combined), ``/ws/<stream>`` and ``/ws`` (raw),
JSON control methods, server ping frames, ``serverShutdown``, and the REST market endpoints.

Protocol rules kept (protocols.md 1.2, 1.5, 1.6): a server ping every ``binance_ping_interval_s``
that must be answered within ``binance_pong_timeout_s``; at most 5 incoming messages per second
(pings, pongs and control messages count) and 1024 streams per connection; stream names are
lowercase; a well-formed stream for an unknown symbol is accepted and stays silent.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from functools import partial

import orjson
from aiohttp import web

from ticktape.simulator import binance_wire as wire
from ticktape.simulator.connection import ServerConnection, Subscription, constant
from ticktape.simulator.context import SimContext
from ticktape.simulator.sent_log import SentKind
from ticktape.simulator.server_base import ExchangeServer, Frame, RestResult
from ticktape.simulator.wire_common import QUOTE, StreamRef

MAX_STREAMS = 1024
_METHODS = "`SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`"


class BinanceServer(ExchangeServer):
    name = "binance"
    inbound_limit = (5, 1.0)
    autoping = False  # we see the client's pongs (deadline) and answer its pings ourselves

    def __init__(self, ctx: SimContext) -> None:
        super().__init__(ctx)
        self._weight_minute = -1
        self._weight_used = 0
        self._shutdown_tasks: set[asyncio.Task[None]] = set()

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/stream", self.handle_ws),
            web.get("/ws", self.handle_ws),
            web.get("/ws/{streams:.+}", self.handle_ws),
            web.get("/api/v3/ticker/bookTicker", self.rest(self._book_ticker)),
            web.get("/api/v3/time", self.rest(self._time)),
        ]

    @property
    def ws_url(self) -> str:
        return f"{self.base_ws_url}/stream"

    # ----- connect ---------------------------------------------------------------------------
    def _url_streams(self, request: web.Request) -> list[str]:
        if request.path == "/stream":
            raw = request.query.get("streams", "")
        else:
            raw = request.match_info.get("streams", "")
        return [s for s in raw.split("/") if s]

    def precheck(self, request: web.Request) -> web.Response | None:
        names = self._url_streams(request)
        bad = [n for n in names if wire.parse_stream(n, self.ctx.config.symbols) is None]
        if bad or len(names) > MAX_STREAMS:
            why = f"Invalid stream name {bad[0]!r}" if bad else f"more than {MAX_STREAMS} streams"
            body = orjson.dumps({"code": -1100, "msg": f"Illegal characters found: {why}"})
            return web.Response(status=400, body=body, content_type="application/json")
        return None

    async def on_open(self, conn: ServerConnection) -> bool:
        conn.combined = conn.request.path == "/stream"
        for name in self._url_streams(conn.request):
            ref = wire.parse_stream(name, self.ctx.config.symbols)
            if ref is not None:
                conn.subscribe(ref, self.hz(ref.channel))
        conn.samples_ready.set()
        return True

    async def on_open_tasks(self, conn: ServerConnection) -> list[asyncio.Task[None]]:
        return [asyncio.create_task(self._pinger(conn))]

    async def _pinger(self, conn: ServerConnection) -> None:
        interval = self.ctx.config.binance_ping_interval_s
        deadline = self.ctx.config.binance_pong_timeout_s
        unanswered_since: float | None = None
        while not conn.closed:
            await asyncio.sleep(interval)
            await self.ctx.wait_unstalled(self.name)
            now = time.monotonic()
            if unanswered_since is not None and conn.last_pong_mono < unanswered_since:
                if now - unanswered_since >= deadline:
                    await conn.close(1008, "pong timeout")
                    return
            else:
                unanswered_since = now
            await conn.send(lambda ns: str(ns // 1_000_000).encode(), "ping", "control")

    # ----- control messages ------------------------------------------------------------------
    async def on_text(self, conn: ServerConnection, data: bytes) -> None:
        try:
            request = orjson.loads(data)
        except orjson.JSONDecodeError:
            await self.reply(conn, wire.error(3, "Invalid JSON: expected value at line 1 column 1"))
            return
        if not isinstance(request, dict) or "method" not in request:
            await self.reply(conn, wire.error(2, "Invalid request: missing field `method`"))
            return
        request_id = request.get("id")
        method = request["method"]
        params = request.get("params", [])
        if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
            refs = self._parse_params(params)
            if refs is None:
                msg = "Invalid request: invalid stream name in params"
                await self.reply(conn, wire.error(2, msg, request_id))
                return
            if method == "SUBSCRIBE":
                if len(set(conn.subs) | {r.name for r in refs}) > MAX_STREAMS:
                    msg = f"Invalid request: more than {MAX_STREAMS} streams"
                    await self.reply(conn, wire.error(2, msg, request_id))
                    return
                for ref in refs:
                    conn.subscribe(ref, self.hz(ref.channel))
            else:
                for ref in refs:
                    conn.unsubscribe(ref.name)
            await self.reply(conn, wire.result(request_id))
        elif method == "LIST_SUBSCRIPTIONS":
            await self.reply(conn, wire.result(request_id, list(conn.subs)))
        elif method in ("SET_PROPERTY", "GET_PROPERTY"):
            await self._property(conn, method, params, request_id)
        else:
            msg = f"Invalid request: unknown variant `{method}`, expected one of {_METHODS}"
            await self.reply(conn, wire.error(2, msg, request_id))

    def _parse_params(self, params: object) -> list[StreamRef] | None:
        if not isinstance(params, list):
            return None
        refs = [wire.parse_stream(p, self.ctx.config.symbols) for p in params if isinstance(p, str)]
        if len(refs) != len(params) or any(r is None for r in refs):
            return None
        return [r for r in refs if r is not None]

    async def _property(
        self, conn: ServerConnection, method: str, params: object, request_id: object
    ) -> None:
        if not isinstance(params, list) or not params or params[0] != "combined":
            await self.reply(conn, wire.error(0, "Unknown property", request_id))
        elif method == "GET_PROPERTY":
            await self.reply(conn, wire.result(request_id, conn.combined))
        elif len(params) != 2 or not isinstance(params[1], bool):
            await self.reply(
                conn, wire.error(1, "Invalid value type: expected Boolean", request_id)
            )
        else:
            conn.combined = params[1]
            await self.reply(conn, wire.result(request_id))

    # ----- data --------------------------------------------------------------------------------
    def data_frames(self, conn: ServerConnection, sub: Subscription, indices: range) -> list[Frame]:
        market = self.ctx.market
        symbol = sub.ref.symbol
        spec = market.specs[symbol]
        frames: list[Frame] = []
        name = sub.ref.name
        for i in indices:
            if sub.ref.channel == QUOTE:
                q = market.quote(self.name, symbol, i)
                frames.append((constant(wire.book_ticker(q, spec, conn.combined)), "text", name))
            else:
                t = market.trade(self.name, symbol, i)
                encode = partial(wire.trade, t, spec, combined=conn.combined)
                frames.append((self.ms_stamped(encode), "text", name))
        return frames

    def malformed_frame(self, conn: ServerConnection, binary: bool) -> tuple[bytes, SentKind]:
        symbol = self.ctx.config.symbols[0]
        q = self.ctx.market.latest_quote(self.name, symbol, self.ctx.elapsed())
        whole = wire.book_ticker(q, self.ctx.market.specs[symbol], conn.combined)
        return whole[: len(whole) // 2], "text"

    async def server_shutdown(self, close_after_s: float | None) -> int:
        """Send the ``serverShutdown`` event on every connection; close them after a delay."""
        conns = self.live_conns()
        for conn in conns:
            encode = partial(wire.server_shutdown, combined=conn.combined)
            await conn.send(self.ms_stamped(encode), "text", "!serverShutdown")
        if close_after_s is not None and close_after_s > 0:
            task = asyncio.create_task(self._close_later(conns, close_after_s))
            self._shutdown_tasks.add(task)
            task.add_done_callback(self._shutdown_tasks.discard)
        return len(conns)

    async def _close_later(self, conns: list[ServerConnection], delay: float) -> None:
        await asyncio.sleep(delay)
        await asyncio.gather(*(c.close(1001, "server shutdown") for c in conns if not c.closed))

    async def stop(self) -> None:
        for task in list(self._shutdown_tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # ----- REST ----------------------------------------------------------------------------------
    def _weight_headers(self, weight: int) -> dict[str, str]:
        minute = int(time.time() // 60)
        if minute != self._weight_minute:
            self._weight_minute, self._weight_used = minute, 0
        self._weight_used += weight
        return {"X-MBX-USED-WEIGHT-1M": str(self._weight_used)}

    async def _book_ticker(self, request: web.Request) -> RestResult:
        market = self.ctx.market
        now = self.ctx.elapsed()
        by_native = wire.by_native(self.ctx.config.symbols)
        if "symbol" in request.query and "symbols" in request.query:
            body = wire.rest_error(-1128, "Combination of optional parameters invalid.")
            return 400, body, self._weight_headers(2)
        if "symbol" in request.query:
            symbol = by_native.get(request.query["symbol"])
            if symbol is None:
                return 400, wire.INVALID_SYMBOL, self._weight_headers(2)
            q = market.latest_quote(self.name, symbol, now)
            return (
                200,
                orjson.dumps(wire.rest_book_ticker(q, market.specs[symbol])),
                self._weight_headers(2),
            )
        if "symbols" in request.query:
            names = wire.rest_symbols_param(request.query["symbols"])
            if names is None or any(n not in by_native for n in names):
                return 400, wire.INVALID_SYMBOL, self._weight_headers(4)
            symbols = [by_native[n] for n in names]
        else:
            symbols = list(self.ctx.config.symbols)
        items = [
            wire.rest_book_ticker(market.latest_quote(self.name, s, now), market.specs[s])
            for s in symbols
        ]
        return 200, orjson.dumps(items), self._weight_headers(4)

    async def _time(self, request: web.Request) -> RestResult:
        return 200, wire.rest_time(self.exch_ms(time.time_ns())), self._weight_headers(1)

    def rate_limit_response(self, status: int | None, retry_after_s: float) -> RestResult:
        status = status or 429
        headers = {"Retry-After": str(max(1, math.ceil(retry_after_s)))}
        if status == 418:
            until = int(time.time() * 1000 + retry_after_s * 1000)
            msg = (
                f"Way too much request weight used; IP banned until {until}. "
                "Please use WebSocket Streams for live updates to avoid bans."
            )
        else:
            msg = (
                "Too many requests; current limit of IP(127.0.0.1) is 6000 requests per minute. "
                "Please use the websocket for live updates to avoid bans."
            )
        return status, wire.rest_error(-1003, msg), headers
