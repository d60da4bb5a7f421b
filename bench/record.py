"""Recorder benchmark: sustained ingest while writing, against the bare receive loop, same run.

Two measurements, both on 127.0.0.1:

1. **Ingest.** A blaster process (bench/ws_bare.py) sends ``--count`` Binance combined-stream
   bookTicker frames as fast as the socket takes them. We time (a) the bare picows receive loop,
   the fastest Python WebSocket client measured here, and (b) the full recorder: picows listener,
   per-connection row store, disk thread building Arrow batches (with per-batch stream routing),
   IPC segment writes, and Parquet conversion at stop. Rates alternate run by run so both see the
   same machine load; we report the best of ``--repeats`` for each and their ratio. After each
   recorder run the Parquet files are read back and every frame must be there.
2. **Timestamp fidelity.** The simulator sends Binance quotes at ``--fidelity-rate`` msg/s; each
   stored row is matched to the simulator's send log by its bytes and we report percentiles of
   ``recv_ns - send_ns`` (both wall-clock ns on the same machine). The simulator runs in the
   recorder's own event loop (as ``record --simulate`` does), so the figure includes waiting for
   the simulator's send burst to yield the loop: an upper bound on the recorder's own delay.

    python bench/record.py                 # defaults: 1,000,000 frames x 3, fidelity 10k msg/s
    python bench/record.py --count 300000 --repeats 2 --fidelity-seconds 3
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))

from ticktape.recorder.config import ExchangeConfig, RecordConfig
from ticktape.recorder.session import Recorder
from ticktape.simulator import SimConfig
from ws_bare import BlasterProcess, recv_picows

FIDELITY_SYMBOLS = tuple(
    f"{base}-USDT"
    for base in ("BTC", "ETH", "SOL", "XRP", "DOGE", "ADA", "TRX", "LINK", "AVAX", "DOT", "LTC")
)
SIM_MAX_STREAM_HZ = 1000  # the simulator's per-stream cap: spread the rate over symbols


def _binance_config(
    out: str, ws_url: str, symbols: tuple[str, ...] = ("BTC-USDT",)
) -> RecordConfig:
    exchange = ExchangeConfig("binance", "ws", symbols, ws_url, "http://127.0.0.1:9", 1.0)
    return RecordConfig(out=out, exchanges=(exchange,), trades=False, quiet=True)


def _stored_data_rows(out: str) -> int:
    rows = 0
    for path in glob.glob(f"{out}/*/*.parquet"):
        kinds = pq.read_table(path, columns=["kind"]).column("kind").to_pylist()
        rows += sum(1 for k in kinds if k == "data")
    return rows


async def _record_blast(url: str, out: str, count: int) -> tuple[float, float]:
    """Recorder ingest rate (msg/s) for the first ``count`` frames, and the stop time (s)."""
    recorder = Recorder(_binance_config(out, url))
    stop = asyncio.Event()
    task = asyncio.create_task(recorder.run(stop))
    deadline = time.monotonic() + 30
    while not recorder.exchanges or not recorder.exchanges["binance"].connections:
        if time.monotonic() > deadline:
            raise RuntimeError("recorder did not connect")
        await asyncio.sleep(0.001)
    connection = recorder.exchanges["binance"].connections[0]
    while connection.messages() == 0:
        await asyncio.sleep(0.0005)
    t0 = time.perf_counter()
    while connection.messages() < count:
        await asyncio.sleep(0.002)
    elapsed = time.perf_counter() - t0
    t1 = time.perf_counter()
    stop.set()
    await task
    return count / elapsed, time.perf_counter() - t1


def ingest(count: int, repeats: int) -> dict[str, float]:
    best_bare = best_rec = 0.0
    stop_s = 0.0
    with BlasterProcess(count) as blaster:
        for i in range(repeats):
            t0 = time.perf_counter()
            got = asyncio.run(recv_picows(blaster.url))
            bare = got / (time.perf_counter() - t0)
            out = tempfile.mkdtemp(prefix="ticktape-bench-")
            try:
                rate, stop_s = asyncio.run(_record_blast(blaster.url, out, count))
                stored = _stored_data_rows(out)
                if stored < count:
                    raise RuntimeError(f"recorder stored {stored} of {count} frames")
            finally:
                shutil.rmtree(out, ignore_errors=True)
            best_bare, best_rec = max(best_bare, bare), max(best_rec, rate)
            print(
                f"  run {i + 1}: bare picows {bare / 1e3:7.0f}k msg/s   "
                f"recorder {rate / 1e3:7.0f}k msg/s   (stop + Parquet {stop_s:.1f} s)",
                flush=True,
            )
    return {"bare": best_bare, "recorder": best_rec, "ratio": best_rec / best_bare}


def fidelity(rate_hz: float, seconds: float) -> dict[str, float]:
    """Percentiles of recv_ns - send_ns (µs) for simulator frames at ``rate_hz``."""
    out = tempfile.mkdtemp(prefix="ticktape-bench-")
    try:
        n_symbols = max(1, -(-int(rate_hz) // SIM_MAX_STREAM_HZ))
        if n_symbols > len(FIDELITY_SYMBOLS):
            raise SystemExit(f"--fidelity-rate above {len(FIDELITY_SYMBOLS) * 1000} msg/s")
        symbols = FIDELITY_SYMBOLS[:n_symbols]
        base = _binance_config(out, "ws://unused", symbols)
        cfg = RecordConfig(
            out=out, exchanges=base.exchanges, trades=False, quiet=True, duration_s=seconds,
            simulate=True,
        )  # fmt: skip
        sim = SimConfig(
            seed=1, symbols=symbols, exchanges=("binance",), rate_hz=rate_hz / n_symbols,
            trade_rate_hz=0.001, random_dislocations_per_min=0,
        )  # fmt: skip
        recorder = Recorder(cfg, sim_config=sim)
        asyncio.run(recorder.run())
        assert recorder.simulator is not None
        sent = {
            f.payload: f.send_ns
            for f in recorder.simulator.sent_log.filter(exchange="binance")
            if f.kind == "text"
        }
        delays: list[int] = []
        for path in glob.glob(f"{out}/*/*.parquet"):
            table = pq.read_table(path, columns=["kind", "payload", "recv_ns"])
            for kind, payload, recv_ns in zip(
                table.column("kind").to_pylist(),
                table.column("payload").to_pylist(),
                table.column("recv_ns").to_pylist(),
                strict=True,
            ):
                if kind == "data" and payload in sent:
                    delays.append(recv_ns - sent[payload])
    finally:
        shutil.rmtree(out, ignore_errors=True)
    delays.sort()
    n = len(delays)

    def pct(p: float) -> float:
        return delays[min(n - 1, int(p / 100 * n))] / 1e3

    achieved = n / seconds
    return {
        "messages": n, "achieved_rate": achieved, "p50_us": pct(50), "p99_us": pct(99),
        "p999_us": pct(99.9), "max_us": delays[-1] / 1e3, "min_us": delays[0] / 1e3,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="frames per ingest run")
    parser.add_argument("--repeats", type=int, default=3, help="ingest runs (best is kept)")
    parser.add_argument("--fidelity-rate", type=float, default=10_000, help="msg/s")
    parser.add_argument("--fidelity-seconds", type=float, default=5.0)
    args = parser.parse_args()

    print(f"ingest: {args.count:,} frames x {args.repeats} (best of each)", flush=True)
    result = ingest(args.count, args.repeats)
    print(
        f"ingest: bare picows {result['bare'] / 1e3:.0f}k msg/s, recorder "
        f"{result['recorder'] / 1e3:.0f}k msg/s, ratio {result['ratio']:.2f} (target >= 0.50)"
    )
    print(f"fidelity: {args.fidelity_rate:,.0f} msg/s for {args.fidelity_seconds:g} s", flush=True)
    fid = fidelity(args.fidelity_rate, args.fidelity_seconds)
    print(
        f"fidelity: {fid['messages']:,} frames matched ({fid['achieved_rate']:,.0f} msg/s); "
        f"recv_ns - send_ns: p50 {fid['p50_us']:.0f} µs, p99 {fid['p99_us']:.0f} µs, "
        f"p99.9 {fid['p999_us']:.0f} µs, max {fid['max_us']:.0f} µs"
    )


if __name__ == "__main__":
    main()
