"""RotatingWriter: live IPC segments, rotation by time / size / UTC midnight, file naming."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest
from batch_builder import BatchBuilder

from ticktape.recorder.segment import SegmentWriter, read_segment
from ticktape.recorder.storage import resolve
from ticktape.recorder.writer import RotatingWriter, WriterError
from ticktape.schema import (
    DAY_DIR_RE,
    FILE_NAME_RE,
    META_CONFIG,
    META_EXCHANGE,
    META_SCHEMA_VERSION,
    SchemaError,
)

SECOND = 1_000_000_000
MIDNIGHT = int(dt.datetime(2026, 3, 2, tzinfo=dt.UTC).timestamp()) * SECOND


def make_batch(
    recv_ns: list[int], *, conn_id: int = 1, seq0: int = 0, exchange: str = "binance"
) -> pa.RecordBatch:
    buffer = BatchBuilder(exchange)
    for i, t in enumerate(recv_ns):
        stream = "btcusdt@bookTicker" if i % 3 else "ethusdt@aggTrade"
        buffer.append(t, stream, conn_id, seq0 + i, "data", None, False, b"p%d" % (seq0 + i))
    batch = buffer.take()
    assert batch is not None
    return batch


def read_all(paths: list[str]) -> pa.Table:
    return pa.concat_tables([pq.read_table(p) for p in paths])


def test_segment_is_readable_while_being_written(tmp_path: Path) -> None:
    writer = RotatingWriter(tmp_path, "binance")
    try:
        writer.write(make_batch([MIDNIGHT + i for i in range(10)]))
        writer.write(make_batch([MIDNIGHT + 100 + i for i in range(5)], seq0=10))
        path = writer.current_segment
        assert path is not None and Path(path).exists()

        # An independent reader (as replay/analysis would open it) sees both flushed batches.
        with pa.OSFile(path) as source:
            assert sum(b.num_rows for b in ipc.open_stream(source)) == 15
        writer.write(make_batch([MIDNIGHT + 200 + i for i in range(7)], seq0=15))
        fs, _ = resolve(tmp_path)
        contents = read_segment(fs, path)
        assert contents.num_rows == 22
        assert contents.stopped_early is None
        assert contents.schema is not None
        assert contents.schema.metadata[META_EXCHANGE] == b"binance"
        assert writer.rows_written == 22
        assert writer.bytes_written == Path(path).stat().st_size
    finally:
        writer.close()
    assert not Path(path).exists()
    assert read_all(writer.files_written).num_rows == 22


def test_rotation_by_time_on_rows_and_on_tick(tmp_path: Path) -> None:
    start = MIDNIGHT + 3600 * SECOND
    with RotatingWriter(tmp_path, "bybit", rotate_interval_s=10) as writer:
        writer.write(make_batch([start, start + 4 * SECOND], exchange="bybit"))
        first = writer.current_segment
        # One batch straddling the deadline (start + 10 s) is split there.
        writer.write(
            make_batch([start + 9 * SECOND, start + 10 * SECOND], seq0=2, exchange="bybit")
        )
        second = writer.current_segment
        assert second != first
        writer.tick(start + 15 * SECOND)
        assert writer.current_segment == second  # deadline of the 2nd segment is start + 20 s
        writer.tick(start + 20 * SECOND)  # an idle feed still rotates
        assert writer.current_segment is None
    files = sorted(writer.files_written)
    assert [pq.read_metadata(f).num_rows for f in files] == [3, 1]
    assert Path(files[0]).name.startswith("20260302T010000.000000Z-bybit-0000")
    assert Path(files[1]).name.startswith("20260302T010010.000000Z-bybit-0000")


def test_rotation_by_size(tmp_path: Path) -> None:
    with RotatingWriter(tmp_path, "mexc", rotate_bytes=4096) as writer:
        for k in range(12):
            writer.write(
                make_batch(
                    [MIDNIGHT + k * 100 + i for i in range(40)], seq0=k * 40, exchange="mexc"
                )
            )
    assert len(writer.files_written) > 2
    table = read_all(writer.files_written)
    assert sorted(table.column("seq").to_pylist()) == list(range(480))


def test_utc_midnight_splits_a_batch_into_two_day_folders(tmp_path: Path) -> None:
    times = [MIDNIGHT - 3 * SECOND, MIDNIGHT - 1, MIDNIGHT, MIDNIGHT + 2 * SECOND]
    with RotatingWriter(tmp_path, "kucoin") as writer:
        writer.write(make_batch(times, exchange="kucoin"))
    days = sorted(p.name for p in tmp_path.iterdir())
    assert days == ["2026-03-01", "2026-03-02"]
    assert all(DAY_DIR_RE.match(d) for d in days)
    before = list((tmp_path / "2026-03-01").iterdir())
    after = list((tmp_path / "2026-03-02").iterdir())
    assert len(before) == len(after) == 1
    assert sorted(pq.read_table(before[0]).column("recv_ns").to_pylist()) == times[:2]
    assert sorted(pq.read_table(after[0]).column("recv_ns").to_pylist()) == times[2:]
    names = [p.name for p in before + after]
    assert names == sorted(names)  # names sort in time order
    assert all(FILE_NAME_RE.match(n) for n in names)
    assert names[1].startswith("20260302T000000.000000Z-kucoin-")


def test_late_rows_of_a_closed_day_go_to_that_days_folder(tmp_path: Path) -> None:
    with RotatingWriter(tmp_path, "binance") as writer:
        writer.write(make_batch([MIDNIGHT - SECOND, MIDNIGHT + SECOND]))
        # A slower connection delivers rows stamped before midnight after the day rolled over.
        writer.write(make_batch([MIDNIGHT + 2 * SECOND, MIDNIGHT - 5], conn_id=2))
    old_day = sorted((tmp_path / "2026-03-01").iterdir())
    new_day = sorted((tmp_path / "2026-03-02").iterdir())
    assert sorted(t for p in old_day for t in pq.read_table(p).column("recv_ns").to_pylist()) == [
        MIDNIGHT - SECOND,
        MIDNIGHT - 5,
    ]
    assert sorted(t for p in new_day for t in pq.read_table(p).column("recv_ns").to_pylist()) == [
        MIDNIGHT + SECOND,
        MIDNIGHT + 2 * SECOND,
    ]


def test_part_numbers_keep_same_microsecond_segments_apart(tmp_path: Path) -> None:
    with RotatingWriter(tmp_path, "binance") as writer:
        for k in range(3):
            writer.write(make_batch([MIDNIGHT + 10 + k], seq0=k))  # same microsecond
            writer.rotate()
    names = sorted(Path(f).name for f in writer.files_written)
    assert names == [f"20260302T000000.000000Z-binance-{k:04d}.parquet" for k in range(3)]


def test_metadata_reaches_the_parquet_file(tmp_path: Path) -> None:
    config = b'{"symbols":["BTC-USDT"]}'
    with RotatingWriter(tmp_path, "binance", metadata={META_CONFIG: config}) as writer:
        writer.write(make_batch([MIDNIGHT]))
    meta = pq.read_metadata(writer.files_written[0]).metadata
    assert meta[META_CONFIG] == config
    assert meta[META_SCHEMA_VERSION] == b"1"
    assert meta[META_EXCHANGE] == b"binance"


def test_misuse_gives_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(WriterError, match="lowercase"):
        RotatingWriter(tmp_path, "Binance-Spot")
    writer = RotatingWriter(tmp_path, "binance")
    with pytest.raises(SchemaError, match="schema v1"):
        writer.write(pa.record_batch({"recv_ns": pa.array([1], pa.int64())}))
    with pytest.raises(SchemaError, match="exchange"):
        writer.write(make_batch([MIDNIGHT], exchange="bybit"))
    writer.close()
    writer.close()  # idempotent
    with pytest.raises(WriterError, match="closed"):
        writer.write(make_batch([MIDNIGHT]))
    assert writer.files_written == []


def test_batches_differing_only_in_nullability_are_accepted(tmp_path: Path) -> None:
    batch = make_batch([MIDNIGHT, MIDNIGHT + 1])
    loose = pa.RecordBatch.from_arrays(
        batch.columns, schema=pa.schema([f.with_nullable(True) for f in batch.schema])
    )
    with RotatingWriter(tmp_path, "binance") as writer:
        writer.write(loose)
    assert read_all(writer.files_written).num_rows == 2


def test_a_failed_write_never_gets_appended_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = SegmentWriter.write
    calls = 0

    def flaky_write(self: SegmentWriter, batch: pa.RecordBatch) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:  # half a message reaches the file, then the disk fails
            self._sink.write(b"\xff\xff\xff\xff\x40\x01\x00\x00partial")
            self._sink.flush()
            raise OSError(28, "No space left on device (simulated)")
        real_write(self, batch)

    monkeypatch.setattr(SegmentWriter, "write", flaky_write)
    with RotatingWriter(tmp_path, "binance") as writer:
        writer.write(make_batch([MIDNIGHT, MIDNIGHT + 1]))
        with pytest.raises(OSError, match="No space"):
            writer.write(make_batch([MIDNIGHT + 2], seq0=2))
        assert writer.current_segment is None
        writer.write(make_batch([MIDNIGHT + 3, MIDNIGHT + 4], seq0=3))
    table = read_all(writer.files_written)
    assert sorted(table.column("seq").to_pylist()) == [0, 1, 3, 4]
    assert writer.conversion_errors == []
