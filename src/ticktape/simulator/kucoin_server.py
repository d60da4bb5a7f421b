"""KuCoin classic spot stand-in: ``POST /api/v1/bullet-public`` hands out a token and this
server's own WebSocket endpoint; the socket (``/?token=..&connectId=..``) says welcome first,
then answers subscribe/unsubscribe (ack when ``"response":true``) and ping.

Protocol rules kept (protocols.md 3.2-3.5): an unknown token gets an error frame and a close;
the welcome id is the client's ``connectId`` (or a generated one); ack and pong ids come back as
strings; up to 100 symbols per topic; at most 100 client messages per 10 s; a client silent for
``pingInterval + pingTimeout`` is disconnected. REST rate limiting is HTTP 429 ``code 429000``.
"""

from __future__ import annotations

import base64
import hashlib
import math
import time
from functools import partial

import orjson
from aiohttp import web

from ticktape.simulator import kucoin_wire as wire
from ticktape.simulator.connection import ServerConnection, Subscription
from ticktape.simulator.context import SimContext
from ticktape.simulator.market import SimTrade
from ticktape.simulator.sent_log import SentKind
from ticktape.simulator.server_base import ExchangeServer, Frame, RestResult
from ticktape.simulator.wire_common import QUOTE, StreamRef


def _token_text(seed: int, n: int, size: int) -> str:
    digest = hashlib.blake2b(f"{seed}|kucoin|{n}".encode(), digest_size=size).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class KucoinServer(ExchangeServer):
    name = "kucoin"
    inbound_limit = (100, 10.0)

    def __init__(self, ctx: SimContext) -> None:
        super().__init__(ctx)
        self.tokens: set[str] = set()
        self._issued = 0

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/", self.handle_ws),
            web.post("/api/v1/bullet-public", self.rest(self._bullet)),
            web.get("/api/v1/market/orderbook/level1", self.rest(self._level1)),
            web.get("/api/v1/timestamp", self.rest(self._timestamp)),
        ]

    @property
    def ws_url(self) -> str:
        """The endpoint bullet-public returns (clients add ``?token=..&connectId=..``)."""
        return f"{self.base_ws_url}/"

    def issue_token(self) -> str:
        self._issued += 1
        token = _token_text(self.ctx.config.seed, self._issued, 48)
        self.tokens.add(token)
        return token

    def idle_timeout_s(self) -> float | None:
        cfg = self.ctx.config
        return (cfg.kucoin_ping_interval_ms + cfg.kucoin_ping_timeout_ms) / 1000

    async def on_open(self, conn: ServerConnection) -> bool:
        query = conn.request.query
        conn.native_id = query.get("connectId") or _token_text(
            self.ctx.config.seed, -conn.conn_id, 6
        )
        if query.get("token") not in self.tokens:
            payload = wire.error_frame(conn.native_id, 401, "token is invalid")
            await conn.send_text(payload, "control")
            return False
        await self.reply(conn, wire.welcome(conn.native_id))
        return True

    async def on_text(self, conn: ServerConnection, data: bytes) -> None:
        try:
            request = orjson.loads(data)
        except orjson.JSONDecodeError:
            request = None
        if not isinstance(request, dict):
            await self.reply(conn, wire.error_frame(None, 400, "message is not a JSON object"))
            return
        kind = request.get("type")
        request_id = request.get("id")
        if kind == "ping":
            await self.reply(conn, wire.pong(request_id))
        elif kind in ("subscribe", "unsubscribe"):
            await self._subscription(conn, kind, request, request_id)
        else:
            await self.reply(conn, wire.error_frame(request_id, 400, f"unknown type {kind!r}"))

    async def _subscription(
        self, conn: ServerConnection, kind: str, request: dict[str, object], request_id: object
    ) -> None:
        topic = request.get("topic")
        if request.get("privateChannel"):
            await self.reply(conn, wire.error_frame(request_id, 401, "private channel needs login"))
            return
        refs: list[StreamRef] | None = None
        if isinstance(topic, str):
            refs = wire.split_topic(topic, self.ctx.config.symbols)
        if refs is None:
            await self.reply(conn, wire.error_frame(request_id, 404, f"topic {topic} is not found"))
            return
        for ref in refs:
            if kind == "subscribe":
                conn.subscribe(ref, self.hz(ref.channel))
            else:
                conn.unsubscribe(ref.name)
        if request.get("response"):
            await self.reply(conn, wire.ack(request_id))
        if kind == "subscribe":
            conn.samples_ready.set()

    def data_frames(self, conn: ServerConnection, sub: Subscription, indices: range) -> list[Frame]:
        market = self.ctx.market
        symbol = sub.ref.symbol
        spec = market.specs[symbol]
        frames: list[Frame] = []
        name = sub.ref.name
        for i in indices:
            if sub.ref.channel != QUOTE:
                t = market.trade(self.name, symbol, i)
                frames.append((self.ns_stamped(partial(wire.match, t, spec)), "text", name))
                continue
            q = market.quote(self.name, symbol, i)
            if name.startswith(wire.LEVEL1):
                frames.append((self.ms_stamped(partial(wire.level1, q, spec)), "text", name))
            else:
                last = self._last_trade(symbol, q.t_s)
                encode = partial(wire.ticker, q, last, spec)
                frames.append((self.ms_stamped(encode), "text", name))
        return frames

    def _last_trade(self, symbol: str, t_s: float) -> SimTrade:
        j = math.floor(t_s * self.ctx.market.trade_hz(self.name))
        return self.ctx.market.trade(self.name, symbol, j)

    def malformed_frame(self, conn: ServerConnection, binary: bool) -> tuple[bytes, SentKind]:
        symbol = self.ctx.config.symbols[0]
        q = self.ctx.market.latest_quote(self.name, symbol, self.ctx.elapsed())
        whole = wire.level1(q, self.ctx.market.specs[symbol], self.exch_ms(time.time_ns()))
        return whole[: len(whole) // 2], "text"

    async def _bullet(self, request: web.Request) -> RestResult:
        cfg = self.ctx.config
        body = wire.bullet(
            self.issue_token(), self.ws_url, cfg.kucoin_ping_interval_ms, cfg.kucoin_ping_timeout_ms
        )
        return 200, body, {}

    async def _level1(self, request: web.Request) -> RestResult:
        symbol = request.query.get("symbol", "")
        if symbol not in self.ctx.config.symbols:
            return 200, wire.rest_null(), {}
        q = self.ctx.market.latest_quote(self.name, symbol, self.ctx.elapsed())
        last = self._last_trade(symbol, q.t_s)
        body = wire.rest_level1(
            q, last, self.ctx.market.specs[symbol], self.exch_ms(time.time_ns())
        )
        return 200, body, {}

    async def _timestamp(self, request: web.Request) -> RestResult:
        return 200, wire.rest_timestamp(self.exch_ms(time.time_ns())), {}

    def rate_limit_response(self, status: int | None, retry_after_s: float) -> RestResult:
        headers = {
            "gw-ratelimit-limit": "2000",
            "gw-ratelimit-remaining": "0",
            "gw-ratelimit-reset": str(max(1, int(retry_after_s * 1000))),
        }
        return status or 429, wire.rest_error("429000", "Too Many Requests"), headers
