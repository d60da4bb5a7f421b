"""The seeded market model: determinism, correlation, exact scripted dislocations, no stray
crosses, config validation. No sockets: the model is a pure function of the index."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ticktape.simulator import Dislocation, Fault, Lag, MarketModel, SimConfig, SimConfigError
from ticktape.simulator.market import fmt_fixed, fmt_trim

EXCHANGES = ("binance", "bybit", "kucoin", "mexc")


def quotes(model: MarketModel, exchange: str, symbol: str, n: int) -> list[tuple[int, ...]]:
    out = []
    for k in range(n):
        q = model.quote(exchange, symbol, k)
        out.append((q.bid, q.bid_size, q.ask, q.ask_size))
    return out


def test_same_seed_same_quotes_and_trades() -> None:
    a = MarketModel(SimConfig(seed=11))
    b = MarketModel(SimConfig(seed=11))
    # evaluate b out of order: results must not depend on evaluation order or caching
    assert b.quote("kucoin", "ETH-USDT", 900) is not None
    for ex in EXCHANGES:
        assert quotes(a, ex, "BTC-USDT", 300) == quotes(b, ex, "BTC-USDT", 300)
        assert [a.trade(ex, "ETH-USDT", j) for j in range(50)] == [
            b.trade(ex, "ETH-USDT", j) for j in range(50)
        ]


def test_different_seed_different_quotes() -> None:
    a = MarketModel(SimConfig(seed=1))
    b = MarketModel(SimConfig(seed=2))
    assert quotes(a, "binance", "BTC-USDT", 50) != quotes(b, "binance", "BTC-USDT", 50)


def test_quotes_are_valid_and_correlated_across_exchanges() -> None:
    model = MarketModel(SimConfig(seed=3, random_dislocations_per_min=0))
    scale = 10 ** model.specs["BTC-USDT"].price_decimals
    for t in (0.0, 10.0, 100.0, 1000.0):
        mids = []
        for ex in EXCHANGES:
            q = model.latest_quote(ex, "BTC-USDT", t)
            assert 0 < q.bid < q.ask and q.bid_size > 0 and q.ask_size > 0
            mids.append((q.bid + q.ask) / 2 / scale)
        common = model.mid("BTC-USDT", t)
        assert max(abs(m / common - 1) for m in mids) < 5e-4  # within 5 bps of the common mid
    assert model.mid("BTC-USDT", 1000.0) != model.mid("BTC-USDT", 0.0)  # the mid does move


def crossing_pairs(model: MarketModel, symbol: str, t: float) -> set[tuple[str, str]]:
    qs = {ex: model.latest_quote(ex, symbol, t) for ex in EXCHANGES}
    return {(b, s) for b in EXCHANGES for s in EXCHANGES if b != s and qs[s].bid > qs[b].ask}


def test_no_cross_without_dislocations() -> None:
    model = MarketModel(SimConfig(seed=5, random_dislocations_per_min=0))
    for i in range(3000):  # 60 s on a 20 ms grid
        t = i * 0.02
        assert crossing_pairs(model, "BTC-USDT", t) == set(), t
        assert crossing_pairs(model, "ETH-USDT", t) == set(), t


def test_scripted_dislocation_is_exact_and_the_only_cross() -> None:
    d = Dislocation("BTC-USDT", "kucoin", "binance", 5.0, 7.0, edge_bps=10.0)
    model = MarketModel(SimConfig(seed=7, dislocations=(d,), random_dislocations_per_min=0))
    anchor = model.latest_quote("kucoin", "BTC-USDT", 5.0).ask
    expected_bid = round(anchor * (1 + 10.0 / 1e4))
    hz = model.quote_hz("binance")
    ticks = range(math.ceil(5.0 * hz), math.floor(7.0 * hz) + 1)
    assert len(ticks) == 41
    for k in ticks:
        sell = model.quote("binance", "BTC-USDT", k)
        buy = model.latest_quote("kucoin", "BTC-USDT", sell.t_s)
        assert buy.ask == anchor
        assert sell.bid == expected_bid
        assert crossing_pairs(model, "BTC-USDT", sell.t_s) == {("kucoin", "binance")}
    edge = (expected_bid / anchor - 1) * 1e4
    assert edge == pytest.approx(10.0, abs=0.01)
    # outside the window (plus one tick of either exchange) nothing crosses
    for t in (4.0, 4.9, 7.2, 9.0):
        assert crossing_pairs(model, "BTC-USDT", t) == set()
    # the other symbol is untouched
    assert all(not crossing_pairs(model, "ETH-USDT", 5.0 + i * 0.05) for i in range(40))


def test_random_dislocations_are_seeded_and_create_arbitrage() -> None:
    config = SimConfig(seed=9, random_dislocations_per_min=6.0)
    a, b = MarketModel(config), MarketModel(config)
    found = a.dislocations("BTC-USDT", 120.0)
    assert found == b.dislocations("BTC-USDT", 120.0)
    assert len(found) >= 3
    for d in found[:3]:
        low, high = config.random_edge_bps
        assert low <= d.edge_bps <= high and 0.5 <= d.end_s - d.start_s <= 3.0
        middle = (d.start_s + d.end_s) / 2
        assert crossing_pairs(a, "BTC-USDT", middle) == {(d.buy_exchange, d.sell_exchange)}


def test_trades_hit_the_quote_of_their_side() -> None:
    model = MarketModel(SimConfig(seed=4))
    sides = set()
    for j in range(40):
        t = model.trade("bybit", "ETH-USDT", j)
        q = model.latest_quote("bybit", "ETH-USDT", t.t_s)
        assert t.price == (q.ask if t.side == "buy" else q.bid)
        assert t.size > 0
        sides.add(t.side)
    assert sides == {"buy", "sell"}


def test_lag_schedule() -> None:
    config = SimConfig(lags=(Lag("bybit", 40.0), Lag("bybit", 250.0, start_s=10.0, end_s=12.0)))
    assert config.lag_ms("bybit", 1.0) == 40.0
    assert config.lag_ms("bybit", 11.0) == 250.0
    assert config.lag_ms("bybit", 12.0) == 40.0
    assert config.lag_ms("binance", 11.0) == 0.0


def test_formatting_is_exact() -> None:
    assert fmt_fixed(6500001, 2) == "65000.01000000"
    assert fmt_fixed(123, 8) == "0.00000123"
    assert fmt_trim(6500000, 2) == "65000"
    assert fmt_trim(6500010, 2) == "65000.1"
    assert fmt_trim(123, 8) == "0.00000123"
    assert fmt_trim(5, 0) == "5"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"symbols": ("BT?C",)}, "bad symbol"),
        ({"symbols": ()}, "empty"),
        ({"exchanges": ("binance", "ftx")}, "unknown exchange"),
        ({"rate_hz": 0}, "rate"),
        ({"dislocations": (Dislocation("BTC-USDT", "binance", "binance", 1, 2, 5),)}, "differ"),
        ({"dislocations": (Dislocation("SOL-USDT", "binance", "bybit", 1, 2, 5),)}, "symbol"),
        ({"dislocations": (Dislocation("BTC-USDT", "binance", "bybit", 3, 2, 5),)}, "start_s"),
        (
            {
                "dislocations": (
                    Dislocation("BTC-USDT", "binance", "bybit", 1, 3, 5),
                    Dislocation("BTC-USDT", "mexc", "bybit", 3.5, 5, 5),
                )
            },
            "overlap",
        ),
        ({"faults": (Fault(1.0, "bybit", "server_shutdown"),)}, "binance"),
        ({"faults": (Fault(1.0, "bybit", "explode"),)}, "Fault.action"),  # type: ignore[arg-type]
    ],
)
def test_bad_config_is_rejected_with_a_clear_message(kwargs: dict, message: str) -> None:
    with pytest.raises(SimConfigError, match=message):
        SimConfig(**kwargs)


@given(units=st.integers(min_value=0, max_value=10**15), decimals=st.integers(0, 8))
def test_formatting_matches_decimal(units: int, decimals: int) -> None:
    exact = Decimal(units).scaleb(-decimals)
    assert Decimal(fmt_fixed(units, decimals)) == exact
    assert len(fmt_fixed(units, decimals).split(".")[1]) == 8
    trimmed = fmt_trim(units, decimals)
    assert Decimal(trimmed) == exact
    assert not trimmed.endswith("0") or "." not in trimmed
