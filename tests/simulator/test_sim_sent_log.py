"""The send log is exact: what a client receives is, byte for byte and in order, what the log
says was sent on that connection; exchange timestamps derive from the logged send time."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import orjson
import pyarrow.parquet as pq
import pytest

from ticktape.simulator import Lag, SimConfig, Simulator, load_jsonl

CONFIG = SimConfig(
    rate_hz=40.0,
    trade_rate_hz=20.0,
    lags=(Lag("bybit", 40.0), Lag("mexc", 7.5)),
)


async def session_on_all_four(h, sim: Simulator, s: aiohttp.ClientSession) -> dict:  # type: ignore[no-untyped-def]
    """Connect one client per exchange (in this order), subscribe, read frames, call REST."""
    got: dict[str, object] = {}
    e = sim.endpoints
    async with s.ws_connect(
        e["binance"].ws_url + "?streams=btcusdt@bookTicker/btcusdt@trade"
    ) as ws:
        got["binance"] = await h.read_frames(ws, 25)
    async with s.ws_connect(e["bybit"].ws_url) as ws:
        await ws.send_str('{"op":"subscribe","args":["orderbook.1.BTCUSDT","publicTrade.BTCUSDT"]}')
        got["bybit"] = await h.read_frames(ws, 25)
    async with s.post(e["kucoin"].rest_url + "/api/v1/bullet-public") as r:
        bullet_body = await r.read()
    data = orjson.loads(bullet_body)["data"]
    url = f"{data['instanceServers'][0]['endpoint']}?token={data['token']}&connectId=c1"
    async with s.ws_connect(url) as ws:
        await ws.send_str(
            '{"id":1,"type":"subscribe","topic":"/market/match:BTC-USDT","response":true}'
        )
        await ws.send_str('{"id":2,"type":"subscribe","topic":"/spotMarket/level1:ETH-USDT"}')
        got["kucoin"] = await h.read_frames(ws, 25)
    async with s.ws_connect(e["mexc"].ws_url) as ws:
        params = [
            "spot@public.aggre.bookTicker.v3.api.pb@10ms@ETHUSDT",
            "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT",
        ]
        await ws.send_str(orjson.dumps({"method": "SUBSCRIPTION", "params": params}).decode())
        got["mexc"] = await h.read_frames(ws, 25)
    rest = {}
    for name, path in (
        ("binance", "/api/v3/ticker/bookTicker?symbol=ETHUSDT"),
        ("bybit", "/v5/market/orderbook?category=spot&symbol=ETHUSDT&limit=1"),
        ("kucoin", "/api/v1/market/orderbook/level1?symbol=ETH-USDT"),
        ("mexc", "/api/v3/time"),
    ):
        async with s.get(e[name].rest_url + path) as r:
            rest[name] = (f"GET {path}", await r.read())
    rest["kucoin-bullet"] = ("POST /api/v1/bullet-public", bullet_body)
    got["rest"] = rest
    return got


@pytest.fixture(scope="module")
def session(h) -> tuple[dict, Simulator]:  # type: ignore[no-untyped-def]
    """One run of the four-exchange session, shared by the tests of this module."""

    async def main() -> tuple[dict, Simulator]:
        async with Simulator(CONFIG) as sim, aiohttp.ClientSession() as s:
            return await session_on_all_four(h, sim, s), sim

    return h.run(main())


def test_received_frames_equal_the_log_byte_for_byte(
    session: tuple[dict, Simulator], tmp_path: Path
) -> None:
    got, sim = session
    conns = sim.connections
    assert [c.exchange for c in conns] == ["binance", "bybit", "kucoin", "mexc"]
    for conn in conns:
        received = [(f.payload, f.binary) for f in got[conn.exchange]]
        logged = [
            (f.payload, f.kind == "binary")
            for f in sim.sent_log.filter(conn_id=conn.conn_id, kinds=("text", "binary"))
        ]
        assert len(received) == 25
        assert received == logged[: len(received)], conn.exchange
        assert any(binary for _, binary in received) == (conn.exchange == "mexc")
        sends = [f.send_ns for f in sim.sent_log.filter(conn_id=conn.conn_id)]
        assert sends == sorted(sends)
    rest_log = {f.stream: f for f in sim.sent_log.filter(kinds=("rest",))}
    for stream, body in got["rest"].values():
        assert rest_log[stream].payload == body
        assert rest_log[stream].status == 200

    # dumps round-trip exactly
    frames = sim.sent_log.frames
    assert load_jsonl(sim.dump_sent_log(tmp_path / "sent.jsonl")) == frames
    table = pq.read_table(sim.dump_sent_log(tmp_path / "sent.parquet"))
    assert table.column("payload").to_pylist() == [f.payload for f in frames]
    assert table.column("conn_id").to_pylist() == [f.conn_id for f in frames]


def test_exchange_timestamps_are_send_time_minus_lag(session: tuple[dict, Simulator]) -> None:
    _, sim = session
    bybit = sim.sent_log.filter(exchange="bybit", kinds=("text",))
    data = [(f, orjson.loads(f.payload)) for f in bybit if f.payload.startswith(b'{"topic"')]
    assert data
    for frame, msg in data:
        assert msg["ts"] == (frame.send_ns - 40_000_000) // 1_000_000
    kucoin = sim.sent_log.filter(exchange="kucoin", stream="/market/match:BTC-USDT")
    assert kucoin
    for frame in kucoin:
        assert int(orjson.loads(frame.payload)["data"]["time"]) == frame.send_ns  # lag 0, in ns
    mexc = sim.sent_log.filter(exchange="mexc", kinds=("binary",))
    for frame in mexc:
        send_ms = (frame.send_ns - 7_500_000) // 1_000_000
        assert b"\x30" + _varint(send_ms) in frame.payload  # wrapper field 6 sendTime


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)
