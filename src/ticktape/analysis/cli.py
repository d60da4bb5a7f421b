"""``analyze``: SQL over ticktape recordings and replay results.

Bad input (a missing folder, a corrupt or foreign Parquet file, bad SQL, an unknown canned query)
prints one line ``analyze: error: ...`` on stderr and exits with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import TextIO

import duckdb
import pyarrow as pa

from ticktape.analysis import formatting
from ticktape.analysis.connection import connect
from ticktape.analysis.errors import AnalysisError, QueryError
from ticktape.analysis.queries import canned_queries, one_line, run_canned, run_sql
from ticktape.analysis.shell import Shell, describe_queries, describe_views

EXIT_BAD_INPUT = 2

EXAMPLES = """\
examples:
  analyze data/                                   interactive SQL prompt (.help inside)
  analyze data/ --list                            views, their columns, canned queries
  analyze data/2025-07-22 --query spreads         a canned query (see --list)
  analyze data/ --sql "SELECT exchange, count(*) FROM quotes GROUP BY ALL"
  analyze 'data/2025-07-2*' --sql-file q.sql --format csv > out.csv
  analyze data/ --query latency --out latency.parquet
  analyze data/ --report report.html              one self-contained HTML file with plots

views: raw, quotes, trades, issues, connections, gaps, files, and replay results (signals,
episodes, latency, ...) when present. Timestamps: *_ns = exact int64 ns since the epoch (UTC),
*_ts = the same as TIMESTAMP_NS. raw's column "binary" is a SQL keyword: write it in quotes.
The first query on new data decodes it with the replay's decoders and caches the result in
<day>/.ticktape-cache/ (rebuilt when a file or a decoder changes).
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="analyze",
        description="SQL (DuckDB) over ticktape recordings and replay results.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "data", nargs="+", help="data folder, day folder, recording file(s) or glob(s)"
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--sql", metavar="SQL", help="run this SQL")
    action.add_argument("--sql-file", metavar="FILE", type=Path, help="run the SQL in FILE")
    action.add_argument("--query", metavar="NAME", help="run a canned query (see --list)")
    action.add_argument("--list", action="store_true", help="list views, columns, canned queries")
    action.add_argument("--report", metavar="OUT.html", type=Path, help="write an HTML report")
    parser.add_argument(
        "--format", choices=formatting.FORMATS, default="table", help="output format (table)"
    )
    parser.add_argument(
        "--out", metavar="FILE", type=Path, help="write the result to FILE (.parquet, .csv, .json)"
    )
    parser.add_argument(
        "--max-rows",
        type=int,
        default=200,
        metavar="N",
        help="rows shown in table format (default 200; 0 = all)",
    )
    parser.add_argument("--cache-dir", type=Path, help="decode cache folder (default: per day)")
    parser.add_argument("--threads", type=int, help="DuckDB threads (default: all cores)")
    parser.add_argument(
        "--workers", type=int, help="processes decoding new files (default: auto, 1 = none)"
    )
    return parser


def _fetch(relation: duckdb.DuckDBPyRelation) -> pa.Table:
    try:
        return relation.to_arrow_table()
    except duckdb.Error as exc:  # data errors (damaged pages) surface when rows are read
        raise QueryError(one_line(exc)) from exc


def _write_out(relation: duckdb.DuckDBPyRelation, path: Path) -> int:
    suffix = path.suffix.lower()
    table = _fetch(relation)
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            pq.write_table(table, str(path), compression="zstd")
        elif suffix in (".csv", ".json"):
            with path.open("w", encoding="utf-8", newline="") as out:
                formatting.write(table, suffix[1:], out)
        else:
            raise QueryError(f"--out {path}: unknown file type; use .parquet, .csv or .json")
    except OSError as exc:
        raise QueryError(f"--out {path}: cannot write ({exc.strerror or exc})") from exc
    return table.num_rows


def _sql_text(args: argparse.Namespace) -> str | None:
    if args.sql is not None:
        return str(args.sql)
    if args.sql_file is not None:
        try:
            return args.sql_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise QueryError(f"--sql-file {args.sql_file}: cannot read ({exc})") from exc
    return None


def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.max_rows < 0:
        raise QueryError("--max-rows must be 0 (all) or more")
    if args.query is not None:
        queries = canned_queries()
        if args.query not in queries:
            raise QueryError(f"no canned query {args.query!r}; choose one of: {', '.join(queries)}")
    if (args.workers is not None and args.workers < 1) or (
        args.threads is not None and args.threads < 1
    ):
        raise QueryError("--workers and --threads must be 1 or more")
    con = connect(args.data, cache_dir=args.cache_dir, threads=args.threads, workers=args.workers)
    built = con.execute("SELECT count(*) FROM files WHERE cache = 'built'").fetchall()[0][0]
    if built and err.isatty():
        err.write(f"analyze: decoded {built} new file(s) into the cache\n")
    if args.list:
        describe_views(con, out)
        out.write("canned queries (--query NAME):\n")
        describe_queries(out)
        return 0
    if args.report is not None:
        from ticktape.analysis.report import write_report

        write_report(con, args.report)
        err.write(f"analyze: wrote {args.report}\n")
        return 0
    sql = _sql_text(args)
    if sql is None and args.query is None:
        return Shell(con, out, err, fmt=args.format, max_rows=args.max_rows).run(sys.stdin)
    relation = run_canned(con, args.query) if sql is None else run_sql(con, sql)
    if args.out is not None:
        rows = _write_out(relation, args.out)
        err.write(f"analyze: wrote {rows} row(s) to {args.out}\n")
        return 0
    formatting.write(_fetch(relation), args.format, out, args.max_rows)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``analyze`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    out, err = sys.stdout, sys.stderr

    def show_warning(message: Warning | str, category: type[Warning], *_: object) -> None:
        err.write(f"analyze: warning: {message}\n")

    warnings.showwarning = show_warning  # type: ignore[assignment]
    try:
        return _run(args, out, err)
    except AnalysisError as exc:
        err.write(f"analyze: error: {exc}\n")
        return EXIT_BAD_INPUT
    except duckdb.Error as exc:
        err.write(f"analyze: error: {one_line(exc)}\n")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `analyze ... | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
