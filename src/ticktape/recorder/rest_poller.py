"""REST polling: one task per exchange, one keep-alive aiohttp session for the whole recorder.

Rows of one poller (one ``conn_id`` for its whole life; aiohttp reconnects TCP underneath)::

    open                  payload = the REST base URL; stream = the base URL
    sent                  one per request; payload = stream = RestRequest.stream ("GET /path?q")
    data                  2xx response body, raw; req_ns = when the request was sent
    error                 non-2xx: payload = b"HTTP <status>\\n" + raw body (byte-exact after the
                          first newline), req_ns set; transport failure: a description
    close                 "shutdown"

Non-2xx bodies are ``error`` rows, not ``data`` rows, so decoders never see rate-limit or error
envelopes as market data, while the body stays available byte for byte.

Pacing: the requests go one after another in a fixed order, and each request (each ``stream``)
is sent at most once per ``poll_interval_s`` (measured send to send, so a slow response never
makes the next one come sooner). A 429/418 (or any response with
``Retry-After``) blocks every request until the header's time has passed; failures without the
header back off exponentially with jitter (:class:`~ticktape.recorder.backoff.Backoff`).
"""

from __future__ import annotations

import asyncio
import email.utils
import enum
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import aiohttp

from ticktape import schema
from ticktape.exchanges.base import ExchangeModule, RestRequest
from ticktape.recorder.backoff import Backoff
from ticktape.recorder.clock import Clock
from ticktape.recorder.rows import ConnBuffer, ConnIds, ExchangeRows

REQUEST_TIMEOUT_S: Final = 10.0
SHUTDOWN_GRACE_S: Final = 2.0
RATE_LIMIT_STATUSES: Final = frozenset({418, 429})


class PollState(enum.StrEnum):
    POLLING = "polling"
    BLOCKED = "blocked"  # rate-limited: waiting for Retry-After / backoff
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class HttpResult:
    """What one request returned (``status`` 0 = no response: transport error/timeout)."""

    status: int
    body: bytes
    req_ns: int
    recv_ns: int
    retry_after_s: float | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date; None if absent/bad."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


async def http_request(
    http: aiohttp.ClientSession,
    base_url: str,
    request: RestRequest,
    rows: ConnBuffer,
    timeout_s: float = REQUEST_TIMEOUT_S,
) -> HttpResult:
    """Send ``request``, recording a ``sent`` row and a ``data`` or ``error`` row."""
    stream = request.stream
    url = base_url.rstrip("/") + request.path_and_query
    req_ns = rows.add(schema.KIND_SENT, stream, stream=stream)
    try:
        async with http.request(
            request.method, url, timeout=aiohttp.ClientTimeout(total=timeout_s)
        ) as resp:
            body = await resp.read()
            recv_ns = rows.clock.now_ns()
            status = resp.status
            retry_after = parse_retry_after(resp.headers.get("Retry-After"))
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        recv_ns = rows.add(
            schema.KIND_ERROR, f"request failed: {exc!r}", stream=stream, req_ns=req_ns
        )
        return HttpResult(0, b"", req_ns, recv_ns)
    if 200 <= status < 300:
        rows.add(schema.KIND_DATA, body, stream=stream, req_ns=req_ns, recv_ns=recv_ns)
    else:
        payload = f"HTTP {status}\n".encode() + body
        rows.add(schema.KIND_ERROR, payload, stream=stream, req_ns=req_ns, recv_ns=recv_ns)
    return HttpResult(status, body, req_ns, recv_ns, retry_after)


class RestPoller:
    """Polls ``module.rest_poll_requests(symbols)`` every ``poll_interval_s`` until ``stop``."""

    def __init__(
        self,
        *,
        exchange: str,
        module: ExchangeModule,
        rest_url: str,
        symbols: Sequence[str],
        poll_interval_s: float,
        rows: ExchangeRows,
        clock: Clock,
        conn_ids: ConnIds,
        stop: asyncio.Event,
        http: aiohttp.ClientSession,
        backoff: Backoff | None = None,
    ) -> None:
        self.exchange = exchange
        self.module = module
        self.rest_url = rest_url
        self.requests = module.rest_poll_requests(list(symbols))  # canonical symbols
        self.poll_interval_s = poll_interval_s
        self.rows = rows
        self.clock = clock
        self.conn_ids = conn_ids
        self.stop = stop
        self.http = http
        self.backoff = backoff or Backoff(base_s=1.0, cap_s=60.0, rng=random.Random())
        self.state = PollState.POLLING
        self.conn_id: int | None = None
        self.blocked_until_ns = 0  # recorder clock time before which no request may be sent
        self.reconnects = 0
        self._buffer: ConnBuffer | None = None
        self._data = 0
        self._last_data_ns = 0

    def messages(self) -> int:
        return self._data

    def last_data_ns(self) -> int:
        return self._last_data_ns

    async def run(self) -> None:
        self.conn_id = self.conn_ids.next()
        rows = self.rows.open(self.conn_id, self.rest_url)
        self._buffer = rows
        rows.add(schema.KIND_OPEN, self.rest_url)
        interval_ns = int(self.poll_interval_s * 1e9)
        next_due = [0] * len(self.requests)  # per request: earliest clock time of the next send
        try:
            while not self.stop.is_set():
                for i, request in enumerate(self.requests):
                    if not await self._sleep_until(max(next_due[i], self.blocked_until_ns)):
                        break
                    result = await self._poll_once(request, rows)
                    if result is None:
                        break
                    next_due[i] = result.req_ns + interval_ns
        finally:
            rows.add(schema.KIND_CLOSE, "shutdown")
            rows.closed = True
            self.state = PollState.STOPPED

    async def _poll_once(self, request: RestRequest, rows: ConnBuffer) -> HttpResult | None:
        """One request; None if the recorder is stopping."""
        task = asyncio.ensure_future(http_request(self.http, self.rest_url, request, rows))
        stop_wait = asyncio.ensure_future(self.stop.wait())
        try:
            await asyncio.wait({task, stop_wait}, return_when="FIRST_COMPLETED")
            if not task.done():  # stopping: let the in-flight request finish briefly
                await asyncio.wait({task}, timeout=SHUTDOWN_GRACE_S)
                if not task.done():
                    task.cancel()
                    rows.add(schema.KIND_ERROR, "request abandoned at shutdown")
                    return None
        finally:
            stop_wait.cancel()
        result = task.result()
        self._account(result)
        return None if self.stop.is_set() else result

    def _account(self, result: HttpResult) -> None:
        if result.ok:
            self._data += 1
            self._last_data_ns = result.recv_ns
            self.backoff.reset()
            self.state = PollState.POLLING
            return
        if result.retry_after_s is not None:
            wait_s = result.retry_after_s
            self.backoff.next_delay()  # count the failure for the next header-less one
        elif result.status in RATE_LIMIT_STATUSES or result.status >= 400 or result.status == 0:
            wait_s = self.backoff.next_delay()
        else:
            return
        until = result.recv_ns + int(wait_s * 1e9)
        self.blocked_until_ns = max(self.blocked_until_ns, until)
        self.state = PollState.BLOCKED

    async def _sleep_until(self, deadline_ns: int) -> bool:
        """Wait until the recorder clock reaches ``deadline_ns``; False if stopping."""
        while (delay_ns := deadline_ns - self.clock.now_ns()) > 0:
            try:
                await asyncio.wait_for(self.stop.wait(), delay_ns / 1e9)
                return False
            except TimeoutError:
                pass
        if self.state is PollState.BLOCKED and self.clock.now_ns() >= self.blocked_until_ns:
            self.state = PollState.POLLING
        return not self.stop.is_set()
