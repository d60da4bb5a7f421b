"""``record`` as a process: SIGTERM / Ctrl-C mid-stream exit 0 with nothing lost; ``kill -9``
loses at most the last flush interval and the next start recovers every segment."""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ticktape.recorder.cli import record
from ticktape.recorder.clock import Clock
from ticktape.recorder.config import load_config
from ticktape.simulator import load_jsonl

FLUSH_S = 0.2

# Runs the real ``record()`` coroutine (signal handling included) in a child process, then
# dumps the simulator's send log so the parent can compare it with the files.
CHILD = """
import asyncio, sys
from ticktape.recorder.cli import record
from ticktape.recorder.config import load_config
from ticktape.recorder.session import Recorder
from ticktape.simulator import SimConfig

cfg = load_config(sys.argv[2:])
sim = SimConfig(seed=4, symbols=cfg.symbols, rate_hz=100, trade_rate_hz=20,
                random_dislocations_per_min=0)
recorder = Recorder(cfg, sim_config=sim)
code = asyncio.run(record(cfg, recorder))
recorder.simulator.dump_sent_log(sys.argv[1])
sys.exit(code)
"""


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


def wait_for_segments(
    proc: subprocess.Popen[bytes], out: Path, min_bytes: int = 4096, timeout_s: float = 30.0
) -> None:
    """Until every exchange's open segment holds some flushed rows."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            _, stderr = proc.communicate()
            raise AssertionError(f"record exited early ({proc.returncode}): {stderr.decode()}")
        segments = list(out.glob("*/*.arrow"))
        if len(segments) >= 4 and all(s.stat().st_size >= min_bytes for s in segments):
            return
        time.sleep(0.05)
    raise AssertionError(f"no segments with data under {out} after {timeout_s}s")


def read_rows(out: Path) -> list[dict[str, Any]]:
    files = sorted(out.glob("*/*"))
    assert files and all(f.suffix == ".parquet" for f in files), files
    rows = pa.concat_tables([pq.read_table(f) for f in files]).to_pylist()
    rows.sort(key=lambda r: (r["exchange"], r["conn_id"], r["seq"]))
    return rows


def connections(rows: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    conns: dict[int, list[dict[str, Any]]] = collections.defaultdict(list)
    for row in rows:
        conns[row["conn_id"]].append(row)
    for conn_id, conn_rows in conns.items():
        assert [r["seq"] for r in conn_rows] == list(range(len(conn_rows))), conn_id
        stamps = [r["recv_ns"] for r in conn_rows]
        assert stamps == sorted(stamps), conn_id
    return dict(conns)


def test_sigterm_mid_stream_exits_0_and_loses_nothing(tmp_path: Path) -> None:
    out, log = tmp_path / "out", tmp_path / "sent.jsonl"
    argv = ["--simulate", "--out", str(out), "--quiet", "--flush-interval", str(FLUSH_S)]
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(log), *argv], env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        wait_for_segments(proc, out)
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, stderr.decode()
    assert b"Traceback" not in stderr
    rows = read_rows(out)
    conns = connections(rows)
    for conn_rows in conns.values():
        if conn_rows[0]["stream"] != "clock":
            assert conn_rows[-1]["kind"] == "close" and conn_rows[-1]["payload"] == b"shutdown"
    sent = collections.Counter(
        (f.exchange, f.payload)
        for f in load_jsonl(log)
        if f.kind in ("text", "binary") or (f.kind == "rest" and f.status == 200)
    )
    stored = collections.Counter((r["exchange"], r["payload"]) for r in rows if r["kind"] == "data")
    assert stored == sent
    assert sum(sent.values()) > 200


def test_second_ctrl_c_still_finishes_the_flush(tmp_path: Path) -> None:
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "ticktape.recorder.cli", "--simulate", "--out", str(out),
           "--flush-interval", str(FLUSH_S)]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for_segments(proc, out)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, stderr.decode()
    assert b"Traceback" not in stderr
    assert b"record |" in stdout or stdout == b""  # not a TTY: plain status lines at most
    rows = read_rows(out)
    for conn_rows in connections(rows).values():
        if conn_rows[0]["stream"] != "clock":
            assert conn_rows[-1]["payload"] == b"shutdown"


def test_a_second_signal_during_a_slow_flush_only_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    class SlowFlushRecorder:  # stands in for Recorder: stopping takes a while
        def __init__(self) -> None:
            self.exchanges: dict[str, Any] = {}
            self.clock = Clock()
            self.flushed = False
            self.recovery_failures: dict[str, str] = {}

        async def recover(self) -> list[str]:
            return []

        async def run(self, stop: asyncio.Event) -> None:
            await stop.wait()
            await asyncio.sleep(0.4)  # the final flush
            self.flushed = True

    async def scenario() -> int:
        cfg = load_config(["--out", str(tmp_path), "--quiet"])
        task = asyncio.create_task(record(cfg, recorder))  # type: ignore[arg-type]
        await asyncio.sleep(0.1)
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.sleep(0.1)
        os.kill(os.getpid(), signal.SIGTERM)
        return await task

    recorder = SlowFlushRecorder()
    assert asyncio.run(scenario()) == 0
    assert recorder.flushed
    err = capsys.readouterr().err
    assert "SIGINT: closing connections and flushing" in err
    assert "SIGTERM: still flushing, please wait" in err


def test_kill_9_loses_at_most_one_flush_and_the_next_start_recovers(tmp_path: Path) -> None:
    out = tmp_path / "out"
    base = [sys.executable, "-m", "ticktape.recorder.cli", "--simulate", "--out", str(out),
            "--quiet", "--flush-interval", str(FLUSH_S)]  # fmt: skip
    proc = subprocess.Popen(base, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for_segments(proc, out)
        time.sleep(0.5)
        killed_ns = time.time_ns()
        proc.kill()  # SIGKILL: no chance to flush or close anything
        proc.wait(10)
    finally:
        proc.kill()
    leftovers = sorted(out.glob("*/*.arrow"))
    assert len(leftovers) == 4  # one open segment per exchange

    again = subprocess.run([*base, "--duration", "0.5"], env=env(), capture_output=True, timeout=60)
    assert again.returncode == 0, again.stderr.decode()
    rows = read_rows(out)  # every file is Parquet and readable
    conns = {cid: c for cid, c in connections(rows).items() if c[0]["stream"] != "clock"}
    killed = {cid: c for cid, c in conns.items() if c[-1]["kind"] != "close"}
    assert {c[0]["exchange"] for c in killed.values()} == {"binance", "bybit", "kucoin", "mexc"}
    for conn_rows in killed.values():
        assert conn_rows[0]["seq"] == 0  # contiguous from 0: nothing before the kill lost
        lost_s = (killed_ns - conn_rows[-1]["recv_ns"]) / 1e9
        assert lost_s < FLUSH_S + 0.5, lost_s
    restarted = [c for cid, c in conns.items() if cid not in killed]
    assert min(c[0]["conn_id"] for c in restarted) > max(killed)  # ids never reused
