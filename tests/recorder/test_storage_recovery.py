"""Crash recovery: kill -9 mid-stream, truncated/garbage tails, stale temp files, idempotence."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest
from batch_builder import BatchBuilder

from ticktape.recorder.recovery import RecoveryError, recover, recover_report
from ticktape.recorder.segment import SegmentWriter
from ticktape.schema import META_EXCHANGE, META_SCHEMA_VERSION, RECORD_SCHEMA

T0 = 1_772_409_600_000_000_000  # 2026-03-02T00:00:00Z
SCHEMA = RECORD_SCHEMA.with_metadata({META_SCHEMA_VERSION: b"1", META_EXCHANGE: b"binance"})
DAY = "2026-03-02"


def payload_for(seq: int) -> bytes:
    return b"%d|" % seq + bytes((seq * 13 + k) % 256 for k in range(seq % 97))


def batch_of(seq0: int, n: int) -> pa.RecordBatch:
    buffer = BatchBuilder("binance")
    for seq in range(seq0, seq0 + n):
        stream = ("btcusdt@bookTicker", "ethusdt@trade")[seq % 2]
        buffer.append(T0 + seq * 1000, stream, 1, seq, "data", None, False, payload_for(seq))
    batch = buffer.take()
    assert batch is not None
    return batch


def segment_with(root: Path, batches: list[pa.RecordBatch], part: int = 0) -> Path:
    folder = root / DAY
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"20260302T000000.000000Z-binance-{part:04d}.arrow"
    segment = SegmentWriter(pafs.LocalFileSystem(), str(path), SCHEMA, T0)
    for batch in batches:
        segment.write(batch)
    segment.close()
    return path


def recorded_rows(root: Path) -> dict[int, bytes]:
    """seq → payload over every Parquet file under root; fails on duplicates."""
    rows: dict[int, bytes] = {}
    for path in sorted(root.rglob("*.parquet")):
        table = pq.read_table(path)
        for seq, payload in zip(
            table.column("seq").to_pylist(), table.column("payload").to_pylist(), strict=True
        ):
            assert seq not in rows, f"row {seq} recorded twice"
            rows[seq] = payload
    return rows


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob("*") if p.suffix in (".arrow", ".tmp"))


CHILD = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, sys.argv[2])
    from test_storage_recovery import batch_of
    from ticktape.recorder.writer import RotatingWriter

    writer = RotatingWriter(sys.argv[1], "binance", rotate_bytes=48 * 1024)
    seq = 0
    for i in range(20_000):
        n = 1 + (i * 37) % 90
        writer.write(batch_of(seq, n))
        seq += n
        print(seq, flush=True)
        time.sleep(0.001)
    """
)


def test_kill_9_mid_stream_then_recover(tmp_path: Path) -> None:
    root = tmp_path / "data"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(root), str(Path(__file__).parent)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    flushed = 0
    deadline = time.monotonic() + 30
    try:
        for line in child.stdout:
            flushed = int(line)
            if flushed >= 6_000 or time.monotonic() > deadline:
                break
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        child.stdout.close()
    assert flushed >= 6_000, "child wrote too slowly"
    assert any(root.rglob("*.arrow")), "the kill should leave the open segment behind"

    published = recover(root)

    assert published and all(Path(p).suffix == ".parquet" for p in published)
    assert leftovers(root) == []
    rows = recorded_rows(root)
    # Every flushed row survived; at most the rows of the batch being written were lost.
    assert len(rows) >= flushed
    assert sorted(rows) == list(range(len(rows)))
    assert all(payload == payload_for(seq) for seq, payload in rows.items())
    assert recover(root) == []  # idempotent


