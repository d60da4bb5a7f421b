"""The open segment: an Arrow IPC stream file that is readable up to its last flush.

A segment is ``<root>/<YYYY-MM-DD>/<start>-<exchange>-<part>.arrow`` (names from
:mod:`ticktape.schema`). It is written by :class:`SegmentWriter` and read, while open or after a
crash, by :func:`read_segment`, which keeps every complete batch and stops at the first message
that is cut short or does not decode (the tail a crash can leave). The IPC *stream* format (not
the file format) is used because it needs no footer: every flushed prefix is a valid stream, and
each batch may carry its own dictionaries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.ipc as ipc

from ticktape.recorder import storage
from ticktape.schema import check_schema

NS_PER_SECOND = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_SECOND


def day_start_ns(recv_ns: int) -> int:
    """Start of the UTC day holding ``recv_ns`` (ns since the epoch)."""
    return recv_ns - recv_ns % NS_PER_DAY


def day_folder(recv_ns: int) -> str:
    """``YYYY-MM-DD`` of the UTC day holding ``recv_ns``."""
    return _utc(recv_ns).strftime("%Y-%m-%d")


def start_stamp(recv_ns: int) -> str:
    """``YYYYMMDDTHHMMSS.ffffffZ`` (UTC, microseconds, truncated): sorts in time order."""
    micros = (recv_ns % NS_PER_SECOND) // 1000
    return f"{_utc(recv_ns):%Y%m%dT%H%M%S}.{micros:06d}Z"


def file_stem(recv_ns: int, exchange: str, part: int) -> str:
    """``<start>-<exchange>-<part>``, the name of a segment and its Parquet file, less suffix."""
    return f"{start_stamp(recv_ns)}-{exchange}-{part:04d}"


def _utc(recv_ns: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(recv_ns // NS_PER_SECOND, dt.UTC)


class SegmentWriter:
    """Appends batches to one new IPC stream file; each :meth:`write` is flushed to the OS.

    ``first_recv_ns`` is the smallest ``recv_ns`` of the segment's first batch (its name and
    its rotation deadline derive from it). Owned by one thread.
    """

    def __init__(
        self, fs: pafs.FileSystem, path: str, schema: pa.Schema, first_recv_ns: int
    ) -> None:
        self.fs = fs
        self.path = path
        self.first_recv_ns = first_recv_ns
        self.day_start_ns = day_start_ns(first_recv_ns)
        self.rows = 0
        self.nbytes = 0
        self._sink = storage.open_output(fs, path)
        try:
            self._writer = ipc.new_stream(self._sink, schema)
            self._sink.flush()
        except BaseException:
            self._sink.close()
            raise
        self.nbytes = self._sink.tell()

    def write(self, batch: pa.RecordBatch) -> None:
        """Append ``batch`` and flush, so a reader opening the file now sees it."""
        self._writer.write_batch(batch)
        self._sink.flush()
        self.rows += batch.num_rows
        self.nbytes = self._sink.tell()

    def close(self) -> None:
        """Write the end-of-stream marker and close the file."""
        try:
            self._writer.close()
        finally:
            self._sink.close()


@dataclass(frozen=True, slots=True)
class SegmentContents:
    """What :func:`read_segment` could read.

    ``schema`` is None if not even the schema message was readable (then ``batches`` is empty).
    ``stopped_early`` says why reading ended before the end of the file (None if the file ended
    cleanly on a batch boundary or with the end-of-stream marker). ``readable_bytes`` is the
    length of the prefix that was read (schema and batches), ``file_bytes`` the file's size.
    """

    path: str
    schema: pa.Schema | None
    batches: list[pa.RecordBatch]
    stopped_early: str | None
    readable_bytes: int
    file_bytes: int

    @property
    def num_rows(self) -> int:
        return sum(b.num_rows for b in self.batches)


def read_segment(fs: pafs.FileSystem, path: str) -> SegmentContents:
    """Read every complete batch of a segment, tolerating a truncated or garbage tail.

    Works on a segment that is still being written (it sees what was flushed). Raises
    :class:`~ticktape.schema.SchemaError` if the file is a readable IPC stream that is not a
    schema-v1 recording (never treat someone else's file as a damaged recording), and
    :class:`OSError` if the file cannot be opened.
    """
    with storage.open_input(fs, path) as source:
        file_bytes = source.size()
        try:
            reader = ipc.open_stream(source)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, EOFError, OSError) as exc:
            return SegmentContents(path, None, [], f"no readable schema: {exc}", 0, file_bytes)
        check_schema(reader.schema, path)
        batches: list[pa.RecordBatch] = []
        stopped: str | None = None
        readable = source.tell()
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                readable = source.tell()
                break
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, EOFError, OSError) as exc:
                stopped = f"after batch {len(batches)}: {exc}"
                break
            try:
                batch.validate(full=True)
            except pa.ArrowInvalid as exc:
                stopped = f"batch {len(batches)} is corrupt: {exc}"
                break
            batches.append(batch)
            readable = source.tell()
        if stopped is not None:
            stopped += f" ({file_bytes - readable} of {file_bytes} bytes unreadable)"
        return SegmentContents(path, reader.schema, batches, stopped, readable, file_bytes)
