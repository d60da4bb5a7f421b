"""Replay throughput and memory against a bare baseline measured in the same run.

Generates a synthetic multi-exchange day laid out like the recorder writes it (per exchange:
rotated zstd Parquet files whose rows are grouped by stream, so not in time order, plus one live
``.arrow`` segment), with realistic payloads for all four exchanges: Binance combined-stream
JSON, Bybit v5 JSON, KuCoin JSON, and MEXC binary protobuf built by hand. Then, each in a fresh
process (so peak RSS is its own):

1. baseline: read the same files and ``orjson.loads`` every text payload in a Python loop
   (binary MEXC payloads are only touched: JSON cannot parse them);
2. replay: the full ``replay`` path, read + merge + decode + arb + latency, as
   ``Tape.run(["arb", "latency"])`` does it.

Prints msg/s for both, the ratio, and peak RSS, at two day sizes with the same file rotation:
memory must stay flat as the day grows.

Usage: ``python bench/replay.py [--sizes 400000,1600000] [--rotate-rows 100000]``
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from ticktape import schema
from ticktape.exchanges import binance, bybit, kucoin, mexc
from ticktape.simulator.protobuf_writer import int_field, len_field

DAY_NS = 1_753_142_400 * 10**9  # 2025-07-22T00:00:00Z
SYMBOLS = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT", "DOGE-USDT")
BASE_PRICE = {"BTC-USDT": 84_270.0, "ETH-USDT": 3_120.0, "SOL-USDT": 172.0, "XRP-USDT": 2.9,
              "DOGE-USDT": 0.21}  # fmt: skip
EXCHANGE_SHARE = {"binance": 0.3, "bybit": 0.3, "kucoin": 0.2, "mexc": 0.2}
TRADE_SHARE = 0.15
MSGS_PER_SECOND = 2_000  # the whole day, all exchanges
LAG_MS = {"binance": 0, "bybit": 20, "kucoin": 60, "mexc": 150}  # how late each venue follows
GRID_MS = 10  # the common mid price moves every 10 ms


class MidPrices:
    """One random-walk mid per symbol (5 bp/s volatility, rare 40 bp jumps) on a 10 ms grid."""

    def __init__(self, seconds: float, seed: int) -> None:
        rng = np.random.default_rng(seed)
        steps = int(seconds * 1000 / GRID_MS) + 2
        self.paths = {}
        for symbol, base in BASE_PRICE.items():
            moves = rng.normal(0.0, 0.0005 * (GRID_MS / 1000) ** 0.5, steps)
            jumps = rng.random(steps) < 1e-4
            moves[jumps] += rng.choice([-0.004, 0.004], int(jumps.sum()))
            self.paths[symbol] = base * np.exp(np.cumsum(moves))

    def at(self, symbol: str, ms_since_start: int) -> float:
        return float(self.paths[symbol][max(0, ms_since_start) // GRID_MS])


# --- payloads -----------------------------------------------------------------------------------


def mexc_book_ticker(symbol: str, bid: str, bq: str, ask: str, aq: str, ms: int, ver: int) -> bytes:
    native = symbol.replace("-", "")
    body = (
        len_field(1, bid.encode()) + len_field(2, bq.encode()) + len_field(3, ask.encode())
        + len_field(4, aq.encode()) + len_field(5, str(ver).encode())
        + int_field(6, ms - 3)
    )  # fmt: skip
    channel = f"spot@public.aggre.bookTicker.v3.api.pb@100ms@{native}".encode()
    return (
        len_field(1, channel) + len_field(3, native.encode()) + int_field(6, ms)
        + len_field(315, body)
    )  # fmt: skip


def mexc_deals(symbol: str, price: str, qty: str, side: int, ms: int, trade_id: str) -> bytes:
    native = symbol.replace("-", "")
    item = (
        len_field(1, price.encode()) + len_field(2, qty.encode()) + int_field(3, side)
        + int_field(4, ms) + len_field(5, trade_id.encode())
    )  # fmt: skip
    body = len_field(1, item) + len_field(2, b"spot@public.aggre.deals.v3.api.pb@100ms")
    channel = f"spot@public.aggre.deals.v3.api.pb@100ms@{native}".encode()
    return (
        len_field(1, channel) + len_field(3, native.encode()) + int_field(6, ms)
        + len_field(314, body)
    )  # fmt: skip


def payload(
    exchange: str, trade: bool, symbol: str, n: int, ms: int, mid: float, rng: random.Random
) -> bytes:
    """One realistic data frame around ``mid`` (``n`` makes ids)."""
    mid *= 1 + rng.uniform(-0.00002, 0.00002)
    bid, ask = f"{mid * 0.99995:.6g}", f"{mid * 1.00005:.6g}"
    bq, aq = f"{rng.uniform(0.01, 5):.6f}", f"{rng.uniform(0.01, 5):.6f}"
    native = symbol.replace("-", "")
    if exchange == "binance":
        if trade:
            return (
                f'{{"stream":"{native.lower()}@trade","data":{{"e":"trade","E":{ms},'
                f'"s":"{native}","t":{n},"p":"{bid}","q":"{bq}","T":{ms},'
                f'"m":{"true" if n % 2 else "false"},"M":true}}}}'
            ).encode()
        return (
            f'{{"stream":"{native.lower()}@bookTicker","data":{{"u":{400900217 + n},'
            f'"s":"{native}","b":"{bid}","B":"{bq}","a":"{ask}","A":"{aq}"}}}}'
        ).encode()
    if exchange == "bybit":
        if trade:
            return (
                f'{{"topic":"publicTrade.{native}","ts":{ms},"type":"snapshot","data":[{{'
                f'"i":"{2280000001739247417 + n}","T":{ms},"p":"{bid}","v":"{bq}",'
                f'"S":"{"Sell" if n % 2 else "Buy"}","seq":{178477362706 + n},"s":"{native}",'
                f'"BT":false,"RPI":false}}]}}'
            ).encode()
        return (
            f'{{"topic":"orderbook.1.{native}","ts":{ms},"type":"snapshot","data":{{'
            f'"s":"{native}","b":[["{bid}","{bq}"]],"a":[["{ask}","{aq}"]],'
            f'"u":{18521288 + n},"seq":{7961638724 + n}}},"cts":{ms - 2}}}'
        ).encode()
    if exchange == "kucoin":
        if trade:
            return (
                f'{{"topic":"/market/match:{symbol}","type":"message","subject":"trade.l3match",'
                f'"data":{{"makerOrderId":"6720da3e4a9b6f0007c7a8b{n % 10}","price":"{bid}",'
                f'"sequence":"{11067996711960577 + n}","side":"{"sell" if n % 2 else "buy"}",'
                f'"size":"{bq}","symbol":"{symbol}","takerOrderId":"6720da3e1d4b2a0007f0c1d2",'
                f'"time":"{ms}000000","tradeId":"{11067996711960577 + n}","type":"match"}}}}'
            ).encode()
        return (
            f'{{"topic":"/spotMarket/level1:{symbol}","type":"message","subject":"level1",'
            f'"data":{{"asks":["{ask}","{aq}"],"bids":["{bid}","{bq}"],"timestamp":{ms}}}}}'
        ).encode()
    if trade:
        return mexc_deals(symbol, bid, bq, 1 + n % 2, ms, f"{731901896985399296 + n}X0")
    return mexc_book_ticker(symbol, bid, bq, ask, aq, ms, 82164153436 + n)


# --- a day of recordings ------------------------------------------------------------------------


def _stream_name(exchange: str, trade: bool, symbol: str) -> str:
    module = {"binance": binance, "bybit": bybit, "kucoin": kucoin, "mexc": mexc}[exchange]
    book, trades = module.streams([symbol], trades=True)
    return trades if trade else book


def generate_day(root: Path, rows: int, rotate_rows: int, seed: int = 1) -> Path:
    """Write ``rows`` rows as ``root/2025-07-22/*``; return the day folder."""
    day = root / "2025-07-22"
    day.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    np_rng = np.random.default_rng(seed)
    mids = MidPrices(rows / MSGS_PER_SECOND * 1.2 + 10, seed)
    day_ms = DAY_NS // 1_000_000
    for conn_id, (exchange, share) in enumerate(EXCHANGE_SHARE.items(), start=1):
        n = int(rows * share)
        gaps = np_rng.exponential(1e9 / (MSGS_PER_SECOND * share), n).astype(np.int64) + 1
        recv = (DAY_NS + np.cumsum(gaps)).tolist()
        url = f"wss://{exchange}.example/ws".encode()
        table_rows: list[tuple[int, str, int, str, bytes]] = [
            (recv[0] - 1_000, "connection", 0, schema.KIND_OPEN, url)
        ]
        for seq in range(1, n):
            trade = rng.random() < TRADE_SHARE
            symbol = rng.choice(SYMBOLS)
            ms = recv[seq] // 1_000_000 - rng.randrange(1, 40)
            if seq % 5_000 == 0:
                table_rows.append(
                    (recv[seq], "connection", seq, schema.KIND_SENT, b'{"op":"ping"}')
                )
                continue
            mid = mids.at(symbol, recv[seq] // 1_000_000 - day_ms - LAG_MS[exchange])
            body = payload(exchange, trade, symbol, seq, ms, mid, rng)
            table_rows.append((recv[seq], _stream_name(exchange, trade, symbol), seq, "data", body))
        _write_exchange(day, exchange, conn_id, table_rows, rotate_rows)
    return day


def _write_exchange(
    day: Path, exchange: str, conn_id: int, rows: list[tuple], rotate_rows: int
) -> None:
    """Rotate every ``rotate_rows``: Parquet files grouped by stream, the last part live .arrow."""
    binary = exchange == "mexc"
    for part, start in enumerate(range(0, len(rows), rotate_rows)):
        chunk = rows[start : start + rotate_rows]
        last = start + rotate_rows >= len(rows)
        if not last:
            chunk = sorted(chunk, key=lambda r: (r[1], r[0]))  # grouped by stream, like the writer
        table = pa.table(
            {
                "recv_ns": pa.array([r[0] for r in chunk], pa.int64()),
                "exchange": pa.array([exchange] * len(chunk)).dictionary_encode(),
                "stream": pa.array([r[1] for r in chunk]).dictionary_encode(),
                "conn_id": pa.array([conn_id] * len(chunk), pa.int64()),
                "seq": pa.array([r[2] for r in chunk], pa.int64()),
                "kind": pa.array([r[3] for r in chunk]).dictionary_encode(),
                "req_ns": pa.nulls(len(chunk), pa.int64()),
                "binary": pa.array([binary and r[3] == "data" for r in chunk]),
                "payload": pa.array([r[4] for r in chunk], pa.binary()),
            }
        ).cast(schema.RECORD_SCHEMA)
        stamp = f"20250722T{part:06d}.000000Z-{exchange}-{part:04d}"
        if last:
            with pa.ipc.new_stream(str(day / f"{stamp}.arrow"), schema.RECORD_SCHEMA) as writer:
                for batch in table.to_batches(max_chunksize=4_096):
                    writer.write_batch(batch)
        else:
            pq.write_table(table, day / f"{stamp}.parquet", compression="zstd",
                           row_group_size=65_536)  # fmt: skip


# --- measurements (each in its own process) -----------------------------------------------------

MODES = {
    "baseline": "read files + orjson.loads each payload (Python loop)",
    "machinery": "replay with no-op Python decoders, no strategies: read + merge + driver",
    "decode": "replay with the real decoders (compiled + Python), no strategies",
    "full": "replay: read + merge + decode + arb + latency  <- the headline",
    "full+digest": "the same, plus the SHA-256 event digest (replay --digest)",
    "python": "full replay with the Python decoders only (compiled decoder off)",
    "python+digest": "the same with the digest: must equal full+digest's",
}


def _files(day: Path) -> list[Path]:
    return sorted(p for p in day.iterdir() if p.suffix in (".parquet", ".arrow"))


def baseline(day: Path) -> int:
    """Read every file and orjson.loads every text payload: the floor any replay pays."""
    loads = orjson.loads
    rows = 0
    for path in _files(day):
        if path.suffix == ".parquet":
            table = pq.read_table(path, columns=["binary", "payload"], use_threads=False)
        else:
            with pa.ipc.open_stream(str(path)) as reader:
                table = reader.read_all().select(["binary", "payload"])
        payloads = table.column("payload").to_pylist()
        binaries = table.column("binary").to_pylist()
        for body, is_binary in zip(payloads, binaries, strict=True):
            if is_binary:
                len(body)
            else:
                try:  # noqa: SIM105 - contextlib.suppress costs a context manager per row
                    loads(body)
                except orjson.JSONDecodeError:  # the few non-JSON rows: ``open`` URLs
                    pass
        rows += len(payloads)
    return rows


def _no_decoder(exchange: str) -> Any:
    return lambda payload, recv_ns, conn_id, seq, stream: []


def replay_mode(day: Path, mode: str) -> tuple[int, dict[str, Any]]:
    from ticktape import replay
    from ticktape.exchanges import registry

    tape = replay.open(day)
    if mode == "machinery":
        result = tape.run([], decoder_factory=_no_decoder, digest=False)
    elif mode == "decode":
        result = tape.run([], digest=False)
    elif mode.startswith("python"):  # any decoder_factory turns the compiled decoder off
        result = tape.run(
            ["arb", "latency"], decoder_factory=registry.new_decoder, digest=mode.endswith("digest")
        )
    else:
        result = tape.run(["arb", "latency"], digest=mode == "full+digest")
    extra = {
        "events": result.counts.events,
        "decode_errors": result.counts.decode_error_total,
        "digest": result.digest if mode.endswith("digest") else "",
    }
    return result.counts.rows, extra


def _peak_rss_mb() -> float:
    """This process's peak RSS since exec (VmHWM). ``ru_maxrss`` is no good here: Linux carries
    the parent's RSS at fork time over into the child's ``ru_maxrss``."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(mode: str, day: str) -> None:
    if mode != "baseline":  # imports are not what we measure
        import ticktape.replay
        import ticktape.strategies.arb
        import ticktape.strategies.latency  # noqa: F401
    wall, cpu = time.perf_counter(), time.process_time()
    if mode == "baseline":
        rows, extra = baseline(Path(day)), {}
    else:
        rows, extra = replay_mode(Path(day), mode)
    measured = {
        "rows": rows,
        "wall_s": time.perf_counter() - wall,
        "cpu_s": time.process_time() - cpu,
        "rss_mb": _peak_rss_mb(),
        **extra,
    }
    print(json.dumps(measured))


def _measure(mode: str, day: Path, repeat: int) -> dict[str, Any]:
    runs = []
    for _ in range(repeat):
        done = subprocess.run(
            [sys.executable, __file__, "--child", mode, str(day)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return min(runs, key=lambda m: m["cpu_s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--sizes", default="400000,1600000", help="rows per day, comma list")
    parser.add_argument("--rotate-rows", type=int, default=100_000, help="rows per file")
    parser.add_argument("--repeat", type=int, default=2, help="best of N runs (by CPU time)")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "DAY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    print("msg/s = rows / process CPU time (wall time in brackets: the machine is shared)")
    for mode, meaning in MODES.items():
        print(f"  {mode:<12} {meaning}")
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            day = generate_day(Path(tmp), size, args.rotate_rows)
            files = _files(day)
            print(f"\nday of {size:,} rows in {len(files)} files "
                  f"(generated in {time.perf_counter() - started:.1f} s)")  # fmt: skip
            measured = {mode: _measure(mode, day, args.repeat) for mode in MODES}
        base_rate = measured["baseline"]["rows"] / measured["baseline"]["cpu_s"]
        for mode, m in measured.items():
            rate = m["rows"] / m["cpu_s"]
            wall_rate = m["rows"] / m["wall_s"]
            note = ""
            if "events" in m:
                note = f"  events {m['events']:,}  decode errors {m['decode_errors']}"
            print(
                f"  {mode:<12} {rate:>11,.0f} msg/s  [{wall_rate:>11,.0f}]  "
                f"{rate / base_rate:5.2f}x baseline  {m['cpu_s'] / m['rows'] * 1e9:6.0f} ns/msg  "
                f"peak RSS {m['rss_mb']:5.0f} MB{note}"
            )
        same = measured["full+digest"]["digest"] == measured["python+digest"]["digest"]
        print(f"  digest, compiled + Python decoders == Python decoders only: {same}"
              f"  ({measured['full+digest']['digest'][:16]}...)")  # fmt: skip


if __name__ == "__main__":
    main()
