"""Bybit v5 public spot stand-in: ``/v5/public/spot`` plus ``/v5/market/orderbook`` and
``/v5/market/time``.

Protocol rules kept (protocols.md 2.1, 2.5): one ack per subscribe request, at most 10 args per
request (spot), ``req_id`` echoed only when sent, JSON ``{"op":"ping"}`` heartbeats answered with
``ret_msg":"pong"``; REST rate limiting is HTTP 403 "access too frequent".
"""

from __future__ import annotations

import hashlib
import time
from functools import partial

import orjson
from aiohttp import web

from ticktape.simulator import bybit_wire as wire
from ticktape.simulator.connection import ServerConnection, Subscription
from ticktape.simulator.sent_log import SentKind
from ticktape.simulator.server_base import ExchangeServer, Frame, RestResult
from ticktape.simulator.wire_common import QUOTE

_B32 = "0123456789abcdefghijklmnopqrstuv"


def bybit_conn_id(seed: int, conn_id: int) -> str:
    """A conn_id shaped like Bybit's (``d9avt8shteepr00gfc1g-4zd1x``), deterministic."""
    digest = hashlib.blake2b(f"{seed}|bybit|{conn_id}".encode(), digest_size=25).digest()
    text = "".join(_B32[b % 32] for b in digest)
    return f"{text[:20]}-{text[20:25]}"


class BybitServer(ExchangeServer):
    name = "bybit"

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v5/public/spot", self.handle_ws),
            web.get("/v5/market/orderbook", self.rest(self._orderbook)),
            web.get("/v5/market/time", self.rest(self._time)),
        ]

    @property
    def ws_url(self) -> str:
        return f"{self.base_ws_url}/v5/public/spot"

    async def on_open(self, conn: ServerConnection) -> bool:
        conn.native_id = bybit_conn_id(self.ctx.config.seed, conn.conn_id)
        return True

    async def on_text(self, conn: ServerConnection, data: bytes) -> None:
        try:
            request = orjson.loads(data)
        except orjson.JSONDecodeError:
            request = None
        if not isinstance(request, dict):
            await self.reply(
                conn, wire.op_reply("", conn.native_id, None, False, "error:invalid op")
            )
            return
        op = request.get("op")
        req_id = request.get("req_id")
        if op == "ping":
            await self.reply(conn, wire.op_reply("ping", conn.native_id, req_id, True, "pong"))
        elif op in ("subscribe", "unsubscribe"):
            await self._subscription(conn, op, request.get("args"), req_id)
        else:
            msg = f"error:unsupported op {op!r}"
            await self.reply(conn, wire.op_reply(str(op or ""), conn.native_id, req_id, False, msg))

    async def _subscription(
        self, conn: ServerConnection, op: str, args: object, req_id: object
    ) -> None:
        def fail(msg: str) -> bytes:
            return wire.op_reply(op, conn.native_id, req_id, False, msg)

        if not isinstance(args, list) or not args or not all(isinstance(a, str) for a in args):
            await self.reply(conn, fail("error:args must be a non-empty list of topics"))
            return
        if len(args) > wire.MAX_ARGS_PER_REQUEST:
            await self.reply(conn, fail(f"args size >{wire.MAX_ARGS_PER_REQUEST}"))
            return
        refs = [wire.parse_stream(a, self.ctx.config.symbols) for a in args]
        bad = next((a for a, r in zip(args, refs, strict=True) if r is None), None)
        if bad is not None:
            await self.reply(conn, fail(f"error:handler not found,topic:{bad}"))
            return
        if op == "subscribe":
            dup = next((a for a in args if a in conn.subs), None)
            if dup is not None:
                await self.reply(conn, fail(f"error:already subscribed,topic:{dup}"))
                return
            for ref in refs:
                if ref is not None:
                    conn.subscribe(ref, self.hz(ref.channel))
            await self.reply(conn, wire.op_reply(op, conn.native_id, req_id, True, "subscribe"))
            conn.samples_ready.set()
        else:
            for a in args:
                conn.unsubscribe(a)
            await self.reply(conn, wire.op_reply(op, conn.native_id, req_id, True, "unsubscribe"))

    def data_frames(self, conn: ServerConnection, sub: Subscription, indices: range) -> list[Frame]:
        market = self.ctx.market
        symbol = sub.ref.symbol
        spec = market.specs[symbol]
        name = sub.ref.name
        if sub.ref.channel == QUOTE:
            frames: list[Frame] = []
            for k in indices:
                q = market.quote(self.name, symbol, k)
                frames.append((self.ms_stamped(partial(wire.orderbook1, q, spec)), "text", name))
            return frames
        trades = [market.trade(self.name, symbol, j) for j in indices]
        return [(self.ms_stamped(partial(wire.public_trade, trades, spec)), "text", name)]

    def malformed_frame(self, conn: ServerConnection, binary: bool) -> tuple[bytes, SentKind]:
        symbol = self.ctx.config.symbols[0]
        q = self.ctx.market.latest_quote(self.name, symbol, self.ctx.elapsed())
        whole = wire.orderbook1(q, self.ctx.market.specs[symbol], self.exch_ms(time.time_ns()))
        return whole[: len(whole) // 2], "text"

    async def _orderbook(self, request: web.Request) -> RestResult:
        now_ms = time.time_ns() // 1_000_000
        if request.query.get("category") != "spot":
            return 200, wire.rest_error(10001, "Illegal category", now_ms), {}
        by_native = {s.replace("-", ""): s for s in self.ctx.config.symbols}
        symbol = by_native.get(request.query.get("symbol", ""))
        if symbol is None:
            return 200, wire.rest_error(10001, "The requested symbol is invalid.", now_ms), {}
        q = self.ctx.market.latest_quote(self.name, symbol, self.ctx.elapsed())
        exch_ms = self.exch_ms(time.time_ns())
        return 200, wire.rest_orderbook(q, self.ctx.market.specs[symbol], exch_ms, exch_ms), {}

    async def _time(self, request: web.Request) -> RestResult:
        return 200, wire.rest_time(self.exch_ns(time.time_ns())), {}

    def rate_limit_response(self, status: int | None, retry_after_s: float) -> RestResult:
        if status is None or status == 403:
            return 403, b"access too frequent", {"Content-Type": "text/plain"}
        now_ms = time.time_ns() // 1_000_000
        reset_ms = now_ms + int(retry_after_s * 1000)
        headers = {"X-Bapi-Limit-Status": "0", "X-Bapi-Limit-Reset-Timestamp": str(reset_ms)}
        return status, wire.rest_error(10006, "Too many visits!", now_ms), headers
