"""Find the recording files a user points ``analyze`` at, and check that they are recordings.

A path may be a data folder (holding ``YYYY-MM-DD/`` day folders), one day folder, one file, or a
glob over any of these. Inside folders only names that follow the recorder's naming contract
(:data:`ticktape.schema.FILE_NAME_RE`) are taken, so the recorder's temporary files and our own
``.ticktape-cache/`` folder are never read as data. A file named explicitly (or matched by a glob)
is taken whatever its name, and validated.

A live ``.arrow`` segment whose ``.parquet`` sibling already exists is skipped: the recorder
publishes the Parquet file before it removes the segment, and reading both would count every row
twice.

File access goes through ``pyarrow.fs`` so that object storage can be added later without
touching the discovery rules.
"""

from __future__ import annotations

import glob
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.fs as pafs
import pyarrow.parquet as pq

from ticktape.analysis.errors import SourceError
from ticktape.schema import (
    DAY_DIR_RE,
    FILE_NAME_RE,
    META_SCHEMA_VERSION,
    PARQUET_SUFFIX,
    SCHEMA_VERSION,
    SEGMENT_SUFFIX,
    SchemaError,
    check_schema,
)

RESULTS_DIR_NAME = "results"
_GLOB_CHARS = frozenset("*?[")
_LOCAL = pafs.LocalFileSystem()


@dataclass(frozen=True, slots=True)
class RecordingFile:
    """One recording file with the stat used to key its decode cache (bytes, ns since epoch)."""

    path: Path
    size: int
    mtime_ns: int

    @property
    def is_segment(self) -> bool:
        """A live Arrow IPC segment (still being written); never cached."""
        return self.path.suffix == SEGMENT_SUFFIX


@dataclass(frozen=True, slots=True)
class Recordings:
    """Everything ``connect`` reads: Parquet files, live segments, replay result folders."""

    parquet: tuple[RecordingFile, ...]
    segments: tuple[RecordingFile, ...]
    results_dirs: tuple[Path, ...] = field(default=())

    @property
    def files(self) -> tuple[RecordingFile, ...]:
        return self.parquet + self.segments


def _stat(path: Path) -> RecordingFile:
    info = _LOCAL.get_file_info(str(path))
    if info.type != pafs.FileType.File:
        raise SourceError(f"{path}: not a file")
    return RecordingFile(path=path, size=int(info.size or 0), mtime_ns=int(info.mtime_ns or 0))


def published_sibling(segment: Path) -> Path:
    """The Parquet file a segment becomes on rotation."""
    return segment.with_name(segment.name[: -len(SEGMENT_SUFFIX)] + PARQUET_SUFFIX)


def _stat_or_published(path: Path) -> RecordingFile:
    """Stat ``path``; a segment rotated away since it was listed is replaced by its Parquet."""
    try:
        return _stat(path)
    except SourceError:
        if path.suffix == SEGMENT_SUFFIX and published_sibling(path).is_file():
            return _stat(published_sibling(path))
        raise


def _list_dir(folder: Path) -> list[pafs.FileInfo]:
    try:
        return sorted(
            _LOCAL.get_file_info(pafs.FileSelector(str(folder), recursive=False)),
            key=lambda i: i.base_name,
        )
    except OSError as exc:
        raise SourceError(f"{folder}: cannot list folder ({exc})") from exc


def _day_files(day: Path) -> list[Path]:
    """Recording files of one day folder, in name (= time) order, segments shadowed by Parquet."""
    names = [i.base_name for i in _list_dir(day) if i.type == pafs.FileType.File]
    matched = [n for n in names if FILE_NAME_RE.match(n)]
    published = {n[: -len(PARQUET_SUFFIX)] for n in matched if n.endswith(PARQUET_SUFFIX)}
    keep = [
        n
        for n in matched
        if not (n.endswith(SEGMENT_SUFFIX) and n[: -len(SEGMENT_SUFFIX)] in published)
    ]
    return [day / n for n in keep]


