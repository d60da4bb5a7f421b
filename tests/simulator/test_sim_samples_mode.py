"""Samples mode serves the real captured frames byte for byte, read here independently from
the fixture files."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import orjson
import pytest

from ticktape.simulator import SamplesError, SimConfig, Simulator


def expected_frames(samples_dir: Path) -> dict[str, list[bytes]]:
    binance_lines = (
        samples_dir / "binance" / "cryptofeed_2021_BINANCE.ws.1.0.excerpt.txt"
    ).read_bytes()
    binance = [line.split(b": ", 1)[1] for line in binance_lines.splitlines()[1:]]
    bybit_lines = (
        samples_dir / "bybit" / "cryptofeed_v3_2026-08_BYBIT_spot.frames.txt"
    ).read_bytes()
    bybit = [line for line in bybit_lines.splitlines() if not line.startswith(b'{"success"')]
    kucoin_lines = (
        samples_dir / "kucoin" / "cryptofeed_2021_KUCOIN.ws.1.0.excerpt.txt"
    ).read_bytes()
    kucoin = [
        line.split(b": ", 1)[1]
        for line in kucoin_lines.splitlines()
        if not line.startswith(b"wss://") and b'"type":"message"' in line
    ]
    mexc = [p.read_bytes() for p in sorted((samples_dir / "mexc").glob("frame_*.bin"))]
    return {"binance": binance, "bybit": bybit, "kucoin": kucoin, "mexc": mexc}


def test_samples_are_served_unchanged(h, samples_dir: Path) -> None:  # type: ignore[no-untyped-def]
    config = SimConfig(samples=True, samples_dir=samples_dir, samples_rate_hz=2000.0)
    want = expected_frames(samples_dir)
    assert [len(v) for v in want.values()] == [100, 81, 73, 6]

    async def main() -> dict[str, list]:
        got: dict[str, list] = {}
        async with Simulator(config) as sim, aiohttp.ClientSession() as s:
            e = sim.endpoints
            async with s.ws_connect(e["binance"].ws_url + "?streams=btcusdt@bookTicker") as ws:
                got["binance"] = await h.read_frames(ws, 100)
            async with s.ws_connect(e["bybit"].ws_url) as ws:
                await ws.send_str('{"op":"subscribe","args":["orderbook.1.BTCUSDT"]}')
                got["bybit"] = await h.read_frames(ws, 82)
            async with s.post(e["kucoin"].rest_url + "/api/v1/bullet-public") as r:
                data = orjson.loads(await r.read())["data"]
            url = f"{data['instanceServers'][0]['endpoint']}?token={data['token']}"
            async with s.ws_connect(url) as ws:
                await ws.send_str(
                    '{"id":1,"type":"subscribe","topic":"/market/ticker:BTC-USDT","response":true}'
                )
                got["kucoin"] = await h.read_frames(ws, 75)
            async with s.ws_connect(e["mexc"].ws_url) as ws:
                await ws.send_str(
                    '{"method":"SUBSCRIPTION","params":'
                    '["spot@public.aggre.bookTicker.v3.api.pb@100ms@BTCUSDT"]}'
                )
                got["mexc"] = await h.read_frames(ws, 7)
        return got

    got = h.run(main())
    assert [f.payload for f in got["binance"]] == want["binance"]
    assert got["bybit"][0].payload.startswith(b'{"success":true,"ret_msg":"subscribe"')
    assert [f.payload for f in got["bybit"][1:]] == want["bybit"]
    assert got["kucoin"][0].payload.endswith(b'"type":"welcome"}')
    assert got["kucoin"][1].payload == b'{"id":"1","type":"ack"}'
    assert [f.payload for f in got["kucoin"][2:]] == want["kucoin"]
    assert got["mexc"][0].payload.startswith(b'{"id":0,"code":0,"msg":"spot@public')
    assert [f.payload for f in got["mexc"][1:]] == want["mexc"]
    assert all(f.binary for f in got["mexc"][1:])


def test_missing_samples_dir_is_a_clear_error(h, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = SimConfig(samples=True, samples_dir=tmp_path, exchanges=("bybit",))

    async def main() -> None:
        async with Simulator(config):
            pass

    with pytest.raises(SamplesError, match="samples_dir"):
        h.run(main())
