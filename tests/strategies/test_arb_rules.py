"""The arbitrage rules, one hand-computed case at a time (see the strategies/arb.py docstring)."""

from __future__ import annotations

import math

import pytest
from strategy_streams import START_NS, S, quote, trade

from ticktape.exchanges.events import Disconnected, Event, Gap
from ticktape.strategies import StrategyConfigError, run
from ticktape.strategies.arb import ArbStrategy

T0 = START_NS


def arb(events: list[Event], end_ns: int | None = None, **config: object) -> ArbStrategy:
    strategy = ArbStrategy(**config)  # type: ignore[arg-type]
    run(strategy, events, end_ns)
    return strategy


def episodes(strategy: ArbStrategy) -> list[dict[str, object]]:
    return strategy.results()["episodes"].to_pylist()


def signal_kinds(strategy: ArbStrategy) -> list[tuple[str, str, str]]:
    rows = strategy.results()["signals"].to_pylist()
    return [(r["kind"], r["buy_exchange"], r["sell_exchange"]) for r in rows]


# (buy venue, ask, sell venue, bid, fee overrides, expected edge bps, expected net per unit)
FEE_CASES = [
    # 100.5 * 0.999 - 100 * 1.001 = 100.3995 - 100.1 = 0.2995 -> 0.2995 / 100 = 29.95 bps
    ("binance", 100.0, "bybit", 100.5, {}, 29.95, 0.2995),
    # mexc 0.05%: 50.2 * 0.999 - 50 * 1.0005 = 50.1498 - 50.025 = 0.1248 -> 24.96 bps
    ("mexc", 50.0, "kucoin", 50.2, {}, 24.96, 0.1248),
    # kucoin 0.1% buy, mexc 0.05% sell: 200.8 * 0.9995 - 200 * 1.001 = 200.6996 - 200.2 = 0.4996
    ("kucoin", 200.0, "mexc", 200.8, {}, 24.98, 0.4996),
    # fees overridden to zero: 100.03 - 100 = 0.03 -> 3 bps
    ("binance", 100.0, "bybit", 100.03, {"binance": 0.0, "bybit": 0.0}, 3.0, 0.03),
    # overridden 0.2% class-B KuCoin fee: 101 * 0.998 - 100 * 1.001 = 100.798 - 100.1 = 0.698
    ("binance", 100.0, "kucoin", 101.0, {"kucoin": 0.002}, 69.8, 0.698),
]


@pytest.mark.parametrize(("buy", "ask", "sell", "bid", "fees", "edge_bps", "net"), FEE_CASES)
def test_net_edge_after_both_taker_fees(
    buy: str, ask: float, sell: str, bid: float, fees: dict[str, float], edge_bps: float, net: float
) -> None:
    strategy = arb(
        [
            quote(buy, T0, ask - 1.0, ask, 5.0, 2.0, conn_id=1),
            quote(sell, T0 + 1, bid, bid + 1.0, 3.0, 5.0, conn_id=2),
        ],
        taker_fees=fees,
    )
    (episode,) = episodes(strategy)
    assert (episode["buy_exchange"], episode["sell_exchange"]) == (buy, sell)
    assert episode["open_edge_bps"] == pytest.approx(edge_bps, rel=1e-9)
    assert episode["max_size"] == 2.0  # min(ask size on buy venue 2.0, bid size on sell venue 3.0)
    assert episode["best_profit"] == pytest.approx(net * 2.0, rel=1e-9)


# Quotes (venue, bid, ask) at successive times -> the ordered pairs that must be open afterwards.
DIRECTION_CASES = [
    ([("binance", 99.0, 100.0), ("bybit", 101.0, 102.0)], {("binance", "bybit")}),
    ([("binance", 101.0, 102.0), ("bybit", 99.0, 100.0)], {("bybit", "binance")}),
    # bybit's bid beats both other asks; kucoin's bid beats mexc's ask only
    (
        [
            ("binance", 99.0, 100.0),
            ("mexc", 99.5, 100.0),
            ("kucoin", 100.8, 101.5),
            ("bybit", 101.0, 101.2),
        ],
        {("binance", "bybit"), ("mexc", "bybit"), ("binance", "kucoin"), ("mexc", "kucoin")},
    ),
    # a 10 bps gross gap does not pay two 10 bps taker fees
    ([("binance", 99.0, 100.0), ("bybit", 100.1, 100.2)], set()),
]


