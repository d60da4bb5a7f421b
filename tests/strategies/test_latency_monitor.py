"""The latency monitor: counts, rates, latency/RTT stats, spike and stale rules, health, ranking."""

from __future__ import annotations

import pytest
from strategy_streams import MS, START_NS, S, quote, trade

from ticktape.exchanges.events import Connected, DecodeError, Disconnected, Event, Gap
from ticktape.strategies import StrategyConfigError, run
from ticktape.strategies.latency import LatencyStrategy

T0 = START_NS  # a whole UTC second


def monitor(events: list[Event], end_ns: int | None = None, **config: object) -> LatencyStrategy:
    strategy = LatencyStrategy(**config)  # type: ignore[arg-type]
    run(strategy, events, end_ns)
    return strategy


def stream_row(strategy: LatencyStrategy, exchange: str, channel: str = "quotes") -> dict:
    rows = strategy.results()["latency"].to_pylist()
    (row,) = [r for r in rows if r["exchange"] == exchange and r["channel"] == channel]
    return row


def alerts(strategy: LatencyStrategy, kind: str | None = None) -> list[dict]:
    rows = strategy.results()["alerts"].to_pylist()
    return [r for r in rows if kind is None or r["kind"] == kind]


def test_counts_rates_and_peak_second() -> None:
    # 10 messages in second 0 (every 100 ms), 1 in second 1: span 1 s -> (11 - 1) / 1 s
    events: list[Event] = [quote("bybit", T0 + k * 100 * MS, 1.0, 2.0, seq=k) for k in range(11)]
    row = stream_row(monitor(events), "bybit")
    assert (row["messages"], row["events"]) == (11, 11)
    assert (row["first_ns"], row["last_ns"]) == (T0, T0 + S)
    assert row["rate_per_s"] == 10.0
    assert row["peak_per_s"] == 10
    assert row["interarrival_samples"] == 10
    assert row["interarrival_p50_ns"] == pytest.approx(100 * MS, rel=2**-8)
    assert row["latency_samples"] == 0 and row["latency_p50_ns"] is None


def test_events_of_one_message_count_once() -> None:
    events: list[Event] = [
        trade("bybit", T0, seq=0, exch_ns=T0 - 5 * MS),
        trade("bybit", T0, seq=0, exch_ns=T0 - 6 * MS),  # same (conn_id, seq): same message
        trade("bybit", T0 + MS, seq=1, exch_ns=T0 - MS),
    ]
    row = stream_row(monitor(events), "bybit", "trades")
    assert (row["messages"], row["events"], row["latency_samples"]) == (2, 3, 2)
    assert (row["latency_min_ns"], row["latency_max_ns"]) == (2 * MS, 5 * MS)


def test_latency_and_rtt_statistics() -> None:
    # latencies 1..100 ms (exchange clock), round trips 2 x that (REST request times)
    events: list[Event] = [
        quote("kucoin", T0 + k * S, 1.0, 2.0, seq=k, exch_ns=T0 + k * S - k * MS,
              req_ns=T0 + k * S - 2 * k * MS)
        for k in range(1, 101)
    ]  # fmt: skip
    row = stream_row(monitor(events, stale_after_s=10.0), "kucoin")
    assert row["latency_samples"] == 100
    for column, exact in [("p50", 50), ("p90", 90), ("p99", 99), ("p999", 100), ("max", 100)]:
        assert row[f"latency_{column}_ns"] == pytest.approx(exact * MS, rel=2**-8)
        assert row[f"rtt_{column}_ns"] == pytest.approx(2 * exact * MS, rel=2**-8)
    assert row["latency_min_ns"] == MS
    assert row["latency_mean_ns"] == 50.5 * MS


def test_negative_latency_from_clock_skew_is_kept() -> None:
    events: list[Event] = [
        quote("mexc", T0 + k, 1.0, 2.0, seq=k, exch_ns=T0 + k + 3 * MS) for k in range(5)
    ]
    row = stream_row(monitor(events), "mexc")
    assert row["latency_p50_ns"] == pytest.approx(-3 * MS, rel=2**-8)
    assert row["latency_max_ns"] == -3 * MS


