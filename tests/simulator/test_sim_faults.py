"""Faults on demand and on schedule: drops (clean and abrupt), stalls, bursts, malformed
frames, REST 429/418 with Retry-After."""

from __future__ import annotations

import asyncio
import itertools
import time

import aiohttp
import orjson
import pytest

from ticktape.simulator import Fault, SimConfig, Simulator, SimulatorError

FAST = {"rate_hz": 50.0, "trade_rate_hz": 10.0}


async def subscribe_bybit(
    s: aiohttp.ClientSession, sim: Simulator
) -> aiohttp.ClientWebSocketResponse:
    ws = await s.ws_connect(sim.endpoints["bybit"].ws_url)
    await ws.send_str('{"op":"subscribe","args":["orderbook.1.BTCUSDT"]}')
    return ws


async def next_message(
    ws: aiohttp.ClientWebSocketResponse, timeout: float = 3.0
) -> aiohttp.WSMessage:
    async with asyncio.timeout(timeout):
        return await ws.receive()


def test_clean_drop_sends_close_frame(h) -> None:  # type: ignore[no-untyped-def]
    async def main() -> tuple[int, int | None, str]:
        async with (
            Simulator(SimConfig(**FAST, exchanges=("bybit",))) as sim,
            aiohttp.ClientSession() as s,
        ):
            ws = await subscribe_bybit(s, sim)
            await h.read_frames(ws, 3)
            dropped = await sim.drop("bybit")
            for _ in range(100):
                msg = await next_message(ws)
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
            await ws.close()
            await asyncio.sleep(0.05)
            return dropped, ws.close_code, sim.connections[0].close_reason

    dropped, code, reason = h.run(main())
    assert dropped == 1
    assert code == 1001
    assert reason == "simulated drop"


def test_abrupt_drop_resets_without_close_frame(h) -> None:  # type: ignore[no-untyped-def]
    async def main() -> tuple[int, list[aiohttp.WSMsgType], int | None]:
        async with (
            Simulator(SimConfig(**FAST, exchanges=("bybit",))) as sim,
            aiohttp.ClientSession() as s,
        ):
            ws = await subscribe_bybit(s, sim)
            await h.read_frames(ws, 3)
            dropped = await sim.drop("bybit", abrupt=True)
            kinds = []
            for _ in range(100):
                msg = await next_message(ws)
                kinds.append(msg.type)
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
            return dropped, kinds, ws.close_code

    dropped, kinds, code = h.run(main())
    assert dropped == 1
    assert aiohttp.WSMsgType.CLOSE not in kinds  # no close frame was sent
    assert kinds[-1] in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
    assert code == 1006  # abnormal closure as the client sees it


def test_stall_keeps_socket_open_and_sends_nothing(h) -> None:  # type: ignore[no-untyped-def]
    async def main() -> tuple[float, float, bool]:
        async with (
            Simulator(SimConfig(**FAST, exchanges=("bybit",))) as sim,
            aiohttp.ClientSession() as s,
        ):
            ws = await subscribe_bybit(s, sim)
            await h.read_frames(ws, 3)
            sim.stall("bybit", 0.6)
            stalled_at = time.monotonic()
            await ws.send_str('{"op":"ping"}')  # answered only after the stall
            arrivals = []
            while time.monotonic() - stalled_at < 1.0:
                frames = await h.read_frames(ws, 1, timeout=1.0)
                arrivals.append((time.monotonic(), frames[0].payload if frames else b""))
            pong_at = next(t for t, p in arrivals if b'"pong"' in p) - stalled_at
            times = [stalled_at] + [t for t, _ in arrivals]
            longest = max(b - a for a, b in itertools.pairwise(times))
            return pong_at, longest, not ws.closed

    pong_at, longest_gap, still_open = h.run(main())
    assert 0.5 < pong_at < 0.9
    assert longest_gap >= 0.5
    assert still_open


def test_burst_sends_frames_back_to_back(h) -> None:  # type: ignore[no-untyped-def]
    async def main() -> tuple[int, list[int], int]:
        config = SimConfig(rate_hz=2.0, trade_rate_hz=1.0, exchanges=("binance",))
        async with Simulator(config) as sim, aiohttp.ClientSession() as s:
            url = sim.endpoints["binance"].ws_url + "?streams=btcusdt@bookTicker"
            async with s.ws_connect(url) as ws:
                sent = await sim.burst("binance", 40)
                frames = await h.read_frames(ws, 40, timeout=2.0)
            log = sim.sent_log.filter(exchange="binance", kinds=("text",))
            us = [orjson.loads(f.payload)["data"]["u"] for f in frames]
            span_ms = (log[-1].send_ns - log[0].send_ns) // 1_000_000
            return sent, us, span_ms

    sent, us, span_ms = h.run(main())
    assert sent == 40
    assert len(us) == 40 and us == sorted(set(us))  # 40 distinct consecutive ticks
    assert span_ms < 500  # at 2 Hz, 40 ticks would take 20 s


