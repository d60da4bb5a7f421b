"""The recording supervisor: one task per connection for every exchange, plus flush and clock.

:class:`Recorder` wires the pieces together for one run:

- per exchange an :class:`~ticktape.recorder.rows.ExchangeRows` (one row store per connection,
  appended to on the event loop) and a ``RotatingWriter`` (owned by the
  :class:`~ticktape.recorder.disk_thread.DiskThread`, which also builds the Arrow batches);
- per exchange: WebSocket connections (streams split by ``MAX_STREAMS_PER_CONNECTION``) or one
  REST poller, all sharing one keep-alive ``aiohttp`` session;
- a flush loop that takes every connection's rows at least every ``flush_interval_s`` and hands
  them to the disk thread (so ``kill -9`` loses at most one flush interval), plus a time tick
  for rotation;
- a clock-probe loop writing ``clock`` rows (stream ``"clock"``, one ``conn_id`` per exchange);
- with ``simulate``, the simulator on 127.0.0.1 in the same event loop, every URL pointed at it.

Order of a run: :meth:`Recorder.recover` first (finish segments a crash left), then record until
``stop`` is set (or ``duration_s`` passes); then every connection closes with a ``close`` row,
the last rows are flushed and every segment is converted to Parquet.

Live mode hook (for ``record --strategy``, built later): ``on_row(exchange, recv_ns, stream,
conn_id, seq, kind, req_ns, binary, payload)`` is called on the event loop for every row as it
is appended (filter ``kind == "data"`` for market data). Without a hook the per-frame path is
unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import json
import logging
import random
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Final

import aiohttp

from ticktape import schema
from ticktape.exchanges.base import ExchangeModule
from ticktape.recorder.backoff import Backoff
from ticktape.recorder.clock import PROBE_INTERVAL_S, Clock
from ticktape.recorder.config import RecordConfig, with_urls
from ticktape.recorder.disk_thread import DiskThread
from ticktape.recorder.rest_poller import RestPoller
from ticktape.recorder.rows import STREAM_CLOCK, ConnBuffer, ConnIds, ExchangeRows, RowHook
from ticktape.recorder.ws_connection import WsConnection

DISK_CLOSE_TIMEOUT_S: Final = 120.0

log = logging.getLogger(__name__)


class RecorderError(RuntimeError):
    """The recording could not continue (e.g. the disk writer failed); message is one line."""


@dataclass(slots=True)
class Tuning:
    """Knobs tests (and benchmarks) turn; defaults come from each exchange module."""

    stale_after_s: float | None = None
    heartbeat_interval_s: float | None = None
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    backoff_stable_s: float = 60.0
    seed: int | None = None  # reconnect jitter; None = random
    probe_interval_s: float = PROBE_INTERVAL_S


@dataclass(slots=True)
class ExchangeRun:
    """One exchange during a run: its rows, writer and connection tasks (for the status view)."""

    name: str
    method: str
    rows: ExchangeRows
    writer: Any
    connections: list[Any] = field(default_factory=list)


def recorder_version() -> str:
    try:
        return importlib.metadata.version("ticktape")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def file_metadata(cfg: RecordConfig, exchange: str) -> dict[bytes, bytes]:
    """Key-value metadata stored in every file of ``exchange`` (schema.META_* keys)."""
    ex_cfg = next(ex for ex in cfg.exchanges if ex.name == exchange)
    return {
        schema.META_SCHEMA_VERSION: str(schema.SCHEMA_VERSION).encode(),
        schema.META_RECORDER_VERSION: recorder_version().encode(),
        schema.META_HOST: socket.gethostname().encode(),
        schema.META_CONFIG: json.dumps(cfg.to_dict(), sort_keys=True).encode(),
        schema.META_SYMBOLS: json.dumps(list(ex_cfg.symbols)).encode(),
        schema.META_EXCHANGE: exchange.encode(),
    }


class Recorder:
    """Records ``cfg`` until stopped. Use :meth:`run`; read :attr:`exchanges` for status."""

    def __init__(
        self,
        cfg: RecordConfig,
        *,
        lookup: Callable[[str], ExchangeModule] | None = None,
        clock: Clock | None = None,
        on_row: RowHook | None = None,
        tuning: Tuning | None = None,
        sim_config: Any = None,
    ) -> None:
        self.cfg = cfg
        self.clock = clock or Clock()
        self.on_row = on_row
        self.tuning = tuning or Tuning()
        self.sim_config = sim_config
        self.simulator: Any = None
        self._lookup = lookup
        self.conn_ids = ConnIds(self.clock.now_ns() // 1_000_000)
        self.exchanges: dict[str, ExchangeRun] = {}
        self.disk: DiskThread | None = None
        self.recovered: list[str] = []  # Parquet files recovered from a previous crash
        self.recovery_failures: dict[str, str] = {}  # segment -> why it could not be recovered
        self._recovery_done = False
        self.started_ns = 0
        self._rng = random.Random(self.tuning.seed)
        self._clock_rows: dict[str, ConnBuffer] = {}

    def module(self, name: str) -> ExchangeModule:
        if self._lookup is not None:
            return self._lookup(name)
        from ticktape.exchanges import registry

        module: ExchangeModule = registry.get(name)
        return module

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Record until ``stop`` is set or ``cfg.duration_s`` has passed; raise RecorderError on
        a failure that makes recording pointless (the data so far is still flushed)."""
        stop = stop or asyncio.Event()
        if not self._recovery_done:
            await self.recover()
        async with self._simulated() as cfg:
            await self._record(cfg, stop)

    async def recover(self) -> list[str]:
        """Finish the segments a crash left under ``out`` (once; :meth:`run` calls it first).

        Returns the Parquet files written; segments that cannot be converted stay in place and
        are listed in :attr:`recovery_failures` (recording goes on regardless).
        """
        from ticktape.recorder.recovery import RecoveryError, recover

        self._recovery_done = True
        try:
            self.recovered = await asyncio.to_thread(recover, self.cfg.out)
        except RecoveryError as exc:  # the others were recovered
            self.recovered = exc.report.published
            self.recovery_failures = dict(exc.failures)
            log.warning("%d segment(s) under %s could not be recovered and were left in place",
                        len(exc.failures), self.cfg.out)  # fmt: skip
        return self.recovered

    @contextlib.asynccontextmanager
    async def _simulated(self) -> AsyncIterator[RecordConfig]:
        if not self.cfg.simulate:
            yield self.cfg
            return
        from ticktape.simulator import SimConfig, Simulator

        names = tuple(ex.name for ex in self.cfg.exchanges)
        sim_cfg = self.sim_config or SimConfig(symbols=self.cfg.symbols, exchanges=names)
        missing = [n for n in names if n not in sim_cfg.exchanges]
        if missing:
            raise RecorderError(
                f"the simulator does not serve {', '.join(missing)}: record only"
                f" {', '.join(sim_cfg.exchanges)} (--exchanges) or simulate all of them"
            )
        async with Simulator(sim_cfg) as sim:
            self.simulator = sim
            urls = {n: (sim.endpoints[n].ws_url, sim.endpoints[n].rest_url) for n in names}
            yield with_urls(self.cfg, urls)

    async def _record(self, cfg: RecordConfig, stop: asyncio.Event) -> None:
        from ticktape.recorder.writer import RotatingWriter

        for ex in cfg.exchanges:
            writer = RotatingWriter(
                cfg.out,
                ex.name,
                rotate_interval_s=cfg.rotate_interval_s,
                rotate_bytes=cfg.rotate_bytes,
                metadata=file_metadata(cfg, ex.name),
            )
            rows = ExchangeRows(ex.name, self.clock, self.on_row)
            self.exchanges[ex.name] = ExchangeRun(ex.name, ex.method, rows, writer)
        self.disk = DiskThread({name: run.writer for name, run in self.exchanges.items()})
        self._clock_rows = {
            name: run.rows.open(self.conn_ids.next(), STREAM_CLOCK)
            for name, run in self.exchanges.items()
        }
        self.started_ns = self.clock.now_ns()
        connector = aiohttp.TCPConnector(limit_per_host=4, keepalive_timeout=60)
        failure: BaseException | None = None
        async with aiohttp.ClientSession(connector=connector) as http:
            tasks = [asyncio.create_task(c.run(), name=f"{run.name}:{i}")
                     for run in self._plan(cfg, stop, http)
                     for i, c in enumerate(run.connections)]  # fmt: skip
            flusher = asyncio.create_task(self._flush_loop(stop), name="flush")
            prober = asyncio.create_task(self._probe_loop(stop), name="clock")
            try:
                await self._wait_for_stop(cfg, stop, tasks)
            finally:
                stop.set()
                results = await asyncio.gather(*tasks, return_exceptions=True)
                failure = next((r for r in results if isinstance(r, BaseException)), None)
                for task in (flusher, prober):
                    task.cancel()
                await asyncio.gather(flusher, prober, return_exceptions=True)
                self._probe()
                self._flush()
                await asyncio.to_thread(self.disk.close, DISK_CLOSE_TIMEOUT_S)
        if self.disk.error is not None:
            raise RecorderError(f"writing to {cfg.out} failed: {self.disk.error}")
        if failure is not None and not isinstance(failure, asyncio.CancelledError):
            raise RecorderError(f"a connection task failed: {failure!r}") from failure

    def _plan(
        self, cfg: RecordConfig, stop: asyncio.Event, http: aiohttp.ClientSession
    ) -> list[ExchangeRun]:
        """Create the connection objects of every exchange (not started yet)."""
        t = self.tuning
        for ex in cfg.exchanges:
            run = self.exchanges[ex.name]
            module = self.module(ex.name)
            if ex.method == "rest":
                run.connections.append(
                    RestPoller(
                        exchange=ex.name, module=module, rest_url=ex.rest_url,
                        symbols=ex.symbols, poll_interval_s=ex.poll_interval_s, rows=run.rows,
                        clock=self.clock, conn_ids=self.conn_ids, stop=stop, http=http,
                        backoff=Backoff(base_s=1.0, cap_s=max(60.0, t.backoff_cap_s),
                                        rng=random.Random(self._rng.random())),
                    )
                )  # fmt: skip
                continue
            streams = module.streams(list(ex.symbols), cfg.trades)
            size = max(1, module.MAX_STREAMS_PER_CONNECTION)
            for start in range(0, len(streams), size):
                run.connections.append(
                    WsConnection(
                        exchange=ex.name, module=module, ws_url=ex.ws_url, rest_url=ex.rest_url,
                        streams=streams[start : start + size], rows=run.rows, clock=self.clock,
                        conn_ids=self.conn_ids, stop=stop, http=http,
                        backoff=Backoff(base_s=t.backoff_base_s, cap_s=t.backoff_cap_s,
                                        stable_after_s=t.backoff_stable_s,
                                        rng=random.Random(self._rng.random())),
                        stale_after_s=t.stale_after_s,
                        heartbeat_interval_s=t.heartbeat_interval_s,
                    )
                )  # fmt: skip
        return list(self.exchanges.values())

    async def _wait_for_stop(
        self, cfg: RecordConfig, stop: asyncio.Event, tasks: list[asyncio.Task[None]]
    ) -> None:
        """Until ``stop``, the duration, a failed task, or a disk error."""
        deadline = None if cfg.duration_s is None else time.monotonic() + cfg.duration_s
        stop_wait = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                timeout = 0.5 if deadline is None else min(0.5, deadline - time.monotonic())
                if timeout <= 0:
                    return
                done, _ = await asyncio.wait(
                    {stop_wait, *tasks}, timeout=timeout, return_when="FIRST_COMPLETED"
                )
                if any(t.done() and t is not stop_wait for t in done):
                    return  # a connection task ended on its own: an error, surfaced by run()
                if self.disk is not None and self.disk.error is not None:
                    return
        finally:
            stop_wait.cancel()

    def _flush(self) -> None:
        """Hand every buffered row to the disk thread, then a rotation tick."""
        assert self.disk is not None
        for name, run in self.exchanges.items():
            self.disk.submit(name, run.rows.take())
        self.disk.tick(self.clock.now_ns())

    async def _flush_loop(self, stop: asyncio.Event) -> None:
        interval = self.cfg.flush_interval_s
        while not stop.is_set():
            await asyncio.sleep(interval)
            self._flush()

    def _probe(self) -> None:
        """One ``clock`` row per exchange (see :meth:`Clock.probe`)."""
        for conn_rows in self._clock_rows.values():
            recv_ns, payload = self.clock.probe()
            conn_rows.add(schema.KIND_CLOCK, payload, recv_ns=recv_ns)

    async def _probe_loop(self, stop: asyncio.Event) -> None:
        """Clock probes at the start and every ``probe_interval_s`` (and one at the end, from
        :meth:`_record`), so the drift of the recording's time base is known over the run."""
        while not stop.is_set():
            self._probe()
            await asyncio.sleep(self.tuning.probe_interval_s)
