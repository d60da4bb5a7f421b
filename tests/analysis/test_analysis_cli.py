"""The ``analyze`` command: output formats, files, canned queries, the prompt, error paths."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ticktape.analysis.cli import main

SQL = "SELECT exchange, count(*) AS n, max(recv_ns) AS last_ns FROM quotes GROUP BY ALL ORDER BY 1"


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_table_csv_json_agree(day_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, table, _ = run([str(day_root), "--sql", SQL], capsys)
    assert code == 0
    lines = table.splitlines()
    assert lines[0].split() == ["exchange", "n", "last_ns"]
    assert lines[-1] == "(4 rows)"
    code, text, _ = run([str(day_root), "--sql", SQL, "--format", "csv"], capsys)
    rows = list(csv.reader(io.StringIO(text)))
    assert code == 0 and rows[0] == ["exchange", "n", "last_ns"] and len(rows) == 5
    code, text, _ = run([str(day_root), "--sql", SQL, "--format", "json"], capsys)
    records = json.loads(text)
    assert code == 0 and [r["exchange"] for r in records] == [r[0] for r in rows[1:]]
    assert [str(r["last_ns"]) for r in records] == [r[2] for r in rows[1:]]  # 19 digits, exact
    assert all(len(str(r["last_ns"])) == 19 for r in records)
    assert all(r[2] in table for r in rows[1:])


def test_timestamps_and_nulls_print_exactly(
    day_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sql = (
        "SELECT recv_ns, recv_ts, exch_ts FROM quotes WHERE exchange = 'binance' "
        "ORDER BY recv_ns LIMIT 1"
    )
    code, text, _ = run([str(day_root), "--sql", sql, "--format", "csv"], capsys)
    recv_ns, recv_ts, exch_ts = list(csv.reader(io.StringIO(text)))[1]
    assert code == 0 and exch_ts == ""  # Binance bookTicker has no exchange time
    assert recv_ts.endswith(recv_ns[-9:])  # nanoseconds kept


def test_max_rows_truncates_table_only(day_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sql = "SELECT seq FROM raw ORDER BY recv_ns"
    code, text, _ = run([str(day_root), "--sql", sql, "--max-rows", "3"], capsys)
    assert code == 0 and len(text.splitlines()) == 6 and "not shown" in text
    code, text, _ = run([str(day_root), "--sql", sql, "--format", "csv", "--max-rows", "3"], capsys)
    assert len(text.splitlines()) > 100


def test_out_files(day_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "spreads.parquet"
    code, stdout, err = run([str(day_root), "--query", "spreads", "--out", str(out)], capsys)
    assert code == 0 and stdout == "" and "spreads.parquet" in err
    table = pq.read_table(out)
    assert table.num_rows > 0 and "mid" in table.column_names
    out_csv = tmp_path / "q.csv"
    code, _, _ = run([str(day_root), "--sql", SQL, "--out", str(out_csv)], capsys)
    assert code == 0 and out_csv.read_text().startswith("exchange,n,last_ns\n")
    code, _, err = run([str(day_root), "--sql", SQL, "--out", str(tmp_path / "x.xlsx")], capsys)
    assert code == 2 and "unknown file type" in err


def test_sql_file_and_canned_query(
    day_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    query = tmp_path / "q.sql"
    query.write_text("-- per exchange\n" + SQL + ";\n")
    code, text, _ = run([str(day_root), "--sql-file", str(query), "--format", "csv"], capsys)
    assert code == 0 and text.count("\n") == 5
    code, text, _ = run([str(day_root), "--query", "gaps"], capsys)
    assert code == 0 and "reconnect" in text


def test_list_shows_views_columns_and_queries(
    day_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text, _ = run([str(day_root), "--list"], capsys)
    assert code == 0
    for word in ("quotes", "recv_ts", "TIMESTAMP_NS", "connections", "reconnect_gap_s", "panel"):
        assert word in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{missing}"], "no such file or folder"),
        (["{root}", "--sql", "SELEC 1"], "syntax error"),
        (["{root}", "--sql", "SELECT nope FROM quotes"], "nope"),
        (["{root}", "--query", "nope"], "no canned query 'nope'"),
        (["{root}", "--query", "episodes"], "replay"),
        (["{root}", "--sql-file", "{missing}"], "cannot read"),
        (["{corrupt}", "--sql", "SELECT 1"], "corrupt.parquet: not a readable Parquet file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    day_root: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    corrupt = tmp_path / "corrupt.parquet"
    corrupt.write_bytes(b"PAR1 nonsense")
    values = {"root": str(day_root), "missing": str(tmp_path / "missing"), "corrupt": str(corrupt)}
    code, out, err = run([a.format(**values) for a in args], capsys)
    assert code == 2 and out == ""
    assert err.startswith("analyze: error: ") and err.count("\n") == 1, err
    assert message in err
    assert "Traceback" not in err


def test_interactive_prompt_from_a_pipe(
    day_root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    script = (
        ".format csv\n"
        "SELECT count(*) AS n\n  FROM trades;\n"
        "SELECT broken;\n"
        ".run rates\n"
        ".views\n"
        ".quit\n"
        "SELECT 'not reached';\n"
    )
    monkeypatch.setattr(sys, "stdin", io.StringIO(script))
    code, out, err = run([str(day_root)], capsys)
    assert code == 0
    assert out.startswith("n\n144\n")
    assert "minute,exchange,messages" in out and "payload_text" in out
    assert "not reached" not in out
    assert err.count("error:") == 1 and "broken" in err


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    assert "examples:" in out and "--query spreads" in out and "--report" in out


def test_console_script_runs(day_root: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ticktape.analysis.cli", str(day_root), "--sql", "SELECT 42 AS x"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and "42" in done.stdout
