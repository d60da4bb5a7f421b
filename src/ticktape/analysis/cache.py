"""Decode each rotated Parquet recording once and keep the normalized tables next to it.

Layout: ``<day>/.ticktape-cache/<file name>.{quotes,trades,issues}.parquet``. Each cache file
carries, in its Parquet key-value metadata, the key it was built from: the raw file's size and
mtime (ns), the cache format version and the decoder fingerprint
(:func:`~ticktape.analysis.normalize.decoder_fingerprint`). A cache file is used only if all three
kinds exist and carry exactly the current key; otherwise the raw file is decoded again. So editing,
replacing or re-rotating a raw file, or changing a decoder, rebuilds its cache on the next query.

Cache files are written under a unique temporary name and renamed into place (atomic on POSIX),
so two ``analyze`` processes never see half a cache file. Many stale files are decoded in
parallel worker processes (:func:`ensure_cached_all`). Live ``.arrow`` segments are never
cached: they still grow, and are decoded on every ``connect``. If the cache folder cannot be
written (read-only data), the decoded tables are kept in memory for this session instead.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import pickle
import sys
import warnings
from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.parquet as pq

from ticktape.analysis.errors import SourceError
from ticktape.analysis.normalize import (
    RAW_COLUMNS_FOR_DECODE,
    TABLE_SCHEMAS,
    DecoderFactory,
    Normalized,
    normalize,
)
from ticktape.analysis.sources import RecordingFile

CACHE_DIR_NAME: Final = ".ticktape-cache"
CACHE_FORMAT: Final = "1"
PARALLEL_MIN_BYTES: Final = 32 * 1024 * 1024  # ~0.6 M rows, ~3 s of decoding on one core
TABLES: Final = tuple(TABLE_SCHEMAS)  # ("quotes", "trades", "issues")

META_FORMAT: Final = b"ticktape.cache.format"
META_SOURCE_SIZE: Final = b"ticktape.cache.source_size"
META_SOURCE_MTIME: Final = b"ticktape.cache.source_mtime_ns"
META_DECODER: Final = b"ticktape.cache.decoder"


@dataclass(frozen=True, slots=True)
class CachedFile:
    """Where the normalized tables of one raw file are: on disk (``paths``) or in memory."""

    source: RecordingFile
    paths: dict[str, Path] | None  # table name -> cache Parquet file
    tables: Normalized | None  # when the cache could not be written
    built: bool  # decoded during this call (False: reused)
    problem: str | None = None  # why the cache could not be written (then ``tables`` is set)


def cache_paths(source: Path, cache_dir: Path | None = None) -> dict[str, Path]:
    """The cache file of each normalized table for the raw file ``source``."""
    folder = cache_dir if cache_dir is not None else source.parent / CACHE_DIR_NAME
    return {name: folder / f"{source.name}.{name}.parquet" for name in TABLES}


def cache_key(source: RecordingFile, fingerprint: str) -> dict[bytes, bytes]:
    return {
        META_FORMAT: CACHE_FORMAT.encode(),
        META_SOURCE_SIZE: str(source.size).encode(),
        META_SOURCE_MTIME: str(source.mtime_ns).encode(),
        META_DECODER: fingerprint.encode(),
    }


def _is_fresh(paths: dict[str, Path], key: dict[bytes, bytes]) -> bool:
    for path in paths.values():
        try:
            meta = pq.read_schema(str(path)).metadata or {}
        except (OSError, pa.ArrowException):
            return False  # missing or damaged cache file: rebuild
        if any(meta.get(k) != v for k, v in key.items()):
            return False
    return True


def _read_raw(source: RecordingFile) -> pa.Table:
    try:
        return pq.read_table(str(source.path), columns=list(RAW_COLUMNS_FOR_DECODE))
    except Exception as exc:  # damaged pages only show up when the data is read
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SourceError(f"{source.path}: cannot read recording ({first})") from exc


def _write_atomic(table: pa.Table, path: Path, key: dict[bytes, bytes]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    table = table.replace_schema_metadata(key)
    try:
        pq.write_table(table, str(tmp), compression="zstd")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def ensure_cached(
    source: RecordingFile,
    fingerprint: str,
    factory: DecoderFactory | None = None,
    cache_dir: Path | None = None,
) -> CachedFile:
    """Reuse or (re)build the normalized cache of one rotated Parquet recording."""
    paths = cache_paths(source.path, cache_dir)
    key = cache_key(source, fingerprint)
    if _is_fresh(paths, key):
        return CachedFile(source, paths, None, built=False)
    normalized = normalize(_read_raw(source), factory)
    try:
        next(iter(paths.values())).parent.mkdir(parents=True, exist_ok=True)
        # Write "quotes" last: freshness needs all three, and a crash leaves at worst a rebuild.
        for name in reversed(TABLES):
            _write_atomic(normalized.table(name), paths[name], key)
    except OSError as exc:
        problem = f"cannot write decode cache for {source.path} ({exc}); keeping it in memory"
        return CachedFile(source, None, normalized, built=True, problem=problem)
    return CachedFile(source, paths, None, built=True)


def _main_is_importable() -> bool:
    """Spawned workers re-import ``__main__`` from its file; code read from stdin has none."""
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    return main_file is None or os.path.isfile(main_file)


def ensure_cached_all(
    sources: Sequence[RecordingFile],
    fingerprint: str,
    factory: DecoderFactory | None = None,
    cache_dir: Path | None = None,
    workers: int | None = None,
) -> list[CachedFile]:
    """:func:`ensure_cached` for every source, in order; stale ones decoded in parallel.

    ``workers``: processes for decoding (``None``: one per CPU, used only when at least
    :data:`PARALLEL_MIN_BYTES` of raw files need decoding, since starting a process costs about
    half a second; ``1``: always in this process). Worker processes are *spawned*, never forked
    (DuckDB's threads may already run here), so like any ``multiprocessing`` user the calling
    script needs an ``if __name__ == "__main__":`` guard; if the pool cannot start or breaks
    (e.g. code read from stdin), the files are decoded here instead. A custom ``factory`` must
    be picklable (a module-level function). Warnings about unwritable caches are issued here,
    once per file.
    """
    entries: list[CachedFile | None] = []
    stale: list[int] = []
    for i, source in enumerate(sources):
        if _is_fresh(cache_paths(source.path, cache_dir), cache_key(source, fingerprint)):
            entries.append(CachedFile(source, cache_paths(source.path, cache_dir), None, False))
        else:
            entries.append(None)
            stale.append(i)
    stale_bytes = sum(sources[i].size for i in stale)
    count = workers if workers is not None else (os.cpu_count() or 1)
    if workers is None and stale_bytes < PARALLEL_MIN_BYTES:
        count = 1
    count = max(1, min(count, len(stale)))
    if count == 1 or not _main_is_importable():
        for i in stale:
            entries[i] = ensure_cached(sources[i], fingerprint, factory, cache_dir)
    else:
        try:
            context = multiprocessing.get_context("spawn")
            with concurrent.futures.ProcessPoolExecutor(count, mp_context=context) as pool:
                futures = {
                    i: pool.submit(ensure_cached, sources[i], fingerprint, factory, cache_dir)
                    for i in stale
                }
                for i, future in futures.items():
                    entries[i] = future.result()
        except (BrokenProcessPool, OSError, pickle.PicklingError):
            # e.g. run from stdin (workers cannot re-import __main__): decode here instead
            for i in stale:
                if entries[i] is None:
                    entries[i] = ensure_cached(sources[i], fingerprint, factory, cache_dir)
    done = [e for e in entries if e is not None]
    for entry in done:
        if entry.problem:
            warnings.warn(entry.problem, RuntimeWarning, stacklevel=2)
    return done
