"""One server-side WebSocket connection: its subscriptions and the one place frames are sent.

Every frame goes through :meth:`ServerConnection.send`, under a per-connection lock: take
``send_ns = time.time_ns()``, build the payload from it (exchange timestamps are derived from the
send clock), hand those exact bytes to the transport, then append them to the send log. So log
order is wire order and the logged bytes are the sent bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import WSMsgType, web

from ticktape.simulator.context import ConnectionInfo, SimContext
from ticktape.simulator.sent_log import SentFrame, SentKind
from ticktape.simulator.wire_common import StreamRef

PayloadBuilder = Callable[[int], bytes]  # send_ns -> exact payload bytes


def constant(payload: bytes) -> PayloadBuilder:
    """A builder for a payload that does not depend on the send time."""
    return lambda _send_ns: payload


@dataclass(slots=True)
class Subscription:
    """A stream this connection receives; ``next_index`` is the next quote k / trade j to send."""

    ref: StreamRef
    next_index: int


class ServerConnection:
    """A connected client as the exchange sees it."""

    def __init__(
        self, ctx: SimContext, exchange: str, ws: web.WebSocketResponse, request: web.Request
    ) -> None:
        self.ctx = ctx
        self.exchange = exchange
        self.ws = ws
        self.request = request
        self.conn_id = ctx.next_conn_id()
        self.info = ConnectionInfo(self.conn_id, exchange, request.path_qs, time.time_ns())
        self.subs: dict[str, Subscription] = {}
        self.opened_mono = time.monotonic()
        self.last_client_mono = self.opened_mono
        self.unsubscribed_since: float | None = self.opened_mono
        self.last_pong_mono = self.opened_mono
        self.samples_ready = asyncio.Event()
        self.sample_cursor = 0  # next sample frame to send (samples mode)
        self.wakeup = asyncio.Event()  # set when a subscription is added
        self.native_id = ""  # exchange-visible connection id (Bybit conn_id, KuCoin connectId)
        self.combined = True  # Binance: wrap events as {"stream","data"}
        self._lock = asyncio.Lock()
        self.handler_task = asyncio.current_task()
        self.close_requested: asyncio.Future[tuple[int, str]] = (
            asyncio.get_running_loop().create_future()
        )
        self.closing = asyncio.Event()  # set when the close frame is about to go out
        self.finished = asyncio.Event()  # set when the handler task has cleaned up
        self._inbound: deque[float] = deque()

    @property
    def closed(self) -> bool:
        return self.ws.closed or self.ctx.stopping

    async def send(self, build: PayloadBuilder, kind: SentKind, stream: str) -> bool:
        """Build and send one frame, then log it. False if the connection is already closed."""
        async with self._lock:
            if self.ws.closed:
                return False
            send_ns = time.time_ns()
            payload = build(send_ns)
            try:
                if kind == "ping":
                    await self.ws.ping(payload)
                else:
                    opcode = WSMsgType.BINARY if kind == "binary" else WSMsgType.TEXT
                    await self.ws.send_frame(payload, opcode)
            except (ConnectionError, RuntimeError):
                return False
            self.ctx.log.append(
                SentFrame(self.exchange, self.conn_id, send_ns, kind, payload, stream)
            )
            return True

    async def send_text(self, payload: bytes, stream: str) -> bool:
        return await self.send(constant(payload), "text", stream)

    def subscribe(self, ref: StreamRef, hz: float) -> bool:
        """Add a stream (first frame at the next tick); False if it was already subscribed."""
        if ref.name in self.subs:
            return False
        first = int(self.ctx.elapsed() * hz) + 1
        self.subs[ref.name] = Subscription(ref, first)
        self.unsubscribed_since = None
        self.wakeup.set()
        return True

    def unsubscribe(self, name: str) -> bool:
        removed = self.subs.pop(name, None) is not None
        if not self.subs and self.unsubscribed_since is None:
            self.unsubscribed_since = time.monotonic()
        return removed

    def note_inbound(self, limit: tuple[int, float] | None) -> bool:
        """Count one client message; False if it breaks ``limit`` = (messages, window seconds)."""
        now = time.monotonic()
        self.last_client_mono = now
        if limit is None or not self.ctx.config.enforce_inbound_limits:
            return True
        count, window = limit
        self._inbound.append(now)
        while self._inbound and self._inbound[0] <= now - window:
            self._inbound.popleft()
        return len(self._inbound) <= count

    def request_close(self, code: int, reason: str) -> None:
        """Ask the handler task to close cleanly; returns at once (see :meth:`close`)."""
        self.info.close_reason = self.info.close_reason or reason
        if not self.close_requested.done():
            self.close_requested.set_result((code, reason))

    async def close(self, code: int, reason: str, timeout: float = 2.0) -> None:
        """Clean close: a close frame, then wait (bounded) for the client's close reply.

        Only the connection's handler task may call ``ws.close()`` (aiohttp drops the transport
        without waiting for the reply when another task is blocked in ``receive()``), so other
        tasks post a request the read loop acts on, and wait until the handler has finished.
        Falls back to :meth:`abort` when the handshake does not complete in time.
        """
        if asyncio.current_task() is self.handler_task:
            await self.close_now(code, reason, timeout)
            return
        self.request_close(code, reason)
        try:
            await asyncio.wait_for(self.finished.wait(), timeout + 0.5)
        except TimeoutError:
            self.abort(reason)

    async def close_now(self, code: int, reason: str, timeout: float = 2.0) -> None:
        """Close from the handler task itself (see :meth:`close`)."""
        self.info.close_reason = self.info.close_reason or reason
        self.closing.set()
        try:
            await asyncio.wait_for(self.ws.close(code=code, message=reason.encode()), timeout)
        except (TimeoutError, ConnectionError, RuntimeError):
            self.abort(reason)

    def abort(self, reason: str) -> None:
        """Abrupt drop: RST the TCP connection (SO_LINGER 0), no close frame, buffers discarded."""
        self.info.close_reason = self.info.close_reason or reason
        transport = self.request.transport
        if transport is None or transport.is_closing():
            return
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
