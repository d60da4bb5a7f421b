"""Finish what a crash left behind under a recording root, before recording again.

A killed recorder can leave, in any day folder:

* ``*.arrow`` segments (the open one, and rotated ones whose conversion had not finished): each
  is converted to Parquet up to its last complete batch, then removed; one with no readable
  row is removed and reported;
* ``*.parquet.tmp`` files from an interrupted conversion: removed (their segment is still there,
  since a segment is deleted only after its Parquet file is published);
* a segment *and* its Parquet file (killed between publish and delete): converted again, which
  rewrites the same bytes, then removed.

Nothing that could not be converted is deleted: such segments are listed in a
:class:`RecoveryError` after every other file has been dealt with. Running it again is a no-op.
Only files named as recordings (``schema.FILE_NAME_RE``) are touched.

Run it only while no recorder is writing under ``root`` (for ``exchanges``, if given): a live
segment looks exactly like a crashed one.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection
from dataclasses import dataclass, field

import pyarrow.fs as pafs

from ticktape.recorder import storage
from ticktape.recorder.compaction import DEFAULT_ZSTD_LEVEL, CompactionError, compact_segment
from ticktape.schema import FILE_NAME_RE, SEGMENT_SUFFIX

log = logging.getLogger(__name__)


class RecoveryError(RuntimeError):
    """Some segments could not be converted; they were kept.

    ``failures`` maps path → reason; ``report`` is what was done for the other files.
    """

    def __init__(self, failures: dict[str, str], report: RecoveryReport) -> None:
        lines = "\n".join(f"  {path}: {reason}" for path, reason in failures.items())
        super().__init__(
            f"{len(failures)} segment(s) could not be recovered and were left in place:\n{lines}"
        )
        self.failures = failures
        self.report = report


@dataclass(slots=True)
class RecoveryReport:
    """What :func:`recover_report` did. Paths are filesystem paths, sorted."""

    published: list[str] = field(default_factory=list)
    """Parquet files written from leftover segments."""
    removed_empty: list[str] = field(default_factory=list)
    """Segments that held no readable row, deleted."""
    removed_temp: list[str] = field(default_factory=list)
    """Stale temporary Parquet files, deleted."""
    truncated: dict[str, str] = field(default_factory=dict)
    """Segment → description of the unreadable tail that was dropped."""
    rows: int = 0
    """Rows recovered into ``published``."""


def recover(root: str | os.PathLike[str], filesystem: pafs.FileSystem | None = None) -> list[str]:
    """Finish every segment a crash left under ``root``; return the Parquet files written.

    See :func:`recover_report` for details and errors.
    """
    return recover_report(root, filesystem).published


def recover_report(
    root: str | os.PathLike[str],
    filesystem: pafs.FileSystem | None = None,
    *,
    exchanges: Collection[str] | None = None,
    compression_level: int = DEFAULT_ZSTD_LEVEL,
) -> RecoveryReport:
    """Like :func:`recover`, returning everything done (see the module docstring).

    ``exchanges`` limits recovery to files of those exchanges. Raises :class:`RecoveryError`
    (after handling every other file) if any segment could not be converted.
    """
    fs, root_path = storage.resolve(root, filesystem)
    report = RecoveryReport()
    failures: dict[str, str] = {}
    segments: list[str] = []
    for path in storage.list_files(fs, root_path):
        name = storage.basename(path)
        if storage.is_temp_recording(path):
            if _selected(name.removesuffix(storage.TEMP_SUFFIX), exchanges):
                storage.delete_file(fs, path)
                report.removed_temp.append(path)
                log.warning("removed stale temporary file %s", path)
        elif name.endswith(SEGMENT_SUFFIX) and _selected(name, exchanges):
            segments.append(path)

    for path in segments:
        try:
            result = compact_segment(fs, path, compression_level=compression_level)
        except CompactionError as exc:
            failures[path] = str(exc)
            log.error("%s", exc)
            continue
        if result.stopped_early is not None:
            report.truncated[path] = result.stopped_early
            log.warning("%s: dropped unreadable tail: %s", path, result.stopped_early)
        if result.parquet is None:
            report.removed_empty.append(path)
            log.warning("%s: no readable row; segment removed", path)
        else:
            report.published.append(result.parquet)
            report.rows += result.rows
            log.info("recovered %d row(s) from %s into %s", result.rows, path, result.parquet)
    if failures:
        raise RecoveryError(failures, report)
    return report


def _selected(name: str, exchanges: Collection[str] | None) -> bool:
    match = FILE_NAME_RE.match(name)
    return match is not None and (exchanges is None or match["exchange"] in exchanges)
