"""Find the replay's result tables (``<data>/results/<strategy>/…/*.parquet``) for SQL views.

The replay writes one folder per strategy and, inside it, one Parquet file per result table
(``signals``, ``episodes``, ``latency``, ``alerts``, …), possibly split into parts or per-day
sub-folders. A file's table name is its stem up to the first ``.`` or ``-``; a stem that is a part
number or a day (``part-0001``, ``2025-07-22``) takes the name of its folder instead. Every table
gets a leading ``strategy`` column naming the folder it came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ticktape.schema import DAY_DIR_RE

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
_PART = re.compile(r"^(part|chunk|\d)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ResultFile:
    strategy: str
    table: str
    path: Path


def _table_name(path: Path, strategy_dir: Path) -> str | None:
    stem = re.split(r"[.\-]", path.name, maxsplit=1)[0]
    if (DAY_DIR_RE.match(path.stem[:10]) or _PART.match(stem)) and path.parent != strategy_dir:
        stem = path.parent.name
        if DAY_DIR_RE.match(stem):  # <strategy>/<day>/part-0.parquet: no table name to be had
            return None
    name = stem.lower()
    return name if _IDENT.match(name) else None


def find_results(results_dirs: Iterable[Path]) -> dict[str, list[ResultFile]]:
    """Result files grouped by table name, in path order (deterministic)."""
    tables: dict[str, list[ResultFile]] = {}
    for results in results_dirs:
        for strategy_dir in sorted(p for p in results.iterdir() if p.is_dir()):
            if strategy_dir.name.startswith("."):
                continue
            for path in sorted(strategy_dir.rglob("*.parquet")):
                if any(part.startswith(".") for part in path.relative_to(strategy_dir).parts):
                    continue  # temporary files being written
                table = _table_name(path, strategy_dir)
                if table is not None:
                    tables.setdefault(table, []).append(
                        ResultFile(strategy=strategy_dir.name, table=table, path=path)
                    )
    return tables
