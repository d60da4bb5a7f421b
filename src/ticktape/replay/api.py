"""The Python API: ``replay.open(paths...) -> Tape``; ``Tape.run(strategies) -> ReplayResult``.

Example::

    from ticktape import replay

    tape = replay.open("data/2025-07-22")
    for row in tape.rows():            # raw rows in the total order
        ...
    result = tape.run(["arb", "latency"], config={"arb": {"min_edge_bps": 2.0}})
    result.results["arb"]["episodes"]  # pyarrow.Table
    print(result.digest)

Replaying one day is a pure function of (files, config) -> :class:`ReplayResult`
(:func:`replay_files`), which is what lets :func:`run_days` replay days in worker processes and
fold their results in day order: the same bytes whatever the number of workers.
"""

from __future__ import annotations

import concurrent.futures
import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import pyarrow as pa

from ticktape.exchanges.events import Event
from ticktape.replay import digest as digests
from ticktape.replay.counts import ReplayCounts
from ticktape.replay.driver import (
    DecoderFactory,
    Driver,
    Progress,
    Strategy,
)
from ticktape.replay.errors import BadOptionError, UnknownStrategyNameError
from ticktape.replay.merge import DEFAULT_WINDOW_ROWS, NO_REQ, Routes, merged_windows
from ticktape.replay.pacing import Clock, Pacer, Sleeper, parse_speed
from ticktape.replay.reader import RecordingFile, find_recordings

StrategySpec = str | tuple[str, Strategy]


class Row(NamedTuple):
    """One recording row (schema v1) as Python values."""

    recv_ns: int
    exchange: str
    stream: str
    conn_id: int
    seq: int
    kind: str
    req_ns: int | None
    binary: bool
    payload: bytes


@dataclass
class ReplayResult:
    """Everything a replay produced. ``results``: strategy -> table name -> table."""

    results: dict[str, dict[str, pa.Table]]
    summaries: dict[str, str]
    counts: ReplayCounts
    events_digest: str
    results_digest: str
    days: list[str] = field(default_factory=list)

    @property
    def digest(self) -> str:
        """One digest over the event stream and the results."""
        return digests.combine([("events", self.events_digest), ("results", self.results_digest)])


class Tape:
    """Recordings selected by :func:`open`, replayable any number of times (each run is fresh)."""

    def __init__(self, files: Sequence[RecordingFile], window_rows: int = DEFAULT_WINDOW_ROWS):
        self.files = list(files)
        self.window_rows = window_rows

    @property
    def num_rows(self) -> int:
        return sum(f.num_rows for f in self.files)

    @property
    def days(self) -> list[str]:
        return sorted({f.day for f in self.files})

    def windows(self) -> Iterator[pa.Table]:
        """The rows as schema-v1 Arrow tables, in the total order (window sizes vary)."""
        routes = Routes()
        for window in merged_windows(self.files, routes, self.window_rows):
            yield window.to_table(routes)

    def rows(self) -> Iterator[Row]:
        """Every row, in the total order ``(recv_ns, exchange, conn_id, seq)``."""
        routes = Routes()
        for window in merged_windows(self.files, routes, self.window_rows):
            for recv, conn, seq, route, req, binary, payload in zip(
                window.recv.tolist(), window.conn.tolist(), window.seq.tolist(),
                window.route.tolist(), window.req.tolist(), window.binary.tolist(),
                window.payloads(), strict=True,
            ):  # fmt: skip
                yield Row(
                    recv, routes.exchanges[route], routes.streams[route], conn, seq,
                    routes.kinds[route], None if req == NO_REQ else req, binary, payload,
                )  # fmt: skip

    def events(self, decoder_factory: DecoderFactory | None = None) -> Iterator[Event]:
        """Decoded events (with Connected/Disconnected/Gap/DecodeError), in replay order."""
        routes = Routes()
        driver = Driver(routes, decoder_factory=decoder_factory)
        for window in merged_windows(self.files, routes, self.window_rows):
            yield from driver.feed(window)

    def run(
        self,
        strategies: Sequence[StrategySpec] = (),
        *,
        config: Mapping[str, Mapping[str, Any]] | None = None,
        speed: str | float | None = None,
        clock: Clock | None = None,
        sleeper: Sleeper | None = None,
        progress: Progress | None = None,
        decoder_factory: DecoderFactory | None = None,
        digest: bool = True,
    ) -> ReplayResult:
        """Replay through ``strategies`` (names for the registry, or ``(name, object)`` pairs).

        ``config`` maps a strategy name to its keyword options. ``speed``: ``"max"``/None (as
        fast as possible) or a factor of real time; ``clock``/``sleeper`` replace
        ``time.monotonic``/``time.sleep`` (tests). ``progress(rows_done, rows_total)`` is called
        after every window. ``digest=False`` leaves ``events_digest`` empty (saves the hashing).
        """
        named = build_strategies(strategies, config or {})
        factor = parse_speed(speed)
        pacer = None
        if factor is not None:
            kwargs: dict[str, Any] = {}
            if clock is not None:
                kwargs["clock"] = clock
            if sleeper is not None:
                kwargs["sleeper"] = sleeper
            pacer = Pacer(factor, **kwargs)
        routes = Routes()
        driver = Driver(
            routes,
            named,
            decoder_factory=decoder_factory,
            pacer=pacer,
            progress=progress,
            total_rows=self.num_rows,
            digest=digest,
        )
        for window in merged_windows(self.files, routes, self.window_rows):
            driver.feed(window)
        counts = driver.finish()
        results = {name: dict(strategy.results()) for name, strategy in named.items()}
        return ReplayResult(
            results=results,
            summaries={name: strategy.summary() for name, strategy in named.items()},
            counts=counts,
            events_digest="" if driver.digest is None else driver.digest.hexdigest(),
            results_digest=digests.results_digest(results),
            days=self.days,
        )


