"""One total order over all rows: ``(recv_ns, exchange, conn_id, seq)``, in bounded memory.

The order depends only on row contents, never on file names, rotation, batch sizes, row order
inside files or dictionary encodings. Rows that tie on the whole merge key (only duplicated data
can) are ordered by ``stream``, ``kind``, ``payload``, ``req_ns``, ``binary``, so even then the
output is a function of the data alone.

How memory stays flat as a day grows: every file part (a Parquet row group, an Arrow segment)
knows its ``recv_ns`` range before it is read. Parts are opened only when the watermark reaches
their first row, sorted once (vectorized, numpy/pyarrow), and consumed window by window: each
window takes, from every open part, the rows below a limit chosen so that no part gives more than
about ``window_rows / open parts`` rows and no unopened part could hold a row below it. A window's
rows are then sorted together, also vectorized. So resident memory is the parts that overlap in
time plus one window, whatever the length of the day.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ticktape.replay.reader import Part, RecordingFile, read_part

DEFAULT_WINDOW_ROWS: Final = 65_536

_TIE_SORT_KEYS: Final = [
    ("recv_ns", "ascending"),
    ("exchange", "ascending"),
    ("conn_id", "ascending"),
    ("seq", "ascending"),
    ("stream", "ascending"),
    ("kind", "ascending"),
    ("payload", "ascending"),
    ("req_ns", "ascending"),
    ("binary", "ascending"),
]


def key_order(table: pa.Table) -> np.ndarray | None:
    """Return the permutation that sorts ``table`` by the merge key, or None if already sorted.

    Fast path: a stable numpy sort on ``recv_ns``; rows that share a ``recv_ns`` (frames from
    one socket read, or two exchanges in the same nanosecond) are then re-sorted among
    themselves on the full key with pyarrow.
    """
    recv = table.column("recv_ns").to_numpy()
    if len(recv) < 2 or bool(np.all(recv[1:] > recv[:-1])):
        return None
    order = np.argsort(recv, kind="stable")
    sorted_recv = recv[order]
    same = sorted_recv[1:] == sorted_recv[:-1]
    if same.any():
        tied = np.zeros(len(recv), dtype=bool)
        tied[1:] |= same
        tied[:-1] |= same
        positions = np.flatnonzero(tied)  # whole groups of equal recv_ns, in recv_ns order
        rows = order[positions]
        order[positions] = rows[_full_key_order(table.take(rows))]
    if bool(np.all(order[1:] > order[:-1])):
        return None
    return order


def _full_key_order(table: pa.Table) -> np.ndarray:
    """Sort rows on the full key plus tie-breakers (pyarrow cannot sort dictionary columns)."""
    keys = pa.table(
        {
            name: table.column(name).cast(pa.string())
            if pa.types.is_dictionary(table.column(name).type)
            else table.column(name)
            for name, _ in _TIE_SORT_KEYS
        }
    )
    return pc.sort_indices(keys, sort_keys=_TIE_SORT_KEYS).to_numpy()


def sort_rows(table: pa.Table) -> pa.Table:
    """``table`` sorted by the merge key (a no-op copy-free return when already sorted)."""
    order = key_order(table)
    return table if order is None else table.take(order)


class _OpenPart:
    """A part being consumed: its rows sorted by the key, and how far the merge has read."""

    __slots__ = ("pos", "recv", "rows", "table")

    def __init__(self, table: pa.Table) -> None:
        self.table = sort_rows(table)
        self.recv = self.table.column("recv_ns").to_numpy()
        self.rows = self.table.num_rows
        self.pos = 0


def merged_windows(
    files: Sequence[RecordingFile], window_rows: int = DEFAULT_WINDOW_ROWS
) -> Iterator[pa.Table]:
    """Yield the rows of ``files`` as tables in merge-key order (each window after the last).

    Window sizes vary (they depend on how parts overlap), never the order of the rows.
    """
    pending: list[tuple[int, str, int, RecordingFile, Part]] = sorted(
        (part.min_recv_ns, recording.path, part.index, recording, part)
        for recording in files
        for part in recording.parts
    )
    pending.reverse()  # pop() from the end = earliest part
    opened: list[_OpenPart] = []
    while opened or pending:
        while not opened and pending:
            _open_next(pending, opened)
        if not opened:
            return
        low = min(int(p.recv[p.pos]) for p in opened)
        per_part = max(1, window_rows // len(opened))
        limit: int | None = None  # exclusive upper bound on recv_ns; None = everything
        for part in opened:
            if part.pos + per_part < part.rows:
                bound = int(part.recv[part.pos + per_part])
                limit = bound if limit is None else min(limit, bound)
        if pending:
            limit = pending[-1][0] if limit is None else min(limit, pending[-1][0])
        if limit is not None:
            limit = max(limit, low + 1)  # always progress, even through a run of equal recv_ns
            while pending and pending[-1][0] < limit:
                _open_next(pending, opened)
        slices = []
        for part in opened:
            end = part.rows if limit is None else int(np.searchsorted(part.recv, limit, "left"))
            if end > part.pos:
                slices.append(part.table.slice(part.pos, end - part.pos))
                part.pos = end
        opened = [p for p in opened if p.pos < p.rows]
        if not slices:
            continue
        if len(slices) == 1:
            yield slices[0]  # one sorted part: already in order
            continue
        window = pa.concat_tables(slices)
        order = key_order(window)
        yield window if order is None else window.take(order)


def _open_next(
    pending: list[tuple[int, str, int, RecordingFile, Part]], opened: list[_OpenPart]
) -> None:
    _, _, _, recording, part = pending.pop()
    table = read_part(recording, part)
    if table.num_rows:
        opened.append(_OpenPart(table))
