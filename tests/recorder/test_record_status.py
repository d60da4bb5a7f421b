"""The status view: per exchange rates, totals, reconnects, bytes, last message age, states."""

from __future__ import annotations

import asyncio
import io
from types import SimpleNamespace
from typing import Any

import pytest
from rich.console import Console

from ticktape.recorder.clock import ManualClock
from ticktape.recorder.status import StatusSampler, plain_line, render_table, show_status


class FakeConnection:
    def __init__(self, state: str, messages: int, last_ns: int, reconnects: int = 0) -> None:
        self.state = state
        self.reconnects = reconnects
        self._messages = messages
        self._last_ns = last_ns

    def messages(self) -> int:
        return self._messages

    def last_data_ns(self) -> int:
        return self._last_ns


def fake_recorder() -> Any:
    clock = ManualClock(start_ns=10_000_000_000)
    binance = SimpleNamespace(
        method="ws",
        writer=SimpleNamespace(bytes_written=2_500_000),
        connections=[
            FakeConnection("live", 100, 9_500_000_000, reconnects=2),
            FakeConnection("backoff", 50, 9_000_000_000),
        ],
    )
    kucoin = SimpleNamespace(method="rest", writer=SimpleNamespace(bytes_written=0), connections=[])
    return SimpleNamespace(clock=clock, exchanges={"binance": binance, "kucoin": kucoin})


def test_sampler_computes_rates_between_samples(monkeypatch: Any) -> None:
    recorder = fake_recorder()
    now = [100.0]
    monkeypatch.setattr("ticktape.recorder.status.time.monotonic", lambda: now[0])
    sampler = StatusSampler(recorder)
    first = sampler.sample()[0]
    assert (first.name, first.messages, first.msgs_per_s, first.reconnects) == (
        "binance",
        150,
        0,
        2,
    )
    assert first.bytes_written == 2_500_000 and first.last_age_s == 0.5
    assert first.states == "backoff live"
    recorder.exchanges["binance"].connections[0]._messages = 400
    now[0] = 102.0
    second = sampler.sample()[0]
    assert second.messages == 450 and second.msgs_per_s == 150.0
    kucoin = sampler.sample()[1]
    assert kucoin.last_age_s is None and kucoin.messages == 0 and kucoin.states == ""
    now[0] = 102.1  # a stop right after a sample: the final frame shows the run's average
    final = sampler.sample(final=True)[0]
    assert final.msgs_per_s == pytest.approx(450 / 2.1)


def test_table_and_plain_line_show_every_column() -> None:
    rows = StatusSampler(fake_recorder()).sample()
    console = Console(file=io.StringIO(), width=140, record=True)
    console.print(render_table(rows))
    text = console.export_text()
    for expected in ("binance (ws)", "kucoin (rest)", "150", "2.5 MB", "0.5s ago", "backoff live"):
        assert expected in text, expected
    line = plain_line(rows)
    assert line.startswith("record | binance: 0/s total=150 reconnects=2 written=2.5 MB last=0.5s")
    assert "\n" not in line


def test_not_a_tty_prints_a_plain_line_every_interval() -> None:
    out = io.StringIO()
    recorder = fake_recorder()

    async def run() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(show_status(recorder, stop, stream=out, plain_interval_s=0.1))
        await asyncio.sleep(0.35)
        stop.set()
        await task

    asyncio.run(run())
    lines = out.getvalue().splitlines()
    assert 2 <= len(lines) <= 4
    assert all(line.startswith("record | binance:") for line in lines)


def test_a_tty_gets_the_live_table() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Tty()

    async def run() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(show_status(fake_recorder(), stop, stream=out, refresh_s=0.05))
        await asyncio.sleep(0.2)
        stop.set()
        await task

    asyncio.run(run())
    text = out.getvalue()
    assert "\x1b[" in text  # terminal control codes: a live display, not plain lines
    assert "binance" in text and "kucoin" in text and "exchange" in text
