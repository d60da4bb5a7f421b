"""Known answers over the wire: same seed, same quotes (whenever a client connects); a
scripted dislocation is visible in the frames exactly as configured; the CLI runs and stops."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import aiohttp
import orjson
import pytest

from ticktape.simulator import Dislocation, SimConfig, Simulator
from ticktape.simulator.__main__ import main as cli_main
from ticktape.simulator.binance_wire import update_id
from ticktape.simulator.market import fmt_fixed


async def binance_quotes(h, config: SimConfig, delay: float, n: int) -> dict[int, dict]:  # type: ignore[no-untyped-def]
    async with Simulator(config) as sim, aiohttp.ClientSession() as s:
        await asyncio.sleep(delay)
        url = sim.endpoints["binance"].ws_url + "?streams=btcusdt@bookTicker"
        async with s.ws_connect(url) as ws:
            frames = await h.read_frames(ws, n)
    data = [orjson.loads(f.payload)["data"] for f in frames]
    return {d["u"]: d for d in data}


def test_same_seed_same_quotes_over_the_wire(h) -> None:  # type: ignore[no-untyped-def]
    config = SimConfig(seed=21, rate_hz=50.0, exchanges=("binance",))

    async def main() -> tuple[dict, dict]:
        early = await binance_quotes(h, config, 0.0, 20)
        late = await binance_quotes(h, config, 0.15, 20)  # connects later: other ticks
        return early, late

    early, late = h.run(main())
    common = set(early) & set(late)
    assert len(common) >= 5
    assert all(early[u] == late[u] for u in common)
    # and each frame is the model's quote for its tick index
    model = Simulator(config).market
    spec = model.specs["BTC-USDT"]
    for u, d in early.items():
        k = next(k for k in range(2000) if update_id(model.quote("binance", "BTC-USDT", k)) == u)
        q = model.quote("binance", "BTC-USDT", k)
        assert d["b"] == fmt_fixed(q.bid, spec.price_decimals)
        assert d["A"] == fmt_fixed(q.ask_size, spec.qty_decimals)


def test_scripted_dislocation_is_in_the_frames(h) -> None:  # type: ignore[no-untyped-def]
    d = Dislocation("BTC-USDT", "bybit", "binance", start_s=0.3, end_s=0.8, edge_bps=12.0)
    config = SimConfig(
        seed=3,
        rate_hz=40.0,
        exchanges=("binance", "bybit"),
        dislocations=(d,),
        random_dislocations_per_min=0,
    )

    async def main() -> tuple[list[dict], list[dict]]:
        async with Simulator(config) as sim, aiohttp.ClientSession() as s:
            url = sim.endpoints["binance"].ws_url + "?streams=btcusdt@bookTicker"
            bn = await s.ws_connect(url)
            by = await s.ws_connect(sim.endpoints["bybit"].ws_url)
            await by.send_str('{"op":"subscribe","args":["orderbook.1.BTCUSDT"]}')
            got = await asyncio.gather(h.read_frames(bn, 44), h.read_frames(by, 45))
            await bn.close()
            await by.close()
        binance = [orjson.loads(f.payload)["data"] for f in got[0]]
        bybit = [orjson.loads(f.payload) for f in got[1][1:]]  # [0] is the ack
        return binance, bybit

    binance, bybit = h.run(main())
    hz = 40.0
    anchor_k = math.floor(d.start_s * hz)
    first_u = bybit[0]["data"]["u"]  # bybit u = k + 1
    by_ask = {b["data"]["u"] - 1: float(b["data"]["a"][0][0]) for b in bybit}
    bn_bid = {frame["u"]: float(frame["b"]) for frame in binance}
    assert first_u <= anchor_k + 1, "connected too late to see the anchor tick"
    model = Simulator(config).market
    anchor_ask = by_ask[anchor_k]
    inside = range(math.ceil(d.start_s * hz), math.floor(d.end_s * hz) + 1)
    seen = 0
    for k in inside:
        u = update_id(model.quote("binance", "BTC-USDT", k))
        if u in bn_bid:
            seen += 1
            assert bn_bid[u] == pytest.approx(anchor_ask * 1.0012, abs=0.011)
            assert by_ask.get(k, anchor_ask) == anchor_ask  # buy side holds its ask
    assert seen >= 15
    # before the window the two books do not cross
    before = [k for k in range(int(0.1 * hz), int(0.25 * hz)) if k in by_ask]
    for k in before:
        u = update_id(model.quote("binance", "BTC-USDT", k))
        if u in bn_bid:
            assert bn_bid[u] < by_ask[k]


def test_cli_runs_prints_urls_and_dumps(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_file = tmp_path / "log.jsonl"
    rc = cli_main(["--duration", "0.2", "--exchanges", "bybit,mexc", "--dump", str(out_file)])
    text = capsys.readouterr().out
    assert rc == 0
    assert "ws://127.0.0.1:" in text and "/v5/public/spot" in text and "/ws" in text
    assert out_file.exists()
    assert cli_main(["--symbols", "B?D"]) == 2
