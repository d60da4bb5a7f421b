"""The rotating writer: one exchange's rows → IPC segments → Parquet files, one UTC day per folder.

Contract:

* :meth:`RotatingWriter.write` appends a ``RECORD_SCHEMA`` batch to the open segment and flushes
  it to the OS, so a reader (``replay``, ``analysis``) opening the segment sees every batch
  written so far, and a killed process loses nothing already written.
* A segment holds rows of one UTC day only. A batch is split by ``recv_ns`` at UTC midnight (and
  at the time-rotation deadline); rows at or after the boundary go to a new segment, in the new
  day's folder. Rows that arrive late for a day already closed (a slower connection, same
  flush) go to a short segment of their own in that day's folder, so the rule still holds.
* Rotation: when a row reaches ``first_recv_ns + rotate_interval_s`` of the segment (judged on
  incoming rows and on :meth:`tick`, so an idle feed still rotates), when the segment reaches
  ``rotate_bytes`` (checked after each batch), and at UTC midnight.
* A rotated segment is converted to Parquet by :func:`~ticktape.recorder.compaction.compact_segment`
  on one background thread (pyarrow releases the GIL), so writes never wait for it;
  :meth:`close` waits for every conversion. A failed conversion leaves its segment on disk for
  :func:`~ticktape.recorder.recovery.recover` and is raised by :meth:`close`.

Not thread-safe: one thread calls ``write``/``tick``/``rotate``/``close``.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import socket
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from importlib import metadata as importlib_metadata
from types import TracebackType

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs

from ticktape.recorder import storage
from ticktape.recorder.compaction import (
    DEFAULT_ZSTD_LEVEL,
    CompactionError,
    CompactionResult,
    compact_segment,
    parquet_path_for,
)
from ticktape.recorder.segment import (
    NS_PER_DAY,
    NS_PER_SECOND,
    SegmentWriter,
    day_folder,
    file_stem,
)
from ticktape.schema import (
    FILE_NAME_RE,
    META_EXCHANGE,
    META_HOST,
    META_RECORDER_VERSION,
    META_SCHEMA_VERSION,
    RECORD_SCHEMA,
    SCHEMA_VERSION,
    SEGMENT_SUFFIX,
    SchemaError,
)

log = logging.getLogger(__name__)

DEFAULT_ROTATE_BYTES = 512 << 20


class WriterError(RuntimeError):
    """The writer was misused (closed, bad configuration) or conversions failed at close."""


class RotatingWriter:
    """Writes one exchange's recording under ``root``; see the module docstring for the contract.

    ``metadata`` goes into every file (Arrow schema metadata, then Parquet key-value metadata);
    the schema version and exchange are always set, host and recorder version unless given.
    ``filesystem`` defaults to the local disk (or what a URI ``root`` names).
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        exchange: str,
        *,
        rotate_interval_s: float = 3600,
        rotate_bytes: int = DEFAULT_ROTATE_BYTES,
        metadata: dict[bytes, bytes] | None = None,
        filesystem: pafs.FileSystem | None = None,
        compression_level: int = DEFAULT_ZSTD_LEVEL,
    ) -> None:
        if FILE_NAME_RE.match(f"20000101T000000.000000Z-{exchange}-0000.arrow") is None:
            raise WriterError(f"exchange name {exchange!r} must be lowercase letters and digits")
        if rotate_interval_s <= 0 or rotate_bytes <= 0:
            raise WriterError("rotate_interval_s and rotate_bytes must be positive")
        self.fs, self.root = storage.resolve(root, filesystem)
        self.exchange = exchange
        self.rotate_interval_ns = int(rotate_interval_s * NS_PER_SECOND)
        self.rotate_bytes = rotate_bytes
        self.compression_level = compression_level
        self.schema = RECORD_SCHEMA.with_metadata(_file_metadata(exchange, metadata))
        self._segment: SegmentWriter | None = None
        self._boundary_ns = 0
        self._closed = False
        self._lock = threading.Lock()
        self._files: list[str] = []
        self._failures: list[CompactionError] = []
        self._pending: list[Future[CompactionResult]] = []
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ticktape-compact")
        self.bytes_written = 0
        """IPC bytes written to segments so far (all segments, closed and open)."""
        self.rows_written = 0
        """Rows written to segments so far."""

    # -- public surface -------------------------------------------------------------------

    @property
    def current_segment(self) -> str | None:
        """Path of the open segment, or None between rotation and the next row."""
        return self._segment.path if self._segment is not None else None

    @property
    def files_written(self) -> list[str]:
        """Parquet files published so far, in completion order (a copy)."""
        with self._lock:
            return list(self._files)

    @property
    def pending_conversions(self) -> int:
        """Rotated segments not yet converted (a growing number means conversion lags)."""
        return sum(not f.done() for f in self._pending)

    @property
    def conversion_errors(self) -> list[CompactionError]:
        """Conversions that failed so far (their segments are still on disk)."""
        with self._lock:
            return list(self._failures)

    def write(self, batch: pa.RecordBatch) -> None:
        """Append ``batch`` (``RECORD_SCHEMA`` columns, any row order) and flush it to the OS."""
        self._check_open()
        batch = _conform(batch)
        self._check_exchange(batch)
        while batch.num_rows:
            recv = batch.column(0)
            bounds = pc.min_max(recv)
            lo, hi = bounds["min"].as_py(), bounds["max"].as_py()
            if self._segment is None:
                self._open(lo)
            segment = self._segment
            assert segment is not None
            if lo < segment.day_start_ns:
                late = pc.less(recv, segment.day_start_ns)
                self._write_late(batch.filter(late))
                batch = batch.filter(pc.invert(late))
                continue
            if hi < self._boundary_ns:
                self._append(batch)
                return
            head = pc.less(recv, self._boundary_ns)
            self._append(batch.filter(head))
            self.rotate()
            batch = batch.filter(pc.invert(head))

    def tick(self, now_ns: int) -> None:
        """Rotate if the open segment's deadline or UTC midnight has passed at ``now_ns``."""
        self._check_open()
        if self._segment is not None and now_ns >= self._boundary_ns:
            self.rotate()

    def rotate(self) -> None:
        """Close the open segment (if any) and queue its conversion to Parquet."""
        segment, self._segment = self._segment, None
        if segment is None:
            return
        try:
            segment.close()
        finally:
            self._submit(segment.path)

    def _submit(self, segment_path: str) -> None:
        future = self._executor.submit(
            compact_segment, self.fs, segment_path, compression_level=self.compression_level
        )
        future.add_done_callback(functools.partial(self._conversion_done, segment_path))
        self._pending = [f for f in self._pending if not f.done()]
        self._pending.append(future)

    def close(self) -> None:
        """Rotate, wait for every conversion, stop the background thread.

        Raises :class:`WriterError` listing the segments whose conversion failed (they are still
        on disk; :func:`~ticktape.recorder.recovery.recover` retries them). Idempotent.
        """
        if self._closed:
            return
        try:
            self.rotate()
        finally:
            self._closed = True
            self._executor.shutdown(wait=True)
        failures = self.conversion_errors
        if failures:
            raise WriterError(
                f"{len(failures)} segment(s) not converted to Parquet (kept; run recovery): "
                + "; ".join(str(f) for f in failures)
            )

    def __enter__(self) -> RotatingWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- internals ------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise WriterError(f"writer for {self.exchange} under {self.root} is closed")

    def _check_exchange(self, batch: pa.RecordBatch) -> None:
        column = batch.column(1)
        dictionary = column.dictionary
        if len(dictionary) == 1 and dictionary[0].as_py() == self.exchange:
            return
        used = set(pc.unique(column.dictionary_decode()).to_pylist()) if len(column) else set()
        if used - {self.exchange}:
            raise SchemaError(
                f"batch holds rows of exchange(s) {sorted(used - {self.exchange})}; "
                f"this writer records {self.exchange!r} only"
            )

    def _open(self, first_recv_ns: int) -> None:
        folder = storage.join(self.root, day_folder(first_recv_ns))
        storage.make_dir(self.fs, folder)
        path = self._free_segment_path(folder, first_recv_ns)
        self._segment = SegmentWriter(self.fs, path, self.schema, first_recv_ns)
        self.bytes_written += self._segment.nbytes
        next_midnight = first_recv_ns - first_recv_ns % NS_PER_DAY + NS_PER_DAY
        self._boundary_ns = min(first_recv_ns + self.rotate_interval_ns, next_midnight)

    def _free_segment_path(self, folder: str, first_recv_ns: int) -> str:
        """Lowest part number whose segment, Parquet and temporary names are all unused."""
        part = 0
        while True:
            path = storage.join(folder, file_stem(first_recv_ns, self.exchange, part))
            path += SEGMENT_SUFFIX
            final = parquet_path_for(path)
            if not storage.any_exists(self.fs, [path, final, storage.temp_path(final)]):
                return path
            part += 1

    def _append(self, batch: pa.RecordBatch) -> None:
        segment = self._segment
        assert segment is not None
        if not batch.num_rows:
            return
        before = segment.nbytes
        try:
            segment.write(batch)
        except BaseException:
            # The file may now end in a partial batch: never append after it. Convert what is
            # readable (recovery does the same if this fails too) and start afresh next time.
            self._segment = None
            with contextlib.suppress(Exception):
                segment.close()
            self._submit(segment.path)
            raise
        self.bytes_written += segment.nbytes - before
        self.rows_written += batch.num_rows
        if segment.nbytes >= self.rotate_bytes:
            self.rotate()

    def _write_late(self, batch: pa.RecordBatch) -> None:
        """Rows older than the open segment's day: each day's share in a segment of its own."""
        log.warning(
            "%s: %d row(s) arrived after their UTC day was closed; writing them to a separate "
            "segment in that day's folder",
            self.exchange,
            batch.num_rows,
        )
        current, self._segment = self._segment, None
        saved_boundary = self._boundary_ns
        try:
            while batch.num_rows:
                recv = batch.column(0)
                lo = pc.min(recv).as_py()
                day_end = lo - lo % NS_PER_DAY + NS_PER_DAY
                mine = pc.less(recv, day_end)
                self._open(lo)
                self._append(batch.filter(mine))
                self.rotate()
                batch = batch.filter(pc.invert(mine))
        finally:
            self._segment, self._boundary_ns = current, saved_boundary

    def _conversion_done(self, segment_path: str, future: Future[CompactionResult]) -> None:
        exc = future.exception()
        with self._lock:
            if exc is None:
                result = future.result()
                if result.parquet is not None:
                    self._files.append(result.parquet)
                return
            error = (
                exc
                if isinstance(exc, CompactionError)
                else CompactionError(segment_path, repr(exc))
            )
            self._failures.append(error)
        log.error("%s", error)