# latencies in ms with spike_window=4 -> index of the samples that raise a spike alert
SPIKE_CASES = [
    ([10, 10, 10, 10, 31], [4]),  # 31 > 3 x 10
    ([10, 10, 10, 10, 30], []),  # exactly 3 x the mean is not above it
    ([10, 1000, 10, 10], []),  # window not full yet
    ([10, 10, 10, 10, 31, 31], [4]),  # window now 10,10,10,31: mean 15.25 -> 45.75
    ([10, 10, 10, 10, 31, 46], [4, 5]),
    ([0, 0, 0, 0, 5], []),  # mean 0: rule not applied
    ([-5, -5, -5, -5, 100], []),  # mean negative (clock skew): rule not applied
]


@pytest.mark.parametrize(("latencies_ms", "spike_at"), SPIKE_CASES)
def test_spike_rule(latencies_ms: list[int], spike_at: list[int]) -> None:
    events: list[Event] = [
        quote("bybit", T0 + k * MS, 1.0, 2.0, seq=k, exch_ns=T0 + k * MS - lat * MS)
        for k, lat in enumerate(latencies_ms)
    ]
    strategy = LatencyStrategy(spike_window=4)
    raised = [k for k, e in enumerate(events) if strategy.on_event(e)]
    assert raised == spike_at
    spikes = alerts(strategy, "spike")
    assert [a["recv_ns"] for a in spikes] == [T0 + k * MS for k in spike_at]
    assert [a["value_ns"] for a in spikes] == [latencies_ms[k] * MS for k in spike_at]
    assert stream_row(strategy, "bybit")["spikes"] == len(spike_at)


def test_spike_rule_default_window_is_the_last_100() -> None:
    lat = [10] * 100 + [31] + [10] * 99 + [30]
    events: list[Event] = [
        quote("bybit", T0 + k * MS, 1.0, 2.0, seq=k, exch_ns=T0 + k * MS - v * MS)
        for k, v in enumerate(lat)
    ]
    (spike,) = alerts(monitor(events), "spike")
    # the 100-sample mean before sample 100 is 10 ms -> threshold 30 ms
    assert (spike["recv_ns"], spike["threshold_ns"]) == (T0 + 100 * MS, 30 * MS)


@pytest.mark.parametrize(("gap_ns", "alerted"), [(5 * S, False), (5 * S + 1, True), (60 * S, True)])
def test_stale_alert_when_a_stream_is_silent_beyond_the_threshold(
    gap_ns: int, alerted: bool
) -> None:
    events: list[Event] = [
        quote("kucoin", T0, 1.0, 2.0),
        quote("kucoin", T0 + gap_ns, 1.0, 2.0, seq=1),
    ]
    stale = alerts(monitor(events), "stale")
    assert [(a["value_ns"], a["threshold_ns"]) for a in stale] == (
        [(gap_ns, 5 * S)] if alerted else []
    )


def test_stale_threshold_per_exchange_and_trades_only_when_asked() -> None:
    events: list[Event] = [
        quote("kucoin", T0, 1.0, 2.0),
        trade("kucoin", T0),
        quote("kucoin", T0 + 4 * S, 1.0, 2.0, seq=1),
        trade("kucoin", T0 + 4 * S, seq=1),
    ]
    assert (
        alerts(monitor(events, stale_after_s_by_exchange={"kucoin": 3.0}), "stale")[0]["stream"]
        == "quotes BTC-USDT"
    )
    both = monitor(events, stale_after_s=3.0, trades_stale_after_s=3.0)
    assert [a["stream"] for a in alerts(both, "stale")] == ["quotes BTC-USDT", "trades BTC-USDT"]


def test_stale_until_the_end_of_the_data() -> None:
    strategy = monitor([quote("bybit", T0, 1.0, 2.0)], end_ns=T0 + 10 * S)
    (stale,) = alerts(strategy, "stale")
    assert (stale["recv_ns"], stale["value_ns"]) == (T0 + 10 * S, 10 * S)


