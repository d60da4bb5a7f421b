"""What the four exchange servers have in common: WebSocket life cycle, data pump, REST, faults.

An exchange server is an aiohttp application on its own ephemeral port. Subclasses supply the
protocol: routes, what happens on open (welcome, URL streams), how client text is answered
(:meth:`ExchangeServer.on_text`), and the frame builders for a stream (:meth:`data_frames`).

Per connection, three bounded tasks run next to the read loop: the pump (sends each subscribed
stream's ticks when their model time comes, or the real sample frames in samples mode), the
watchdog (idle / no-subscription / lifetime limits) and, for Binance, the server pinger. All of
them end when the connection closes or the simulator stops.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import math
import time
from asyncio import FIRST_COMPLETED
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

from ticktape.simulator.connection import (
    PayloadBuilder,
    ServerConnection,
    Subscription,
    constant,
)
from ticktape.simulator.context import SimContext
from ticktape.simulator.samples import SampleFrame
from ticktape.simulator.sent_log import CONTROL_STREAM, MALFORMED_STREAM, SentFrame, SentKind
from ticktape.simulator.wire_common import QUOTE

MAX_CATCH_UP = 5  # ticks sent per stream after a hiccup; older ones are conflated away
RestResult = tuple[int, bytes, dict[str, str]]  # status, body, extra headers
Frame = tuple[PayloadBuilder, SentKind, str]  # builder, kind, stream


class ExchangeServer(abc.ABC):
    """Base of the per-exchange servers. ``name`` is the exchange; ``binary_data`` is MEXC."""

    name: str = ""
    inbound_limit: tuple[int, float] | None = None
    autoping: bool = True

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.conns: dict[int, ServerConnection] = {}
        self.base_ws_url = ""
        self.rest_url = ""

    # ----- subclass protocol -------------------------------------------------------------
    @abc.abstractmethod
    def routes(self) -> list[web.RouteDef]: ...

    @property
    @abc.abstractmethod
    def ws_url(self) -> str:
        """The URL a client opens (before query strings the recorder adds)."""

    def precheck(self, request: web.Request) -> web.Response | None:
        """Before the upgrade: an HTTP error response to refuse the connection, or None."""
        return None

    async def on_open(self, conn: ServerConnection) -> bool:
        """After the upgrade; return False to close at once (the subclass sent the reason)."""
        return True

    @abc.abstractmethod
    async def on_text(self, conn: ServerConnection, data: bytes) -> None: ...

    @abc.abstractmethod
    def data_frames(self, conn: ServerConnection, sub: Subscription, indices: range) -> list[Frame]:
        """Frames carrying ticks ``indices`` of ``sub`` (quotes k or trades j)."""

    @abc.abstractmethod
    def malformed_frame(self, conn: ServerConnection, binary: bool) -> tuple[bytes, SentKind]: ...

    @abc.abstractmethod
    def rate_limit_response(self, status: int | None, retry_after_s: float) -> RestResult: ...

    async def stop(self) -> None:  # noqa: B027 (optional hook, empty by default)
        """Cancel server-level background work (connections are closed by the simulator)."""

    def no_subscription_timeout_s(self) -> float | None:
        return None

    def idle_timeout_s(self) -> float | None:
        return None

    async def on_open_tasks(self, conn: ServerConnection) -> list[asyncio.Task[None]]:
        return []

    # ----- helpers for subclasses --------------------------------------------------------
    def hz(self, sub_channel: str) -> float:
        market = self.ctx.market
        return market.quote_hz(self.name) if sub_channel == QUOTE else market.trade_hz(self.name)

    def ms_stamped(self, encode: Callable[[int], bytes]) -> PayloadBuilder:
        """A builder that passes ``encode`` the exchange time in ms (send time - lag)."""
        return lambda send_ns: encode(self.exch_ms(send_ns))

    def ns_stamped(self, encode: Callable[[int], bytes]) -> PayloadBuilder:
        """A builder that passes ``encode`` the exchange time in ns (send time - lag)."""
        return lambda send_ns: encode(self.exch_ns(send_ns))

    def exch_ms(self, send_ns: int) -> int:
        return (send_ns - round(self.ctx.lag_ms(self.name) * 1_000_000)) // 1_000_000

    def exch_ns(self, send_ns: int) -> int:
        return send_ns - round(self.ctx.lag_ms(self.name) * 1_000_000)

    async def reply(self, conn: ServerConnection, payload: bytes) -> None:
        """Send a control reply (held back while the exchange is stalled)."""
        await self.ctx.wait_unstalled(self.name)
        await conn.send_text(payload, CONTROL_STREAM)

    # ----- WebSocket life cycle ----------------------------------------------------------
    async def handle_ws(self, request: web.Request) -> web.StreamResponse:
        refusal = self.precheck(request)
        if refusal is not None:
            return refusal
        ws = web.WebSocketResponse(
            autoping=self.autoping,
            compress=False,
            decode_text=False,
            max_msg_size=1 << 20,
            timeout=2.0,  # how long close() waits for the client's close reply
        )
        await ws.prepare(request)
        conn = ServerConnection(self.ctx, self.name, ws, request)
        self.conns[conn.conn_id] = conn
        self.ctx.connections.append(conn.info)
        tasks: list[asyncio.Task[None]] = []
        try:
            if not await self.on_open(conn):
                await conn.close(1000, "rejected")
                return ws
            tasks = [
                asyncio.create_task(self._pump(conn)),
                asyncio.create_task(self._watchdog(conn)),
                *await self.on_open_tasks(conn),
            ]
            await self._read_loop(conn)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            self.conns.pop(conn.conn_id, None)
            conn.info.closed_ns = time.time_ns()
            if not conn.info.close_reason:
                conn.info.close_reason = f"client closed ({ws.close_code})"
            conn.finished.set()
        return ws

    async def _read_loop(self, conn: ServerConnection) -> None:
        """Read client messages until the client closes or another task asks to close."""
        ws = conn.ws
        while not ws.closed:
            receiving = asyncio.ensure_future(ws.receive())
            waiters: set[asyncio.Future[Any]] = {receiving, conn.close_requested}
            await asyncio.wait(waiters, return_when=FIRST_COMPLETED)
            if not receiving.done():
                receiving.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await receiving
                code, reason = conn.close_requested.result()
                await conn.close_now(code, reason)
                return
            msg = receiving.result()
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                return
            if msg.type == WSMsgType.PING:  # only seen with autoping=False
                conn.note_inbound(self.inbound_limit)
                await ws.pong(msg.data)
                continue
            if msg.type == WSMsgType.PONG:
                conn.last_pong_mono = time.monotonic()
            if not conn.note_inbound(self.inbound_limit):
                await conn.close_now(1008, "too many messages")
                return
            if msg.type == WSMsgType.TEXT:
                await self.on_text(conn, msg.data)

    async def _pump(self, conn: ServerConnection) -> None:
        if self.ctx.config.samples:
            await self._pump_samples(conn)
            return
        while not conn.closed:
            await self.ctx.wait_unstalled(self.name)
            now = self.ctx.elapsed()
            wake = now + 0.25
            for sub in list(conn.subs.values()):
                if not sub.ref.symbol:
                    continue  # accepted stream for a symbol we do not simulate: silent
                hz = self.hz(sub.ref.channel)
                due = math.floor(now * hz)
                if due >= sub.next_index:
                    indices = range(max(sub.next_index, due - MAX_CATCH_UP + 1), due + 1)
                    sub.next_index = due + 1
                    for build, kind, stream in self.data_frames(conn, sub, indices):
                        await conn.send(build, kind, stream)
                wake = min(wake, sub.next_index / hz)
            conn.wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(conn.wakeup.wait(), max(0.001, wake - self.ctx.elapsed()))

    async def _pump_samples(self, conn: ServerConnection) -> None:
        await conn.samples_ready.wait()
        period = 1.0 / self.ctx.config.samples_rate_hz
        samples = self.ctx.samples(self.name)
        while conn.sample_cursor < len(samples) and not conn.closed:
            await self.ctx.wait_unstalled(self.name)
            await self._send_sample(conn, samples)
            await asyncio.sleep(period)

    async def _send_sample(self, conn: ServerConnection, samples: list[SampleFrame]) -> bool:
        if conn.sample_cursor >= len(samples):
            return False
        sample = samples[conn.sample_cursor]
        conn.sample_cursor += 1
        kind: SentKind = "binary" if sample.binary else "text"
        payload = sample.payload
        return await conn.send(constant(payload), kind, sample.stream)

    async def _watchdog(self, conn: ServerConnection) -> None:
        lifetime = self.ctx.config.connection_lifetime_s
        idle = self.idle_timeout_s()
        no_sub = self.no_subscription_timeout_s()
        limits = [x for x in (lifetime, idle, no_sub) if x]
        if not limits:
            return
        tick = min(0.5, max(0.02, min(limits) / 10))
        while not conn.closed:
            await asyncio.sleep(tick)
            now = time.monotonic()
            if lifetime and now - conn.opened_mono >= lifetime:
                await conn.close(1000, "connection lifetime reached")
            elif idle and now - conn.last_client_mono >= idle:
                await conn.close(1000, "no message from client (idle timeout)")
            elif no_sub and conn.unsubscribed_since and now - conn.unsubscribed_since >= no_sub:
                await conn.close(1000, "no valid subscription")

    # ----- REST ----------------------------------------------------------------------------
    def rest(
        self, handler: Callable[[web.Request], Awaitable[RestResult]]
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        """Wrap a REST handler: injected rate-limit faults first, then log the exact body."""

        async def wrapped(request: web.Request) -> web.Response:
            send_ns = time.time_ns()
            status, body, headers = self._rest_fault() or await handler(request)
            stream = f"{request.method} {request.path_qs}"
            conn_id = self.ctx.next_conn_id()
            entry = SentFrame(self.name, conn_id, send_ns, "rest", body, stream, status)
            self.ctx.log.append(entry)
            return web.Response(
                status=status, body=body, headers={"Content-Type": "application/json", **headers}
            )

        return wrapped

    def _rest_fault(self) -> RestResult | None:
        state = self.ctx.rest_state(self.name)
        now = time.monotonic()
        if state.ban_until > now:
            return self.rate_limit_response(state.ban_status, state.ban_until - now)
        if state.errors_left > 0:
            state.errors_left -= 1
            return self.rate_limit_response(state.error_status, state.retry_after_s)
        return None

    # ----- faults --------------------------------------------------------------------------
    def live_conns(self) -> list[ServerConnection]:
        return [c for c in self.conns.values() if not c.closed]

    async def drop(self, abrupt: bool) -> int:
        conns = self.live_conns()
        if abrupt:
            for conn in conns:
                conn.abort("simulated abrupt drop")
        else:
            for conn in conns:
                conn.request_close(1001, "simulated drop")
            waits = [asyncio.wait_for(c.closing.wait(), 1.0) for c in conns]
            await asyncio.gather(*waits, return_exceptions=True)
        return len(conns)

    async def burst(self, count: int) -> int:
        """Send ``count`` frames back to back on every connection (its next ticks, round robin
        over its streams; the next sample frames in samples mode). Returns frames sent."""
        sent = 0
        for conn in self.live_conns():
            if self.ctx.config.samples:
                samples = self.ctx.samples(self.name)
                for _ in range(count):
                    sent += await self._send_sample(conn, samples)
                continue
            subs = [s for s in conn.subs.values() if s.ref.symbol]
            for i in range(count if subs else 0):
                sub = subs[i % len(subs)]
                index = sub.next_index
                sub.next_index += 1
                for build, kind, stream in self.data_frames(conn, sub, range(index, index + 1)):
                    sent += await conn.send(build, kind, stream)
        return sent

    async def send_malformed(self, binary: bool) -> int:
        sent = 0
        for conn in self.live_conns():
            payload, kind = self.malformed_frame(conn, binary)
            sent += await conn.send(constant(payload), kind, MALFORMED_STREAM)
        return sent