def open(
    *paths: str | Path,
    from_day: str | None = None,
    to_day: str | None = None,
    window_rows: int = DEFAULT_WINDOW_ROWS,
) -> Tape:
    """Select recordings: day folders, a root of day folders, globs or files (see the reader)."""
    return Tape(find_recordings(list(paths), from_day, to_day), window_rows)


def build_strategies(
    strategies: Sequence[StrategySpec], config: Mapping[str, Mapping[str, Any]]
) -> dict[str, Strategy]:
    """Create strategies by name through the registry (options from ``config[name]``)."""
    from ticktape.strategies import registry
    from ticktape.strategies.base import StrategyConfigError, UnknownStrategyError

    named: dict[str, Strategy] = {}
    for spec in strategies:
        if isinstance(spec, tuple):
            name, strategy = spec
        else:
            name = spec
            try:
                strategy = registry.create(name, **dict(config.get(name, {})))
            except UnknownStrategyError as exc:
                raise UnknownStrategyNameError(str(exc)) from None
            except StrategyConfigError as exc:
                raise BadOptionError(str(exc)) from None
            except ImportError as exc:  # registered, but its module is missing or broken
                raise UnknownStrategyNameError(
                    f"strategy {name!r} is not available in this installation ({exc})"
                ) from None
        if name in named:
            raise BadOptionError(f"strategy {name!r} given twice")
        named[name] = strategy
    return named


# --- pure per-day replays and parallel runs ------------------------------------------------------


def replay_files(
    files: Sequence[RecordingFile],
    strategies: Sequence[str],
    config: Mapping[str, Mapping[str, Any]] | None = None,
    digest: bool = True,
) -> ReplayResult:
    """A pure function (files, config) -> results + digests: what one worker does for one day."""
    return Tape(files).run(strategies, config=config, digest=digest)


def group_by_day(files: Sequence[RecordingFile]) -> dict[str, list[RecordingFile]]:
    """Files per UTC day, days in order."""
    ordered = sorted(files, key=lambda f: (f.day, f.path))
    return {day: list(group) for day, group in itertools.groupby(ordered, key=lambda f: f.day)}


def run_days(
    files: Sequence[RecordingFile],
    strategies: Sequence[str],
    config: Mapping[str, Mapping[str, Any]] | None = None,
    jobs: int = 1,
    progress: Progress | None = None,
    digest: bool = True,
) -> ReplayResult:
    """Replay each day on its own (``jobs`` worker processes) and fold the results in day order.

    Each day starts with fresh strategies and decoders. Result tables are concatenated in day
    order with a leading ``day`` column; digests are combined over days in order, so the output
    does not depend on ``jobs``.
    """
    if jobs < 1:
        raise BadOptionError(f"bad --jobs {jobs}: expected a positive number of processes")
    build_strategies(strategies, config or {})  # fail fast on bad names/options, in this process
    days = group_by_day(files)
    total = sum(f.num_rows for f in files)
    done = 0
    per_day: dict[str, ReplayResult] = {}
    if jobs == 1 or len(days) == 1:
        for day, day_files in days.items():
            per_day[day] = replay_files(day_files, strategies, config, digest)
            done += per_day[day].counts.rows
            if progress is not None:
                progress(done, total)
    else:
        with concurrent.futures.ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {
                pool.submit(replay_files, day_files, list(strategies), config, digest): day
                for day, day_files in days.items()
            }
            for future in concurrent.futures.as_completed(futures):
                per_day[futures[future]] = future.result()
                done += per_day[futures[future]].counts.rows
                if progress is not None:
                    progress(done, total)
    return fold_days([(day, per_day[day]) for day in days])


def fold_days(per_day: Sequence[tuple[str, ReplayResult]]) -> ReplayResult:
    """Combine day results (given in day order) into one result."""
    counts = ReplayCounts()
    tables: dict[str, dict[str, list[pa.Table]]] = {}
    summaries: dict[str, list[str]] = {}
    for day, result in per_day:
        counts.add(result.counts)
        for strategy, named in result.results.items():
            for name, table in named.items():
                tables.setdefault(strategy, {}).setdefault(name, []).append(_with_day(table, day))
        for strategy, text in result.summaries.items():
            summaries.setdefault(strategy, []).append(f"[{day}]\n{text}")
    results = {
        strategy: {name: pa.concat_tables(parts) for name, parts in named.items()}
        for strategy, named in tables.items()
    }
    return ReplayResult(
        results=results,
        summaries={strategy: "\n".join(texts) for strategy, texts in summaries.items()},
        counts=counts,
        events_digest=digests.combine([(day, r.events_digest) for day, r in per_day]),
        results_digest=digests.results_digest(results),
        days=[day for day, _ in per_day],
    )


def _with_day(table: pa.Table, day: str) -> pa.Table:
    if "day" in table.schema.names:
        return table
    return table.add_column(0, "day", pa.array([day] * table.num_rows, pa.string()))
