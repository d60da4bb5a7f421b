"""Live mode (``record --strategy arb``): the replay's own driver, fed rows as they are recorded.

Why this is the same as a replay, by construction: rows reach :meth:`LiveStrategies.on_row`
through the recorder's hook in arrival order, which is ``recv_ns`` order (one event loop, one
monotonic clock). Every ``interval`` the rows seen so far become a schema-v1 table exactly as
the disk thread writes them (the stream column through the same
:func:`~ticktape.exchanges.routing.routed_streams`), sorted on the replay's merge key, and go
through :class:`ticktape.replay.driver.Driver`: the same decoders, the same row-to-event rules,
the same strategy objects as ``replay``. The driver's output does not depend on how rows are
cut into windows. At the end the result tables are written where ``replay`` writes them
(``<out>/results/<strategy>/<table>.parquet``), so a later replay of the recording overwrites
them with identical files (``tests/integration/test_live_equals_replay.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs

from ticktape import schema, strategies
from ticktape.exchanges.routing import routed_streams
from ticktape.replay.driver import Driver
from ticktape.replay.merge import Columns, Routes
from ticktape.replay.reader import normalize
from ticktape.replay.results import publish

Row = tuple[str, int, str, int, int, str, int | None, bool, bytes]
SignalPrinter = Callable[[Any], None]

# signals worth a line on screen as they happen; arb "update"s can come every few ms
_QUIET_KINDS = frozenset({"update"})
_SORT_KEY = [(name, "ascending") for name in schema.MERGE_KEY]


class _SignalTap:
    """Wraps a strategy so the signals its entry points return are also handed to ``sink``."""

    _ENTRY_POINTS = frozenset({"on_event", "on_events", "on_batch", "finish"})

    def __init__(self, inner: Any, sink: list[Any]) -> None:
        self._inner = inner
        self._sink = sink

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name not in self._ENTRY_POINTS or not callable(attr):
            return attr
        sink = self._sink

        def call(*args: Any, **kwargs: Any) -> Any:
            signals = attr(*args, **kwargs)
            if signals:
                sink.extend(signals)
            return signals

        return call


class LiveStrategies:
    """Runs strategies on recorded rows: ``on_row`` on the hot path, ``pump`` periodically."""

    def __init__(
        self,
        names: Sequence[str],
        out: str | Path,
        config: Mapping[str, Mapping[str, Any]] | None = None,
        printer: SignalPrinter | None = None,
    ) -> None:
        config = config or {}
        self.out = Path(out)
        self.names = tuple(names)
        self.strategies = {name: strategies.create(name, **config.get(name, {})) for name in names}
        self._signals: list[Any] = []
        tapped = {name: _SignalTap(s, self._signals) for name, s in self.strategies.items()}
        self._routes = Routes()
        self.driver = Driver(self._routes, tapped, digest=False)
        self._pending: list[Row] = []
        self._printer = printer
        self.signals_seen = 0
        self.failed: str | None = None  # set by the caller if a pump raised

    def on_row(
        self,
        exchange: str,
        recv_ns: int,
        stream: str,
        conn_id: int,
        seq: int,
        kind: str,
        req_ns: int | None,
        binary: bool,
        payload: bytes,
    ) -> None:
        """The recorder's row hook: just remember the row (called for every recorded row)."""
        self._pending.append((exchange, recv_ns, stream, conn_id, seq, kind, req_ns, binary,
                              payload))  # fmt: skip

    def pump(self) -> list[Any]:
        """Feed the rows seen since the last call to the strategies; return (and print) signals."""
        if not self._pending:
            return []
        rows, self._pending = self._pending, []
        table = normalize(_rows_table(rows), "live rows")
        self.driver.feed(Columns.from_table(table, self._routes))
        return self._emit()

    def finish(self) -> list[Path]:
        """Feed what is left, close open episodes, write the result tables; return their paths."""
        self.pump()
        self.driver.finish()
        self._emit()
        filesystem = pafs.LocalFileSystem()
        written = []
        for name in sorted(self.strategies):
            folder = self.out / "results" / name
            filesystem.create_dir(str(folder), recursive=True)
            tables = self.strategies[name].results()
            for table_name in sorted(tables):
                path = folder / f"{table_name}.parquet"
                publish(tables[table_name], path, filesystem)
                written.append(path)
        return written

    def summaries(self) -> dict[str, str]:
        return {name: s.summary() for name, s in self.strategies.items()}

    def _emit(self) -> list[Any]:
        signals = self._signals[:]  # the taps hold this very list: empty it in place
        self._signals.clear()
        self.signals_seen += len(signals)
        if self._printer is not None:
            for signal in signals:
                if getattr(signal, "kind", None) not in _QUIET_KINDS:
                    self._printer(signal)
        return signals


def _rows_table(rows: list[Row]) -> pa.Table:
    """Hook rows as the schema-v1 table the disk thread would write, in merge-key order."""
    by_exchange: dict[str, list[Row]] = {}
    for row in rows:
        by_exchange.setdefault(row[0], []).append(row)
    tables = []
    for exchange, ex_rows in by_exchange.items():
        # a flush interval's rows (thousands at most): transposing them is cheap here
        columns = (list(c) for c in zip(*ex_rows, strict=True))
        _, recv, stream, conn, seq, kind, req, binary, payload = columns
        payloads = pa.array(payload, pa.binary())
        kinds = pa.array(kind, pa.string())
        is_data = pc.equal(kinds, schema.KIND_DATA)
        streams = routed_streams(exchange, pa.array(stream, pa.string()), payloads, is_data)
        tables.append(
            pa.table(
                {
                    "recv_ns": pa.array(recv, pa.int64()),
                    "exchange": pa.array([exchange] * len(ex_rows), pa.string()),
                    "stream": streams,
                    "conn_id": pa.array(conn, pa.int64()),
                    "seq": pa.array(seq, pa.int64()),
                    "kind": kinds,
                    "req_ns": pa.array(req, pa.int64()),
                    "binary": pa.array(binary, pa.bool_()),
                    "payload": payloads,
                }
            )
        )
    table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
    return table.take(pc.sort_indices(table, sort_keys=_SORT_KEY))
