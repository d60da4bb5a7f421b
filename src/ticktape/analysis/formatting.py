"""Print query results as an aligned text table, CSV or JSON, exactly.

Exactness rules (users diff these outputs): integers print in full (``recv_ns`` keeps all 19
digits, also in JSON); in CSV and JSON floats use the shortest text that reads back to the
same double (``repr``), while tables show 15 significant digits (every decimal price of up to
15 digits prints as written, without ``0.30000000000000004`` noise); timestamps print with
their full precision (nanoseconds for ``TIMESTAMP_NS``); binary values print as ``\\x..``
escaped text in tables and CSV, and as hex strings in JSON. NULL is an empty CSV field,
``null`` in JSON and ``NULL`` in tables.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from typing import Any, Final, TextIO

import pyarrow as pa

FORMATS: Final = ("table", "csv", "json")
_NULL_TABLE: Final = "NULL"


def _temporal_strings(column: pa.ChunkedArray) -> list[str | None]:
    return column.cast(pa.string()).to_pylist()


def _escape_binary(value: bytes) -> str:
    return "".join(chr(b) if 32 <= b < 127 and b != 92 else f"\\x{b:02x}" for b in value)


def column_cells(column: pa.ChunkedArray, exact: bool = True) -> list[str | None]:
    """Text of each value of ``column`` (``None`` for NULL) for CSV (``exact``) and tables."""
    kind = column.type
    if pa.types.is_temporal(kind):
        return _temporal_strings(column)
    values = column.to_pylist()
    if pa.types.is_floating(kind):
        if exact:
            return [None if v is None else repr(v) for v in values]
        return [None if v is None else format(v, ".15g") for v in values]
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        return [None if v is None else _escape_binary(v) for v in values]
    if pa.types.is_boolean(kind):
        return [None if v is None else ("true" if v else "false") for v in values]
    return [None if v is None else str(v) for v in values]


def _json_values(column: pa.ChunkedArray) -> list[Any]:
    kind = column.type
    if pa.types.is_temporal(kind):
        return _temporal_strings(column)
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        return [None if v is None else v.hex() for v in column.to_pylist()]
    if pa.types.is_floating(kind):
        return [None if v is None or not math.isfinite(v) else v for v in column.to_pylist()]
    if pa.types.is_decimal(kind):
        return [None if v is None else str(v) for v in column.to_pylist()]
    return column.to_pylist()


def write_table(table: pa.Table, out: TextIO, max_rows: int = 0) -> None:
    """Aligned text table; ``max_rows`` > 0 prints that many rows and says how many are left."""
    shown = table.slice(0, max_rows) if max_rows and table.num_rows > max_rows else table
    names = table.column_names
    cells = [
        [_NULL_TABLE if c is None else c for c in column_cells(col, exact=False)]
        for col in shown.columns
    ]
    numeric = [
        pa.types.is_integer(f.type) or pa.types.is_floating(f.type) or pa.types.is_decimal(f.type)
        for f in table.schema
    ]
    widths = [max([len(n), *(len(c) for c in col)]) for n, col in zip(names, cells, strict=True)]

    def line(values: list[str]) -> str:
        parts = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out.write(line(list(names)) + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for row in zip(*cells, strict=True):
        out.write(line(list(row)) + "\n")
    rest = table.num_rows - shown.num_rows
    summary = f"({table.num_rows} row{'s' if table.num_rows != 1 else ''}"
    summary += f", {rest} not shown: use --max-rows 0, --format csv or --out)" if rest else ")"
    out.write(summary + "\n")


def write_csv(table: pa.Table, out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.column_names)
    columns = [column_cells(col) for col in table.columns]
    for row in zip(*columns, strict=True):
        writer.writerow(["" if v is None else v for v in row])


def json_records(table: pa.Table) -> Iterator[dict[str, Any]]:
    names = table.column_names
    columns = [_json_values(col) for col in table.columns]
    for row in zip(*columns, strict=True):
        yield dict(zip(names, row, strict=True))


def write_json(table: pa.Table, out: TextIO) -> None:
    """A JSON array of objects, one per row, keys in column order."""
    out.write("[")
    for i, record in enumerate(json_records(table)):
        out.write(",\n " if i else "\n ")
        out.write(json.dumps(record, ensure_ascii=False, allow_nan=False))
    out.write("\n]\n" if table.num_rows else "]\n")


def write(table: pa.Table, fmt: str, out: TextIO, max_rows: int = 0) -> None:
    """Write ``table`` to ``out`` in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "table":
        write_table(table, out, max_rows)
    elif fmt == "csv":
        write_csv(table, out)
    elif fmt == "json":
        write_json(table, out)
    else:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
