"""Segment → Parquet: byte-faithful, sorted by stream, deterministic, atomically published."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest
from batch_builder import BatchBuilder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ticktape.recorder import compaction
from ticktape.recorder.compaction import (
    META_SORT_KEY,
    SORT_KEY,
    CompactionError,
    compact_segment,
    write_sorted_parquet,
)
from ticktape.recorder.segment import SegmentWriter
from ticktape.schema import META_EXCHANGE, META_SCHEMA_VERSION, RECORD_SCHEMA, check_schema

T0 = 1_772_409_600_000_000_000  # 2026-03-02T00:00:00Z
SCHEMA = RECORD_SCHEMA.with_metadata({META_SCHEMA_VERSION: b"1", META_EXCHANGE: b"binance"})

Row = tuple[int, str, int, int, str, int | None, bool, bytes]


def rows_to_batches(rows: list[Row], batch_size: int) -> list[pa.RecordBatch]:
    batches = []
    for start in range(0, len(rows), batch_size):
        buffer = BatchBuilder("binance")
        for row in rows[start : start + batch_size]:
            buffer.append(*row)
        batch = buffer.take()
        assert batch is not None
        batches.append(batch)
    return batches


def write_segment(fs: pafs.FileSystem, path: str, batches: list[pa.RecordBatch]) -> None:
    lo = min(b.column("recv_ns")[0].as_py() for b in batches)
    segment = SegmentWriter(fs, path, SCHEMA, lo)
    for batch in batches:
        segment.write(batch)
    segment.close()


def sample_rows(n: int) -> list[Row]:
    streams = ["btcusdt@bookTicker", "ethusdt@depth@100ms", "GET /api/v3/depth", "solusdt@trade"]
    rows: list[Row] = []
    for i in range(n):
        stream = streams[(i * 7) % len(streams)]
        payload = b"" if i % 11 == 0 else bytes((i * 31 + k) % 256 for k in range(i % 50))
        req_ns = T0 + i * 1000 - 500 if stream.startswith("GET") else None
        rows.append((T0 + i * 1000, stream, 1 + i % 3, i // 3, "data", req_ns, i % 5 == 0, payload))
    return rows


payloads = st.binary(min_size=0, max_size=300)
streams = st.sampled_from(["a@bookTicker", "b@trade", "orderbook.1.BTCUSDT", "é/ü ⚡", ""])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(streams, payloads, st.booleans()), min_size=1, max_size=60),
    st.integers(min_value=1, max_value=17),
)
def test_compaction_is_byte_faithful(items: list[tuple[str, bytes, bool]], batch_size: int) -> None:
    rows: list[Row] = [
        (T0 + (i * 7919) % 1000, stream, 1 + i % 2, i, "data", None, binary, payload)
        for i, (stream, payload, binary) in enumerate(items)
    ]
    fs = pafs.LocalFileSystem()
    with tempfile.TemporaryDirectory() as tmp:
        segment = f"{tmp}/20260302T000000.000000Z-binance-0000.arrow"
        write_segment(fs, segment, rows_to_batches(rows, batch_size))

        result = compact_segment(fs, segment)

        assert result.parquet is not None and result.rows == len(rows)
        assert not Path(segment).exists()
        table = pq.read_table(result.parquet)
    check_schema(table.schema, "compacted")
    got = {(r["conn_id"], r["seq"]): r for r in table.to_pylist()}
    assert len(got) == len(rows)
    for recv_ns, stream, conn_id, seq, kind, req_ns, binary, payload in rows:
        row = got[(conn_id, seq)]
        assert row["payload"] == payload  # exact bytes, including b""
        assert (row["recv_ns"], row["stream"], row["kind"], row["binary"], row["req_ns"]) == (
            recv_ns,
            stream,
            kind,
            binary,
            req_ns,
        )
        assert row["exchange"] == "binance"


def test_rows_are_sorted_by_stream_then_time_and_metadata_is_kept(tmp_path: Path) -> None:
    fs = pafs.LocalFileSystem()
    segment = str(tmp_path / "20260302T000000.000000Z-binance-0000.arrow")
    write_segment(fs, segment, rows_to_batches(sample_rows(500), 64))
    result = compact_segment(fs, segment)
    assert result.parquet is not None
    parquet = pq.ParquetFile(result.parquet)
    table = parquet.read()
    keys = list(zip(*(table.column(k).to_pylist() for k in SORT_KEY), strict=True))
    assert keys == sorted(keys)
    meta = parquet.metadata.metadata
    assert meta[META_SCHEMA_VERSION] == b"1" and meta[META_EXCHANGE] == b"binance"
    assert meta[META_SORT_KEY] == b"stream,recv_ns,conn_id,seq"
    assert pa.types.is_dictionary(table.schema.field("stream").type)
    columns = {
        parquet.metadata.row_group(0).column(i).path_in_schema: parquet.metadata.row_group(0)
        .column(i)
        .encodings
        for i in range(parquet.metadata.num_columns)
    }
    assert "RLE_DICTIONARY" not in columns["payload"]
    assert "DELTA_BINARY_PACKED" in columns["recv_ns"]
    assert parquet.metadata.row_group(0).column(0).compression == "ZSTD"


def test_output_bytes_do_not_depend_on_batch_sizes(tmp_path: Path) -> None:
    fs = pafs.LocalFileSystem()
    rows = sample_rows(700)
    digests = set()
    for k, (batch_size, order) in enumerate([(700, 1), (1, 1), (33, -1), (128, 1)]):
        # Arrival order and dictionary first-appearance order differ between runs.
        segment = str(tmp_path / f"20260302T000000.000000Z-binance-{k:04d}.arrow")
        write_segment(fs, segment, rows_to_batches(rows[::order], batch_size))
        result = compact_segment(fs, segment)
        assert result.parquet is not None
        digests.add(Path(result.parquet).read_bytes())
    assert len(digests) == 1


def test_row_groups_are_sized_from_the_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compaction, "ROW_GROUP_PAYLOAD_BYTES", 2000)
    monkeypatch.setattr(compaction, "MIN_ROW_GROUP_ROWS", 50)
    fs = pafs.LocalFileSystem()
    segment = str(tmp_path / "20260302T000000.000000Z-binance-0000.arrow")
    write_segment(fs, segment, rows_to_batches(sample_rows(1000), 100))
    result = compact_segment(fs, segment)
    assert result.parquet is not None
    metadata = pq.read_metadata(result.parquet)
    assert metadata.num_row_groups > 3
    table = pq.read_table(result.parquet)
    keys = list(zip(*(table.column(k).to_pylist() for k in SORT_KEY), strict=True))
    assert keys == sorted(keys) and len(set(keys)) == 1000


def test_duckdb_reads_the_compacted_file(tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    fs = pafs.LocalFileSystem()
    segment = str(tmp_path / "20260302T000000.000000Z-binance-0000.arrow")
    rows = sample_rows(300)
    write_segment(fs, segment, rows_to_batches(rows, 50))
    result = compact_segment(fs, segment)
    got = duckdb.sql(
        f"select count(*), sum(octet_length(payload)), max(seq) from '{result.parquet}'"
    ).fetchall()[0]
    assert got == (300, sum(len(r[-1]) for r in rows), max(r[3] for r in rows))


class _WatchingHandler(pafs.FileSystemHandler):
    """Local filesystem that logs writes and moves, and can fail writes to ``*.tmp`` files."""

    def __init__(self, fail_after_bytes: int | None = None) -> None:
        self.local = pafs.LocalFileSystem()
        self.opened_for_write: list[str] = []
        self.moves: list[tuple[str, str]] = []
        self.fail_after_bytes = fail_after_bytes

    def get_type_name(self) -> str:
        return "watching"

    def normalize_path(self, path: str) -> str:
        return path

    def get_file_info(self, paths: list[str]) -> list[pafs.FileInfo]:
        return self.local.get_file_info(paths)

    def get_file_info_selector(self, selector: pafs.FileSelector) -> list[pafs.FileInfo]:
        return self.local.get_file_info(selector)

    def create_dir(self, path: str, recursive: bool) -> None:
        self.local.create_dir(path, recursive=recursive)

    def delete_dir(self, path: str) -> None:
        self.local.delete_dir(path)

    def delete_dir_contents(self, path: str, missing_dir_ok: bool = False) -> None:
        self.local.delete_dir_contents(path, missing_dir_ok=missing_dir_ok)

    def delete_root_dir_contents(self) -> None:
        raise NotImplementedError

    def delete_file(self, path: str) -> None:
        self.local.delete_file(path)

    def move(self, src: str, dest: str) -> None:
        self.moves.append((src, dest))
        self.local.move(src, dest)

    def copy_file(self, src: str, dest: str) -> None:
        self.local.copy_file(src, dest)

    def open_input_stream(self, path: str) -> Any:
        return self.local.open_input_stream(path)

    def open_input_file(self, path: str) -> Any:
        return self.local.open_input_file(path)

    def open_output_stream(self, path: str, metadata: Any) -> Any:
        self.opened_for_write.append(path)
        sink: Any = open(path, "wb")  # noqa: SIM115 (closed by pyarrow)
        if self.fail_after_bytes is not None and path.endswith(".tmp"):
            sink = _FailingFile(sink, self.fail_after_bytes)
        return pa.PythonFile(sink, mode="w")

    def open_append_stream(self, path: str, metadata: Any) -> Any:
        raise NotImplementedError


class _FailingFile(io.RawIOBase):
    def __init__(self, sink: io.BufferedWriter, limit: int) -> None:
        self.sink, self.limit, self.written = sink, limit, 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.written += len(data)
        if self.written > self.limit:
            raise OSError(28, "No space left on device (simulated)")
        return self.sink.write(data)

    def close(self) -> None:
        self.sink.close()
        super().close()


def test_parquet_appears_only_by_rename_of_a_complete_temp_file(tmp_path: Path) -> None:
    handler = _WatchingHandler()
    fs = pafs.PyFileSystem(handler)
    segment = str(tmp_path / "20260302T000000.000000Z-binance-0000.arrow")
    write_segment(fs, segment, rows_to_batches(sample_rows(200), 50))
    result = compact_segment(fs, segment)
    final = str(tmp_path / "20260302T000000.000000Z-binance-0000.parquet")
    assert result.parquet == final
    assert final not in handler.opened_for_write
    assert handler.moves == [(final + ".tmp", final)]
    assert pq.read_metadata(final).num_rows == 200


def test_failed_conversion_leaves_no_parquet_and_keeps_the_segment(tmp_path: Path) -> None:
    fs = pafs.PyFileSystem(_WatchingHandler(fail_after_bytes=2000))
    segment = str(tmp_path / "20260302T000000.000000Z-binance-0000.arrow")
    write_segment(fs, segment, rows_to_batches(sample_rows(300), 50))
    before = Path(segment).read_bytes()
    with pytest.raises(CompactionError, match=r"binance-0000\.arrow.*segment kept"):
        compact_segment(fs, segment)
    assert sorted(p.name for p in tmp_path.iterdir()) == [Path(segment).name]
    assert Path(segment).read_bytes() == before


def test_write_sorted_parquet_accepts_any_batching(tmp_path: Path) -> None:
    fs = pafs.LocalFileSystem()
    rows = sample_rows(100)
    one = pa.Table.from_batches(rows_to_batches(rows, 100), schema=SCHEMA)
    many = pa.Table.from_batches(rows_to_batches(rows, 9), schema=SCHEMA)
    write_sorted_parquet(fs, one, str(tmp_path / "a.parquet"))
    write_sorted_parquet(fs, many, str(tmp_path / "b.parquet"))
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
