"""Find recordings and read them: finished Parquet files and live Arrow IPC segments.

Contract:

* :func:`find_recordings` turns what the user typed (day folders, a root holding day folders, a
  glob, single files, plus an optional ``from_day``/``to_day`` range) into a list of
  :class:`RecordingFile`, each scanned once for its schema, row count and ``recv_ns`` range. The
  list is sorted by path and free of duplicates; a segment whose Parquet twin already exists (the
  recorder renames the Parquet file before it removes the segment) is skipped.
* A file is cut into :class:`Part` s, the unit the merge opens lazily: one per Parquet row group
  (its ``recv_ns`` range comes from the row-group statistics, so nothing is read until the merge
  reaches it) and one per Arrow segment (the complete batches found when it was scanned; a
  truncated tail, normal for a segment still being written, is ignored).
* :func:`read_part` returns the part's rows in one normalized layout, whatever the writer chose:
  exactly the v1 columns in v1 order, ``exchange``/``stream``/``kind`` as ``dictionary<int32,
  string>``, ``payload`` as ``binary``. Rows are in file order (not sorted).
* Bad input raises a :class:`~ticktape.replay.errors.ReplayError` subclass whose message is one
  line naming the file.

File access goes through ``pyarrow.fs`` so object storage can be added behind the same calls.
"""

from __future__ import annotations

import datetime as dt
import glob as globlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from ticktape import schema
from ticktape.replay.errors import (
    BadOptionError,
    CorruptRecordingError,
    ForeignRecordingError,
    NoRecordingsError,
)

_LOCAL: Final = pafs.LocalFileSystem()
_SUFFIXES: Final = (schema.PARQUET_SUFFIX, schema.SEGMENT_SUFFIX)
_GLOB_CHARS: Final = frozenset("*?[")
_IPC_CONTINUATION: Final = b"\xff\xff\xff\xff"
_IPC_FILE_MAGIC: Final = b"ARROW1"
_DICT_STR: Final = pa.dictionary(pa.int32(), pa.string())
_DICT_COLUMNS: Final = frozenset({"exchange", "stream", "kind"})
_NOT_NULL: Final = tuple(f.name for f in schema.RECORD_SCHEMA if not f.nullable)

Format = Literal["parquet", "arrow"]


@dataclass(frozen=True, slots=True)
class Part:
    """A slice of a file the merge can read on its own: a row group, or a segment's batches.

    ``index`` is the row-group number (Parquet) or the number of complete batches to read
    (Arrow). ``min_recv_ns``/``max_recv_ns`` bound every row of the part.
    """

    index: int
    num_rows: int
    min_recv_ns: int
    max_recv_ns: int


@dataclass(frozen=True, slots=True)
class RecordingFile:
    """One recording file as scanned: picklable, holds no open handle."""

    path: str
    format: Format
    day: str  # UTC day ``YYYY-MM-DD`` of its rows (folder name, file name, or first row)
    num_rows: int
    parts: tuple[Part, ...]

    @property
    def min_recv_ns(self) -> int | None:
        return min((p.min_recv_ns for p in self.parts), default=None)

    @property
    def max_recv_ns(self) -> int | None:
        return max((p.max_recv_ns for p in self.parts), default=None)


def parse_day(text: str, option: str = "day") -> str:
    """Return ``text`` if it is a real ``YYYY-MM-DD`` date; raise :class:`BadOptionError`."""
    try:
        if not schema.DAY_DIR_RE.match(text):
            raise ValueError(text)
        dt.date.fromisoformat(text)
    except ValueError:
        raise BadOptionError(f"bad {option} {text!r}: expected a UTC day like 2025-07-22") from None
    return text


def find_recordings(
    paths: Sequence[str | Path], from_day: str | None = None, to_day: str | None = None
) -> list[RecordingFile]:
    """Resolve ``paths`` (files, day folders, roots, globs) into scanned recording files.

    ``from_day``/``to_day`` (inclusive, ``YYYY-MM-DD``) keep only files of those UTC days.
    Raises :class:`NoRecordingsError` when nothing is selected.
    """
    if from_day is not None:
        parse_day(from_day, "--from day")
    if to_day is not None:
        parse_day(to_day, "--to day")
    if from_day and to_day and from_day > to_day:
        raise BadOptionError(f"--from {from_day} is after --to {to_day}")
    where = ", ".join(str(p) for p in paths) or "."
    candidates: dict[str, str | None] = {}  # path -> day from its folder name, if any
    for text in paths or ["."]:
        from_glob = bool(_GLOB_CHARS & set(str(text)))
        for path in _expand(str(text)):
            for file_path, folder_day in _recording_paths(path, from_day, to_day, from_glob):
                candidates.setdefault(str(file_path), folder_day)
    found = []
    for path_text in sorted(_drop_rotated_segments(candidates)):
        recording = scan_file(path_text, candidates[path_text])
        if _in_range(recording.day, from_day, to_day):
            found.append(recording)
    if not found:
        span = _span_text(from_day, to_day)
        raise NoRecordingsError(
            f"no recordings under {where}{span}: expected *.parquet or *.arrow files"
        )
    return found


