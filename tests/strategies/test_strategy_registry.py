"""The registry, the Signal type and the fee/staleness helpers."""

from __future__ import annotations

import pytest

from ticktape.strategies import (
    STRATEGIES,
    Signal,
    Strategy,
    StrategyConfigError,
    UnknownStrategyError,
    create,
)
from ticktape.strategies.fees import DEFAULT_TAKER_FEES, default_staleness, taker_fees


def test_names_and_creation() -> None:
    assert STRATEGIES == ("arb", "latency")
    for name in STRATEGIES:
        strategy = create(name)
        assert isinstance(strategy, Strategy)
        assert strategy.name == name
        assert create(name) is not strategy  # fresh state every time


def test_unknown_strategy_message() -> None:
    with pytest.raises(UnknownStrategyError) as info:
        create("x")
    assert str(info.value) == "unknown strategy 'x': choose from arb, latency"


def test_unknown_option_names_the_valid_ones() -> None:
    with pytest.raises(StrategyConfigError, match=r"'arb' has no option 'min_edge'.*min_edge_bps"):
        create("arb", min_edge=3)


def test_config_reaches_the_strategy() -> None:
    with pytest.raises(StrategyConfigError, match="spike_window"):
        create("latency", spike_window=-1)


def test_signal_describe_is_one_readable_line() -> None:
    signal = Signal(5, "arb", "open", ("binance", "bybit"), "BTC-USDT",
                    {"edge_bps": 29.950000000000895, "episode_id": 0})  # fmt: skip
    assert signal.describe() == "arb open BTC-USDT binance->bybit edge_bps=29.95 episode_id=0"
    bare = Signal(5, "latency", "gap", ("kucoin",), "")
    assert bare.describe() == "latency gap kucoin"


def test_default_fee_table() -> None:
    assert dict(DEFAULT_TAKER_FEES) == {
        "binance": 0.001,
        "bybit": 0.001,
        "kucoin": 0.001,
        "mexc": 0.0005,
    }
    assert taker_fees({"mexc": 0.0})["mexc"] == 0.0
    assert taker_fees({"okx": 0.0008})["okx"] == 0.0008
    with pytest.raises(StrategyConfigError, match=r"0\.001 = 0\.1%"):
        taker_fees({"mexc": 5})


@pytest.mark.parametrize(
    ("method", "poll", "expected"), [("ws", None, 5.0), ("rest", 1.0, 3.0), ("rest", 0.25, 0.75)]
)
def test_default_staleness(method: str, poll: float | None, expected: float) -> None:
    assert default_staleness(method, poll) == expected


@pytest.mark.parametrize(("method", "poll"), [("rest", None), ("rest", 0.0), ("fix", 1.0)])
def test_default_staleness_errors(method: str, poll: float | None) -> None:
    with pytest.raises(StrategyConfigError):
        default_staleness(method, poll)
