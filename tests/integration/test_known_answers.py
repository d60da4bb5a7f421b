"""Known answers, end to end: the simulator scripts what happened; the replay must find just that.

The simulator injects one arbitrage window (KuCoin's ask below Bybit's bid by a known gross edge,
between known times) and known exchange-clock lags; we record it over real loopback sockets with
the real recorder, replay the files, and check the episodes and latencies against the script.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from ticktape import replay
from ticktape.recorder.config import load_config
from ticktape.recorder.session import Recorder
from ticktape.simulator import Dislocation, Lag, SimConfig
from ticktape.strategies.fees import DEFAULT_TAKER_FEES

START_S, END_S, EDGE_BPS = 1.5, 3.0, 30.0
LAGS_MS = {"mexc": 40.0, "bybit": 15.0}
TOLERANCE_S = 0.25  # one quote period (20 ms) plus loopback and scheduling slack on a busy box


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """Record 4.5 s of the scripted market; return the data root and the simulator's start time."""
    out = tmp_path_factory.mktemp("known")
    cfg = load_config(
        ["--simulate", "--out", str(out), "--quiet", "--symbols", "BTCUSDT", "--duration", "4.5"]
    )
    sim = SimConfig(
        seed=11,
        symbols=cfg.symbols,
        rate_hz=50,
        trade_rate_hz=5,
        random_dislocations_per_min=0,
        dislocations=(Dislocation("BTC-USDT", "kucoin", "bybit", START_S, END_S, EDGE_BPS),),
        lags=tuple(Lag(ex, ms) for ex, ms in LAGS_MS.items()),
    )
    recorder = Recorder(cfg, sim_config=sim)
    asyncio.run(asyncio.wait_for(recorder.run(), 60))
    assert recorder.simulator is not None
    sim_start_ns = time.time_ns() - int(recorder.simulator.elapsed() * 1e9)
    return out, sim_start_ns


def test_replay_finds_exactly_the_scripted_episode(recording: tuple[Path, int]) -> None:
    out, sim_start_ns = recording
    result = replay.open(out).run(["arb"])
    episodes = result.results["arb"]["episodes"].to_pylist()
    assert len(episodes) == 1, episodes
    (ep,) = episodes
    assert (ep["symbol"], ep["buy_exchange"], ep["sell_exchange"]) == (
        "BTC-USDT",
        "kucoin",
        "bybit",
    )
    start_s = (ep["start_ns"] - sim_start_ns) / 1e9
    end_s = (ep["end_ns"] - sim_start_ns) / 1e9
    assert START_S - 0.05 <= start_s <= START_S + TOLERANCE_S, start_s
    assert END_S - 0.05 <= end_s <= END_S + TOLERANCE_S, end_s
    fee_buy, fee_sell = DEFAULT_TAKER_FEES["kucoin"], DEFAULT_TAKER_FEES["bybit"]
    net_bps = ((1 + EDGE_BPS / 1e4) * (1 - fee_sell) - (1 + fee_buy)) * 1e4  # 9.97 bps
    # the two venues' quotes refresh at different instants, so the ask the bid was scripted
    # against can be a tick or two stale at the window's edges (~0.15 bps at BTC prices)
    assert ep["open_edge_bps"] == pytest.approx(net_bps, abs=0.2)
    assert ep["max_edge_bps"] == pytest.approx(net_bps, abs=0.2)
    assert ep["close_reason"] == "edge_gone"


def test_replay_measures_the_scripted_exchange_lags(recording: tuple[Path, int]) -> None:
    out, _ = recording
    result = replay.open(out).run(["latency"])
    rows = {r["exchange"]: r for r in result.results["latency"]["exchanges"].to_pylist()}
    for exchange, lag_ms in LAGS_MS.items():
        p50_ms = rows[exchange]["latency_p50_ns"] / 1e6
        # exchange timestamps are whole milliseconds (truncation adds < 1 ms); loopback adds ~1 ms
        assert lag_ms <= p50_ms <= lag_ms + 10, (exchange, p50_ms)
    assert rows["kucoin"]["latency_p50_ns"] / 1e6 < 10  # no lag scripted
    ranking = [r["exchange"] for r in sorted(rows.values(), key=lambda r: r["rank"])]
    assert ranking[-2:] == ["bybit", "mexc"], ranking


def test_replay_is_deterministic_on_a_real_recording(recording: tuple[Path, int]) -> None:
    out, _ = recording
    first = replay.open(out).run(["arb", "latency"])
    second = replay.open(out).run(["arb", "latency"])
    assert first.digest == second.digest
    assert first.counts.decode_errors == {}