@pytest.mark.parametrize("cut", [1, 7, 100])
def test_truncated_tail_keeps_every_complete_batch(tmp_path: Path, cut: int) -> None:
    path = segment_with(tmp_path, [batch_of(0, 40), batch_of(40, 40), batch_of(80, 40)])
    # Drop the end-of-stream marker (8 bytes) and `cut` bytes of the last batch.
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 8 - cut])

    report = recover_report(tmp_path)

    assert len(report.published) == 1 and report.rows == 80
    assert str(path) in report.truncated
    assert sorted(recorded_rows(tmp_path)) == list(range(80))
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "garbage",
    [
        random.Random(1).randbytes(5000),
        b"\xff\xff\xff\xff" + (400).to_bytes(4, "little") + os.urandom(400),
        b"\xff\xff\xff\xff" + (10**9).to_bytes(4, "little"),
        b"\x00" * 4096,
    ],
)
def test_garbage_tail_is_dropped(tmp_path: Path, garbage: bytes) -> None:
    path = segment_with(tmp_path, [batch_of(0, 25), batch_of(25, 25)])
    data = path.read_bytes()
    path.write_bytes(data[:-8] + garbage)  # as if killed, then junk written after

    report = recover_report(tmp_path)

    assert report.rows == 50
    assert sorted(recorded_rows(tmp_path)) == list(range(50))
    assert leftovers(tmp_path) == []


def test_empty_and_schema_only_segments_are_removed_and_reported(tmp_path: Path) -> None:
    schema_only = segment_with(tmp_path, [], part=0)
    empty = tmp_path / DAY / "20260302T000001.000000Z-binance-0000.arrow"
    empty.write_bytes(b"")
    report = recover_report(tmp_path)
    assert report.published == []
    assert sorted(report.removed_empty) == sorted([str(schema_only), str(empty)])
    assert leftovers(tmp_path) == []


def test_stale_temp_file_is_removed_and_its_segment_converted(tmp_path: Path) -> None:
    path = segment_with(tmp_path, [batch_of(0, 30)])
    stale = path.with_suffix(".parquet.tmp")
    stale.write_bytes(b"PAR1 half written")
    report = recover_report(tmp_path)
    assert report.removed_temp == [str(stale)]
    assert report.published == [str(path.with_suffix(".parquet"))]
    assert sorted(recorded_rows(tmp_path)) == list(range(30))
    assert leftovers(tmp_path) == []


def test_segment_next_to_its_published_parquet(tmp_path: Path) -> None:
    """Killed between publish and delete: converting again gives the same file."""
    path = segment_with(tmp_path, [batch_of(0, 30)])
    copy = path.read_bytes()
    first = recover(tmp_path)
    parquet_bytes = Path(first[0]).read_bytes()
    path.write_bytes(copy)
    assert recover(tmp_path) == first
    assert Path(first[0]).read_bytes() == parquet_bytes
    assert leftovers(tmp_path) == []


def test_unconvertible_files_are_kept_and_named(tmp_path: Path) -> None:
    good = segment_with(tmp_path, [batch_of(0, 10)])
    junk = tmp_path / DAY / "20260302T000005.000000Z-binance-0000.arrow"
    junk.write_bytes(random.Random(2).randbytes(3000))
    foreign = tmp_path / DAY / "20260302T000006.000000Z-binance-0000.arrow"
    with (
        pa.OSFile(str(foreign), "wb") as sink,
        ipc.new_stream(sink, pa.schema([("x", pa.int8())])) as w,
    ):
        w.write_batch(pa.record_batch({"x": pa.array([1], pa.int8())}))
    unrelated = tmp_path / DAY / "notes.arrow"
    unrelated.write_bytes(b"not ours")

    with pytest.raises(RecoveryError) as caught:
        recover(tmp_path)

    assert set(caught.value.failures) == {str(junk), str(foreign)}
    assert "no column" in caught.value.failures[str(foreign)]
    assert caught.value.report.published == [str(good.with_suffix(".parquet"))]
    assert junk.exists() and foreign.exists() and unrelated.exists()
    assert not good.exists()


def test_exchange_filter_leaves_other_exchanges_alone(tmp_path: Path) -> None:
    mine = segment_with(tmp_path, [batch_of(0, 10)])
    other = tmp_path / DAY / "20260302T000000.000000Z-bybit-0000.arrow"
    other.write_bytes(mine.read_bytes())
    report = recover_report(tmp_path, exchanges={"binance"})
    assert report.published == [str(mine.with_suffix(".parquet"))]
    assert other.exists()


def test_missing_root_is_nothing_to_do(tmp_path: Path) -> None:
    assert recover(tmp_path / "nowhere") == []