def scan_file(path: str, folder_day: str | None = None) -> RecordingFile:
    """Read one file's metadata (schema, row count, ``recv_ns`` range per part)."""
    if path.endswith(schema.PARQUET_SUFFIX):
        parts = _scan_parquet(path)
        fmt: Format = "parquet"
    elif path.endswith(schema.SEGMENT_SUFFIX):
        parts = _scan_segment(path)
        fmt = "arrow"
    else:
        raise ForeignRecordingError(f"{path}: not a recording: expected a .parquet or .arrow file")
    day = folder_day or _day_from_name(path) or _day_from_parts(parts) or "unknown"
    return RecordingFile(path, fmt, day, sum(p.num_rows for p in parts), parts)


def read_part(recording: RecordingFile, part: Part) -> pa.Table:
    """Read one part's rows, normalized (see the module docstring); rows in file order."""
    path = recording.path
    try:
        if recording.format == "parquet":
            with _LOCAL.open_input_file(path) as source:
                table = pq.ParquetFile(source).read_row_group(
                    part.index, columns=schema.COLUMNS, use_threads=False
                )
        else:
            with _LOCAL.open_input_file(path) as source:
                reader = pa.ipc.open_stream(source)
                batches = [reader.read_next_batch() for _ in range(part.index)]
            table = pa.Table.from_batches(batches, schema=reader.schema)
    except (pa.ArrowException, OSError, StopIteration) as exc:
        raise CorruptRecordingError(f"{path}: unreadable ({_one_line(exc)})") from None
    return normalize(table, path)


def normalize(table: pa.Table, where: str) -> pa.Table:
    """Bring a table to the normalized layout; raise :class:`CorruptRecordingError` on nulls."""
    arrays = []
    for field in schema.RECORD_SCHEMA:
        column = table.column(field.name)
        if field.name in _DICT_COLUMNS:
            if not pa.types.is_dictionary(column.type):
                column = pc.dictionary_encode(column.cast(pa.string()))
            if column.type != _DICT_STR:
                column = column.cast(_DICT_STR)
        elif column.type != field.type:
            column = column.cast(field.type)
        if field.name in _NOT_NULL and column.null_count:
            raise CorruptRecordingError(f"{where}: column {field.name!r} has null values")
        arrays.append(column)
    return pa.Table.from_arrays(arrays, schema=schema.RECORD_SCHEMA)


# --- discovery --------------------------------------------------------------------------------


def _expand(text: str) -> list[Path]:
    if _GLOB_CHARS & set(text):
        matches = [Path(m) for m in sorted(globlib.glob(text))]
        if not matches:
            raise NoRecordingsError(
                f"no recordings match {text}: expected *.parquet or *.arrow files"
            )
        return matches
    path = Path(text)
    if not path.exists():
        raise NoRecordingsError(f"no recordings under {text}: no such file or folder")
    return [path]


def _recording_paths(
    path: Path, from_day: str | None, to_day: str | None, from_glob: bool
) -> Iterable[tuple[Path, str | None]]:
    """Yield ``(file, day from folder name)`` for a file, a day folder or a root of day folders.

    A file the user named that is not ``.parquet``/``.arrow`` is an error; one a glob matched is
    skipped (``data/2025-07-22/*`` may match other files).
    """
    if path.is_file():
        if path.suffix not in _SUFFIXES:
            if from_glob:
                return
            raise ForeignRecordingError(
                f"{path}: not a recording: expected a .parquet or .arrow file"
            )
        yield path, _folder_day(path.parent)
        return
    if not path.is_dir():
        return
    folder_day = _folder_day(path)
    yield from ((f, folder_day) for f in _files_in(path))
    for child in sorted(path.iterdir()):
        is_day = child.is_dir() and schema.DAY_DIR_RE.match(child.name)
        if is_day and _in_range(child.name, from_day, to_day):
            yield from ((f, child.name) for f in _files_in(child))


def _files_in(folder: Path) -> list[Path]:
    return sorted(
        f
        for f in folder.iterdir()
        if f.suffix in _SUFFIXES and not f.name.startswith(".") and f.is_file()
    )


