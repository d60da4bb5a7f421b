"""One WebSocket connection task: connect, subscribe, heartbeat, watch for staleness, reconnect.

The frames themselves are turned into rows by the listener (``ws_listener.py``); this task
drives the connection's life around it.

Rows of one connection (``conn_id``), in ``seq`` order::

    [sent, data]              KuCoin only: the bullet-public token request and its response
    open                      payload = the URL connected to
    sent*                     subscribe frames, heartbeats; our pongs (stream "pong"),
                              our close frame (stream "close", payload = the 2-byte code)
    data* ping* pong*         frames received; ping/pong = protocol control frames
    error?                    connect failure, token failure, local protocol error
    close                     always last; payload = reason ("remote closed 1000 bye",
                              "stale: no data for 30.0s", "shutdown", "connection lost",
                              "connect failed", "no welcome frame", ...)

``stream`` is the connection's label (its streams joined by ",") on every row except the token
rows (the request's stream) and sent control frames (above); decoders tell streams apart by the
payload (the modules' ``route``), which keeps the per-frame path free of parsing. A new
``conn_id`` is used for every attempt; a conn_id that got any row ends with one close row.

State table (``ConnState``; h11 style, checked on every transition)::

    connecting -> welcome | live | backoff | stopped
    welcome    -> live | closing | backoff | stopped
    live       -> closing | backoff | stopped
    closing    -> backoff | stopped
    backoff    -> connecting | stopped

Staleness: no text/binary frame (app-level pongs count, protocol pings do not) for
``stale_after_s`` (the module's ``STALE_AFTER_S`` unless overridden) closes the connection with
reason ``stale: no data for <s>s``; it reconnects after the backoff delay. On ``stop`` the task
sends a close frame and keeps recording until the server's reply (frames in flight are kept),
at most ``CLOSE_TIMEOUT_S``.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import random
import sys
import time
from collections.abc import Sequence
from typing import Any, Final

import aiohttp
import picows

from ticktape import schema
from ticktape.exchanges.base import ExchangeModule
from ticktape.recorder.backoff import Backoff
from ticktape.recorder.clock import Clock
from ticktape.recorder.rows import ConnBuffer, ConnIds, ExchangeRows
from ticktape.recorder.ws_listener import HookedWsListener, WsListener, fast_listener_type

CONNECT_TIMEOUT_S: Final = 15.0
WELCOME_TIMEOUT_S: Final = 10.0
CLOSE_TIMEOUT_S: Final = 2.0


class ConnState(enum.StrEnum):
    CONNECTING = "connecting"
    WELCOME = "welcome"
    LIVE = "live"
    CLOSING = "closing"
    BACKOFF = "backoff"
    STOPPED = "stopped"


_S = ConnState
TRANSITIONS: Final = {
    _S.CONNECTING: {_S.WELCOME, _S.LIVE, _S.BACKOFF, _S.STOPPED},
    _S.WELCOME: {_S.LIVE, _S.CLOSING, _S.BACKOFF, _S.STOPPED},
    _S.LIVE: {_S.CLOSING, _S.BACKOFF, _S.STOPPED},
    _S.CLOSING: {_S.BACKOFF, _S.STOPPED},
    _S.BACKOFF: {_S.CONNECTING, _S.STOPPED},
    _S.STOPPED: set(),
}


class WsConnection:
    """The task recording one WebSocket connection (and its reconnects) for a set of streams."""

    def __init__(
        self,
        *,
        exchange: str,
        module: ExchangeModule,
        ws_url: str,
        rest_url: str,
        streams: Sequence[str],
        rows: ExchangeRows,
        clock: Clock,
        conn_ids: ConnIds,
        stop: asyncio.Event,
        http: aiohttp.ClientSession | None = None,
        backoff: Backoff | None = None,
        stale_after_s: float | None = None,
        heartbeat_interval_s: float | None = None,
    ) -> None:
        self.exchange = exchange
        self.module = module
        self.ws_url = ws_url
        self.rest_url = rest_url
        self.streams = list(streams)
        self.label = ",".join(self.streams)
        self.rows = rows
        self.clock = clock
        self.conn_ids = conn_ids
        self.stop = stop
        self.http = http
        self.backoff = backoff or Backoff(rng=random.Random())
        self.stale_after_s = stale_after_s or module.STALE_AFTER_S
        self.heartbeat_interval_s = heartbeat_interval_s or module.HEARTBEAT_INTERVAL_S
        self.state = ConnState.CONNECTING
        self.conn_id: int | None = None
        self.connects = 0  # successful opens
        self.attempts = 0
        self._heartbeat_counter = 0
        self._done_data = 0  # data rows of finished connections
        self._buffer: ConnBuffer | None = None
        self._last_data_ns = 0
        self._listener: WsListener | None = None
        self.last_error: str | None = None  # the latest connect/token failure, for people
        self._failing = False

    # -- status -----------------------------------------------------------------------------
    @property
    def reconnects(self) -> int:
        return max(0, self.connects - 1)

    def messages(self) -> int:
        """Data rows recorded so far, over every connection of this task."""
        buffer = self._buffer
        return self._done_data + (buffer.messages() if buffer is not None else 0)

    def last_data_ns(self) -> int:
        buffer = self._buffer
        return max(self._last_data_ns, buffer.last_data_ns() if buffer is not None else 0)

    def _set_state(self, new: ConnState) -> None:
        if new is not self.state and new not in TRANSITIONS[self.state]:
            raise RuntimeError(f"connection state {self.state} -> {new} is not allowed")
        self.state = new

    # -- the task ---------------------------------------------------------------------------
    async def run(self) -> None:
        """Connect and reconnect until ``stop`` is set; every connection ends with a close row."""
        while not self.stop.is_set():
            self.attempts += 1
            connects = self.connects
            up_s = await self._one_connection()
            self._tell_user(failed=self.connects == connects)
            if self.stop.is_set():
                break
            self.backoff.connected_for(up_s)
            self._set_state(ConnState.BACKOFF)
            delay = self.backoff.next_delay()
            try:
                await asyncio.wait_for(self.stop.wait(), delay)
            except TimeoutError:
                pass
            else:
                break
            self._set_state(ConnState.CONNECTING)
        self._set_state(ConnState.STOPPED)

    def _tell_user(self, failed: bool) -> None:
        """One stderr line when connecting starts failing, one when it works again.

        The rows say it all, but a person watching ``record`` against an unreachable exchange
        should not have to guess: one line per failure streak, never one per retry.
        """
        if failed and not self.stop.is_set() and not self._failing:
            self._failing = True
            print(f"record: {self.exchange}: cannot connect ({self.last_error}); retrying with"
                  " backoff", file=sys.stderr, flush=True)  # fmt: skip
        elif not failed and self._failing:
            self._failing = False
            print(f"record: {self.exchange}: connected", file=sys.stderr, flush=True)

    async def _one_connection(self) -> float:
        """One attempt under a fresh ``conn_id``; returns how long it stayed open (s)."""
        conn_id = self.conn_ids.next()
        self.conn_id = conn_id
        rows = self.rows.open(conn_id, self.label)
        self._buffer = rows
        try:
            return await self._attempt(rows)
        finally:
            rows.closed = True
            self._done_data += rows.messages()
            self._buffer = None

    async def _attempt(self, rows: ConnBuffer) -> float:
        conn_id = rows.conn_id
        heartbeat_s = self.heartbeat_interval_s
        welcome = None
        url = self.module.ws_connect_url(self.ws_url, self.streams)
        module: Any = self.module  # the token flow and welcome are optional module extras
        try:
            if hasattr(module, "token_request"):
                from ticktape.recorder.kucoin_token import fetch_token

                token = await fetch_token(self.http, module, self.rest_url, rows)
                override = self.ws_url if self.ws_url != module.DEFAULT_WS_URL else None
                url = module.token_connect_url(token, str(conn_id), override)
                heartbeat_s = token_ping_interval_s(token, heartbeat_s)
            if getattr(module, "WAIT_FOR_WELCOME", False):
                welcome = module.is_welcome
        except Exception as exc:  # token failures: already recorded as rows by fetch_token
            self.last_error = f"token request failed: {exc}"
            rows.add(schema.KIND_ERROR, f"token request failed: {exc!r}")
            rows.add(schema.KIND_CLOSE, "token request failed")
            return 0.0
        if rows.seq == 0 and self.stop.is_set():
            return 0.0

        if rows.hook is not None:
            listener_type: type[WsListener] = HookedWsListener
        elif welcome is not None:
            listener_type = WsListener
        else:
            listener_type = fast_listener_type(rows, self.clock)
        listener = listener_type(rows, self.clock, url, welcome)
        self._listener = listener
        try:
            return await self._drive(listener, url, heartbeat_s)
        finally:
            self._last_data_ns = max(self._last_data_ns, rows.last_data_ns())
            self._listener = None

    async def _drive(self, listener: WsListener, url: str, heartbeat_s: float | None) -> float:
        stop_wait = asyncio.ensure_future(self.stop.wait())
        try:
            connect = asyncio.ensure_future(
                picows.ws_connect(
                    lambda: listener,
                    url,
                    enable_auto_pong=False,
                    websocket_handshake_timeout=CONNECT_TIMEOUT_S,
                    logger_name=f"ticktape.{self.exchange}",
                )
            )
            done, _ = await asyncio.wait(
                {connect, stop_wait}, timeout=CONNECT_TIMEOUT_S, return_when="FIRST_COMPLETED"
            )
            if connect not in done:
                connect.cancel()
                reason = "shutdown" if stop_wait in done else "connect timeout"
                with contextlib.suppress(BaseException):  # cancelled or failed: we close
                    await connect
                if listener.transport is not None:
                    listener.transport.disconnect(graceful=False)
                    await listener.transport.wait_disconnected()
                elif reason != "shutdown":
                    self.last_error = reason
                    listener.add(schema.KIND_ERROR, f"connect failed: {reason}".encode())
                if listener.buffer.seq > 0:
                    listener.add(schema.KIND_CLOSE, reason.encode())
                return 0.0
            try:
                transport, _ = connect.result()
            except Exception as exc:  # any connect failure is recorded and retried
                self.last_error = str(exc) or type(exc).__name__
                listener.add(schema.KIND_ERROR, f"connect failed: {exc!r}".encode())
                listener.add(schema.KIND_CLOSE, b"connect failed")
                return 0.0
            self.connects += 1
            opened = time.monotonic()
            await self._live(listener, transport, stop_wait, heartbeat_s)
            listener.add(schema.KIND_CLOSE, (listener.close_reason or "connection lost").encode())
            return time.monotonic() - opened
        finally:
            stop_wait.cancel()

    async def _live(
        self,
        listener: WsListener,
        transport: picows.WSTransport,
        stop_wait: asyncio.Future[Any],
        heartbeat_s: float | None,
    ) -> None:
        """From open to disconnected: welcome, subscribe, heartbeats, staleness, shutdown."""
        disconnected = asyncio.ensure_future(transport.wait_disconnected())
        try:
            if listener.welcome is not None:
                self._set_state(ConnState.WELCOME)
                done, _ = await asyncio.wait(
                    {listener.welcomed, disconnected, stop_wait},
                    timeout=WELCOME_TIMEOUT_S,
                    return_when="FIRST_COMPLETED",
                )
                if listener.welcomed not in done:
                    if disconnected not in done:
                        reason = "shutdown" if stop_wait in done else "no welcome frame"
                        await self._close(listener, disconnected, reason)
                    return
            for message in self.module.subscribe_messages(self.streams):
                listener.send_text(message)
            self._set_state(ConnState.LIVE)
            await self._watch(listener, disconnected, stop_wait, heartbeat_s)
        finally:
            if not disconnected.done():
                transport.disconnect(graceful=False)
                await asyncio.wait({disconnected}, timeout=CLOSE_TIMEOUT_S)
            if disconnected.done() and not disconnected.cancelled():
                exc = disconnected.exception()
                if exc is not None:
                    listener.add(schema.KIND_ERROR, f"{exc!r}".encode())

    async def _watch(
        self,
        listener: WsListener,
        disconnected: asyncio.Future[Any],
        stop_wait: asyncio.Future[Any],
        heartbeat_s: float | None,
    ) -> None:
        live_ns = self.clock.now_ns()
        stale_ns = int(self.stale_after_s * 1e9)
        check_s = min(1.0, self.stale_after_s / 4)
        next_heartbeat = time.monotonic() + heartbeat_s if heartbeat_s else float("inf")
        while True:
            timeout = max(0.0, min(check_s, next_heartbeat - time.monotonic()))
            done, _ = await asyncio.wait(
                {disconnected, stop_wait}, timeout=timeout, return_when="FIRST_COMPLETED"
            )
            if disconnected in done:
                return
            if stop_wait in done:
                await self._close(listener, disconnected, "shutdown")
                return
            if time.monotonic() >= next_heartbeat:
                self._heartbeat_counter += 1
                message = self.module.heartbeat_message(self._heartbeat_counter)
                if message is not None:
                    listener.send_text(message)
                next_heartbeat = time.monotonic() + (heartbeat_s or float("inf"))
            last = max(listener.buffer.last_data_ns(), live_ns)
            if self.clock.now_ns() - last > stale_ns:
                await self._close(
                    listener, disconnected, f"stale: no data for {self.stale_after_s:.1f}s"
                )
                return

    async def _close(
        self, listener: WsListener, disconnected: asyncio.Future[Any], reason: str
    ) -> None:
        """Close locally and keep recording until the server's reply (at most CLOSE_TIMEOUT_S)."""
        self._set_state(ConnState.CLOSING)
        listener.close_locally(reason)
        await asyncio.wait({disconnected}, timeout=CLOSE_TIMEOUT_S)


def token_ping_interval_s(token: Any, default: float | None) -> float | None:
    """The heartbeat period the token response asks for (KuCoin ``pingInterval``), if any."""
    value = getattr(token, "ping_interval_s", None)
    return float(value) if value else default