@pytest.mark.parametrize(("quotes", "expected"), DIRECTION_CASES)
def test_every_ordered_pair_and_only_profitable_directions(
    quotes: list[tuple[str, float, float]], expected: set[tuple[str, str]]
) -> None:
    events: list[Event] = [
        quote(venue, T0 + k, bid, ask, conn_id=k + 1) for k, (venue, bid, ask) in enumerate(quotes)
    ]
    strategy = ArbStrategy()
    for event in events:
        strategy.on_event(event)
    opened = {(b, s) for kind, b, s in signal_kinds(strategy) if kind == "open"}
    assert opened == expected


def test_different_symbols_never_pair() -> None:
    strategy = arb(
        [
            quote("binance", T0, 99.0, 100.0, symbol="BTC-USDT"),
            quote("bybit", T0 + 1, 101.0, 102.0, symbol="ETH-USDT", conn_id=2),
        ]
    )
    assert episodes(strategy) == []


# --- staleness -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("probe_ns", "still_open"),
    [(T0 + 5 * S - 1, True), (T0 + 5 * S, False), (T0 + 7 * S, False)],
)
def test_staleness_expires_exactly_at_the_limit(probe_ns: int, still_open: bool) -> None:
    # binance quote at T0 is fresh while now < T0 + 5 s; any event advances "now"
    strategy = ArbStrategy(default_staleness_s=5.0)
    strategy.on_event(quote("binance", T0, 99.0, 100.0))
    strategy.on_event(quote("bybit", T0 + 1 * S, 101.0, 102.0, conn_id=2))
    signals = strategy.on_event(trade("kucoin", probe_ns, symbol="ETH-USDT"))
    if still_open:
        assert signals == []
        assert episodes(strategy) == []
    else:
        (close,) = signals
        assert (close.kind, close.recv_ns, close.fields["reason"]) == ("close", probe_ns, "stale")
        (episode,) = episodes(strategy)
        assert episode["end_ns"] == T0 + 5 * S  # the deadline, not the detection time
        assert episode["duration_ns"] == 4 * S
        assert episode["close_reason"] == "stale"


@pytest.mark.parametrize(("second_ns", "opens"), [(T0 + 5 * S - 1, True), (T0 + 5 * S, False)])
def test_no_opportunity_from_a_stale_quote(second_ns: int, opens: bool) -> None:
    strategy = arb(
        [quote("binance", T0, 99.0, 100.0), quote("bybit", second_ns, 101.0, 102.0, conn_id=2)]
    )
    assert len(episodes(strategy)) == int(opens)


def test_per_exchange_staleness_limits() -> None:
    # REST-polled kucoin trusted 3 s, binance 10 s: kucoin's quote expires first
    strategy = ArbStrategy(staleness_s={"kucoin": 3.0, "binance": 10.0})
    strategy.on_event(quote("kucoin", T0, 99.0, 100.0))
    strategy.on_event(quote("binance", T0 + S, 101.0, 102.0, conn_id=2))
    assert strategy.on_event(trade("bybit", T0 + 3 * S - 1)) == []
    (close,) = strategy.on_event(trade("bybit", T0 + 3 * S))
    assert close.fields["reason"] == "stale"


def test_refreshed_quote_at_the_deadline_closes_then_reopens() -> None:
    strategy = ArbStrategy()
    strategy.on_event(quote("binance", T0, 99.0, 100.0))
    strategy.on_event(quote("bybit", T0 + 1, 101.0, 102.0, conn_id=2))
    signals = strategy.on_event(quote("binance", T0 + 5 * S, 99.0, 100.0, seq=1))
    assert [(s.kind, s.fields["episode_id"]) for s in signals] == [("close", 0), ("open", 1)]


