"""Results on disk and on screen: deterministic Parquet files and a readable summary.

Files: ``<out>/<strategy>/<table>.parquet``, written with fixed writer options (zstd level 3,
format 2.6, statistics on, no extra metadata: nothing depends on the clock or the host), first
under a hidden temporary name and then renamed, so a reader never sees half a file. The same
result always gives the same bytes with the same pyarrow version. Default ``<out>``: the
``results`` folder next to the day folders (``data/results`` for ``data/2025-07-22``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from ticktape import schema
from ticktape.replay.api import ReplayResult
from ticktape.replay.reader import RecordingFile

_WRITER_OPTIONS: Final = {
    "compression": "zstd",
    "compression_level": 3,
    "version": "2.6",
    "data_page_version": "1.0",
    "write_statistics": True,
    "use_dictionary": True,
}


def default_out_dir(files: Sequence[RecordingFile]) -> Path:
    """``<root>/results`` where ``<root>`` holds the first file's day folder."""
    folder = Path(files[0].path).parent if files else Path(".")
    if schema.DAY_DIR_RE.match(folder.name):
        folder = folder.parent
    return folder / "results"


def write_results(result: ReplayResult, out_dir: str | Path) -> list[Path]:
    """Write every result table; return the paths written, in strategy/table name order."""
    filesystem = pafs.LocalFileSystem()
    written = []
    for strategy in sorted(result.results):
        folder = Path(out_dir) / strategy
        filesystem.create_dir(str(folder), recursive=True)
        for name in sorted(result.results[strategy]):
            path = folder / f"{name}.parquet"
            publish(result.results[strategy][name], path, filesystem)
            written.append(path)
    return written


def publish(table: pa.Table, path: Path, filesystem: pafs.FileSystem) -> None:
    """Write ``table`` to ``path`` atomically (temporary name, then rename): the one place."""
    temporary = path.with_name(f".{path.name}.tmp")
    table = table.replace_schema_metadata(None).combine_chunks()
    pq.write_table(table, str(temporary), filesystem=filesystem, **_WRITER_OPTIONS)
    filesystem.move(str(temporary), str(path))


def format_summary(
    result: ReplayResult,
    *,
    files: int | None = None,
    elapsed_s: float | None = None,
    written: Sequence[Path] = (),
) -> str:
    """A few readable lines: what was replayed, counts, decode errors, gaps, strategy summaries."""
    counts = result.counts
    days = result.days
    span = "" if not days else f" ({days[0]})" if len(days) == 1 else f" ({days[0]}..{days[-1]})"
    head = f"replayed {counts.rows:,} rows{span}"
    if files is not None:
        head += f" from {files} file{'s' if files != 1 else ''}"
    if elapsed_s is not None and elapsed_s > 0:
        head += f" in {elapsed_s:.2f} s ({counts.rows / elapsed_s:,.0f} rows/s)"
    lines = [head]
    lines.append("rows:   " + _tally(counts.rows_by_kind))
    data_rows = counts.rows_by_kind.get("data", 0)
    if data_rows:
        share = counts.compiled_rows / data_rows
        lines.append(
            f"decoded: {counts.compiled_rows:,} data rows by the compiled decoder ({share:.0%}), "
            f"{data_rows - counts.compiled_rows:,} by the Python decoders"
        )
    lines.append("events: " + _tally(counts.events_by_type))
    if counts.gaps:
        lines.append(f"gaps:   {counts.gaps:,} (seq jumps; see Gap events)")
    if counts.decode_errors:
        lines.append(f"decode errors: {counts.decode_error_total:,}")
        for exchange in sorted(counts.decode_errors):
            for stream, n in sorted(counts.decode_errors[exchange].items()):
                lines.append(f"  {exchange} {stream}: {n:,}")
    for strategy in sorted(result.summaries):
        signals = counts.signals.get(strategy, 0)
        lines.append(f"== {strategy} ({signals:,} signals) ==")
        lines.append(result.summaries[strategy].rstrip())
    if written:
        lines.append("results: " + ", ".join(str(p) for p in written))
    return "\n".join(lines)


def format_digests(result: ReplayResult) -> str:
    """The lines ``--digest`` prints: equal data gives equal lines, whatever the rotation."""
    return (
        f"events-digest  {result.events_digest}  ({result.counts.events:,} events)\n"
        f"results-digest {result.results_digest}\n"
        f"digest         {result.digest}"
    )


def _tally(counter: dict[str, int]) -> str:
    if not counter:
        return "none"
    return " · ".join(f"{key} {value:,}" for key, value in sorted(counter.items()))
