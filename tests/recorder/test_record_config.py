"""record's configuration: TOML + flags, precedence, and every error path (exit 2, one line)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ticktape.recorder import cli
from ticktape.recorder.config import ConfigError, load_config, parse_duration, parse_size


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "rec.toml"
    path.write_text(text)
    return str(path)


def test_defaults_record_all_four_exchanges(tmp_path: Path) -> None:
    cfg = load_config(["--out", str(tmp_path)])
    assert [ex.name for ex in cfg.exchanges] == ["binance", "bybit", "kucoin", "mexc"]
    assert cfg.symbols == ("BTC-USDT", "ETH-USDT")
    assert cfg.duration_s is None and cfg.trades is True and cfg.flush_interval_s == 1.0
    assert cfg.rotate_interval_s == 3600.0
    assert all(ex.method == "ws" for ex in cfg.exchanges)
    assert cfg.exchanges[0].ws_url.startswith("wss://")


def test_flags_are_parsed(tmp_path: Path) -> None:
    cfg = load_config(
        [
            "--out", str(tmp_path), "--exchanges", "binance,MEXC", "--symbols", "btcusdt,SOL/USDT",
            "--duration", "90", "--rotate", "15m", "--rotate-size", "1GiB",
            "--flush-interval", "250ms", "--no-trades", "--quiet",
            "--ws-url", "binance=ws://127.0.0.1:9/stream", "--rest-url", "mexc=http://127.0.0.1:9",
        ]
    )  # fmt: skip
    assert [ex.name for ex in cfg.exchanges] == ["binance", "mexc"]
    assert cfg.symbols == ("BTC-USDT", "SOL-USDT")
    assert cfg.duration_s == 90.0 and cfg.rotate_interval_s == 900.0
    assert cfg.rotate_bytes == 2**30 and cfg.flush_interval_s == 0.25
    assert cfg.trades is False and cfg.quiet is True
    assert cfg.exchanges[0].ws_url == "ws://127.0.0.1:9/stream"
    assert cfg.exchanges[1].rest_url == "http://127.0.0.1:9"


def test_toml_file_and_flag_precedence(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""
out = "{tmp_path / "from-file"}"
symbols = ["BTCUSDT"]
duration = "2m"
rotate_size = "10MB"
trades = false

[exchanges.binance]
method = "rest"
poll_interval = 2.5
rest_url = "http://127.0.0.1:1"

[exchanges.kucoin]
symbols = ["ETH-USDT"]

[exchanges.bybit]
enabled = false
""",
    )
    cfg = load_config(["--config", path])
    assert cfg.out == str(tmp_path / "from-file")
    # tables configure, they do not select: mexc (no table) is recorded, bybit is disabled
    assert [ex.name for ex in cfg.exchanges] == ["binance", "kucoin", "mexc"]
    binance, kucoin, mexc = cfg.exchanges
    assert mexc.method == "ws" and mexc.symbols == ("BTC-USDT",)
    assert binance.method == "rest" and binance.poll_interval_s == 2.5
    assert binance.rest_url == "http://127.0.0.1:1" and binance.symbols == ("BTC-USDT",)
    assert kucoin.symbols == ("ETH-USDT",)
    assert cfg.duration_s == 120.0 and cfg.rotate_bytes == 10_000_000 and cfg.trades is False

    cfg = load_config(["--config", path, "--duration", "5", "--trades", "--exchanges", "bybit"])
    assert cfg.duration_s == 5.0 and cfg.trades is True
    assert [ex.name for ex in cfg.exchanges] == ["bybit"]  # the flag picks the set


def test_toml_exchanges_as_a_list(tmp_path: Path) -> None:
    path = write(tmp_path, f'out = "{tmp_path}"\nexchanges = ["mexc", "bybit"]\n')
    assert [ex.name for ex in load_config(["--config", path]).exchanges] == ["mexc", "bybit"]


def test_duration_and_size_parsing() -> None:
    assert parse_duration("1h", "x") == 3600 and parse_duration("1.5m", "x") == 90
    assert parse_duration(7, "x") == 7.0 and parse_duration("30s", "x") == 30
    assert parse_size("512MB", "x") == 512_000_000 and parse_size("4kib", "x") == 4096
    assert parse_size(1234, "x") == 1234
    for bad in ("", "abc", "-5", "0", "5 parsecs", "1h30"):
        with pytest.raises(ConfigError):
            parse_duration(bad, "x")
    for bad in ("lots", "0", "12XB"):
        with pytest.raises(ConfigError):
            parse_size(bad, "x")


