"""Bybit v5 spot stand-in over the wire: acks, pongs, frame key order, limits, REST."""

from __future__ import annotations

import aiohttp
import orjson

from ticktape.simulator import SimConfig, Simulator

FAST = {"rate_hz": 50.0, "trade_rate_hz": 20.0, "exchanges": ("bybit",)}


def test_handshake_acks_pong_and_frames(h) -> None:  # type: ignore[no-untyped-def]
    async def main() -> list[bytes]:
        async with (
            Simulator(SimConfig(**FAST)) as sim,
            aiohttp.ClientSession() as s,
            s.ws_connect(sim.endpoints["bybit"].ws_url) as ws,
        ):
            await ws.send_str('{"op":"subscribe","args":["orderbook.1.BTCUSDT"]}')
            await ws.send_str('{"req_id":"r7","op":"subscribe","args":["publicTrade.ETHUSDT"]}')
            await ws.send_str('{"req_id":"100001","op":"ping"}')
            frames = await h.read_frames(ws, 40)
        return [f.payload for f in frames]

    frames = h.run(main())
    acks = [orjson.loads(f) for f in frames if f.startswith(b'{"success"')]
    assert list(acks[0]) == ["success", "ret_msg", "conn_id", "op"]  # no req_id when none sent
    assert acks[0]["ret_msg"] == "subscribe" and acks[0]["success"] is True
    assert list(acks[1]) == ["success", "ret_msg", "conn_id", "req_id", "op"]
    assert acks[1]["req_id"] == "r7"
    assert acks[2] == {
        "success": True,
        "ret_msg": "pong",
        "conn_id": acks[0]["conn_id"],
        "req_id": "100001",
        "op": "ping",
    }
    assert len(acks[0]["conn_id"]) == 26 and acks[0]["conn_id"][20] == "-"

    books = [orjson.loads(f) for f in frames if f.startswith(b'{"topic":"orderbook.1.')]
    assert books, "no orderbook.1 frames"
    assert list(books[0]) == ["topic", "ts", "type", "data", "cts"]  # spot: ts before type
    assert list(books[0]["data"]) == ["s", "b", "a", "u", "seq"]
    assert books[0]["type"] == "snapshot" and books[0]["data"]["s"] == "BTCUSDT"
    us = [b["data"]["u"] for b in books]
    assert us == sorted(us) and len(set(us)) == len(us)

    trades = [orjson.loads(f) for f in frames if f.startswith(b'{"topic":"publicTrade.')]
    assert trades, "no publicTrade frames"
    item = trades[0]["data"][0]
    assert list(item) == ["i", "T", "p", "v", "S", "seq", "s", "BT", "RPI"]
    assert item["S"] in ("Buy", "Sell") and item["s"] == "ETHUSDT" and isinstance(item["i"], str)


def test_subscribe_limits_and_errors(h) -> None:  # type: ignore[no-untyped-def]
    async def main() -> list[dict]:
        async with (
            Simulator(SimConfig(**FAST)) as sim,
            aiohttp.ClientSession() as s,
            s.ws_connect(sim.endpoints["bybit"].ws_url) as ws,
        ):
            eleven = [f"orderbook.1.BTCUSDT{i}" for i in range(11)]
            await ws.send_str(orjson.dumps({"op": "subscribe", "args": eleven}).decode())
            await ws.send_str('{"op":"subscribe","args":["orderbook.1.DOGEUSDT"]}')
            await ws.send_str('{"op":"subscribe","args":["orderbook.1.BTCUSDT"]}')
            await ws.send_str('{"op":"subscribe","args":["orderbook.1.BTCUSDT"]}')
            await ws.send_str("not json")
            frames = await h.read_frames(ws, 100, until=lambda f: b"invalid op" in f.payload)
        return [orjson.loads(f.payload) for f in frames if f.payload.startswith(b'{"success"')]

    replies = h.run(main())
    assert [r["success"] for r in replies] == [False, False, True, False, False]
    assert "10" in replies[0]["ret_msg"]
    assert "DOGEUSDT" in replies[1]["ret_msg"]
    assert "already" in replies[3]["ret_msg"]


def test_rest_orderbook_time_and_403(h) -> None:  # type: ignore[no-untyped-def]
    async def main() -> dict[str, tuple[int, bytes]]:
        out = {}
        async with Simulator(SimConfig(**FAST)) as sim, aiohttp.ClientSession() as s:
            base = sim.endpoints["bybit"].rest_url
            paths = {
                "book": "/v5/market/orderbook?category=spot&symbol=BTCUSDT&limit=1",
                "bad": "/v5/market/orderbook?category=spot&symbol=NOPE&limit=1",
                "time": "/v5/market/time",
            }
            for key, path in paths.items():
                async with s.get(base + path) as r:
                    out[key] = (r.status, await r.read())
            sim.rest_error("bybit")
            async with s.get(base + paths["book"]) as r:
                out["limited"] = (r.status, await r.read())
            async with s.get(base + paths["book"]) as r:
                out["after"] = (r.status, await r.read())
        return out

    out = h.run(main())
    book = orjson.loads(out["book"][1])
    assert list(book) == ["retCode", "retMsg", "result", "retExtInfo", "time"]
    assert list(book["result"]) == ["s", "a", "b", "ts", "u", "seq", "cts"]
    assert book["result"]["s"] == "BTCUSDT"
    assert orjson.loads(out["bad"][1])["retCode"] == 10001
    times = orjson.loads(out["time"][1])["result"]
    assert int(times["timeNano"]) // 1_000_000_000 == int(times["timeSecond"])
    assert out["limited"] == (403, b"access too frequent")
    assert out["after"][0] == 200
