"""``record --strategy``: configuration errors, and a failing strategy never stops the capture."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ticktape.recorder import cli
from ticktape.recorder.config import ConfigError, load_config
from ticktape.recorder.live import LiveStrategies
from ticktape.recorder.session import Recorder
from ticktape.simulator import SimConfig


def test_unknown_strategy_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ConfigError, match=r"unknown strategy 'momentum' \(known: arb, latency\)"):
        load_config(["--strategy", "arb,momentum"])
    assert cli.main(["--strategy", "momentum", "--out", "/tmp"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown strategy 'momentum'" in err


def test_strategies_from_flags_and_toml(tmp_path: Path) -> None:
    toml = tmp_path / "r.toml"
    toml.write_text(f'out = "{tmp_path}"\nstrategies = ["latency"]\n')
    assert load_config(["--config", str(toml)]).strategies == ("latency",)
    cfg = load_config(["--config", str(toml), "--strategy", "arb", "--strategy", "latency,arb"])
    assert cfg.strategies == ("arb", "latency")
    assert load_config(["--out", str(tmp_path)]).strategies == ()


def test_a_failing_strategy_ends_live_mode_not_the_recording(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def explode(self: LiveStrategies) -> list[object]:
        if self._pending:
            raise ZeroDivisionError("boom")
        return []

    monkeypatch.setattr(LiveStrategies, "pump", explode)
    argv = ["--simulate", "--out", str(tmp_path), "--quiet", "--duration", "1.5",
            "--exchanges", "binance", "--strategy", "arb"]  # fmt: skip
    cfg = load_config(argv)
    sim = SimConfig(seed=1, symbols=cfg.symbols, exchanges=("binance",), rate_hz=20)
    code = asyncio.run(asyncio.wait_for(cli.record(cfg, Recorder(cfg, sim_config=sim)), 30))
    assert code == 0
    err = capsys.readouterr().err
    assert "live strategies stopped (ZeroDivisionError: boom); recording goes on" in err
    assert "live results not written" in err
    files = list(tmp_path.glob("*/*.parquet"))
    assert files and sum(pq.read_metadata(f).num_rows for f in files) > 20
    assert not (tmp_path / "results").exists()
