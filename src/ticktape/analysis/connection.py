"""``connect``: one DuckDB connection with every ticktape view over a set of recordings.

Views (``analyze DATA --list`` prints their columns):

- ``raw``: every stored row of schema v1 (rotated Parquet files and the complete part of live
  ``.arrow`` segments), plus ``payload_text`` (UTF-8 text of non-binary payloads) and ``recv_ts``.
- ``quotes``, ``trades``: normalized by the replay's own decoders, cached per Parquet file
  (:mod:`ticktape.analysis.cache`); live segments are decoded on every ``connect``.
- ``issues``: gaps and decode errors reported by the decoders.
- ``connections``: one row per connection: open/close times, close reason, errors, message
  count, and the reconnect gap since the previous connection of the same exchange and stream.
- ``gaps``: reconnect gaps, missing ``seq`` numbers within a connection, exchange-reported gaps.
- ``files``: the files read and whether their decode cache was built, reused or held in memory.
- Replay results (``signals``, ``episodes``, ``latency``, ``alerts``, …): present only when the
  replay wrote them under ``<data>/results/<strategy>/``.

The connection is in-memory; the Arrow tables it scans are registered on it, so keep the
connection (not the tables) alive for as long as you query.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final

import duckdb
import pyarrow as pa

from ticktape.analysis import views
from ticktape.analysis.cache import TABLES, CachedFile, ensure_cached_all
from ticktape.analysis.errors import SourceError
from ticktape.analysis.normalize import (
    TABLE_SCHEMAS,
    DecoderFactory,
    decoder_fingerprint,
    normalize,
)
from ticktape.analysis.results import find_results
from ticktape.analysis.segments import SegmentGone, read_segment
from ticktape.analysis.sources import Recordings, find_recordings, published_sibling
from ticktape.schema import RECORD_SCHEMA

CORE_VIEWS: Final = ("raw", "quotes", "trades", "issues", "connections", "gaps", "files")

_PLAIN_RAW_SCHEMA: Final = pa.schema(
    [
        pa.field(f.name, pa.string(), nullable=f.nullable) if pa.types.is_dictionary(f.type) else f
        for f in RECORD_SCHEMA
    ]
)

_FILES_SCHEMA: Final = pa.schema(
    [
        pa.field("path", pa.string()),
        pa.field("kind", pa.string()),  # parquet | segment
        pa.field("size", pa.int64()),
        pa.field("mtime_ns", pa.int64()),
        pa.field("cache", pa.string()),  # reused | built | memory | live
    ]
)


def _plain_raw(table: pa.Table) -> pa.Table:
    """Schema-v1 columns only, dictionary strings decoded: segments may differ in dictionaries."""
    return table.select(list(RECORD_SCHEMA.names)).cast(_PLAIN_RAW_SCHEMA)


def _concat(tables: list[pa.Table], schema: pa.Schema) -> pa.Table:
    if not tables:
        return schema.empty_table()
    return pa.concat_tables([t.cast(schema) for t in tables])


def connect(
    paths: str | Path | Sequence[str | Path],
    *,
    decoder_factory: DecoderFactory | None = None,
    cache_dir: Path | None = None,
    threads: int | None = None,
    workers: int | None = 1,
) -> duckdb.DuckDBPyConnection:
    """Open ``paths`` (data folder, day folder, files or globs) as DuckDB views.

    ``decoder_factory`` defaults to the replay's ``ticktape.exchanges.registry.new_decoder``;
    ``cache_dir`` overrides ``<day>/.ticktape-cache/``; ``workers`` is the number of processes
    decoding files not cached yet (default 1: in this process; ``None``: one per CPU when there
    is enough to decode; see :func:`~ticktape.analysis.cache.ensure_cached_all`, and guard your
    script's entry point when using more than one); ``threads`` is DuckDB's threads. Raises
    :class:`~ticktape.analysis.errors.SourceError` for missing, corrupt or foreign files (naming
    the file). The first call on new data decodes it (see ``normalize`` for the speed); later
    calls reuse the caches and take milliseconds.
    """
    recordings = find_recordings(paths)
    con = duckdb.connect(":memory:")
    if threads is not None:
        con.execute(f"SET threads = {int(threads)}")
    _create_views(con, recordings, decoder_factory, cache_dir, workers)
    return con


def _create_views(
    con: duckdb.DuckDBPyConnection,
    recordings: Recordings,
    factory: DecoderFactory | None,
    cache_dir: Path | None,
    workers: int | None,
) -> None:
    fingerprint = decoder_fingerprint(factory)
    cached = ensure_cached_all(recordings.parquet, fingerprint, factory, cache_dir, workers)
    memory: dict[str, list[pa.Table]] = {name: [] for name in TABLES}
    files: dict[str, list[Path]] = {name: [] for name in TABLES}
    file_rows: list[dict[str, object]] = []
    for entry in cached:
        _add_cached(entry, files, memory, file_rows)
    live_raw: list[pa.Table] = []
    parquet_paths = [r.path for r in recordings.parquet]
    for seg in recordings.segments:
        try:
            raw = read_segment(seg.path)
        except SegmentGone:  # rotated while we read: its rows are in the published Parquet
            published = find_recordings(published_sibling(seg.path)).parquet
            for entry in ensure_cached_all(published, fingerprint, factory, cache_dir, 1):
                _add_cached(entry, files, memory, file_rows)
                parquet_paths.append(entry.source.path)
            continue
        live_raw.append(_plain_raw(raw))
        decoded = normalize(raw, factory)
        for name in TABLES:
            memory[name].append(decoded.table(name))
        file_rows.append(
            {
                "path": str(seg.path),
                "kind": "segment",
                "size": seg.size,
                "mtime_ns": seg.mtime_ns,
                "cache": "live",
            }
        )

    con.register("_ticktape_live_raw", _concat(live_raw, _PLAIN_RAW_SCHEMA))
    raw_source = views.union_source(views.RAW_COLUMNS, parquet_paths, "_ticktape_live_raw")
    con.execute(views.raw_view(raw_source))
    columns = {
        "quotes": views.QUOTE_COLUMNS,
        "trades": views.TRADE_COLUMNS,
        "issues": views.ISSUE_COLUMNS,
    }
    makers = {"quotes": views.quotes_view, "trades": views.trades_view, "issues": views.issues_view}
    for name in TABLES:
        memory_name = f"_ticktape_mem_{name}"
        con.register(memory_name, _concat(memory[name], TABLE_SCHEMAS[name]))
        con.execute(makers[name](views.union_source(columns[name], files[name], memory_name)))
    con.execute(views.CONNECTIONS_VIEW)
    con.execute(views.GAPS_VIEW)
    con.register("_ticktape_files", pa.Table.from_pylist(file_rows, schema=_FILES_SCHEMA))
    con.execute("CREATE OR REPLACE VIEW files AS SELECT * FROM _ticktape_files")
    _create_result_views(con, recordings)


def _add_cached(
    entry: CachedFile,
    files: dict[str, list[Path]],
    memory: dict[str, list[pa.Table]],
    file_rows: list[dict[str, object]],
) -> None:
    """Route one Parquet file's normalized tables to the views (cache files or memory)."""
    if entry.paths is not None:
        for name in TABLES:
            files[name].append(entry.paths[name])
    elif entry.tables is not None:
        for name in TABLES:
            memory[name].append(entry.tables.table(name))
    state = "memory" if entry.paths is None else ("built" if entry.built else "reused")
    source = entry.source
    file_rows.append(
        {
            "path": str(source.path),
            "kind": "parquet",
            "size": source.size,
            "mtime_ns": source.mtime_ns,
            "cache": state,
        }
    )


def _create_result_views(con: duckdb.DuckDBPyConnection, recordings: Recordings) -> None:
    tables = find_results(recordings.results_dirs)
    for table, entries in sorted(tables.items()):
        name = f"result_{table}" if table in CORE_VIEWS else table
        per_strategy: dict[str, list[Path]] = {}
        for entry in entries:
            per_strategy.setdefault(entry.strategy, []).append(entry.path)
        try:
            con.execute(views.results_view(name, sorted(per_strategy.items())))
        except duckdb.Error as exc:
            paths = ", ".join(str(e.path) for e in entries)
            raise SourceError(f"cannot read replay results {paths}: {exc}") from exc


def view_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """User-facing views of a connection from :func:`connect` (internal tables excluded)."""
    rows = con.execute(
        "SELECT view_name FROM duckdb_views() WHERE NOT internal AND view_name NOT LIKE '\\_%' "
        "ESCAPE '\\' ORDER BY view_name"
    ).fetchall()
    return [r[0] for r in rows]