def test_repeated_identical_quotes_keep_the_episode_open_without_updates() -> None:
    events: list[Event] = [
        quote("binance", T0, 99.0, 100.0),
        quote("bybit", T0 + 1, 101.0, 102.0, conn_id=2),
    ]
    events += [quote("binance", T0 + k * S, 99.0, 100.0, seq=k) for k in range(1, 20)]
    events += [quote("bybit", T0 + k * S + 1, 101.0, 102.0, conn_id=2, seq=k) for k in range(1, 20)]
    events.sort(key=lambda e: e.recv_ns)
    strategy = arb(events, end_ns=T0 + 20 * S)
    (episode,) = episodes(strategy)
    assert (episode["updates"], episode["close_reason"]) == (0, "end_of_data")
    assert episode["end_ns"] == T0 + 20 * S


# --- connections -------------------------------------------------------------------------------


def test_disconnect_closes_the_episode_and_drops_the_quote() -> None:
    strategy = ArbStrategy()
    strategy.on_event(quote("binance", T0, 99.0, 100.0, conn_id=7))
    strategy.on_event(quote("bybit", T0 + 1, 101.0, 102.0, conn_id=7))
    # same conn_id number on another exchange, and another binance connection: no effect
    assert strategy.on_event(Disconnected("kucoin", T0 + 2, 7, 5, "ws", "eof")) == []
    assert strategy.on_event(Disconnected("binance", T0 + 3, 8, 5, "ws", "eof")) == []
    (close,) = strategy.on_event(Disconnected("binance", T0 + 4, 7, 9, "ws", "server closed"))
    assert (close.kind, close.fields["reason"], close.recv_ns) == ("close", "disconnect", T0 + 4)
    # the dropped quote cannot reopen anything; bybit's fresh quote alone cannot either
    assert strategy.on_event(quote("bybit", T0 + 5, 101.0, 102.0, conn_id=7, seq=1)) == []
    # a quote on the new binance connection reopens
    (reopen,) = strategy.on_event(quote("binance", T0 + 6, 99.0, 100.0, conn_id=9))
    assert (reopen.kind, reopen.fields["episode_id"]) == ("open", 1)
    assert [e["close_reason"] for e in episodes(strategy)] == ["disconnect"]


def test_a_gap_does_not_drop_quotes() -> None:
    strategy = ArbStrategy()
    strategy.on_event(quote("binance", T0, 99.0, 100.0))
    strategy.on_event(quote("bybit", T0 + 1, 101.0, 102.0, conn_id=2))
    assert strategy.on_event(Gap("binance", T0 + 2, 1, 5, "ws", "seq jumped")) == []


# --- bad quotes ----------------------------------------------------------------------------------

BAD_SELL_QUOTES = [
    pytest.param(101.0, 100.9, 1.0, id="crossed-book"),
    pytest.param(101.0, 101.0, 1.0, id="locked-book-bid-equals-ask"),
    pytest.param(0.0, 102.0, 1.0, id="unset-bid"),
    pytest.param(101.0, 102.0, 0.0, id="zero-bid-size"),
    pytest.param(math.nan, 102.0, 1.0, id="nan-bid"),
    pytest.param(math.inf, 102.0, 1.0, id="inf-bid"),
    pytest.param(-101.0, 102.0, 1.0, id="negative-bid"),
]


@pytest.mark.parametrize(("bid", "ask", "bid_size"), BAD_SELL_QUOTES)
def test_bad_quotes_never_open(bid: float, ask: float, bid_size: float) -> None:
    strategy = arb(
        [quote("binance", T0, 99.0, 100.0), quote("bybit", T0 + 1, bid, ask, bid_size, conn_id=2)]
    )
    assert episodes(strategy) == []
    assert strategy.results()["signals"].num_rows == 0


