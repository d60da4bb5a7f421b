"""``record --simulate`` end to end, in process: the simulator's send log is the ground truth.

Every frame and response body the simulator sent must be stored exactly once, byte for byte, in
the Parquet files of its exchange; seq is contiguous per conn_id, recv_ns never decreases within
a connection, every connection ends with one close row; faults (disconnect, stall, malformed
frames, 429 + Retry-After) show up as the rows the recorder's contract promises.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ticktape import schema
from ticktape.recorder.config import load_config
from ticktape.recorder.session import Recorder, RecorderError, Tuning
from ticktape.simulator import Fault, SimConfig

KUCOIN_TOKEN_STREAM = "POST /api/v1/bullet-public"


def record_simulated(
    out: Path, argv: list[str], sim: SimConfig | None = None, tuning: Tuning | None = None
) -> Recorder:
    cfg = load_config(["--simulate", "--out", str(out), "--quiet", *argv])
    sim = sim or SimConfig(
        seed=3, symbols=cfg.symbols, rate_hz=40, trade_rate_hz=10, random_dislocations_per_min=0
    )
    recorder = Recorder(cfg, sim_config=sim, tuning=tuning)
    asyncio.run(asyncio.wait_for(recorder.run(), 60))
    return recorder


def read_rows(out: Path) -> list[dict[str, Any]]:
    files = sorted(out.glob("*/*"))
    assert files and all(f.suffix == ".parquet" for f in files), files  # no segment left behind
    table = pa.concat_tables([pq.read_table(f) for f in files], promote_options="permissive")
    rows = table.to_pylist()
    rows.sort(key=lambda r: (r["exchange"], r["conn_id"], r["seq"]))
    return rows


def by_conn(rows: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    conns: dict[int, list[dict[str, Any]]] = collections.defaultdict(list)
    for row in rows:
        conns[row["conn_id"]].append(row)
    return dict(conns)


def check_invariants(rows: list[dict[str, Any]]) -> None:
    for conn_id, conn_rows in by_conn(rows).items():
        assert len({r["exchange"] for r in conn_rows}) == 1, conn_id
        assert [r["seq"] for r in conn_rows] == list(range(len(conn_rows))), conn_id
        stamps = [r["recv_ns"] for r in conn_rows]
        assert stamps == sorted(stamps), conn_id
        if conn_rows[0]["stream"] != "clock":
            kinds = [r["kind"] for r in conn_rows]
            assert kinds.count("close") == 1 and kinds[-1] == "close", (conn_id, kinds[-3:])


def received_sequences(rows: list[dict[str, Any]], exchange: str) -> list[tuple[bytes, ...]]:
    """Per connection (and per KuCoin token request), the bodies of the data rows in order."""
    seqs: dict[tuple[int, bool], list[bytes]] = collections.defaultdict(list)
    for row in rows:
        if row["exchange"] == exchange and row["kind"] == "data":
            token = row["stream"] == KUCOIN_TOKEN_STREAM
            seqs[(row["conn_id"], token)].append(row["payload"])
    return sorted(tuple(s) for s in seqs.values())


def sent_sequences(recorder: Recorder, exchange: str) -> list[tuple[bytes, ...]]:
    seqs: dict[int, list[bytes]] = collections.defaultdict(list)
    for frame in recorder.simulator.sent_log.filter(exchange=exchange):
        if frame.kind in ("text", "binary") or (frame.kind == "rest" and frame.status == 200):
            seqs[frame.conn_id].append(frame.payload)
    return sorted(tuple(s) for s in seqs.values())


def test_every_frame_of_all_four_exchanges_is_stored_once_byte_for_byte(tmp_path: Path) -> None:
    recorder = record_simulated(tmp_path, ["--duration", "2", "--flush-interval", "0.2"])
    rows = read_rows(tmp_path)
    check_invariants(rows)
    assert {r["exchange"] for r in rows} == {"binance", "bybit", "kucoin", "mexc"}
    for exchange in ("binance", "bybit", "kucoin", "mexc"):
        sent = sent_sequences(recorder, exchange)
        assert sum(map(len, sent)) > 50, exchange
        assert received_sequences(rows, exchange) == sent, exchange
    # MEXC data is binary protobuf, its control replies are JSON text
    mexc = [r for r in rows if r["exchange"] == "mexc" and r["kind"] == "data"]
    assert {r["binary"] for r in mexc} == {True, False}
    for row in mexc:
        assert row["binary"] == (not row["payload"].startswith(b"{"))
    # one connection per exchange, opened once, closed at shutdown
    for conn_rows in by_conn(rows).values():
        if conn_rows[0]["stream"] != "clock":
            assert conn_rows[-1]["payload"] == b"shutdown"
    # KuCoin: token request and response first, then the WebSocket
    kucoin = next(c for c in by_conn(rows).values() if c[0]["exchange"] == "kucoin"
                  and c[0]["stream"] != "clock")  # fmt: skip
    assert [(r["kind"], r["stream"]) for r in kucoin[:3]] == [
        ("sent", KUCOIN_TOKEN_STREAM),
        ("data", KUCOIN_TOKEN_STREAM),
        ("open", kucoin[2]["stream"]),
    ]
    assert kucoin[1]["req_ns"] == kucoin[0]["recv_ns"]
    assert kucoin[3]["payload"].startswith(b'{"id":') and b"welcome" in kucoin[3]["payload"]
    assert kucoin[4]["kind"] == "sent" and b'"type":"subscribe"' in kucoin[4]["payload"]
    # clock probes, and file metadata
    clock_rows = collections.Counter(r["exchange"] for r in rows if r["kind"] == "clock")
    assert clock_rows == {"binance": 2, "bybit": 2, "kucoin": 2, "mexc": 2}  # start and end
    probe = json.loads(next(r["payload"] for r in rows if r["kind"] == "clock"))
    assert set(probe) == {"wall_ns", "mono_ns"}
    meta = pq.read_schema(sorted(tmp_path.glob("*/*binance*.parquet"))[0]).metadata
    assert meta[schema.META_SCHEMA_VERSION] == b"1"
    assert json.loads(meta[schema.META_SYMBOLS]) == ["BTC-USDT", "ETH-USDT"]
    assert json.loads(meta[schema.META_CONFIG])["simulate"] is True
    assert meta[schema.META_HOST] and meta[schema.META_RECORDER_VERSION]


def test_disconnect_and_stall_give_close_open_rows_and_new_conn_ids(tmp_path: Path) -> None:
    sim = SimConfig(
        seed=5,
        symbols=("BTC-USDT",),
        exchanges=("bybit", "kucoin", "binance"),
        rate_hz=40,
        random_dislocations_per_min=0,
        faults=(
            Fault(at_s=0.8, exchange="bybit", action="drop"),
            Fault(at_s=0.8, exchange="kucoin", action="stall", seconds=0.8),
            Fault(at_s=0.8, exchange="binance", action="drop", abrupt=True),
        ),
    )
    tuning = Tuning(stale_after_s=0.4, backoff_base_s=0.05, backoff_cap_s=0.1, seed=1)
    argv = ["--duration", "3", "--exchanges", "bybit,kucoin,binance", "--symbols", "BTCUSDT"]
    recorder = record_simulated(tmp_path, [*argv, "--no-trades"], sim, tuning)
    rows = read_rows(tmp_path)
    check_invariants(rows)
    for exchange, first_close in (
        ("bybit", b"remote closed 1001"),
        ("kucoin", b"stale: no data for 0.4s"),
        ("binance", b"connection lost"),
    ):
        conns = [c for c in by_conn(rows).values()
                 if c[0]["exchange"] == exchange and c[0]["stream"] != "clock"]  # fmt: skip
        assert len(conns) >= 2, exchange
        assert conns[0][-1]["payload"].startswith(first_close), conns[0][-1]
        assert conns[1][0]["kind"] in ("open", "sent")  # KuCoin starts with its token request
        assert any(r["kind"] == "data" for r in conns[1][1:]), exchange  # recording resumed
        assert conns[-1][-1]["payload"] == b"shutdown"
        assert conns[1][0]["conn_id"] > conns[0][0]["conn_id"]
        assert conns[1][0]["recv_ns"] >= conns[0][-1]["recv_ns"]
    for exchange in ("bybit", "kucoin"):  # clean closes: still exactly what was sent
        assert received_sequences(rows, exchange) == sent_sequences(recorder, exchange)
    status = {name: sum(c.reconnects for c in run.connections)
              for name, run in recorder.exchanges.items()}  # fmt: skip
    assert all(n >= 1 for n in status.values()), status


def test_malformed_frames_are_stored_untouched(tmp_path: Path) -> None:
    sim = SimConfig(
        seed=9,
        symbols=("BTC-USDT",),
        exchanges=("binance", "mexc"),
        rate_hz=20,
        random_dislocations_per_min=0,
        faults=(
            Fault(at_s=0.6, exchange="binance", action="malformed"),
            Fault(at_s=0.6, exchange="mexc", action="malformed"),
        ),
    )
    argv = ["--duration", "1.5", "--exchanges", "binance,mexc", "--symbols", "BTC-USDT"]
    recorder = record_simulated(tmp_path, argv, sim)
    rows = read_rows(tmp_path)
    check_invariants(rows)
    malformed = recorder.simulator.sent_log.filter(stream="malformed")
    assert {f.exchange for f in malformed} == {"binance", "mexc"}
    stored = {(r["exchange"], r["payload"], r["binary"]) for r in rows if r["kind"] == "data"}
    for frame in malformed:
        assert (frame.exchange, frame.payload, frame.kind == "binary") in stored
    for exchange in ("binance", "mexc"):
        assert received_sequences(rows, exchange) == sent_sequences(recorder, exchange)


def test_rest_polling_honours_retry_after_and_poll_interval(tmp_path: Path) -> None:
    sim = SimConfig(
        seed=2,
        symbols=("BTC-USDT", "ETH-USDT"),
        exchanges=("binance",),
        random_dislocations_per_min=0,
        faults=(Fault(at_s=0.5, exchange="binance", action="rest_error", retry_after_s=1.0),),
    )
    config = tmp_path / "rest.toml"
    config.write_text('[exchanges.binance]\nmethod = "rest"\npoll_interval = 0.1\n')
    out = tmp_path / "out"
    argv = ["--config", str(config), "--exchanges", "binance", "--duration", "2.5"]
    recorder = record_simulated(out, argv, sim)
    rows = [r for r in read_rows(out) if r["stream"] != "clock"]
    check_invariants(rows)
    errors = [r for r in rows if r["kind"] == "error"]
    assert len(errors) == 1
    status_line, _, body = errors[0]["payload"].partition(b"\n")
    assert status_line == b"HTTP 429"
    rest_bodies = [f for f in recorder.simulator.sent_log.filter(exchange="binance")
                   if f.kind == "rest"]  # fmt: skip
    assert [f.payload for f in rest_bodies if f.status == 429] == [body]
    # no request before Retry-After expired
    sent = [r for r in rows if r["kind"] == "sent"]
    after = [r for r in sent if r["recv_ns"] > errors[0]["recv_ns"]]
    assert after and after[0]["recv_ns"] - errors[0]["recv_ns"] >= 1.0e9
    # every stream polled at most once per poll interval
    for stream in {r["stream"] for r in sent}:
        times = [r["recv_ns"] for r in sent if r["stream"] == stream]
        assert all(b - a >= 0.1e9 for a, b in itertools.pairwise(times)), stream
        assert len(times) >= 8
    # responses: raw bodies with req_ns = the request's time
    data = [r for r in rows if r["kind"] == "data"]
    assert [r["payload"] for r in data] == [f.payload for f in rest_bodies if f.status == 200]
    sent_ns = {r["recv_ns"] for r in sent}
    assert all(r["req_ns"] in sent_ns and r["req_ns"] < r["recv_ns"] for r in data)
    assert data[0]["stream"] == "GET /api/v3/ticker/bookTicker?symbol=BTCUSDT"


def test_heartbeats_binance_pings_answered_kucoin_pings_at_the_token_interval(
    tmp_path: Path,
) -> None:
    sim = SimConfig(
        seed=6,
        symbols=("BTC-USDT",),
        exchanges=("binance", "kucoin", "bybit"),
        rate_hz=10,
        random_dislocations_per_min=0,
        binance_ping_interval_s=0.25,
        kucoin_ping_interval_ms=250,
    )
    argv = ["--duration", "1.6", "--exchanges", "binance,kucoin,bybit", "--symbols", "BTC-USDT"]
    tuning = Tuning(heartbeat_interval_s=None)
    recorder = record_simulated(tmp_path, argv, sim, tuning)
    rows = read_rows(tmp_path)
    check_invariants(rows)
    # Binance: each protocol ping stored as a "ping" row and answered with the same payload
    pings = [f.payload for f in recorder.simulator.sent_log.filter("binance", kinds=("ping",))]
    assert len(pings) >= 4
    binance = [r for r in rows if r["exchange"] == "binance"]
    assert [r["payload"] for r in binance if r["kind"] == "ping"] == pings
    pongs = [r["payload"] for r in binance if r["kind"] == "sent" and r["stream"] == "pong"]
    assert pongs == pings
    # KuCoin: application pings every pingInterval (250 ms from the token response)
    kucoin_pings = [r for r in rows if r["exchange"] == "kucoin" and r["kind"] == "sent"
                    and b'"type":"ping"' in r["payload"]]  # fmt: skip
    assert 4 <= len(kucoin_pings) <= 7
    gaps = [(b["recv_ns"] - a["recv_ns"]) / 1e9 for a, b in itertools.pairwise(kucoin_pings)]
    assert all(0.2 < g < 0.4 for g in gaps), gaps
    pongs_back = [r for r in rows if r["exchange"] == "kucoin" and r["kind"] == "data"
                  and b'"type":"pong"' in r["payload"]]  # fmt: skip
    assert len(pongs_back) >= len(kucoin_pings) - 1
    # Bybit: module heartbeat every HEARTBEAT_INTERVAL_S (20 s): none in 1.6 s
    assert not [r for r in rows if r["exchange"] == "bybit" and b'"ping"' in r["payload"]
                and r["kind"] == "sent"]  # fmt: skip


def test_streams_are_split_across_connections_by_the_module_cap(tmp_path: Path) -> None:
    from ticktape.exchanges import registry

    class Capped:
        """binance with at most two streams per connection"""

        MAX_STREAMS_PER_CONNECTION = 2

        def __getattr__(self, name: str) -> Any:
            return getattr(registry.get("binance"), name)

    symbols = "BTC-USDT,ETH-USDT,SOL-USDT"
    cfg = load_config(["--simulate", "--out", str(tmp_path), "--quiet", "--duration", "1.2",
                       "--exchanges", "binance", "--symbols", symbols])  # fmt: skip
    sim = SimConfig(seed=8, symbols=cfg.symbols, exchanges=("binance",), rate_hz=20,
                    random_dislocations_per_min=0)  # fmt: skip
    recorder = Recorder(cfg, sim_config=sim, lookup=lambda name: Capped())
    asyncio.run(asyncio.wait_for(recorder.run(), 60))
    rows = read_rows(tmp_path)
    check_invariants(rows)
    opens = [r for r in rows if r["kind"] == "open"]
    assert len(opens) == 3  # 6 streams (book ticker + trades for 3 symbols), 2 per connection
    assert sorted(r["stream"] for r in opens) == [
        "btcusdt@bookTicker,btcusdt@trade",
        "ethusdt@bookTicker,ethusdt@trade",
        "solusdt@bookTicker,solusdt@trade",
    ]
    assert received_sequences(rows, "binance") == sent_sequences(recorder, "binance")


def test_live_hook_sees_every_row_as_it_is_recorded(tmp_path: Path) -> None:
    seen: list[tuple[Any, ...]] = []
    cfg = load_config(["--simulate", "--out", str(tmp_path), "--quiet", "--duration", "1",
                       "--exchanges", "mexc,kucoin", "--symbols", "BTC-USDT"])  # fmt: skip
    sim = SimConfig(seed=8, symbols=cfg.symbols, exchanges=("mexc", "kucoin"), rate_hz=20,
                    random_dislocations_per_min=0)  # fmt: skip
    recorder = Recorder(cfg, sim_config=sim, on_row=lambda *row: seen.append(row))
    asyncio.run(asyncio.wait_for(recorder.run(), 60))
    rows = read_rows(tmp_path)
    check_invariants(rows)
    names = ("exchange", "recv_ns", "stream", "conn_id", "seq", "kind", "req_ns", "binary",
             "payload")  # fmt: skip

    # the hook sees the connection's label; the files name each data frame's subscription,
    # which must be one of that label's streams
    def without_stream(row: tuple[Any, ...]) -> tuple[Any, ...]:
        return row[:2] + row[3:]

    stored = sorted((tuple(r[n] for n in names) for r in rows), key=without_stream)
    seen.sort(key=without_stream)
    assert [without_stream(r) for r in seen] == [without_stream(r) for r in stored]
    for hook_row, file_row in zip(seen, stored, strict=True):
        assert file_row[2] == hook_row[2] or file_row[2] in hook_row[2].split(","), file_row
    assert any(r[5] == "data" and r[7] for r in seen)  # MEXC binary data reached the hook
    routed = {r[2] for r in stored if r[5] == "data" and r[0] == "mexc"}
    assert "spot@public.aggre.bookTicker.v3.api.pb@100ms@BTCUSDT" in routed


def test_a_disk_failure_stops_the_recording_with_one_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ticktape.recorder import cli, writer

    class FullDisk:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.files_written: list[str] = []
            self.bytes_written = 0

        def write(self, batch: pa.RecordBatch) -> None:
            raise OSError(28, "No space left on device")

        def tick(self, now_ns: int) -> None:
            pass

        def close(self) -> None:
            pass

    monkeypatch.setattr(writer, "RotatingWriter", FullDisk)
    argv = ["--simulate", "--out", str(tmp_path), "--quiet", "--duration", "20",
            "--exchanges", "bybit", "--flush-interval", "0.1"]  # fmt: skip
    started = time.monotonic()
    assert cli.main(argv) == 1
    assert time.monotonic() - started < 10  # stopped at the failure, not after --duration
    err = capsys.readouterr().err
    assert err.startswith(f"record: error: writing to {tmp_path} failed:")
    assert "No space left on device" in err and err.count("\n") == 1


def test_kucoin_token_refusals_are_recorded_and_retried(tmp_path: Path) -> None:
    sim = SimConfig(
        seed=12,
        symbols=("BTC-USDT",),
        exchanges=("kucoin",),
        rate_hz=20,
        random_dislocations_per_min=0,
        faults=(Fault(at_s=0.0, exchange="kucoin", action="rest_error", count=2),),
    )
    tuning = Tuning(backoff_base_s=0.05, backoff_cap_s=0.1, seed=2)
    argv = ["--duration", "1.5", "--exchanges", "kucoin", "--symbols", "BTC-USDT"]
    recorder = record_simulated(tmp_path, argv, sim, tuning)
    rows = read_rows(tmp_path)
    check_invariants(rows)
    conns = [c for c in by_conn(rows).values() if c[0]["stream"] != "clock"]
    assert len(conns) == 3
    for refused in conns[:2]:
        assert [r["kind"] for r in refused] == ["sent", "error", "error", "close"]
        assert (
            refused[1]["payload"].startswith(b"HTTP 429\n") and b"429000" in refused[1]["payload"]
        )
        assert refused[1]["req_ns"] == refused[0]["recv_ns"]
        assert refused[2]["payload"].startswith(b"token request failed")
        assert refused[3]["payload"] == b"token request failed"
    assert [r["kind"] for r in conns[2][:3]] == ["sent", "data", "open"]
    assert received_sequences(rows, "kucoin") == sent_sequences(recorder, "kucoin")


def test_simulator_without_a_recorded_exchange_is_a_clear_error(tmp_path: Path) -> None:
    cfg = load_config(["--simulate", "--out", str(tmp_path), "--quiet", "--duration", "1"])
    sim = SimConfig(seed=1, symbols=cfg.symbols, exchanges=("binance",))
    recorder = Recorder(cfg, sim_config=sim)
    with pytest.raises(RecorderError, match="the simulator does not serve bybit, kucoin, mexc"):
        asyncio.run(asyncio.wait_for(recorder.run(), 30))


def test_real_captured_frames_are_stored_byte_for_byte(tmp_path: Path) -> None:
    """Samples mode: the simulator serves the real exchange frames of tests/fixtures/samples."""
    samples = Path(__file__).parents[1] / "fixtures" / "samples"
    cfg = load_config(["--simulate", "--out", str(tmp_path), "--quiet", "--duration", "1.5",
                       "--symbols", "BTCUSDT"])  # fmt: skip
    sim = SimConfig(seed=1, symbols=cfg.symbols, samples=True, samples_dir=samples,
                    samples_rate_hz=500.0)  # fmt: skip
    recorder = Recorder(cfg, sim_config=sim)
    asyncio.run(asyncio.wait_for(recorder.run(), 60))
    rows = read_rows(tmp_path)
    check_invariants(rows)
    stored = {r["payload"] for r in rows if r["kind"] == "data"}
    mexc_frames = [p.read_bytes() for p in sorted((samples / "mexc").glob("frame_*.bin"))]
    binance_file = samples / "binance" / "cryptofeed_2021_BINANCE.ws.1.0.excerpt.txt"
    binance_frames = [
        line.split(b": ", 1)[1] for line in binance_file.read_bytes().splitlines()[1:]
    ]
    assert len(mexc_frames) == 6 and len(binance_frames) == 100
    for frame in [*mexc_frames, *binance_frames]:
        assert frame in stored, frame[:80]
    for exchange in ("binance", "bybit", "kucoin", "mexc"):
        assert received_sequences(rows, exchange) == sent_sequences(recorder, exchange)


def test_an_unreachable_exchange_is_told_once_per_failure_streak(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Many retries against a closed port: the rows record each one, the person sees one line."""
    cfg = load_config(["--out", str(tmp_path), "--quiet", "--duration", "1.2", "--exchanges",
                       "binance", "--ws-url", "binance=ws://127.0.0.1:9/stream"])  # fmt: skip
    tuning = Tuning(backoff_base_s=0.02, backoff_cap_s=0.05, seed=1)
    asyncio.run(asyncio.wait_for(Recorder(cfg, tuning=tuning).run(), 30))
    rows = read_rows(tmp_path)
    failures = [r for r in rows if r["kind"] == "error"]
    assert len(failures) >= 3  # every attempt is on the tape
    err = capsys.readouterr().err
    assert err.count("record: binance: cannot connect (") == 1, err
    assert "retrying with backoff" in err


def test_the_user_hears_once_when_it_fails_and_once_when_it_works_again(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from types import SimpleNamespace

    from ticktape.recorder.ws_connection import WsConnection

    conn = SimpleNamespace(exchange="bybit", stop=asyncio.Event(), _failing=False,
                           last_error="connect timeout")  # fmt: skip
    for failed in (True, True, True, False, False, True):
        WsConnection._tell_user(conn, failed=failed)  # type: ignore[arg-type]
    assert capsys.readouterr().err.splitlines() == [
        "record: bybit: cannot connect (connect timeout); retrying with backoff",
        "record: bybit: connected",
        "record: bybit: cannot connect (connect timeout); retrying with backoff",
    ]