def _drop_rotated_segments(paths: Iterable[str]) -> list[str]:
    """Skip ``X.arrow`` when ``X.parquet`` exists: the segment was rotated but not yet removed."""
    chosen = set(paths)
    return [
        p
        for p in chosen
        if not (
            p.endswith(schema.SEGMENT_SUFFIX)
            and p[: -len(schema.SEGMENT_SUFFIX)] + schema.PARQUET_SUFFIX in chosen
        )
    ]


def _folder_day(folder: Path) -> str | None:
    return folder.name if schema.DAY_DIR_RE.match(folder.name) else None


def _day_from_name(path: str) -> str | None:
    match = schema.FILE_NAME_RE.match(Path(path).name)
    if not match:
        return None
    stamp = match["start"]
    return f"{stamp[0:4]}-{stamp[4:6]}-{stamp[6:8]}"


def _day_from_parts(parts: Sequence[Part]) -> str | None:
    if not parts:
        return None
    first = min(p.min_recv_ns for p in parts)
    return dt.datetime.fromtimestamp(first // 10**9, dt.UTC).strftime("%Y-%m-%d")


def _in_range(day: str, from_day: str | None, to_day: str | None) -> bool:
    return (from_day is None or day >= from_day) and (to_day is None or day <= to_day)


def _span_text(from_day: str | None, to_day: str | None) -> str:
    if from_day and to_day:
        return f" from {from_day} to {to_day}"
    if from_day:
        return f" from {from_day}"
    if to_day:
        return f" up to {to_day}"
    return ""


# --- scanning ---------------------------------------------------------------------------------


def _scan_parquet(path: str) -> tuple[Part, ...]:
    try:
        with _LOCAL.open_input_file(path) as source:
            parquet = pq.ParquetFile(source)
            _check(parquet.schema_arrow, path)
            metadata = parquet.metadata
            leaf = metadata.schema.names.index("recv_ns")
            parts = []
            for index in range(metadata.num_row_groups):
                group = metadata.row_group(index)
                if group.num_rows == 0:
                    continue
                stats = group.column(leaf).statistics
                if stats is not None and stats.has_min_max:
                    low, high = int(stats.min), int(stats.max)
                else:
                    column = parquet.read_row_group(index, columns=["recv_ns"]).column(0)
                    bounds = pc.min_max(column)
                    low, high = bounds["min"].as_py(), bounds["max"].as_py()
                parts.append(Part(index, group.num_rows, low, high))
    except (pa.ArrowException, OSError) as exc:
        raise CorruptRecordingError(
            f"{path}: not a readable Parquet file ({_one_line(exc)})"
        ) from None
    return tuple(parts)


def _scan_segment(path: str) -> tuple[Part, ...]:
    try:
        with _LOCAL.open_input_file(path) as source:
            head = source.read(8)
            if not head:
                return ()  # created, nothing flushed yet
            if head.startswith(_IPC_FILE_MAGIC):
                raise CorruptRecordingError(
                    f"{path}: an Arrow IPC file, expected an IPC stream segment"
                )
            if not head.startswith(_IPC_CONTINUATION):
                raise CorruptRecordingError(f"{path}: not an Arrow IPC stream (bad header)")
            source.seek(0)
            try:
                reader = pa.ipc.open_stream(source)
            except (pa.ArrowInvalid, OSError):
                return ()  # schema message not fully flushed yet
            _check(reader.schema, path)
            batches = rows = 0
            low: int | None = None
            high: int | None = None
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    break
                except (pa.ArrowInvalid, OSError):
                    break  # truncated tail: the writer had not finished this batch
                batches += 1
                if batch.num_rows:
                    rows += batch.num_rows
                    bounds = pc.min_max(batch.column("recv_ns"))
                    b_low, b_high = bounds["min"].as_py(), bounds["max"].as_py()
                    low = b_low if low is None else min(low, b_low)
                    high = b_high if high is None else max(high, b_high)
    except (pa.ArrowException, OSError) as exc:
        raise CorruptRecordingError(f"{path}: unreadable segment ({_one_line(exc)})") from None
    if rows == 0 or low is None or high is None:
        return ()
    return (Part(batches, rows, low, high),)


def _check(file_schema: pa.Schema, path: str) -> None:
    try:
        schema.check_schema(file_schema, path)
    except schema.SchemaError as exc:
        raise ForeignRecordingError(str(exc)) from None
    version = (file_schema.metadata or {}).get(schema.META_SCHEMA_VERSION)
    if version is not None and version != str(schema.SCHEMA_VERSION).encode():
        raise ForeignRecordingError(
            f"{path}: recording schema version {version.decode(errors='replace')}, "
            f"this replay reads version {schema.SCHEMA_VERSION}"
        )


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
