"""Live == replay: ``record --strategy`` and a later ``replay`` of the files give identical results.

The recorder runs the strategies on the rows as they arrive (through the replay's own driver);
the replay reads the Parquet files back, merges them and runs fresh strategy objects. Their result
tables must be equal, and the files they write byte-identical.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ticktape import replay
from ticktape.recorder.cli import record
from ticktape.recorder.config import load_config
from ticktape.recorder.session import Recorder
from ticktape.replay.results import write_results
from ticktape.simulator import Dislocation, Fault, SimConfig


@pytest.fixture(scope="module")
def live_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("live")
    argv = ["--simulate", "--out", str(out), "--quiet", "--duration", "4",
            "--strategy", "arb,latency", "--symbols", "BTCUSDT,ETHUSDT"]  # fmt: skip
    cfg = load_config(argv)
    sim = SimConfig(
        seed=5,
        symbols=cfg.symbols,
        rate_hz=40,
        trade_rate_hz=5,
        random_dislocations_per_min=0,
        dislocations=(
            Dislocation("BTC-USDT", "mexc", "bybit", 0.8, 1.8, 35.0),
            Dislocation("ETH-USDT", "binance", "kucoin", 2.0, 2.6, 40.0),
        ),
        # a reconnect mid-run: Disconnected/Connected events reach both paths
        faults=(Fault(at_s=3.0, exchange="kucoin", action="drop"),),
    )
    code = asyncio.run(asyncio.wait_for(record(cfg, Recorder(cfg, sim_config=sim)), 60))
    assert code == 0
    return out


def test_live_results_equal_a_replay_of_the_recording(live_run: Path, tmp_path: Path) -> None:
    live_files = sorted((live_run / "results").glob("*/*.parquet"))
    assert {p.relative_to(live_run / "results").as_posix() for p in live_files} == {
        "arb/episodes.parquet", "arb/signals.parquet", "latency/alerts.parquet",
        "latency/exchanges.parquet", "latency/latency.parquet",
    }  # fmt: skip

    result = replay.open(live_run).run(["arb", "latency"])
    episodes = result.results["arb"]["episodes"].to_pylist()
    pairs = {(e["symbol"], e["buy_exchange"], e["sell_exchange"]) for e in episodes}
    assert {("BTC-USDT", "mexc", "bybit"), ("ETH-USDT", "binance", "kucoin")} <= pairs

    written = write_results(result, tmp_path / "replayed")
    assert len(written) == len(live_files)
    for live_file, replayed in zip(live_files, sorted(written), strict=True):
        assert live_file.name == replayed.name
        assert live_file.read_bytes() == replayed.read_bytes(), live_file


def test_the_reconnect_is_seen_live(live_run: Path) -> None:
    result = replay.open(live_run).run(["latency"])
    exchanges = {r["exchange"]: r for r in result.results["latency"]["exchanges"].to_pylist()}
    assert exchanges["kucoin"]["reconnects"] >= 1