def test_malformed_frames(h) -> None:  # type: ignore[no-untyped-def]
    async def main() -> dict[str, list]:
        out: dict[str, list] = {}
        async with (
            Simulator(SimConfig(**FAST, exchanges=("binance", "mexc"))) as sim,
            aiohttp.ClientSession() as s,
        ):
            bws = await s.ws_connect(sim.endpoints["binance"].ws_url)
            mws = await s.ws_connect(sim.endpoints["mexc"].ws_url)
            assert await sim.send_malformed("binance") == 1
            assert await sim.send_malformed("mexc") == 1
            assert await sim.send_malformed("mexc", binary=False) == 1
            out["binance"] = await h.read_frames(bws, 1)
            out["mexc"] = await h.read_frames(mws, 2)
            with pytest.raises(SimulatorError):
                await sim.send_malformed("binance", binary=True)
            out["logged"] = sim.sent_log.filter(stream="malformed")
            await bws.close()
            await mws.close()
        return out

    out = h.run(main())
    bad_json = out["binance"][0]
    assert not bad_json.binary
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(bad_json.payload)
    truncated, bad_text = out["mexc"]
    assert truncated.binary and truncated.payload.startswith(
        b"\x0a\x34spot@public.aggre.bookTicker"
    )
    body_at = truncated.payload.index(b"\xda\x13") + 3  # field 315 tag, 1-byte length
    declared = truncated.payload[body_at - 1]
    assert len(truncated.payload) - body_at < declared  # the body's length prefix overruns
    assert not bad_text.binary
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(bad_text.payload)
    assert [f.payload for f in out["logged"]] == [
        bad_json.payload,
        truncated.payload,
        bad_text.payload,
    ]


def test_fault_schedule_from_config(h) -> None:  # type: ignore[no-untyped-def]
    config = SimConfig(
        **FAST,
        exchanges=("binance", "bybit"),
        faults=(
            Fault(at_s=0.3, exchange="bybit", action="drop", abrupt=False),
            Fault(at_s=0.2, exchange="binance", action="rest_error", count=1, retry_after_s=7),
        ),
    )

    async def main() -> tuple[float, int | None, int, str | None, list[str]]:
        async with Simulator(config) as sim, aiohttp.ClientSession() as s:
            ws = await subscribe_bybit(s, sim)
            await h.read_frames(ws, 1000, timeout=2.0)
            closed_at = sim.elapsed()
            async with s.get(sim.endpoints["binance"].rest_url + "/api/v3/time") as r:
                status, retry = r.status, r.headers.get("Retry-After")
            fired = [f.action for _, f in sim.fault_log]
            return closed_at, ws.close_code, status, retry, fired

    closed_at, code, status, retry, fired = h.run(main())
    assert 0.25 < closed_at < 1.0
    assert code == 1001
    assert (status, retry) == (429, "7")
    assert fired == ["rest_error", "drop"]


def test_binance_429_then_418_ban(h) -> None:  # type: ignore[no-untyped-def]
    async def main() -> list[tuple[int, str | None, bytes]]:
        out = []
        async with (
            Simulator(SimConfig(**FAST, exchanges=("binance",))) as sim,
            aiohttp.ClientSession() as s,
        ):
            url = sim.endpoints["binance"].rest_url + "/api/v3/ticker/bookTicker?symbol=BTCUSDT"
            sim.rest_error("binance", retry_after_s=2)
            sim.rest_ban("binance", 0.3)
            for _ in range(2):
                async with s.get(url) as r:
                    out.append((r.status, r.headers.get("Retry-After"), await r.read()))
            await asyncio.sleep(0.35)
            async with s.get(url) as r:
                out.append((r.status, r.headers.get("Retry-After"), await r.read()))
        return out

    (s1, ra1, b1), (s2, _, _), (s3, ra3, _) = h.run(main())
    assert s1 == 418 and ra1 == "1"  # the ban wins while it lasts
    assert orjson.loads(b1)["code"] == -1003 and "banned" in orjson.loads(b1)["msg"]
    assert s2 == 418
    assert s3 == 429 and ra3 == "2"  # then the pending 429


def test_stop_closes_every_connection_cleanly(h) -> None:  # type: ignore[no-untyped-def]
    async def main() -> tuple[list[int | None], list[str]]:
        async with aiohttp.ClientSession() as s:
            sim = Simulator(SimConfig(**FAST))
            await sim.start()
            e = sim.endpoints
            clients = [
                await s.ws_connect(e["binance"].ws_url + "?streams=btcusdt@bookTicker"),
                await subscribe_bybit(s, sim),
                await s.ws_connect(e["mexc"].ws_url),
            ]
            readers = [
                asyncio.ensure_future(h.read_frames(c, 10_000, timeout=5.0)) for c in clients
            ]
            await asyncio.sleep(0.1)
            started = time.monotonic()
            await sim.stop()
            assert time.monotonic() - started < 2.0
            await asyncio.gather(*readers)
            return [c.close_code for c in clients], [c.close_reason for c in sim.connections]

    codes, reasons = h.run(main())
    assert codes == [1001, 1001, 1001]
    assert reasons == ["simulator stopped"] * 3


def test_connection_lifetime_cap(h) -> None:  # type: ignore[no-untyped-def]
    config = SimConfig(**FAST, exchanges=("bybit",), connection_lifetime_s=0.3)

    async def main() -> tuple[float, str]:
        async with Simulator(config) as sim, aiohttp.ClientSession() as s:
            ws = await subscribe_bybit(s, sim)
            started = time.monotonic()
            await h.read_frames(ws, 10_000, timeout=3.0)
            await asyncio.sleep(0.05)
            return time.monotonic() - started, sim.connections[0].close_reason

    took, reason = h.run(main())
    assert 0.25 < took < 1.0
    assert reason == "connection lifetime reached"