@pytest.mark.parametrize(
    ("argv", "toml", "expect"),
    [
        (["--exchanges", "binance,kraken"], None, "unknown exchange 'kraken'"),
        (["--symbols", "BTC-USDT,???"], None, "bad symbol '???'"),
        (["--symbols", "FOOBAR"], None, "cannot split 'FOOBAR'"),
        (["--duration", "soon"], None, "bad duration 'soon'"),
        (["--duration", "-3"], None, "bad duration"),
        (["--rotate", "0s"], None, "rotate: duration must be a positive"),
        (["--rotate-size", "big"], None, "bad size 'big'"),
        (["--flush-interval", "x"], None, "flush-interval"),
        (["--ws-url", "binance"], None, "expected NAME=URL"),
        (["--ws-url", "kraken=ws://x"], None, "unknown exchange 'kraken'"),
        (["--ws-url", "binance=http://x"], None, "must start with ws:// or wss://"),
        (["--exchanges", "bybit", "--ws-url", "binance=ws://x"], None, "not being recorded"),
        ([], "out = [1, 2\n", "invalid TOML"),
        ([], 'colour = "blue"\n', "unknown key 'colour'"),
        ([], "[exchanges.binance]\nspeed = 3\n", "[exchanges.binance]: unknown key 'speed'"),
        ([], "[exchanges.kraken]\n", "unknown exchange 'kraken'"),
        ([], '[exchanges.binance]\nmethod = "fax"\n', 'method must be "ws" or "rest"'),
        ([], "trades = 3\n", "trades: expected true or false"),
        ([], '[exchanges.bybit]\nws_url = "http://x"\n', "ws_url: URL must start with ws://"),
        ([], '[exchanges.mexc]\nrest_url = "ftp://x"\n', "rest_url: URL must start with http"),
        ([], "[exchanges.mexc]\npoll_interval = 0\n", "poll_interval: duration must be"),
        ([], 'duration = "forever"\n', "bad duration 'forever'"),
        ([], 'symbols = ["BTC-USDT", 5]\n', "expected a list of strings"),
    ],
)
def test_config_errors_are_one_line(
    tmp_path: Path, argv: list[str], toml: str | None, expect: str
) -> None:
    args = ["--out", str(tmp_path / "out"), *argv]
    if toml is not None:
        args += ["--config", write(tmp_path, toml)]
    with pytest.raises(ConfigError) as info:
        load_config(args)
    message = str(info.value)
    assert expect in message
    assert "\n" not in message


def test_out_in_toml_must_be_a_string(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"rec\.toml: out: expected a string, got 5"):
        load_config(["--config", write(tmp_path, "out = 5\n")])


def test_bad_toml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'out = "x"\n\nsymbols = [\n')
    with pytest.raises(ConfigError, match=r"rec\.toml: invalid TOML: .*line 4"):
        load_config(["--config", path])


def test_bad_toml_in_the_middle_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'out = "x"\nrotate = = 3\nquiet = true\n')
    with pytest.raises(ConfigError, match=r"rec\.toml: invalid TOML: .*line 2, column"):
        load_config(["--config", path])


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(["--config", str(tmp_path / "nope.toml")])


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_out(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(ConfigError, match="cannot write there"):
            load_config(["--out", str(locked / "sub")])
    finally:
        locked.chmod(0o700)


def test_out_where_nothing_can_be_created() -> None:
    with pytest.raises(ConfigError, match="--out /proc/ticktape-test: cannot write there"):
        load_config(["--out", "/proc/ticktape-test"])


def test_out_that_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="cannot write there"):
        load_config(["--out", str(blocker)])


def test_cli_exits_2_with_one_line_and_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--out", str(tmp_path), "--exchanges", "kraken"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("record: error: unknown exchange 'kraken'")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_record_command_in_a_subprocess_exits_2(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ticktape.recorder.cli", "--out", str(tmp_path), "--duration", "x"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "record: error: duration: bad duration 'x' (expected seconds or e.g. 30s, 15m, 1h)"
    ]


def test_umbrella_command_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    from ticktape import cli as umbrella

    assert umbrella.main([]) == 0
    out = capsys.readouterr().out
    assert "record" in out and "replay" in out and "analyze" in out
    assert umbrella.main(["frobnicate"]) == 2
    assert umbrella.main(["record", "--out", "/dev/null/x"]) == 2
