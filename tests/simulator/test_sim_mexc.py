"""MEXC stand-in over the wire: JSON control frames, binary protobuf data, limits, REST."""

from __future__ import annotations

import time

import aiohttp
import orjson

from ticktape.simulator import SimConfig, Simulator

FAST = {"rate_hz": 50.0, "trade_rate_hz": 20.0, "exchanges": ("mexc",)}
BOOK = "spot@public.aggre.bookTicker.v3.api.pb@100ms@BTCUSDT"
DEALS = "spot@public.aggre.deals.v3.api.pb@10ms@ETHUSDT"


def walk(data: bytes) -> list[tuple[int, int | bytes]]:
    """A tiny protobuf reader for the test: (field, varint or bytes) in wire order."""
    out: list[tuple[int, int | bytes]] = []
    i = 0

    def varint() -> int:
        nonlocal i
        shift = value = 0
        while True:
            b = data[i]
            i += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return value

    while i < len(data):
        key = varint()
        field, wire_type = key >> 3, key & 7
        if wire_type == 0:
            out.append((field, varint()))
        elif wire_type == 2:
            n = varint()
            if i + n > len(data):
                raise ValueError("truncated")
            out.append((field, data[i : i + n]))
            i += n
        else:
            raise ValueError(f"wire type {wire_type}")
    return out


def test_control_replies_and_protobuf_frames(h) -> None:  # type: ignore[no-untyped-def]
    async def main() -> list:
        async with (
            Simulator(SimConfig(**FAST)) as sim,
            aiohttp.ClientSession() as s,
            s.ws_connect(sim.endpoints["mexc"].ws_url) as ws,
        ):
            await ws.send_str(orjson.dumps({"method": "SUBSCRIPTION", "params": [BOOK]}).decode())
            await ws.send_str(orjson.dumps({"method": "SUBSCRIPTION", "params": [DEALS]}).decode())
            await ws.send_str('{"method":"PING"}')
            return await h.read_frames(ws, 40)

    frames = h.run(main())
    text = [f.payload for f in frames if not f.binary]
    assert text[:3] == [
        b'{"id":0,"code":0,"msg":"' + BOOK.encode() + b'"}',
        b'{"id":0,"code":0,"msg":"' + DEALS.encode() + b'"}',
        b'{"id":0,"code":0,"msg":"PONG"}',
    ]
    binary = [walk(f.payload) for f in frames if f.binary]
    books = [b for b in binary if b[0] == (1, BOOK.encode())]
    deals = [b for b in binary if b[0] == (1, DEALS.encode())]
    assert books and deals
    fields = [f for f, _ in books[0]]
    assert fields == [1, 3, 6, 315]
    assert books[0][1] == (3, b"BTCUSDT")
    send_ms = books[0][2][1]
    assert isinstance(send_ms, int) and abs(send_ms - time.time() * 1000) < 5000
    body = walk(books[0][3][1])  # type: ignore[arg-type]
    assert [f for f, _ in body] == [1, 2, 3, 4, 5, 6]
    bid, ask = float(body[0][1]), float(body[2][1])  # type: ignore[arg-type]
    assert 0 < bid < ask
    deal_body = walk(deals[0][3][1])  # type: ignore[arg-type]
    assert deals[0][3][0] == 314
    items = [walk(v) for f, v in deal_body if f == 1]  # type: ignore[arg-type]
    assert items and [f for f, _ in items[0]] == [1, 2, 3, 4, 5]
    assert items[0][2][1] in (1, 2)
    assert deal_body[-1] == (2, b"spot@public.aggre.deals.v3.api.pb@10ms")


def test_thirty_subscription_cap_and_bad_channel(h) -> None:  # type: ignore[no-untyped-def]
    symbols = tuple(f"C{i}-USDT" for i in range(16))

    async def main() -> list[bytes]:
        config = SimConfig(**{**FAST, "rate_hz": 1.0, "trade_rate_hz": 1.0}, symbols=symbols)
        async with (
            Simulator(config) as sim,
            aiohttp.ClientSession() as s,
            s.ws_connect(sim.endpoints["mexc"].ws_url) as ws,
        ):
            channels = [f"{p}@100ms@C{i}USDT" for i in range(16) for p in (BOOK[:-14], DEALS[:-13])]
            await ws.send_str(orjson.dumps({"method": "SUBSCRIPTION", "params": channels}).decode())
            await ws.send_str(
                '{"method":"SUBSCRIPTION","params":["spot@public.deals.v3.api@BTCUSDT"]}'
            )
            frames = await h.read_frames(
                ws, 100, timeout=1.5, until=lambda f: b"deals.v3.api@" in f.payload
            )
        return [f.payload for f in frames if not f.binary]

    replies = h.run(main())
    accepted = orjson.loads(replies[0])["msg"].split(",")
    assert len(accepted) == 30
    assert replies[1].startswith(b'{"id":0,"code":0,"msg":"Not Subscribed successfully! [')
    assert replies[1].count(b"USDT") == 2  # the 31st and 32nd channel
    assert b"spot@public.deals.v3.api@BTCUSDT" in replies[2]


def test_no_subscription_timeout(h) -> None:  # type: ignore[no-untyped-def]
    config = SimConfig(**FAST, mexc_no_subscription_timeout_s=0.3)

    async def main() -> tuple[float, bool, bool]:
        async with Simulator(config) as sim, aiohttp.ClientSession() as s:
            url = sim.endpoints["mexc"].ws_url
            async with s.ws_connect(url) as idle:
                start = time.monotonic()
                await h.read_frames(idle, 10, timeout=2.0)
                took = time.monotonic() - start
                idle_closed = idle.closed
            async with s.ws_connect(url) as busy:
                await busy.send_str(
                    orjson.dumps({"method": "SUBSCRIPTION", "params": [BOOK]}).decode()
                )
                await h.read_frames(busy, 1000, timeout=0.8)
                busy_open = not busy.closed
        return took, idle_closed, busy_open

    took, idle_closed, busy_open = h.run(main())
    assert idle_closed and 0.25 < took < 1.2
    assert busy_open


def test_rest_and_rate_limits(h) -> None:  # type: ignore[no-untyped-def]
    async def main() -> dict[str, tuple[int, bytes, str | None]]:
        out = {}
        async with Simulator(SimConfig(**FAST)) as sim, aiohttp.ClientSession() as s:
            base = sim.endpoints["mexc"].rest_url
            book = "/api/v3/ticker/bookTicker?symbol=BTCUSDT"

            async def get(key: str, path: str) -> None:
                async with s.get(base + path) as r:
                    out[key] = (r.status, await r.read(), r.headers.get("Retry-After"))

            await get("one", book)
            await get("all", "/api/v3/ticker/bookTicker")
            await get("bad", "/api/v3/ticker/bookTicker?symbol=XYZ")
            await get("time", "/api/v3/time")
            sim.rest_error("mexc", count=2, retry_after_s=3)
            await get("429a", book)
            await get("429b", book)
            await get("ok", book)
            sim.rest_ban("mexc", 5.0)
            await get("418", "/api/v3/time")
        return out

    out = h.run(main())
    one = orjson.loads(out["one"][1])
    assert list(one) == ["symbol", "bidPrice", "bidQty", "askPrice", "askQty"]
    assert len(orjson.loads(out["all"][1])) == 2
    assert out["bad"][0] == 400
    assert "serverTime" in orjson.loads(out["time"][1])
    assert out["429a"][0] == 429 and out["429a"][2] == "3"
    assert out["429b"][0] == 429
    assert out["ok"][0] == 200
    assert out["418"][0] == 418 and out["418"][2] == "5"
