"""The ``replay`` command: help, happy path, and every bad input as one line + exit code 2."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from replay_testkit import file_name, key, make_rows, write_parquet, write_segment

from ticktape.replay.cli import main, parse_fees, parse_strategies
from ticktape.replay.errors import BadOptionError

ROWS = make_rows(seed=3, rows_per_conn=40)


def _data(root: Path, rotation: int = 10_000) -> Path:
    ordered = sorted(ROWS, key=key)
    day = root / "data" / "2025-07-22"
    for index, start in enumerate(range(0, len(ordered), rotation)):
        write_parquet(day / file_name(index), ordered[start : start + rotation])
    return day


def _fails(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    captured = capsys.readouterr()
    assert info.value.code == 2
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("replay: error: ") and message in lines[0]
    assert "Traceback" not in captured.err


def test_help_teaches_with_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    out = capsys.readouterr().out
    assert info.value.code == 0
    assert "examples:" in out and "replay data/2025-07-22" in out
    for option in ("--from", "--to", "--strategy", "--speed", "--out", "--digest", "--quiet",
                   "--fees", "--min-edge-bps", "--jobs"):  # fmt: skip
        assert option in out


def test_bad_inputs_end_in_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_decoders: None
) -> None:
    day = _data(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    _fails(capsys, [str(empty)], "no recordings under")
    _fails(capsys, [str(tmp_path / "nope")], "no such file or folder")
    _fails(capsys, [str(day), "--strategy", "momentum"], "unknown strategy 'momentum'")
    _fails(capsys, [str(day), "--speed", "fast"], "bad --speed 'fast'")
    _fails(capsys, [str(day), "--from", "22/07/2025"], "bad --from day")
    _fails(capsys, [str(day), "--fees", "binance=0.1"], "bad --fees 'binance=0.1'")
    _fails(capsys, [str(day), "--jobs", "2", "--speed", "3"], "do not mix")
    _fails(capsys, [str(day), "--bogus"], "unrecognized arguments: --bogus")
    _fails(capsys, [], "the following arguments are required: PATH")
    corrupt = day / file_name(99)
    corrupt.write_bytes(b"not parquet at all")
    _fails(capsys, [str(day)], str(corrupt))


def test_replay_writes_results_and_prints_summary_and_digest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_decoders: None
) -> None:
    day = _data(tmp_path)
    assert main([str(day), "--digest", "--strategy", "arb,latency", "--min-edge-bps", "0"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"replayed {len(ROWS):,} rows (2025-07-22) from 1 file")
    assert "== arb" in out and "== latency" in out
    results = tmp_path / "data" / "results"
    written = sorted(p.relative_to(results) for p in results.rglob("*.parquet"))
    assert {p.parts[0] for p in written} == {"arb", "latency"}
    digest_lines = [line for line in out.splitlines() if "digest " in line]
    assert len(digest_lines) == 3

    other = tmp_path / "rotated"
    shutil.copytree(tmp_path / "data", other / "data")
    shutil.rmtree(other / "data" / "results")
    for f in (other / "data" / "2025-07-22").iterdir():
        f.unlink()
    ordered = sorted(ROWS, key=key)
    write_parquet(other / "data" / "2025-07-22" / file_name(1), ordered[:100], dictionary=False)
    write_segment(other / "data" / "2025-07-22" / file_name(2, suffix=".arrow"), ordered[100:], 7)
    out_dir = tmp_path / "elsewhere"
    argv = [str(other / "data"), "--quiet", "--digest", "--strategy", "arb", "--strategy",
            "latency", "--min-edge-bps", "0", "--out", str(out_dir)]  # fmt: skip
    assert main(argv) == 0
    quiet_out = capsys.readouterr().out.splitlines()
    assert quiet_out == digest_lines
    assert (out_dir / "arb").is_dir()


def test_jobs_replays_days_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_decoders: None
) -> None:
    day = _data(tmp_path)
    assert main([str(day.parent), "--jobs", "1", "--quiet", "--digest", "--no-write"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3
    assert not (day.parent / "results").exists()


def test_option_parsers() -> None:
    assert parse_strategies(None) == ["arb", "latency"]
    assert parse_strategies(["arb,latency", "arb"]) == ["arb", "latency"]
    assert parse_fees(["binance=0.075%,mexc=0bps", "bybit=10bps"]) == {
        "binance": pytest.approx(0.00075),
        "mexc": 0.0,
        "bybit": pytest.approx(0.001),
    }
    with pytest.raises(BadOptionError):
        parse_fees(["=1%"])


def test_console_script_errors_without_traceback(tmp_path: Path) -> None:
    """The installed entry point, as a user runs it."""
    exe = Path(sys.executable).with_name("replay")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "ticktape.replay.cli"]
    done = subprocess.run(
        [*command, str(tmp_path / "missing")], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"replay: error: no recordings under {tmp_path / 'missing'}: no such file or folder"
    ]
