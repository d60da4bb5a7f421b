"""One total order over all rows: ``(recv_ns, exchange, conn_id, seq)``, in bounded memory.

The order depends only on row contents, never on file names, rotation, batch sizes, row order
inside files or dictionary encodings. Rows that tie on the whole merge key (only duplicated data
can) are ordered by ``stream``, ``kind``, ``payload``, ``req_ns``, ``binary``, so even then the
output is a function of the data alone.

How memory stays flat as a day grows: every file part (a Parquet row group, an Arrow segment)
knows its ``recv_ns`` range before it is read. Parts are opened only when the watermark reaches
their first row, sorted once, and consumed window by window: each window takes, from every open
part, the rows below a limit chosen so that no part gives more than about ``window_rows / open
parts`` rows and no unopened part could hold a row below it; those rows are then sorted together.
Resident memory is the parts that overlap in time plus one window, whatever the length of the day.

How it stays fast: an opened part is turned once into numpy columns (:class:`Columns`), the three
string columns fused into one interned *route* id per row (:class:`Routes`: a distinct
``(kind, exchange, stream)``). Payloads stay in Arrow's buffers: a row holds the address and size
of its payload there (the Arrow arrays are kept alive by every :class:`Columns` that points into
them), so no ``bytes`` object exists for a row until someone asks for it (:meth:`Columns.payloads`;
making them all cost ~130 ns per row, more than decoding them in C). From then on, sorting,
slicing, concatenating and gathering are numpy operations on integer columns.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ticktape import schema
from ticktape._native import fastdecode
from ticktape.replay.reader import Part, RecordingFile, read_part

DEFAULT_WINDOW_ROWS: Final = 65_536
NO_REQ: Final = int(np.iinfo(np.int64).min)  # req_ns of rows that have none (WebSocket rows)


class Routes:
    """Interned ``(kind, exchange, stream)`` triples: a route id stands for all three strings.

    Shared by the merge (which assigns ids) and the driver (which precomputes what to do per id).
    Ids are assigned in order of first appearance, so they are *not* part of the replay order;
    only the strings are (see :meth:`exchange_rank`).
    """

    def __init__(self) -> None:
        self.kinds: list[str] = []
        self.exchanges: list[str] = []
        self.streams: list[str] = []
        self._ids: dict[tuple[str, str, str], int] = {}
        self._rank: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.kinds)

    def route_ids(self, table: pa.Table) -> np.ndarray:
        """One route id per row of a normalized table (dictionary-encoded string columns)."""
        kind, exchange, stream = (
            _dictionary(table, name) for name in ("kind", "exchange", "stream")
        )
        kinds, exchanges, streams = (a.dictionary.to_pylist() for a in (kind, exchange, stream))
        local = kind.indices.to_numpy().astype(np.int64) * len(exchanges)
        local += exchange.indices.to_numpy()
        local *= len(streams)
        local += stream.indices.to_numpy()
        present = np.flatnonzero(np.bincount(local, minlength=1))
        lookup = np.zeros(max(1, len(kinds) * len(exchanges) * len(streams)), dtype=np.int64)
        for code in present.tolist():
            rest, s = divmod(code, len(streams))
            k, e = divmod(rest, len(exchanges))
            lookup[code] = self.intern(kinds[k], exchanges[e], streams[s])
        return lookup[local]

    def intern(self, kind: str, exchange: str, stream: str) -> int:
        triple = (kind, exchange, stream)
        route = self._ids.get(triple)
        if route is None:
            route = self._ids[triple] = len(self.kinds)
            self.kinds.append(kind)
            self.exchanges.append(exchange)
            self.streams.append(stream)
            self._rank = None
        return route

    def exchange_rank(self) -> np.ndarray:
        """Per route id: the rank of its exchange name among all names (for the merge key)."""
        if self._rank is None:
            names = sorted(set(self.exchanges))
            position = {name: i for i, name in enumerate(names)}
            self._rank = np.array([position[e] for e in self.exchanges], dtype=np.int64)
        return self._rank


@dataclass(slots=True)
class Columns:
    """Rows as numpy columns: what the merge moves around and the driver consumes.

    ``route`` is a :class:`Routes` id; ``req`` holds :data:`NO_REQ` where ``req_ns`` is null;
    a row's payload is ``size`` bytes at address ``addr`` inside one of the Arrow arrays in
    ``keep`` (``size`` -1: a null payload). Get ``bytes`` with :meth:`payloads`.
    """

    recv: np.ndarray
    conn: np.ndarray
    seq: np.ndarray
    route: np.ndarray
    req: np.ndarray
    binary: np.ndarray
    addr: np.ndarray
    size: np.ndarray
    keep: tuple[pa.Array, ...] = ()

    def __len__(self) -> int:
        return len(self.recv)

    @classmethod
    def from_table(cls, table: pa.Table, routes: Routes) -> Columns:
        """Convert a normalized recording table (see ``reader.normalize``)."""
        chunks = table.column("payload").chunks  # located in place: no copy of the bytes
        located = [payload_locations(chunk) for chunk in chunks]
        addr = np.concatenate([a for a, _ in located]) if located else np.zeros(0, np.int64)
        size = np.concatenate([n for _, n in located]) if located else np.zeros(0, np.int64)
        return cls(
            recv=_int64(table, "recv_ns"),
            conn=_int64(table, "conn_id"),
            seq=_int64(table, "seq"),
            route=routes.route_ids(table),
            req=pc.fill_null(table.column("req_ns"), NO_REQ).to_numpy(),
            binary=table.column("binary").to_numpy(),
            addr=addr,
            size=size,
            keep=tuple(chunks),
        )

    def take(self, order: np.ndarray) -> Columns:
        return Columns(*(column[order] for column in self._columns()), keep=self.keep)

    def slice(self, start: int, stop: int) -> Columns:
        return Columns(*(column[start:stop] for column in self._columns()), keep=self.keep)

    @classmethod
    def concat(cls, parts: Sequence[Columns]) -> Columns:
        columns = zip(*(part._columns() for part in parts), strict=True)
        keep = {id(array): array for part in parts for array in part.keep}
        return cls(*(np.concatenate(column) for column in columns), keep=tuple(keep.values()))

    def _columns(self) -> tuple[np.ndarray, ...]:
        return (self.recv, self.conn, self.seq, self.route, self.req, self.binary, self.addr,
                self.size)  # fmt: skip

    def payloads(self, rows: np.ndarray | slice | None = None) -> list[bytes]:
        """The payloads of ``rows`` (default: every row) as ``bytes``, in order."""
        addr = self.addr if rows is None else self.addr[rows]
        size = self.size if rows is None else self.size[rows]
        return read_payloads(addr, size)

    def payload(self, row: int) -> bytes:
        return read_payloads(self.addr[row : row + 1], self.size[row : row + 1])[0]

    def to_table(self, routes: Routes) -> pa.Table:
        """Back to a schema-v1 Arrow table (plain strings become dictionary columns)."""
        route = self.route.tolist()
        return pa.table(
            {
                "recv_ns": pa.array(self.recv, pa.int64()),
                "exchange": pa.array([routes.exchanges[r] for r in route]).dictionary_encode(),
                "stream": pa.array([routes.streams[r] for r in route]).dictionary_encode(),
                "conn_id": pa.array(self.conn, pa.int64()),
                "seq": pa.array(self.seq, pa.int64()),
                "kind": pa.array([routes.kinds[r] for r in route]).dictionary_encode(),
                "req_ns": pa.array(self.req, pa.int64(), mask=self.req == NO_REQ),
                "binary": pa.array(self.binary, pa.bool_()),
                "payload": pa.array(self.payloads(), pa.binary()),
            }
        ).cast(schema.RECORD_SCHEMA)


def key_order(rows: Columns, routes: Routes) -> np.ndarray | None:
    """The permutation that sorts ``rows`` by the merge key, or None if already sorted.

    A stable numpy sort on ``recv_ns``; rows sharing a ``recv_ns`` (frames of one socket read,
    two exchanges in the same nanosecond) are then re-sorted among themselves on the full key.
    """
    recv = rows.recv
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
        order[positions] = _tie_order(rows, order[positions], routes)
    if bool(np.all(order[1:] > order[:-1])):
        return None
    return order


def _tie_order(rows: Columns, tied: np.ndarray, routes: Routes) -> np.ndarray:
    """Sort the row indices ``tied`` on the full key (``recv_ns`` ties are already grouped)."""
    recv, exchange = rows.recv[tied], routes.exchange_rank()[rows.route[tied]]
    conn, seq = rows.conn[tied], rows.seq[tied]
    order = np.lexsort((seq, conn, exchange, recv))
    tied = tied[order]
    recv, exchange, conn, seq = recv[order], exchange[order], conn[order], seq[order]
    duplicate = (
        (recv[1:] == recv[:-1])
        & (exchange[1:] == exchange[:-1])
        & (conn[1:] == conn[:-1])
        & (seq[1:] == seq[:-1])
    )
    if duplicate.any():
        tied = _order_duplicates(rows, tied, duplicate, routes)
    return tied


def _order_duplicates(
    rows: Columns, tied: np.ndarray, duplicate: np.ndarray, routes: Routes
) -> np.ndarray:
    """Runs of rows equal on the whole key: order them by the remaining columns (rare)."""
    tied = tied.copy()
    starts = np.flatnonzero(np.diff(np.concatenate(([0], duplicate.astype(np.int8), [0]))) == 1)
    ends = np.flatnonzero(np.diff(np.concatenate(([0], duplicate.astype(np.int8), [0]))) == -1)
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        run = tied[start : end + 1].tolist()
        run.sort(
            key=lambda i: (
                routes.streams[rows.route[i]],
                routes.kinds[rows.route[i]],
                rows.payload(i),
                int(rows.req[i]),
                bool(rows.binary[i]),
            )
        )
        tied[start : end + 1] = run
    return tied


class _OpenPart:
    """A part being consumed: its rows sorted by the key, and how far the merge has read."""

    __slots__ = ("pos", "rows", "size")

    def __init__(self, rows: Columns, routes: Routes) -> None:
        order = key_order(rows, routes)
        self.rows = rows if order is None else rows.take(order)
        self.size = len(rows)
        self.pos = 0


def merged_windows(
    files: Sequence[RecordingFile],
    routes: Routes,
    window_rows: int = DEFAULT_WINDOW_ROWS,
) -> Iterator[Columns]:
    """Yield the rows of ``files`` in merge-key order, window after window (sizes vary)."""
    pending: list[tuple[int, str, int, RecordingFile, Part]] = sorted(
        (part.min_recv_ns, recording.path, part.index, recording, part)
        for recording in files
        for part in recording.parts
    )
    pending.reverse()  # pop() from the end = earliest part
    opened: list[_OpenPart] = []
    while opened or pending:
        while not opened and pending:
            _open_next(pending, opened, routes)
        if not opened:
            return
        low = min(int(p.rows.recv[p.pos]) for p in opened)
        per_part = max(1, window_rows // len(opened))
        limit: int | None = None  # exclusive upper bound on recv_ns; None = everything
        for part in opened:
            if part.pos + per_part < part.size:
                bound = int(part.rows.recv[part.pos + per_part])
                limit = bound if limit is None else min(limit, bound)
        if pending:
            limit = pending[-1][0] if limit is None else min(limit, pending[-1][0])
        if limit is not None:
            limit = max(limit, low + 1)  # always progress, even through a run of equal recv_ns
            while pending and pending[-1][0] < limit:
                _open_next(pending, opened, routes)
        slices = []
        for part in opened:
            if limit is None:
                end = part.size
            else:
                end = int(np.searchsorted(part.rows.recv, limit, "left"))
            if end > part.pos:
                slices.append(part.rows.slice(part.pos, end))
                part.pos = end
        opened = [p for p in opened if p.pos < p.size]
        if not slices:
            continue
        if len(slices) == 1:
            yield slices[0]  # one sorted part: already in order
            continue
        window = Columns.concat(slices)
        order = key_order(window, routes)
        yield window if order is None else window.take(order)


def _open_next(
    pending: list[tuple[int, str, int, RecordingFile, Part]],
    opened: list[_OpenPart],
    routes: Routes,
) -> None:
    _, _, _, recording, part = pending.pop()
    table = read_part(recording, part)
    if table.num_rows:
        opened.append(_OpenPart(Columns.from_table(table, routes), routes))


def payload_locations(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Per value of a binary array: its address in the array's data buffer and its size (-1 for
    a null). Valid while ``array`` lives."""
    if pa.types.is_large_binary(array.type):
        width, dtype = 8, np.int64
    elif pa.types.is_binary(array.type):
        width, dtype = 4, np.int32
    else:
        array = array.cast(pa.binary())
        width, dtype = 4, np.int32
    n = len(array)
    _, offsets_buffer, data = array.buffers()
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    offsets = np.frombuffer(
        offsets_buffer, dtype=dtype, count=n + 1, offset=array.offset * width
    ).astype(np.int64)
    base = 0 if data is None else data.address
    addr = offsets[:-1] + base
    size = np.diff(offsets)
    if array.null_count:
        size[~array.is_valid().to_numpy(zero_copy_only=False)] = -1
    return addr, size


def read_payloads(addr: np.ndarray, size: np.ndarray) -> list[bytes]:
    """``bytes`` at the given addresses (see :func:`payload_locations`; ``None`` for a null)."""
    if fastdecode is not None:
        return fastdecode.payload_bytes(addr, size)  # type: ignore[no-any-return]
    import ctypes  # the extension is not built: slower, same bytes

    return [
        None if n < 0 else ctypes.string_at(a, n)  # type: ignore[misc]
        for a, n in zip(addr.tolist(), size.tolist(), strict=True)
    ]


def _dictionary(table: pa.Table, name: str) -> pa.DictionaryArray:
    column = table.column(name)
    array = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if not isinstance(array, pa.DictionaryArray):
        array = array.dictionary_encode()
    return array


def _int64(table: pa.Table, name: str) -> np.ndarray:
    column = table.column(name)
    array = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    return array.to_numpy()
