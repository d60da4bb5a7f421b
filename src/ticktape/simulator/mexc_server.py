"""MEXC spot stand-in: ``/ws`` with JSON text control frames and binary protobuf data frames,
plus ``/api/v3/ticker/bookTicker`` and ``/api/v3/time``.

Protocol rules kept (protocols.md 4.1, 4.2): ``SUBSCRIPTION``/``UNSUBSCRIPTION`` replies
``{"id":0,"code":0,"msg":"<channels, comma separated>"}``; ``PING`` -> ``PONG``; at most 30
subscriptions per connection (more are refused with MEXC's "Not Subscribed successfully"
text); a connection without a valid subscription is closed after
``mexc_no_subscription_timeout_s``; at most 100 client messages per second. REST rate limiting
is HTTP 429, then 418, both with ``Retry-After``.
"""

from __future__ import annotations

import math
import time
from functools import partial

import orjson
from aiohttp import web

from ticktape.simulator import mexc_wire as wire
from ticktape.simulator.connection import ServerConnection, Subscription
from ticktape.simulator.sent_log import SentKind
from ticktape.simulator.server_base import ExchangeServer, Frame, RestResult
from ticktape.simulator.wire_common import QUOTE, StreamRef


class MexcServer(ExchangeServer):
    name = "mexc"
    inbound_limit = (100, 1.0)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/ws", self.handle_ws),
            web.get("/api/v3/ticker/bookTicker", self.rest(self._book_ticker)),
            web.get("/api/v3/time", self.rest(self._time)),
        ]

    @property
    def ws_url(self) -> str:
        return f"{self.base_ws_url}/ws"

    def no_subscription_timeout_s(self) -> float | None:
        return self.ctx.config.mexc_no_subscription_timeout_s

    async def on_text(self, conn: ServerConnection, data: bytes) -> None:
        try:
            request = orjson.loads(data)
        except orjson.JSONDecodeError:
            request = None
        method = request.get("method") if isinstance(request, dict) else None
        if method == "PING":
            await self.reply(conn, wire.reply("PONG"))
        elif method in ("SUBSCRIPTION", "UNSUBSCRIPTION") and isinstance(request, dict):
            params = request.get("params")
            names = [p for p in params if isinstance(p, str)] if isinstance(params, list) else []
            if method == "SUBSCRIPTION":
                await self._subscribe(conn, names)
            else:
                for name in names:
                    conn.unsubscribe(name)
                await self.reply(conn, wire.reply(",".join(names)))
        else:
            await self.reply(conn, wire.reply("Invalid request: unknown method", code=1))

    async def _subscribe(self, conn: ServerConnection, names: list[str]) -> None:
        accepted: list[StreamRef] = []
        refused: list[str] = []
        for name in names:
            ref = wire.parse_stream(name, self.ctx.config.symbols)
            room = len(conn.subs) + len(accepted) < wire.MAX_SUBSCRIPTIONS
            if ref is None or not (room or name in conn.subs):
                refused.append(name)
            else:
                accepted.append(ref)
        for ref in accepted:
            conn.subscribe(ref, self.hz(ref.channel))
        if accepted:
            await self.reply(conn, wire.reply(",".join(r.name for r in accepted)))
            conn.samples_ready.set()
        if refused or not names:
            await self.reply(conn, wire.not_subscribed(",".join(refused)))

    def data_frames(self, conn: ServerConnection, sub: Subscription, indices: range) -> list[Frame]:
        market = self.ctx.market
        symbol = sub.ref.symbol
        spec = market.specs[symbol]
        name = sub.ref.name
        if sub.ref.channel == QUOTE:
            frames: list[Frame] = []
            for k in indices:
                q = market.quote(self.name, symbol, k)
                encode = partial(wire.book_ticker, q, spec, channel=name)
                frames.append((self.ms_stamped(encode), "binary", name))
            return frames
        trades = [market.trade(self.name, symbol, j) for j in indices]
        encode = partial(wire.deals, trades, spec, channel=name)
        return [(self.ms_stamped(encode), "binary", name)]

    def malformed_frame(self, conn: ServerConnection, binary: bool) -> tuple[bytes, SentKind]:
        if not binary:
            return b'{"id":0,"code":0,"msg":', "text"
        symbol = self.ctx.config.symbols[0]
        channel = wire.stream_name(symbol, QUOTE)
        q = self.ctx.market.latest_quote(self.name, symbol, self.ctx.elapsed())
        whole = wire.book_ticker(
            q, self.ctx.market.specs[symbol], self.exch_ms(time.time_ns()), channel
        )
        return whole[:-12], "binary"  # cut inside the body: its length prefix now overruns

    async def _book_ticker(self, request: web.Request) -> RestResult:
        market = self.ctx.market
        now = self.ctx.elapsed()
        if "symbol" in request.query:
            by_native = {wire.native(s): s for s in self.ctx.config.symbols}
            symbol = by_native.get(request.query["symbol"])
            if symbol is None:
                return 400, wire.rest_error(-1121, "Invalid symbol."), {}
            q = market.latest_quote(self.name, symbol, now)
            return 200, orjson.dumps(wire.rest_book_ticker(q, market.specs[symbol])), {}
        items = [
            wire.rest_book_ticker(market.latest_quote(self.name, s, now), market.specs[s])
            for s in self.ctx.config.symbols
        ]
        return 200, orjson.dumps(items), {}

    async def _time(self, request: web.Request) -> RestResult:
        return 200, wire.rest_time(self.exch_ms(time.time_ns())), {}

    def rate_limit_response(self, status: int | None, retry_after_s: float) -> RestResult:
        status = status or 429
        headers = {"Retry-After": str(max(1, math.ceil(retry_after_s)))}
        msg = "IP banned" if status == 418 else "Too Many Requests"
        return status, wire.rest_error(status, msg), headers
