"""Segment → Parquet: turn a closed (or crash-left) IPC segment into its final zstd Parquet file.

Layout of the Parquet file, and why:

* Rows are sorted by :data:`SORT_KEY` ``(stream, recv_ns, conn_id, seq)``. Frames of one stream
  are alike, so grouping them lets zstd find long matches (≈25-45% smaller than arrival order;
  see the storage size test). ``(conn_id, seq)`` is unique within an exchange, so the order, and
  hence the file's bytes, depend only on the rows: never on batch sizes, rotation or dictionary
  order. Replay re-sorts on the merge key anyway.
* ``payload`` is never dictionary-encoded (frames are almost all distinct, a dictionary only costs
  time and a fallback); ``recv_ns`` and ``seq`` use DELTA_BINARY_PACKED (sorted per stream, their
  deltas are small); the low-cardinality columns use dictionaries.
* Row groups hold about :data:`ROW_GROUP_PAYLOAD_BYTES` of payload, sized from the data alone.
* The segment's schema metadata (schema version, exchange, host, config, ...) is kept, plus
  :data:`META_SORT_KEY`.
* The file is written under a temporary name and published atomically
  (:func:`ticktape.recorder.storage.staged_output`); only then is the segment deleted.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from ticktape.recorder import storage
from ticktape.recorder.segment import read_segment
from ticktape.schema import PARQUET_SUFFIX, SEGMENT_SUFFIX, SchemaError

SORT_KEY = ("stream", "recv_ns", "conn_id", "seq")
META_SORT_KEY = b"ticktape.sort_key"
"""Parquet key-value metadata: the comma-separated row order of the file."""

DEFAULT_ZSTD_LEVEL = 1
"""zstd level 1: on generated Binance-like frames, levels 3 and 6 were within ±4% in size at
1.3-3x the time; 9 was 11% smaller at 5x the time."""

ROW_GROUP_PAYLOAD_BYTES = 64 << 20
MIN_ROW_GROUP_ROWS = 16_384
MAX_ROW_GROUP_ROWS = 1 << 20

_DICTIONARY_ENCODED = ["exchange", "stream", "conn_id", "kind", "req_ns", "binary"]
_DELTA_ENCODED = {"recv_ns": "DELTA_BINARY_PACKED", "seq": "DELTA_BINARY_PACKED"}
_MAX_BINARY_BYTES = (1 << 31) - 1


class CompactionError(RuntimeError):
    """A segment could not be converted; it was left in place, untouched."""

    def __init__(self, segment: str, reason: str) -> None:
        super().__init__(f"{segment}: could not convert to Parquet ({reason}); segment kept")
        self.segment = segment


@dataclass(frozen=True, slots=True)
class CompactionResult:
    """Outcome of :func:`compact_segment`.

    ``parquet`` is None when the segment held no readable row (it was then removed).
    ``stopped_early`` is set when an unreadable tail was dropped (what and where).
    """

    segment: str
    parquet: str | None
    rows: int
    batches: int
    stopped_early: str | None


def parquet_path_for(segment_path: str) -> str:
    """``.../<stem>.arrow`` → ``.../<stem>.parquet``."""
    if not segment_path.endswith(SEGMENT_SUFFIX):
        raise ValueError(f"{segment_path}: not a segment (expected *{SEGMENT_SUFFIX})")
    return segment_path[: -len(SEGMENT_SUFFIX)] + PARQUET_SUFFIX


def compact_segment(
    fs: pafs.FileSystem, segment_path: str, *, compression_level: int = DEFAULT_ZSTD_LEVEL
) -> CompactionResult:
    """Convert ``segment_path`` to Parquet next to it, then delete the segment.

    Reads up to the last complete batch. A segment with no readable row (an empty file, or a
    schema with no complete batch after it) is deleted and reported with ``parquet=None``.
    Raises :class:`CompactionError` (segment kept) if the file is not a ticktape recording or
    anything fails before the Parquet file is published. Overwrites a Parquet file of the same
    name (left by a crash between publish and delete: same rows, so the same content).
    """
    try:
        contents = read_segment(fs, segment_path)
    except SchemaError as exc:
        raise CompactionError(segment_path, str(exc)) from exc
    except OSError as exc:
        raise CompactionError(segment_path, f"cannot read: {exc}") from exc

    if contents.schema is None and contents.file_bytes > 0:
        raise CompactionError(
            segment_path,
            f"{contents.stopped_early}; {contents.file_bytes} bytes that are not an Arrow IPC "
            "stream: move the file out of the recording folder to continue",
        )
    parquet_path: str | None = None
    if contents.num_rows:
        assert contents.schema is not None
        parquet_path = parquet_path_for(segment_path)
        table = pa.Table.from_batches(contents.batches, schema=contents.schema)
        try:
            write_sorted_parquet(fs, table, parquet_path, compression_level=compression_level)
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise CompactionError(segment_path, f"writing {parquet_path} failed: {exc}") from exc
    try:
        storage.delete_file(fs, segment_path)
    except OSError as exc:
        raise CompactionError(segment_path, f"published but could not delete: {exc}") from exc
    return CompactionResult(
        segment=segment_path,
        parquet=parquet_path,
        rows=contents.num_rows,
        batches=len(contents.batches),
        stopped_early=contents.stopped_early,
    )


def write_sorted_parquet(
    fs: pafs.FileSystem,
    table: pa.Table,
    final_path: str,
    *,
    compression_level: int = DEFAULT_ZSTD_LEVEL,
) -> None:
    """Write ``table`` (any batching) sorted by :data:`SORT_KEY` to ``final_path``, atomically.

    The output bytes depend only on the rows and the schema metadata of ``table``.
    """
    schema = table.schema
    metadata = dict(schema.metadata or {})
    metadata[META_SORT_KEY] = ",".join(SORT_KEY).encode()
    schema = schema.with_metadata(metadata)

    plain = _plain_columns(table).combine_chunks()
    order = pc.sort_indices(plain.select(list(SORT_KEY)), [(k, "ascending") for k in SORT_KEY])
    rows_per_group = _rows_per_group(plain)
    sorting = [pq.SortingColumn(schema.get_field_index(k)) for k in SORT_KEY]
    with storage.staged_output(fs, final_path) as sink:
        writer = pq.ParquetWriter(
            sink,
            schema,
            compression="zstd",
            compression_level=compression_level,
            use_dictionary=[c for c in _DICTIONARY_ENCODED if c in schema.names],
            column_encoding={c: e for c, e in _DELTA_ENCODED.items() if c in schema.names},
            sorting_columns=sorting,
        )
        try:
            for start in range(0, plain.num_rows, rows_per_group):
                group = plain.take(order.slice(start, rows_per_group))
                writer.write_table(_restore_types(group, schema), row_group_size=rows_per_group)
        finally:
            writer.close()


def _plain_columns(table: pa.Table) -> pa.Table:
    """Dictionary columns → their value type; binary too large for int32 offsets → large_binary.

    Sorting needs plain strings, and per-batch dictionaries must not leak into the output.
    """
    columns = []
    for field, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_dictionary(field.type):
            column = column.cast(field.type.value_type)
        elif pa.types.is_binary(field.type) and column.nbytes > _MAX_BINARY_BYTES:
            column = column.cast(pa.large_binary())
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.schema.names)


def _restore_types(group: pa.Table, schema: pa.Schema) -> pa.Table:
    """Back to the segment's types, dictionaries rebuilt in first-appearance order of ``group``."""
    columns = []
    for field, column in zip(schema, group.columns, strict=True):
        if pa.types.is_dictionary(field.type):
            column = pc.dictionary_encode(column).cast(field.type)
        elif column.type != field.type:
            column = column.cast(field.type)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=schema)


def _rows_per_group(plain: pa.Table) -> int:
    """Rows per row group for about ROW_GROUP_PAYLOAD_BYTES of payload (from the data only)."""
    rows = plain.num_rows
    payload_bytes = 0
    if "payload" in plain.schema.names and rows:
        with contextlib.suppress(pa.ArrowException):
            payload_bytes = int(pc.sum(pc.binary_length(plain.column("payload"))).as_py() or 0)
    per_row = max(1, payload_bytes // max(rows, 1))
    return max(MIN_ROW_GROUP_ROWS, min(MAX_ROW_GROUP_ROWS, ROW_GROUP_PAYLOAD_BYTES // per_row))