def test_reconnects_downtime_gaps_and_decode_errors() -> None:
    events: list[Event] = [
        Connected("binance", T0, 1, 0, "ws", "wss://x"),
        Gap("binance", T0 + S, 1, 7, "ws", "seq 5 -> 7"),
        DecodeError("binance", T0 + S, 1, 8, "ws", "bad json"),
        Disconnected("binance", T0 + 10 * S, 1, 9, "ws", "server closed"),
        Connected("binance", T0 + 12 * S, 2, 0, "ws", "wss://x"),
        Connected("binance", T0 + 12 * S, 3, 0, "rest", "https://x"),  # another stream
        Disconnected("binance", T0 + 20 * S, 2, 4, "ws", "eof"),  # down until the end
    ]
    strategy = monitor(events, end_ns=T0 + 25 * S)
    (row,) = strategy.results()["exchanges"].to_pylist()
    assert (row["connects"], row["reconnects"], row["disconnects"]) == (3, 1, 2)
    assert row["downtime_ns"] == 2 * S + 5 * S
    assert (row["gaps"], row["decode_errors"]) == (1, 1)
    kinds = [(a["kind"], a["value_ns"]) for a in alerts(strategy)]
    assert kinds == [
        ("gap", None),
        ("disconnect", None),
        ("reconnect", 2 * S),
        ("disconnect", None),
    ]


def exchange_stream(exchange: str, latencies_ms: list[float]) -> list[Event]:
    return [
        quote(exchange, T0 + k * MS, 1.0, 2.0, seq=k, exch_ns=T0 + k * MS - round(v * MS))
        for k, v in enumerate(latencies_ms)
    ]


def test_ranking_by_p50_then_p99_then_name() -> None:
    events = (
        exchange_stream("kucoin", [10.0] * 100)
        + exchange_stream("bybit", [5.0] * 98 + [50.0, 50.0])  # p50 5, p99 50
        + exchange_stream("mexc", [5.0] * 98 + [20.0, 20.0])  # p50 5, p99 20: beats bybit
        + exchange_stream("okx", [5.0] * 98 + [20.0, 20.0])  # ties mexc: by name
        + [quote("binance", T0, 1.0, 2.0)]  # no exchange timestamps: last
    )
    events.sort(key=lambda e: (e.recv_ns, e.exchange))
    strategy = monitor(events)
    assert strategy.ranking() == ["mexc", "okx", "bybit", "kucoin", "binance"]
    table = strategy.results()["exchanges"]
    assert table.column("rank").to_pylist() == [1, 2, 3, 4, 5]
    text = strategy.summary()
    assert text.index("mexc") < text.index("okx") < text.index("bybit") < text.index("binance")
    assert "     5 binance        n/a" in text


def test_alert_rows_are_capped_but_counts_stay_exact() -> None:
    events: list[Event] = [quote("bybit", T0 + k * 10 * S, 1.0, 2.0, seq=k) for k in range(5)]
    strategy = monitor(events, max_alerts=2)
    assert len(alerts(strategy)) == 2
    assert stream_row(strategy, "bybit")["stale_alerts"] == 4
    assert "2 alerts not stored" in strategy.summary()


def test_tables_do_not_depend_on_the_order_streams_appear() -> None:
    a = [quote("bybit", T0, 1.0, 2.0), quote("binance", T0 + 1, 1.0, 2.0, symbol="ETH-USDT")]
    b = [quote("binance", T0, 1.0, 2.0, symbol="ETH-USDT"), quote("bybit", T0 + 1, 1.0, 2.0)]
    rows_a = monitor(a).results()["latency"].select(["exchange", "channel", "symbol"])
    rows_b = monitor(b).results()["latency"].select(["exchange", "channel", "symbol"])
    assert rows_a.equals(rows_b)
    assert rows_a.column("exchange").to_pylist() == ["binance", "bybit"]


@pytest.mark.parametrize(
    "config",
    [
        {"stale_after_s": 0},
        {"stale_after_s_by_exchange": {"bybit": -1.0}},
        {"spike_factor": 0.5},
        {"spike_window": 0},
        {"max_alerts": 1.5},
    ],
)
def test_bad_config_is_a_clear_error(config: dict[str, object]) -> None:
    with pytest.raises(StrategyConfigError):
        LatencyStrategy(**config)  # type: ignore[arg-type]
