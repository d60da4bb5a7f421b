"""The disk thread: builds batches from connection chunks, writes in order, reports failures."""

from __future__ import annotations

import threading
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from ticktape.recorder.clock import ManualClock
from ticktape.recorder.disk_thread import DiskThread
from ticktape.recorder.rows import ExchangeRows
from ticktape.schema import RECORD_SCHEMA


class FakeWriter:
    def __init__(self, fail_on_write: int | None = None) -> None:
        self.batches: list[pa.RecordBatch] = []
        self.ticks: list[int] = []
        self.closed = False
        self.threads: set[str] = set()
        self.fail_on_write = fail_on_write

    def write(self, batch: pa.RecordBatch) -> None:
        self.threads.add(threading.current_thread().name)
        if self.fail_on_write is not None and len(self.batches) == self.fail_on_write:
            raise OSError(28, "No space left on device")
        self.batches.append(batch)

    def tick(self, now_ns: int) -> None:
        self.ticks.append(now_ns)

    def close(self) -> None:
        self.closed = True


def rows_of(exchange: str, conns: int, per_conn: int) -> ExchangeRows:
    clock = ManualClock(start_ns=1_000)
    rows = ExchangeRows(exchange, clock)
    for c in range(conns):
        buffer = rows.open(100 + c, f"stream-{c}")
        buffer.add("open", "ws://x")
        for i in range(per_conn):
            clock.advance(1)
            buffer.recv.append(clock.now_ns())
            buffer.payload.append(f'{{"i":{i}}}'.encode())
            buffer.binary.append(False)
    return rows


def test_batches_are_built_and_written_off_the_calling_thread() -> None:
    writers: dict[str, Any] = {"binance": FakeWriter(), "mexc": FakeWriter()}
    disk = DiskThread(writers)
    binance = rows_of("binance", conns=3, per_conn=10)
    disk.submit("binance", binance.take())
    disk.submit("mexc", [])  # nothing to write: no batch
    disk.tick(123)
    disk.close(10)
    assert disk.error is None and not disk.alive
    (batch,) = writers["binance"].batches
    assert batch.schema.equals(RECORD_SCHEMA) and batch.num_rows == 33
    table = pa.Table.from_batches([batch])
    assert sorted(set(table["conn_id"].to_pylist())) == [100, 101, 102]
    assert set(table["stream"].to_pylist()) == {"stream-0", "stream-1", "stream-2"}
    assert writers["mexc"].batches == []
    assert writers["binance"].ticks == [123] and writers["mexc"].ticks == [123]
    assert all(w.closed for w in writers.values())
    assert writers["binance"].threads == {"ticktape-disk"}
    assert disk.rows_written == 33


def test_a_failing_writer_is_reported_and_the_others_still_close() -> None:
    writers: dict[str, Any] = {"binance": FakeWriter(fail_on_write=0), "bybit": FakeWriter()}
    disk = DiskThread(writers)
    disk.submit("binance", rows_of("binance", 1, 5).take())
    disk.submit("binance", rows_of("binance", 1, 5).take())  # ignored after the failure
    disk.submit("bybit", rows_of("bybit", 1, 5).take())
    disk.close(10)
    assert isinstance(disk.error, OSError) and "No space" in str(disk.error)
    assert writers["binance"].batches == [] and writers["bybit"].batches == []
    assert writers["binance"].closed and writers["bybit"].closed


def test_close_is_idempotent() -> None:
    disk = DiskThread({"binance": FakeWriter()})
    disk.close(10)
    disk.close(10)
    assert not disk.alive


@pytest.mark.parametrize("conns", [1, 4])
def test_seq_and_constant_columns_come_out_right(conns: int) -> None:
    writer = FakeWriter()
    disk = DiskThread({"kucoin": writer})
    rows = rows_of("kucoin", conns, per_conn=1000)
    disk.submit("kucoin", rows.take())
    disk.close(10)
    table = pa.Table.from_batches(writer.batches)
    for conn_id in range(100, 100 + conns):
        mine = table.filter(pc.equal(table["conn_id"], conn_id))
        assert mine["seq"].to_pylist() == list(range(1001))
        assert mine["kind"].to_pylist() == ["open"] + ["data"] * 1000
        assert mine["req_ns"].null_count == 1001
        assert set(mine["exchange"].to_pylist()) == {"kucoin"}
