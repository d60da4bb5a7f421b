"""Read a live Arrow IPC segment up to its last complete record batch.

The recorder appends record batches to an IPC *stream* and flushes at least once a second, so at
any moment the file may end in the middle of a batch (or even of the schema message, for a segment
created a moment ago). Everything before the torn tail is valid and is returned; the tail (cut
short, or failing full validation, as after a crash) is ignored, never an error. A file that is
not an IPC stream at all, or whose schema is not schema v1, is an error naming the file.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc

from ticktape.analysis.errors import SourceError
from ticktape.schema import RECORD_SCHEMA, SchemaError, check_schema


class SegmentGone(SourceError):
    """The segment disappeared after it was listed: the recorder rotated it to Parquet."""


def read_segment(path: Path) -> pa.Table:
    """All complete batches of the segment at ``path`` as one table (possibly empty).

    The result has the segment's own schema (a superset of :data:`RECORD_SCHEMA`); an empty or
    header-truncated segment yields an empty table with :data:`RECORD_SCHEMA`.
    """
    try:
        source = pa.OSFile(str(path), "rb")  # reads copy: the writer may rotate the file
    except FileNotFoundError as exc:
        raise SegmentGone(f"{path}: live segment was rotated away while reading") from exc
    except OSError as exc:
        raise SourceError(f"{path}: cannot open live segment ({exc})") from exc
    with source:
        try:
            reader = ipc.open_stream(source)
        except (pa.ArrowException, OSError, EOFError, ValueError) as exc:
            if _starts_like_ipc(path):
                return RECORD_SCHEMA.empty_table()  # the schema message is still being written
            raise SourceError(f"{path}: not an Arrow IPC stream ({exc})") from exc
        try:
            check_schema(reader.schema, str(path))
        except SchemaError as exc:
            raise SourceError(str(exc)) from exc
        batches: list[pa.RecordBatch] = []
        while True:
            try:
                batch = reader.read_next_batch()
                batch.validate(full=True)
            except StopIteration:
                break
            except (pa.ArrowException, OSError, EOFError, ValueError):
                break  # torn or garbage tail (writer mid-batch): keep the complete batches
            batches.append(batch)
        return pa.Table.from_batches(batches, schema=reader.schema)


_IPC_CONTINUATION = b"\xff\xff\xff\xff"


def _starts_like_ipc(path: Path) -> bool:
    """Empty, or a prefix of an IPC stream (which begins with the continuation marker)."""
    with path.open("rb") as f:
        head = f.read(4)
    return _IPC_CONTINUATION.startswith(head)
