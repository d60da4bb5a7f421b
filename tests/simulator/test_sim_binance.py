"""Binance stand-in over the wire: stream URLs, control methods, pings, REST."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import orjson

from ticktape.simulator import Lag, SimConfig, Simulator

FAST = {"rate_hz": 50.0, "trade_rate_hz": 20.0, "exchanges": ("binance",)}


def test_combined_stream_frames(h) -> None:  # type: ignore[no-untyped-def]
    async def main() -> list[dict]:
        async with Simulator(SimConfig(**FAST)) as sim, aiohttp.ClientSession() as s:
            url = sim.endpoints["binance"].ws_url + "?streams=btcusdt@bookTicker/ethusdt@trade"
            async with s.ws_connect(url) as ws:
                frames = await h.read_frames(ws, 30)
        return [orjson.loads(f.payload) for f in frames]

    frames = h.run(main())
    streams = {f["stream"] for f in frames}
    assert streams == {"btcusdt@bookTicker", "ethusdt@trade"}
    book = next(f for f in frames if f["stream"] == "btcusdt@bookTicker")
    assert list(book) == ["stream", "data"]
    assert list(book["data"]) == ["u", "s", "b", "B", "a", "A"]
    assert book["data"]["s"] == "BTCUSDT"
    assert len(book["data"]["b"].split(".")[1]) == 8
    trade = next(f for f in frames if f["stream"] == "ethusdt@trade")["data"]
    assert list(trade) == ["e", "E", "s", "t", "p", "q", "T", "m", "M"]
    assert trade["e"] == "trade" and trade["s"] == "ETHUSDT" and trade["M"] is True
    assert abs(trade["E"] - time.time() * 1000) < 5000


def test_raw_stream_and_control_methods(h) -> None:  # type: ignore[no-untyped-def]
    async def main() -> tuple[list, list]:
        async with Simulator(SimConfig(**FAST)) as sim, aiohttp.ClientSession() as s:
            base = sim.endpoints["binance"].rest_url.replace("http", "ws")
            async with s.ws_connect(base + "/ws/btcusdt@bookTicker") as ws:
                raw = await h.read_frames(ws, 3)
                await ws.send_str('{"method":"SUBSCRIBE","params":["ethusdt@bookTicker"],"id":1}')
                await ws.send_str('{"method":"LIST_SUBSCRIPTIONS","id":"x2"}')
                await ws.send_str('{"method":"UNSUBSCRIBE","params":["btcusdt@bookTicker"],"id":3}')
                await ws.send_str('{"method":"LIST_SUBSCRIPTIONS","id":4}')
                await ws.send_str('{"method":"SUBSCRIBE","params":["BTCUSDT@bookTicker"],"id":5}')
                replies = await h.read_frames(
                    ws, 200, until=lambda f: f.payload.endswith(b',"id":5}')
                )
        return raw, replies

    raw, replies = h.run(main())
    assert all(list(orjson.loads(f.payload)) == ["u", "s", "b", "B", "a", "A"] for f in raw)
    control = [f.payload for f in replies if b'"id"' in f.payload]
    assert control[0] == b'{"result":null,"id":1}'
    listed = [orjson.loads(c) for c in control if c.startswith(b'{"result":[')]
    assert listed[0] == {"result": ["btcusdt@bookTicker", "ethusdt@bookTicker"], "id": "x2"}
    assert listed[1] == {"result": ["ethusdt@bookTicker"], "id": 4}
    assert control[-1].startswith(b'{"code":2,"msg":"Invalid request')


def test_invalid_stream_in_url_is_refused(h) -> None:  # type: ignore[no-untyped-def]
    async def main() -> int:
        async with Simulator(SimConfig(**FAST)) as sim, aiohttp.ClientSession() as s:
            url = sim.endpoints["binance"].ws_url + "?streams=btcusdt@nonsense"
            try:
                async with s.ws_connect(url):
                    return 101
            except aiohttp.WSServerHandshakeError as exc:
                return exc.status

    assert h.run(main()) == 400


def test_server_pings_and_pong_deadline(h) -> None:  # type: ignore[no-untyped-def]
    config = SimConfig(**FAST, binance_ping_interval_s=0.3, binance_pong_timeout_s=0.7)

    async def main() -> tuple[bool, int | None, int, int]:
        async with Simulator(config) as sim, aiohttp.ClientSession() as s:
            url = sim.endpoints["binance"].ws_url
            async with s.ws_connect(url) as ws:  # autoping: aiohttp answers every ping
                await h.read_frames(ws, 1, timeout=1.0)
                survived = not ws.closed
            async with s.ws_connect(url, autoping=False) as ws:
                pings = 0
                code = None
                for _ in range(50):
                    async with asyncio.timeout(3.0):
                        msg = await ws.receive()
                    if msg.type == aiohttp.WSMsgType.PING:
                        pings += 1
                    elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                        code = ws.close_code
                        break
            logged = len(sim.sent_log.filter(exchange="binance", kinds=("ping",)))
        return survived, code, pings, logged

    survived, code, pings, logged = h.run(main())
    assert survived  # a client that pongs stays connected past the deadline
    assert pings >= 2  # pinged, never answered ...
    assert code == 1008  # ... and cut after the pong deadline
    assert logged >= pings + 2  # pings are in the send log too (kind "ping")


def test_server_shutdown_event(h) -> None:  # type: ignore[no-untyped-def]
    async def main() -> tuple[bytes, int | None]:
        async with (
            Simulator(SimConfig(**FAST)) as sim,
            aiohttp.ClientSession() as s,
            s.ws_connect(sim.endpoints["binance"].ws_url) as ws,
        ):
            assert await sim.server_shutdown(close_after_s=0.2) == 1
            frames = await h.read_frames(ws, 1)
            await h.read_frames(ws, 10, timeout=2.0)
            return frames[0].payload, ws.close_code

    payload, code = h.run(main())
    event = orjson.loads(payload)
    assert event["stream"] == "!serverShutdown"
    assert event["data"]["e"] == "serverShutdown"
    assert code == 1001


def test_rest_book_ticker_time_and_errors(h) -> None:  # type: ignore[no-untyped-def]
    config = SimConfig(**FAST, lags=(Lag("binance", 500.0),))

    async def main() -> dict[str, tuple[int, object]]:
        out = {}
        async with Simulator(config) as sim, aiohttp.ClientSession() as s:
            base = sim.endpoints["binance"].rest_url
            for key, path in {
                "one": "/api/v3/ticker/bookTicker?symbol=BTCUSDT",
                "some": '/api/v3/ticker/bookTicker?symbols=["ETHUSDT"]',
                "all": "/api/v3/ticker/bookTicker",
                "bad": "/api/v3/ticker/bookTicker?symbol=NOPEUSDT",
                "time": "/api/v3/time",
            }.items():
                async with s.get(base + path) as r:
                    out[key] = (r.status, orjson.loads(await r.read()))
            out["now"] = (0, time.time() * 1000)
        return out

    out = h.run(main())
    status, one = out["one"]
    assert status == 200 and list(one) == ["symbol", "bidPrice", "bidQty", "askPrice", "askQty"]
    assert one["symbol"] == "BTCUSDT"
    assert out["some"][1] == [out["some"][1][0]] and out["some"][1][0]["symbol"] == "ETHUSDT"
    assert [x["symbol"] for x in out["all"][1]] == ["BTCUSDT", "ETHUSDT"]
    assert out["bad"] == (400, {"code": -1121, "msg": "Invalid symbol."})
    server_time = out["time"][1]["serverTime"]
    assert 400 < out["now"][1] - server_time < 1500  # 500 ms scripted lag


def test_inbound_message_limit_and_silent_unknown_symbol(h) -> None:  # type: ignore[no-untyped-def]
    async def main() -> tuple[list[bytes], int | None]:
        async with (
            Simulator(SimConfig(**FAST)) as sim,
            aiohttp.ClientSession() as s,
            s.ws_connect(sim.endpoints["binance"].ws_url + "?streams=dogeusdt@bookTicker") as ws,
        ):
            quiet = await h.read_frames(ws, 5, timeout=0.3)  # accepted, never fed
            for i in range(7):  # > 5 messages in one second
                await ws.send_str(f'{{"method":"LIST_SUBSCRIPTIONS","id":{i}}}')
            replies = await h.read_frames(ws, 20, timeout=2.0)
            return [f.payload for f in quiet + replies], ws.close_code

    frames, code = h.run(main())
    assert frames[0] == b'{"result":["dogeusdt@bookTicker"],"id":0}'
    assert len(frames) <= 5
    assert code == 1008
