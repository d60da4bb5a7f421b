"""The live status view of ``record``: per exchange rates, totals, reconnects, bytes, states.

On a terminal: a ``rich`` Live table refreshed about once a second. Not a terminal (a log file,
systemd): one plain line every ``plain_interval_s`` seconds. ``--quiet``: nothing.

Reading the counters never touches the hot path: message counts come from the connections'
``seq`` counters and bytes from the writers, sampled here once per refresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

from rich.console import Console
from rich.live import Live
from rich.table import Table


class ConnectionView(Protocol):
    """What the status view reads from a connection task (WsConnection, RestPoller)."""

    state: Any
    reconnects: int

    def messages(self) -> int: ...
    def last_data_ns(self) -> int: ...


@dataclass(frozen=True, slots=True)
class ExchangeStatus:
    name: str
    method: str
    messages: int
    msgs_per_s: float
    reconnects: int
    bytes_written: int
    last_age_s: float | None
    states: str


class StatusSampler:
    """Turns the recorder's counters into :class:`ExchangeStatus` rows (rates between samples)."""

    def __init__(self, recorder: Any) -> None:
        self.recorder = recorder
        self._last: dict[str, tuple[float, int]] = {}
        self._start = time.monotonic()

    def sample(self, final: bool = False) -> list[ExchangeStatus]:
        """Rates since the previous sample; with ``final``, the average over the whole run
        (the last interval before a stop is a fraction of a second: its rate is noise)."""
        now_mono = time.monotonic()
        now_ns = self.recorder.clock.now_ns()
        rows = []
        for name, run in self.recorder.exchanges.items():
            conns = list(run.connections)
            messages = sum(c.messages() for c in conns)
            prev_t, prev_n = (
                (self._start, 0) if final else self._last.get(name, (now_mono, messages))
            )
            dt = now_mono - prev_t
            rate = (messages - prev_n) / dt if dt > 0 else 0.0
            self._last[name] = (now_mono, messages)
            last = max((c.last_data_ns() for c in conns), default=0)
            states = Counter(str(c.state) for c in conns)
            rows.append(
                ExchangeStatus(
                    name=name,
                    method=run.method,
                    messages=messages,
                    msgs_per_s=rate,
                    reconnects=sum(c.reconnects for c in conns),
                    bytes_written=int(getattr(run.writer, "bytes_written", 0)),
                    last_age_s=(now_ns - last) / 1e9 if last else None,
                    states=" ".join(
                        f"{s}" if n == 1 else f"{s}×{n}" for s, n in sorted(states.items())
                    ),
                )
            )
        return rows


def human_bytes(n: int) -> str:
    value = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def render_table(rows: list[ExchangeStatus], title: str = "ticktape record") -> Table:
    table = Table(title=title, title_justify="left")
    for column, justify in (
        ("exchange", "left"),
        ("msgs/s", "right"),
        ("messages", "right"),
        ("reconnects", "right"),
        ("written", "right"),
        ("last msg", "right"),
        ("connections", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for r in rows:
        age = "-" if r.last_age_s is None else f"{r.last_age_s:.1f}s ago"
        table.add_row(
            f"{r.name} ({r.method})",
            f"{r.msgs_per_s:,.0f}",
            f"{r.messages:,}",
            str(r.reconnects),
            human_bytes(r.bytes_written),
            age,
            r.states,
        )
    return table


def plain_line(rows: list[ExchangeStatus]) -> str:
    parts = []
    for r in rows:
        age = "-" if r.last_age_s is None else f"{r.last_age_s:.1f}s"
        parts.append(
            f"{r.name}: {r.msgs_per_s:.0f}/s total={r.messages} reconnects={r.reconnects} "
            f"written={human_bytes(r.bytes_written)} last={age} [{r.states}]"
        )
    return "record | " + " | ".join(parts)


async def show_status(
    recorder: Any,
    stop: asyncio.Event,
    *,
    stream: TextIO | None = None,
    refresh_s: float = 1.0,
    plain_interval_s: float = 10.0,
) -> None:
    """Show the status until ``stop`` is set (Live table on a TTY, plain lines otherwise)."""
    out = stream or sys.stdout
    sampler = StatusSampler(recorder)
    if not out.isatty():
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), plain_interval_s)
            if not stop.is_set() and recorder.exchanges:
                print(plain_line(sampler.sample()), file=out, flush=True)
        return
    console = Console(file=out)
    with Live(render_table([]), console=console, auto_refresh=False, transient=False) as live:
        while not stop.is_set():
            live.update(render_table(sampler.sample()), refresh=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), refresh_s)
        live.update(render_table(sampler.sample(final=True)), refresh=True)