def _expand_dir(folder: Path) -> tuple[list[Path], list[Path]]:
    """Files under a data folder or a day folder, plus where replay results may live."""
    if DAY_DIR_RE.match(folder.name):
        return _day_files(folder), [folder.parent / RESULTS_DIR_NAME]
    entries = _list_dir(folder)
    days = [
        folder / i.base_name
        for i in entries
        if i.type == pafs.FileType.Directory and DAY_DIR_RE.match(i.base_name)
    ]
    files: list[Path] = []
    for day in days:
        files.extend(_day_files(day))
    if not days:  # a flat folder of recording files
        files = _day_files(folder)
    return files, [folder / RESULTS_DIR_NAME]


def _expand(spec: str | Path) -> tuple[list[Path], list[Path]]:
    """(recording files, folders where replay results may live) for one user path or glob."""
    text = str(spec)
    if _GLOB_CHARS & set(text):
        matches = sorted(glob.glob(text, recursive=True))
        if not matches:
            raise SourceError(f"no files match {text!r}")
        files: list[Path] = []
        results: list[Path] = []
        for match in matches:
            more, res = _expand(Path(match))
            files.extend(more)
            results.extend(res)
        return files, results
    path = Path(text).expanduser()
    if not path.exists():
        raise SourceError(f"no such file or folder: {path}")
    if path.is_dir():
        files, results = _expand_dir(path)
        if not files and not any(r.is_dir() for r in results):
            raise SourceError(
                f"no recordings under {path}: expected YYYY-MM-DD/ folders with "
                "*.parquet or *.arrow files"
            )
        return files, results
    if path.suffix not in (PARQUET_SUFFIX, SEGMENT_SUFFIX):
        raise SourceError(f"{path}: not a recording (expected a .parquet or .arrow file)")
    return [path], [path.parent.parent / RESULTS_DIR_NAME]


def validate_parquet(path: Path) -> None:
    """Raise :class:`SourceError` naming ``path`` unless it is a schema-v1 Parquet recording.

    Reads only the footer (~0.1 ms per file), so corrupt or foreign files fail here with the file
    name rather than deep inside a DuckDB scan.
    """
    try:
        schema = pq.read_schema(str(path))
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... for damaged files
        raise SourceError(f"{path}: not a readable Parquet file ({_first_line(exc)})") from exc
    try:
        check_schema(schema, str(path))
    except SchemaError as exc:
        raise SourceError(str(exc)) from exc
    meta = schema.metadata or {}
    version = meta.get(META_SCHEMA_VERSION)
    if version is not None and version.decode(errors="replace") != str(SCHEMA_VERSION):
        raise SourceError(
            f"{path}: recording schema version {version.decode(errors='replace')} is not "
            f"supported (this ticktape reads version {SCHEMA_VERSION})"
        )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def find_recordings(paths: str | Path | Sequence[str | Path]) -> Recordings:
    """Resolve user paths/globs into validated recording files (Parquet first, then segments).

    Raises :class:`SourceError` for a missing path, a folder without recordings, a glob matching
    nothing, or a Parquet file that is corrupt or not a ticktape recording (naming the file).
    Live segments are validated when read (:mod:`ticktape.analysis.segments`).
    """
    specs: Iterable[str | Path] = [paths] if isinstance(paths, str | Path) else paths
    seen: set[Path] = set()
    parquet: list[RecordingFile] = []
    segments: list[RecordingFile] = []
    results: list[Path] = []
    for spec in specs:
        files, result_dirs = _expand(spec)
        for res in result_dirs:
            if res not in results and res.is_dir():
                results.append(res)
        for path in files:
            resolved = path.resolve()
            if resolved in seen:
                continue
            seen.add(resolved)
            rec = _stat_or_published(resolved)
            if rec.is_segment:
                segments.append(rec)
            else:
                validate_parquet(resolved)
                parquet.append(rec)
    if not parquet and not segments and not results:
        raise SourceError(f"no recordings found in {', '.join(map(str, specs))}")
    return Recordings(parquet=tuple(parquet), segments=tuple(segments), results_dirs=tuple(results))
