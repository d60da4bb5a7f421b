"""The interactive SQL prompt of ``analyze DATA`` (no query given).

Statements end with ``;`` and may span lines. Dot commands (one line, no ``;``):
``.quit``/``.exit``, ``.help``, ``.views`` (views and columns), ``.queries`` (canned queries),
``.run NAME`` (run a canned query), ``.format table|csv|json``, ``.maxrows N``.

Errors in a statement print one line and the prompt continues. With a terminal, input goes
through ``readline`` (editing, history in ``~/.ticktape_history``); without one (a pipe), lines
are read as they come and no prompt is printed, so ``echo "SELECT 1;" | analyze DATA`` works.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import duckdb

from ticktape.analysis import formatting
from ticktape.analysis.errors import AnalysisError
from ticktape.analysis.queries import canned_queries, one_line, run_canned, run_sql

PROMPT = "ticktape> "
CONTINUE = "     ...> "
HISTORY = Path("~/.ticktape_history")

HELP = """\
Enter SQL ending with ';' (views: see .views). Dot commands:
  .views              views and their columns
  .queries            canned queries;  .run NAME  runs one
  .format FMT         table | csv | json (now: {fmt})
  .maxrows N          rows shown in table format, 0 = all (now: {max_rows})
  .help               this text
  .quit / .exit       leave (Ctrl-D works too)"""


def describe_views(con: duckdb.DuckDBPyConnection, out: TextIO) -> None:
    """Each view with its columns and types (also ``analyze --list``)."""
    from ticktape.analysis.connection import view_names

    for view in view_names(con):
        out.write(f"{view}\n")
        for name, kind, *_ in con.execute(f'DESCRIBE "{view}"').fetchall():
            out.write(f"  {name:<18} {kind}\n")


def describe_queries(out: TextIO) -> None:
    for name, query in canned_queries().items():
        out.write(f"  {name:<10} {query.description}\n")


class Shell:
    """Read-eval-print loop over one connection. ``run`` returns the exit status (0)."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        out: TextIO = sys.stdout,
        err: TextIO = sys.stderr,
        fmt: str = "table",
        max_rows: int = 200,
    ) -> None:
        self.con = con
        self.out = out
        self.err = err
        self.fmt = fmt
        self.max_rows = max_rows
        self.done = False

    def _print(self, relation: duckdb.DuckDBPyRelation) -> None:
        try:
            table = relation.to_arrow_table()
        except duckdb.Error as exc:
            raise AnalysisError(one_line(exc)) from exc
        formatting.write(table, self.fmt, self.out, self.max_rows)

    def execute(self, text: str) -> None:
        """Run one statement or dot command; errors are printed, never raised."""
        try:
            if text.startswith("."):
                self._dot(text)
            else:
                self._print(run_sql(self.con, text))
        except AnalysisError as exc:
            self.err.write(f"error: {exc}\n")

    def _dot(self, text: str) -> None:
        command, _, arg = text.strip().partition(" ")
        arg = arg.strip()
        actions: dict[str, Callable[[], None]] = {
            ".quit": self._quit,
            ".exit": self._quit,
            ".help": self._help,
            ".views": lambda: describe_views(self.con, self.out),
            ".tables": lambda: describe_views(self.con, self.out),
            ".queries": lambda: describe_queries(self.out),
            ".run": lambda: self._print(run_canned(self.con, arg)),
            ".format": lambda: self._set_format(arg),
            ".maxrows": lambda: self._set_max_rows(arg),
        }
        action = actions.get(command)
        if action is None:
            raise AnalysisError(f"unknown command {command!r}; try .help")
        action()

    def _help(self) -> None:
        self.out.write(HELP.format(fmt=self.fmt, max_rows=self.max_rows) + "\n")

    def _quit(self) -> None:
        self.done = True

    def _set_format(self, fmt: str) -> None:
        if fmt not in formatting.FORMATS:
            raise AnalysisError(f"unknown format {fmt!r}; choose {', '.join(formatting.FORMATS)}")
        self.fmt = fmt

    def _set_max_rows(self, text: str) -> None:
        if not text.isdigit():
            raise AnalysisError(f"bad row count {text!r}; give a number (0 = all)")
        self.max_rows = int(text)

    def run(self, lines: TextIO = sys.stdin) -> int:
        interactive = lines.isatty()
        read = self._readline_input() if interactive else None
        if interactive:
            self.out.write("ticktape SQL; views: .views  canned queries: .queries  help: .help\n")
        buffer: list[str] = []
        while not self.done:
            prompt = CONTINUE if buffer else PROMPT
            try:
                line = read(prompt) if read else lines.readline()
            except EOFError:
                break
            except KeyboardInterrupt:
                self.out.write("\n")
                buffer.clear()
                continue
            if not read and line == "":
                break
            stripped = line.strip()
            if not buffer and stripped.startswith("."):
                self.execute(stripped)
                continue
            if stripped:
                buffer.append(line.rstrip("\n"))
            if stripped.endswith(";"):
                self.execute("\n".join(buffer))
                buffer.clear()
        if buffer and "".join(buffer).strip():
            self.execute("\n".join(buffer))  # a last statement without ';' at end of input
        if interactive:
            self._save_history()
        return 0

    def _readline_input(self) -> Callable[[str], str]:
        try:
            import readline

            history = HISTORY.expanduser()
            if history.exists():
                readline.read_history_file(str(history))
        except (ImportError, OSError):
            pass
        return input

    def _save_history(self) -> None:
        try:
            import readline

            readline.set_history_length(1000)
            readline.write_history_file(str(HISTORY.expanduser()))
        except (ImportError, OSError):
            pass