def _conform(batch: pa.RecordBatch) -> pa.RecordBatch:
    """``batch`` with exactly ``RECORD_SCHEMA`` (nullability and metadata may differ on input)."""
    if batch.schema.equals(RECORD_SCHEMA, check_metadata=False):
        return batch
    if batch.schema.names == RECORD_SCHEMA.names and batch.schema.types == RECORD_SCHEMA.types:
        return pa.RecordBatch.from_arrays(batch.columns, schema=RECORD_SCHEMA)
    got = ", ".join(f"{f.name}: {f.type}" for f in batch.schema)
    want = ", ".join(f"{f.name}: {f.type}" for f in RECORD_SCHEMA)
    raise SchemaError(f"batch does not match recording schema v1: got ({got}); expected ({want})")


def _file_metadata(exchange: str, extra: dict[bytes, bytes] | None) -> dict[bytes, bytes]:
    metadata = dict(extra or {})
    metadata[META_SCHEMA_VERSION] = str(SCHEMA_VERSION).encode()
    metadata[META_EXCHANGE] = exchange.encode()
    metadata.setdefault(META_HOST, socket.gethostname().encode())
    if META_RECORDER_VERSION not in metadata:
        try:
            version = importlib_metadata.version("ticktape")
        except importlib_metadata.PackageNotFoundError:
            version = "unknown"
        metadata[META_RECORDER_VERSION] = version.encode()
    return metadata
