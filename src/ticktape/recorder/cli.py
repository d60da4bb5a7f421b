"""``record``: capture raw market data until stopped (or for ``--duration``).

Exit codes: 0 after a clean stop (Ctrl-C, SIGTERM, end of ``--duration``: connections closed with
``close`` rows, last flush written, segments converted to Parquet); 2 for a configuration error
(one line on stderr, never a traceback); 1 if recording failed (e.g. the disk writer).

Signals: the first SIGINT/SIGTERM stops reading and starts the orderly shutdown; further ones
only print that the flush is still running, so a second Ctrl-C cannot lose data.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

from ticktape.recorder.config import ConfigError, RecordConfig, load_config
from ticktape.recorder.live import LiveStrategies
from ticktape.recorder.session import Recorder, RecorderError
from ticktape.recorder.status import show_status


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``record`` command; returns the exit code."""
    try:
        cfg = load_config(argv)
    except ConfigError as exc:
        print(f"record: error: {exc}", file=sys.stderr)
        return 2
    try:
        # argv None: we are the ``record`` process itself, so a late signal may be ignored
        return _run(record(cfg, ignore_late_signals=argv is None))
    except RecorderError as exc:
        print(f"record: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # a signal before the handlers were installed
        print("record: interrupted before recording started", file=sys.stderr)
        return 130


def _run(coro: Coroutine[Any, Any, int]) -> int:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


async def record(
    cfg: RecordConfig, recorder: Recorder | None = None, *, ignore_late_signals: bool = False
) -> int:
    """Run one recording with signal handling and the status view; return the exit code.

    ``ignore_late_signals``: once the recording is finished, SIGINT/SIGTERM are ignored for the
    rest of the process (the command line: a late Ctrl-C must not turn a clean exit into 130).
    """
    recorder = recorder or Recorder(cfg)
    live = _live_mode(cfg, recorder)
    stop = asyncio.Event()
    status_stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals_seen = 0

    def on_signal(name: str) -> None:
        nonlocal signals_seen
        signals_seen += 1
        if signals_seen == 1:
            print(f"\nrecord: {name}: closing connections and flushing...", file=sys.stderr)
            stop.set()
        else:
            print(f"record: {name}: still flushing, please wait", file=sys.stderr)

    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, on_signal, sig.name)
            installed.append(sig)
        except (NotImplementedError, RuntimeError):  # not the main thread / platform
            pass
    status = None
    if not cfg.quiet:
        status = asyncio.create_task(
            show_status(recorder, status_stop, plain_interval_s=cfg.status_interval_s)
        )
    try:
        recovered = await recorder.recover()
        for path in recorder.recovery_failures:
            print(f"record: warning: could not recover {path}; left in place", file=sys.stderr)
        if recovered and not cfg.quiet:
            print(f"record: recovered {len(recovered)} segment(s) left by a crash",
                  file=sys.stderr)  # fmt: skip
        pump = asyncio.create_task(_pump_live(live, status_stop)) if live else None
        await recorder.run(stop)
    finally:
        status_stop.set()
        if live is not None and pump is not None:
            await asyncio.gather(pump, return_exceptions=True)
        if status is not None:
            await asyncio.gather(status, return_exceptions=True)
        for sig in installed:
            loop.remove_signal_handler(sig)
            if ignore_late_signals:
                signal.signal(sig, signal.SIG_IGN)
    if not cfg.quiet:
        files = sum(len(r.writer.files_written) for r in recorder.exchanges.values())
        print(f"record: done, {files} file(s) written under {cfg.out}", file=sys.stderr)
    if live is not None:
        _finish_live(live, cfg)
    return 0


LIVE_PUMP_INTERVAL_S = 0.05


def _live_mode(cfg: RecordConfig, recorder: Recorder) -> LiveStrategies | None:
    """``--strategy``: hook the live runner into the recorder (before it starts)."""
    if not cfg.strategies:
        return None
    live = LiveStrategies(cfg.strategies, cfg.out, printer=None if cfg.quiet else _print_signal)
    recorder.on_row = live.on_row
    return live


async def _pump_live(live: LiveStrategies, done: asyncio.Event) -> None:
    """Feed the strategies every 50 ms. A strategy failure ends live mode, never the recording."""
    try:
        while not done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), LIVE_PUMP_INTERVAL_S)
            live.pump()
    except Exception as exc:  # raw capture must go on whatever a strategy does
        live.failed = f"{type(exc).__name__}: {exc}"
        print(f"record: warning: live strategies stopped ({live.failed}); recording goes on",
              file=sys.stderr)  # fmt: skip


def _finish_live(live: LiveStrategies, cfg: RecordConfig) -> None:
    if live.failed:
        print(f"record: live results not written: {live.failed}", file=sys.stderr)
        return
    written = live.finish()
    if not cfg.quiet:
        for summary in live.summaries().values():
            print(summary)
        folder = Path(cfg.out) / "results"
        print(f"record: live results: {len(written)} table(s) under {folder}", file=sys.stderr)


def _print_signal(signal: Any) -> None:
    describe = getattr(signal, "describe", None)
    print(describe() if describe is not None else signal, flush=True)


if __name__ == "__main__":
    sys.exit(main())
