"""Read a live Arrow IPC segment up to its last complete record batch.

The recorder appends record batches to an IPC *stream* and flushes at least once a second, so at
any moment the file may end in the middle of a batch (or even of the schema message, for a segment
created a moment ago). Everything before the torn tail is valid and is returned; the tail is
ignored, never an error. A segment whose complete part is not a schema-v1 recording is an error
naming the file.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc

from ticktape.analysis.errors import SourceError
from ticktape.schema import RECORD_SCHEMA, SchemaError, check_schema


def read_segment(path: Path) -> pa.Table:
    """All complete batches of the segment at ``path`` as one table (possibly empty).

    The result has the segment's own schema (a superset of :data:`RECORD_SCHEMA`); an empty or
    header-truncated segment yields an empty table with :data:`RECORD_SCHEMA`.
    """
    try:
        source = pa.OSFile(str(path), "rb")  # reads copy: the writer may rotate the file
    except OSError as exc:
        raise SourceError(f"{path}: cannot open live segment ({exc})") from exc
    with source:
        try:
            reader = ipc.open_stream(source)
        except (pa.ArrowException, OSError, EOFError, ValueError):
            # Zero bytes, or the schema message itself is still being written.
            return RECORD_SCHEMA.empty_table()
        try:
            check_schema(reader.schema, str(path))
        except SchemaError as exc:
            raise SourceError(str(exc)) from exc
        batches: list[pa.RecordBatch] = []
        while True:
            try:
                batches.append(reader.read_next_batch())
            except StopIteration:
                break
            except (pa.ArrowException, OSError, EOFError, ValueError):
                break  # torn or garbage tail (writer mid-batch): keep the complete batches
        return pa.Table.from_batches(batches, schema=reader.schema)
