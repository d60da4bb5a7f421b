"""Fixtures for the analysis tests: small generated recordings (all four exchanges, realistic
payloads including hand-encoded MEXC protobuf) and replay-style result files."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ticktape.analysis import synthetic

DAY_START_NS = 1_753_142_400_000_000_000  # 2025-07-22T00:00:00Z


@pytest.fixture
def day_root(tmp_path: Path) -> Path:
    """A data folder with one generated day (all four exchanges, one reconnect each)."""
    root = tmp_path / "data"
    synthetic.write_day(root, DAY_START_NS, messages=120)
    return root


def episode_rows(count: int = 6) -> pa.Table:
    """An ``arb`` episodes table in the strategy's own schema."""
    from ticktape.strategies.arb_tables import EPISODES_SCHEMA

    rows = [
        {
            "episode_id": i,
            "symbol": "BTC-USDT" if i % 3 else "ETH-USDT",
            "buy_exchange": ("binance", "mexc")[i % 2],
            "sell_exchange": "bybit",
            "start_ns": DAY_START_NS + 100_000_000 + i * 300_000_000,
            "end_ns": DAY_START_NS + 100_000_000 + i * 300_000_000 + (i + 1) * 20_000_000,
            "duration_ns": (i + 1) * 20_000_000,
            "open_edge_bps": 1.5 + i,
            "max_edge_bps": 2.5 + i,
            "max_size": 0.25,
            "best_profit": 0.5 * (i + 1),
            "updates": i,
            "close_reason": "edge_gone",
        }
        for i in range(count)
    ]
    return pa.Table.from_pylist(rows, schema=EPISODES_SCHEMA)


@pytest.fixture
def root_with_results(day_root: Path) -> Path:
    """``day_root`` plus ``results/arb/episodes.parquet`` as the replay writes it."""
    folder = day_root / "results" / "arb"
    folder.mkdir(parents=True)
    pq.write_table(episode_rows(), str(folder / "episodes.parquet"))
    return day_root
