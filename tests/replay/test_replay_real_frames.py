"""Integration: real captured frames through the real decoders and strategies."""

from __future__ import annotations

from pathlib import Path

from replay_testkit import file_name, key, write_parquet, write_segment

from ticktape import replay
from ticktape.exchanges.events import Quote, Trade


def _row(
    recv_ns: int, exchange: str, stream: str, conn_id: int, seq: int, kind: str, payload: bytes,
    binary: bool = False,
) -> dict:  # fmt: skip
    names = ("recv_ns", "exchange", "stream", "conn_id", "seq", "kind", "binary", "payload")
    values = (recv_ns, exchange, stream, conn_id, seq, kind, binary, payload)
    return {"req_ns": None, **dict(zip(names, values, strict=True))}


def _real_rows(samples: Path) -> list[dict]:
    """Binance (2021 combined stream), Bybit v5 spot (2026) and MEXC protobuf (2026) frames,
    re-timed onto one day so the exchanges interleave."""
    start = 1_753_142_400 * 10**9
    rows: list[dict] = []
    lines = (samples / "binance" / "cryptofeed_2021_BINANCE.ws.1.0.excerpt.txt").read_bytes()
    frames = [line.partition(b": ")[2] for line in lines.splitlines()[1:] if b": {" in line]
    bybit = (samples / "bybit" / "cryptofeed_v3_2026-08_BYBIT_spot.frames.txt").read_bytes()
    mexc = [(samples / "mexc" / f"frame_{n}.bin").read_bytes() for n in ("A1", "A2", "A3", "B1")]
    feeds = [
        ("binance", 1, "combined", frames, False),
        ("bybit", 2, "orderbook.1.BTCUSDT", bybit.splitlines(), False),
        ("mexc", 3, "spot@public.aggre.bookTicker.v3.api.pb@100ms@BTCUSDT", mexc * 10, True),
    ]
    for exchange, conn_id, stream, payloads, binary in feeds:
        rows.append(_row(start, exchange, stream, conn_id, 0, "open", b"wss://x"))
        for seq, body in enumerate(payloads, start=1):
            recv = start + seq * 7_919 * (conn_id + 1)
            rows.append(_row(recv, exchange, stream, conn_id, seq, "data", body, binary))
    return rows


def test_real_frames_replay_cleanly_and_deterministically(
    tmp_path: Path, samples_dir: Path
) -> None:
    rows = _real_rows(samples_dir)
    ordered = sorted(rows, key=key)
    write_parquet(tmp_path / "a" / file_name(1), rows)
    write_parquet(tmp_path / "b" / file_name(1), ordered[: len(rows) // 3], row_group_size=7)
    write_segment(tmp_path / "b" / file_name(2, suffix=".arrow"), ordered[len(rows) // 3 :], 5)

    first = replay.open(tmp_path / "a").run(["arb", "latency"])
    second = replay.open(tmp_path / "b").run(["arb", "latency"])
    assert first.counts.decode_errors == {}
    assert first.counts.rows == len(rows)
    assert first.counts.events_by_type.get("Quote", 0) > 50
    assert first.digest == second.digest
    assert set(first.results) == {"arb", "latency"}

    events = list(replay.open(tmp_path / "a").events())
    exchanges = {(type(e).__name__, e.exchange) for e in events if isinstance(e, Quote | Trade)}
    assert {("Quote", "binance"), ("Trade", "bybit"), ("Quote", "mexc")} <= exchanges