@pytest.mark.parametrize(("ask", "ask_size"), [(0.0, 1.0), (100.0, 0.0), (math.nan, 1.0)])
def test_unset_ask_never_opens(ask: float, ask_size: float) -> None:
    strategy = arb(
        [quote("binance", T0, 99.0, ask, 1.0, ask_size), quote("bybit", T0 + 1, 101.0, 102.0)]
    )
    assert episodes(strategy) == []


def test_one_sided_quote_still_sells_on_its_set_side() -> None:
    # bybit has a bid but no ask: selling into its bid is fine
    strategy = arb(
        [quote("binance", T0, 99.0, 100.0), quote("bybit", T0 + 1, 101.0, 0.0, 1.0, 0.0)]
    )
    assert [(e["buy_exchange"], e["sell_exchange"]) for e in episodes(strategy)] == [
        ("binance", "bybit")
    ]


def test_crossed_quote_closes_an_open_episode_as_invalid() -> None:
    strategy = ArbStrategy()
    strategy.on_event(quote("binance", T0, 99.0, 100.0))
    strategy.on_event(quote("bybit", T0 + 1, 101.0, 102.0, conn_id=2))
    (close,) = strategy.on_event(quote("bybit", T0 + 2, 101.0, 100.5, conn_id=2, seq=1))
    assert close.fields["reason"] == "invalid_quote"
    assert "crossed 1" in strategy.summary()


# --- episode life -------------------------------------------------------------------------------


def test_episode_open_update_close_fields() -> None:
    strategy = arb(
        [
            quote("binance", T0, 99.0, 100.0, 1.0, 2.0),  # ask 100 x 2
            quote("bybit", T0 + 1 * S, 100.5, 101.0, 3.0),  # open: 29.95 bps, size 2
            quote("bybit", T0 + 2 * S, 100.5, 101.0, 1.0),  # update: size 1 (profit 0.2995)
            quote("bybit", T0 + 3 * S, 100.6, 101.0, 4.0),  # update: 39.94 bps, size 2
            quote("binance", T0 + 3 * S + 5, 98.0, 100.0, 9.0, 2.0),  # bid moved: no change
            quote("bybit", T0 + 4 * S, 100.3, 101.0, 4.0),  # 100.3*.999-100.1 = 0.0997: 9.97
            quote("bybit", T0 + 5 * S, 100.1, 101.0, 4.0),  # 100.1*.999 < 100.1: gone
        ]
    )
    signals = strategy.results()["signals"].to_pylist()
    assert [s["kind"] for s in signals] == ["open", "update", "update", "update", "close"]
    assert [s["recv_ns"] for s in signals] == [T0 + k * S for k in (1, 2, 3, 4, 5)]
    assert signals[1]["size"] == 1.0
    assert signals[1]["profit"] == pytest.approx(0.2995, rel=1e-9)
    assert signals[3]["edge_bps"] == pytest.approx(9.97, rel=1e-9)
    assert signals[-1]["reason"] == "edge_gone"
    (episode,) = episodes(strategy)
    assert episode == {
        "episode_id": 0,
        "symbol": "BTC-USDT",
        "buy_exchange": "binance",
        "sell_exchange": "bybit",
        "start_ns": T0 + 1 * S,
        "end_ns": T0 + 5 * S,
        "duration_ns": 4 * S,
        "open_edge_bps": pytest.approx(29.95, rel=1e-9),
        "max_edge_bps": pytest.approx(39.94, rel=1e-9),
        "max_size": 2.0,
        "best_profit": pytest.approx(0.7988, rel=1e-9),
        "updates": 3,
        "close_reason": "edge_gone",
    }


def test_finish_closes_open_episodes_at_end_of_data_and_clamps_end() -> None:
    events = [quote("binance", T0, 99.0, 100.0), quote("bybit", T0 + S, 101.0, 102.0, conn_id=2)]
    strategy = arb(events, end_ns=T0)  # end before the last event: clamped to it
    (episode,) = episodes(strategy)
    assert (episode["end_ns"], episode["close_reason"]) == (T0 + S, "end_of_data")
    assert strategy.finish(T0 + 99 * S) == []  # a second finish is a no-op


