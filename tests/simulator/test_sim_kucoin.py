"""KuCoin classic stand-in over the wire: bullet token, welcome, acks, pongs, topics, REST."""

from __future__ import annotations

import time

import aiohttp
import orjson

from ticktape.simulator import SimConfig, Simulator

FAST = {"rate_hz": 50.0, "trade_rate_hz": 20.0, "exchanges": ("kucoin",)}


async def bullet(session: aiohttp.ClientSession, rest_url: str) -> tuple[str, str, dict]:
    async with session.post(rest_url + "/api/v1/bullet-public") as r:
        body = orjson.loads(await r.read())
    server = body["data"]["instanceServers"][0]
    return body["data"]["token"], server["endpoint"], body


def test_token_welcome_ack_pong_and_topics(h) -> None:  # type: ignore[no-untyped-def]
    async def main() -> tuple[dict, str, list[bytes]]:
        async with Simulator(SimConfig(**FAST)) as sim, aiohttp.ClientSession() as s:
            token, endpoint, body = await bullet(s, sim.endpoints["kucoin"].rest_url)
            async with s.ws_connect(f"{endpoint}?token={token}&connectId=hQvf8jkno") as ws:
                first = await h.read_frames(ws, 1)
                await ws.send_str(
                    '{"id":1545910660739,"type":"subscribe","topic":"/spotMarket/level1:'
                    'BTC-USDT,ETH-USDT","privateChannel":false,"response":true}'
                )
                await ws.send_str(
                    '{"id":"t2","type":"subscribe","topic":"/market/ticker:BTC-USDT"}'
                )
                await ws.send_str(
                    '{"id":3,"type":"subscribe","topic":"/market/match:ETH-USDT","response":true}'
                )
                await ws.send_str('{"id":"1545910590801","type":"ping"}')
                frames = await h.read_frames(ws, 60)
        return body, endpoint, [f.payload for f in first + frames]

    body, endpoint, frames = h.run(main())
    server = body["data"]["instanceServers"][0]
    assert body["code"] == "200000"
    assert server["pingInterval"] == 18000 and server["pingTimeout"] == 10000
    assert endpoint.startswith("ws://127.0.0.1:") and endpoint.endswith("/")
    assert frames[0] == b'{"id":"hQvf8jkno","type":"welcome"}'
    assert frames[1] == b'{"id":"1545910660739","type":"ack"}'  # numeric id comes back a string
    assert b'{"id":"3","type":"ack"}' in frames
    assert b'{"id":"1545910590801","type":"pong"}' in frames
    assert not any(f.startswith(b'{"id":"t2"') for f in frames)  # no "response": no ack

    data = [orjson.loads(f) for f in frames if b'"type":"message"' in f]
    level1 = [d for d in data if d["subject"] == "level1"]
    assert {d["topic"] for d in level1} == {
        "/spotMarket/level1:BTC-USDT",
        "/spotMarket/level1:ETH-USDT",
    }
    assert list(level1[0]) == ["topic", "type", "subject", "data"]
    assert list(level1[0]["data"]) == ["asks", "bids", "timestamp"]
    assert len(level1[0]["data"]["asks"]) == 2 and isinstance(level1[0]["data"]["timestamp"], int)
    ticker = next(d for d in data if d["subject"] == "trade.ticker")
    assert set(ticker["data"]) == {
        "sequence", "price", "size", "bestAsk", "bestAskSize", "bestBid", "bestBidSize", "time",
    }  # fmt: skip
    assert isinstance(ticker["data"]["sequence"], str)
    match = next(d for d in data if d["subject"] == "trade.l3match")["data"]
    assert match["symbol"] == "ETH-USDT" and match["type"] == "match"
    assert isinstance(match["time"], str) and len(match["time"]) == 19  # nanoseconds
    assert abs(int(match["time"]) - time.time_ns()) < 10 * 10**9


def test_bad_token_is_rejected_and_welcome_id_is_generated(h) -> None:  # type: ignore[no-untyped-def]
    async def main() -> tuple[list[bytes], int | None, bytes]:
        async with Simulator(SimConfig(**FAST)) as sim, aiohttp.ClientSession() as s:
            token, endpoint, _ = await bullet(s, sim.endpoints["kucoin"].rest_url)
            async with s.ws_connect(f"{endpoint}?token=forged") as ws:
                rejected = await h.read_frames(ws, 5)
                code = ws.close_code
            async with s.ws_connect(f"{endpoint}?token={token}") as ws:
                welcome = (await h.read_frames(ws, 1))[0].payload
        return [f.payload for f in rejected], code, welcome

    rejected, code, welcome = h.run(main())
    assert len(rejected) == 1
    err = orjson.loads(rejected[0])
    assert err["type"] == "error" and err["code"] == 401
    assert code is not None
    parsed = orjson.loads(welcome)
    assert parsed["type"] == "welcome" and parsed["id"]


def test_idle_client_is_disconnected(h) -> None:  # type: ignore[no-untyped-def]
    config = SimConfig(**FAST, kucoin_ping_interval_ms=200, kucoin_ping_timeout_ms=100)

    async def main() -> tuple[float, bool]:
        async with Simulator(config) as sim, aiohttp.ClientSession() as s:
            token, endpoint, _ = await bullet(s, sim.endpoints["kucoin"].rest_url)
            async with s.ws_connect(f"{endpoint}?token={token}") as ws:
                start = time.monotonic()
                await h.read_frames(ws, 1000, timeout=3.0)
                return time.monotonic() - start, ws.closed

    took, closed = h.run(main())
    assert closed and 0.25 < took < 1.5


def test_rest_level1_timestamp_and_429000(h) -> None:  # type: ignore[no-untyped-def]
    async def main() -> dict[str, tuple[int, bytes, str | None]]:
        out = {}
        async with Simulator(SimConfig(**FAST)) as sim, aiohttp.ClientSession() as s:
            base = sim.endpoints["kucoin"].rest_url
            paths = {
                "l1": "/api/v1/market/orderbook/level1?symbol=BTC-USDT",
                "unknown": "/api/v1/market/orderbook/level1?symbol=NOPE-USDT",
                "ts": "/api/v1/timestamp",
            }
            for key, path in paths.items():
                async with s.get(base + path) as r:
                    out[key] = (r.status, await r.read(), None)
            sim.rest_error("kucoin", retry_after_s=2.5)
            async with s.get(base + paths["l1"]) as r:
                out["limited"] = (r.status, await r.read(), r.headers.get("gw-ratelimit-reset"))
        return out

    out = h.run(main())
    l1 = orjson.loads(out["l1"][1])
    assert l1["code"] == "200000"
    assert list(l1["data"]) == [
        "time", "sequence", "price", "size", "bestBid", "bestBidSize", "bestAsk", "bestAskSize",
    ]  # fmt: skip
    assert isinstance(l1["data"]["sequence"], str) and isinstance(l1["data"]["time"], int)
    assert orjson.loads(out["unknown"][1]) == {"code": "200000", "data": None}
    assert isinstance(orjson.loads(out["ts"][1])["data"], int)
    status, body, reset = out["limited"]
    assert status == 429 and orjson.loads(body)["code"] == "429000" and reset == "2500"