def test_finish_reports_quotes_that_went_stale_before_the_end() -> None:
    events = [quote("binance", T0, 99.0, 100.0), quote("bybit", T0 + S, 101.0, 102.0, conn_id=2)]
    (episode,) = episodes(arb(events, end_ns=T0 + 60 * S))
    assert (episode["end_ns"], episode["close_reason"]) == (T0 + 5 * S, "stale")


@pytest.mark.parametrize(
    ("min_edge_bps", "bid", "opens"),
    [
        (30.0, 100.5, False),  # 29.95 bps
        (30.0, 100.6, True),  # 39.94 bps
        (1.0, 100.21, False),  # 100.21 * .999 - 100.1 = 0.00979: 0.979 bps
        (1.0, 100.22, True),  # 100.22 * .999 - 100.1 = 0.01978: 1.978 bps
        (0.0, 100.2003, True),  # 100.2003 * .999 - 100.1 = 0.0002997: 0.03 bps
        (0.0, 100.2, False),  # 100.2 * 0.999 = 100.0998 < 100.1: negative edge
    ],
)
def test_minimum_net_edge(min_edge_bps: float, bid: float, opens: bool) -> None:
    strategy = arb(
        [quote("binance", T0, 99.0, 100.0), quote("bybit", T0 + 1, bid, bid + 1, conn_id=2)],
        min_edge_bps=min_edge_bps,
    )
    assert len(episodes(strategy)) == int(opens)


def test_unknown_exchange_gets_the_highest_default_fee_and_a_note() -> None:
    strategy = arb([quote("okx", T0, 99.0, 100.0), quote("bybit", T0 + 1, 100.5, 101.0)])
    (episode,) = episodes(strategy)
    assert episode["open_edge_bps"] == pytest.approx(29.95, rel=1e-9)
    assert "no taker fee known for okx; assumed 0.1000%" in strategy.summary()


def test_more_exchanges_than_the_initial_grid_keeps_open_episodes() -> None:
    strategy = ArbStrategy()
    strategy.on_event(quote("x0", T0, 99.0, 100.0))
    strategy.on_event(quote("x1", T0 + 1, 101.0, 102.0))
    for k in range(2, 9):  # grows the per-symbol grid twice while episode 0 is open
        strategy.on_event(quote(f"x{k}", T0 + k, 95.0, 103.0))
    strategy.on_event(quote("x1", T0 + 10, 101.5, 102.0, 2.0))  # update episode 0
    (sig,) = strategy.on_event(quote("x1", T0 + 11, 99.5, 102.0))  # gone
    assert (sig.kind, sig.fields["episode_id"], sig.fields["reason"]) == ("close", 0, "edge_gone")
    (episode,) = episodes(strategy)
    assert (episode["buy_exchange"], episode["sell_exchange"], episode["updates"]) == (
        "x0",
        "x1",
        1,
    )


def test_summary_lists_pairs_total_profit_and_longest_episode() -> None:
    strategy = arb(
        [
            quote("binance", T0, 99.0, 100.0, 1.0, 2.0),
            quote("bybit", T0 + S, 100.5, 101.0, 3.0, conn_id=2),
            quote("bybit", T0 + 3 * S, 100.0, 101.0, 3.0, conn_id=2),
        ]
    )
    text = strategy.summary()
    assert "arb: 1 episode(s)" in text
    assert "BTC-USDT    binance -> bybit" in text
    assert "0.599 USDT" in text
    assert "longest: #0 BTC-USDT binance -> bybit 2.000 s (closed: edge_gone)" in text


@pytest.mark.parametrize(
    "config",
    [
        {"min_edge_bps": -1.0},
        {"min_edge_bps": "5"},
        {"taker_fees": {"binance": 0.5}},
        {"taker_fees": {"binance": -0.001}},
        {"staleness_s": {"kucoin": 0}},
        {"default_staleness_s": math.nan},
    ],
)
def test_bad_config_is_a_clear_error(config: dict[str, object]) -> None:
    with pytest.raises(StrategyConfigError):
        ArbStrategy(**config)  # type: ignore[arg-type]
