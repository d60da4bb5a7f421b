"""Benchmark the analysis layer: decode speed (cold) and per-second mid by exchange (warm).

Two data sets, both generated here in a temporary folder (or ``--dir``):

1. A raw recording of ``--raw-rows`` data rows with real wire payloads for all four exchanges
   (:mod:`ticktape.analysis.synthetic`, MEXC as protobuf). ``connect`` on it is the *cold* path:
   every row goes through the replay's decoders and the normalized cache is written. The
   baseline, measured in the same run, is the bare decoder loop over the same rows (what the
   replay itself must do at least), so the ratio is the cost of building columns and the cache.
2. ``--quotes`` (default 10 M) normalized quotes written *directly* in the cache format, keyed to
   small stand-in raw files so ``connect`` reuses them: decoding 10 M rows at the cold rate would
   take minutes and measure the decoders, not the query. The *warm* figure is the canned
   ``spreads`` query (per-second mid and spread by exchange and symbol) over all of them.

Usage: ``python bench/analysis.py [--quotes 10000000] [--raw-rows 200000] [--threads N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ticktape.analysis import connect, synthetic
from ticktape.analysis.cache import TABLES, cache_key, cache_paths
from ticktape.analysis.normalize import TABLE_SCHEMAS, decoder_fingerprint
from ticktape.analysis.queries import canned_query
from ticktape.analysis.sources import find_recordings
from ticktape.exchanges.registry import new_decoder

DAY_START_NS = 1_753_142_400_000_000_000  # 2025-07-22
EXCHANGES = synthetic.EXCHANGES
SYMBOLS = ("BTC-USDT", "ETH-USDT", "SOL-USDT")


def _timed(fn: object, *args: object) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args)  # type: ignore[operator]
    return time.perf_counter() - start, result


def make_raw(root: Path, data_rows: int) -> list[Path]:
    per_exchange = data_rows // len(EXCHANGES)
    paths = []
    for n, exchange in enumerate(EXCHANGES):
        start = DAY_START_NS + n * 1_000
        rows = list(
            synthetic.connection_rows(exchange, n + 1, start, per_exchange, step_ns=1_000_000)
        )
        path = root / "2025-07-22" / synthetic.file_name(start, exchange, 1)
        paths.append(synthetic.write_parquet(synthetic.rows_table(rows), path, exchange))
    return paths


def bare_decode(paths: list[Path]) -> int:
    """The baseline: every data row through the registry decoders, events dropped."""
    events = 0
    for path in paths:
        table = pq.read_table(path)
        decoders: dict[str, object] = {}
        kinds = table.column("kind").to_pylist()
        columns = [table.column(c).to_pylist() for c in ("payload", "recv_ns", "exchange")]
        columns += [table.column(c).to_pylist() for c in ("conn_id", "seq", "stream")]
        for kind, payload, recv_ns, exchange, conn_id, seq, stream in zip(
            kinds, *columns, strict=True
        ):
            if kind != "data":
                continue
            decode = decoders.get(exchange) or decoders.setdefault(exchange, new_decoder(exchange))
            events += len(decode(payload, recv_ns, conn_id, seq, stream))  # type: ignore[operator]
    return events


def _quotes_part(
    rng: np.random.Generator, exchange: int, first_ns: int, rows: int, step_ns: int
) -> pa.Table:
    recv = first_ns + np.cumsum(rng.integers(step_ns // 2, step_ns * 3 // 2, rows))
    symbol = rng.integers(0, len(SYMBOLS), rows).astype(np.int32)
    base = np.array([60_000.0, 3_000.0, 150.0])[symbol]
    mid = base * (1 + np.cumsum(rng.normal(0, 2e-6, rows)))
    half = base * rng.uniform(0.5e-5, 3e-5, rows)
    exch = recv - rng.integers(1_000_000, 40_000_000, rows)
    conn = np.full(rows, exchange + 1, dtype=np.int64)
    return pa.table(
        {
            "exchange": pa.DictionaryArray.from_arrays(
                pa.array(np.full(rows, exchange, dtype=np.int32)), pa.array(list(EXCHANGES))
            ),
            "symbol": pa.DictionaryArray.from_arrays(pa.array(symbol), pa.array(list(SYMBOLS))),
            "recv_ns": recv,
            "exch_ns": (exch // 1_000_000) * 1_000_000,
            "bid": np.round(mid - half, 2),
            "bid_size": rng.uniform(0.01, 5, rows),
            "ask": np.round(mid + half, 2) + 0.01,
            "ask_size": rng.uniform(0.01, 5, rows),
            "conn_id": conn,
            "seq": np.arange(rows, dtype=np.int64),
            "req_ns": pa.nulls(rows, pa.int64()),
        },
        schema=TABLE_SCHEMAS["quotes"],
    )


def make_scaled_cache(root: Path, quotes: int, parts_per_exchange: int = 5) -> None:
    """``quotes`` normalized quotes over one hour, as reusable caches of tiny raw files."""
    rng = np.random.default_rng(7)
    fingerprint = decoder_fingerprint(None)
    per_part = quotes // (len(EXCHANGES) * parts_per_exchange)
    span_ns = 3_600 * 1_000_000_000
    step_ns = span_ns // (per_part * parts_per_exchange)
    day = root / "2025-07-22"
    for e, exchange in enumerate(EXCHANGES):
        for part in range(parts_per_exchange):
            first_ns = DAY_START_NS + part * span_ns // parts_per_exchange + e
            stand_in = list(synthetic.connection_rows(exchange, 100 + e, first_ns, 1))
            raw = day / synthetic.file_name(first_ns, exchange, part + 1)
            synthetic.write_parquet(synthetic.rows_table(stand_in), raw, exchange)
            (source,) = find_recordings(raw).parquet
            key = cache_key(source, fingerprint)
            paths = cache_paths(raw)
            paths["quotes"].parent.mkdir(parents=True, exist_ok=True)
            for name in TABLES:
                table = (
                    _quotes_part(rng, e, first_ns, per_part, step_ns)
                    if name == "quotes"
                    else TABLE_SCHEMAS[name].empty_table()
                )
                pq.write_table(table.replace_schema_metadata(key), paths[name], compression="zstd")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=int, default=10_000_000)
    parser.add_argument("--raw-rows", type=int, default=200_000)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--dir", type=Path, default=None, help="keep the data here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ticktape-bench-") as tmp:
        base = args.dir or Path(tmp)
        raw_root, big_root = base / "raw", base / "scaled"

        print(f"== cold: decode {args.raw_rows:,} raw data rows (4 exchanges, real payloads)")
        paths = make_raw(raw_root, args.raw_rows)
        bare_s, events = _timed(bare_decode, paths)
        cold_s, con = _timed(lambda: connect(raw_root, cache_dir=base / "c1", workers=1))
        workers = os.cpu_count() or 1
        par_s, _ = _timed(lambda: connect(raw_root, cache_dir=base / "c2", workers=workers))
        spreads = canned_query("spreads").sql
        query_s, _ = _timed(lambda: con.sql(spreads).to_arrow_table())  # type: ignore[attr-defined]
        rows = con.sql("SELECT count(*) FROM raw WHERE kind = 'data'").fetchall()[0][0]  # type: ignore[attr-defined]
        print(
            f"baseline bare decoder loop : {bare_s:6.2f} s  {rows / bare_s:>12,.0f} rows/s "
            f"({events:,} events)"
        )
        print(
            f"connect (decode + cache)   : {cold_s:6.2f} s  {rows / cold_s:>12,.0f} rows/s "
            f"(x{cold_s / bare_s:.2f} of baseline)"
        )
        print(
            f"connect, {workers} worker processes: {par_s:6.2f} s  {rows / par_s:>12,.0f} rows/s "
            f"(x{par_s / bare_s:.2f} of baseline)"
        )
        print(f"spreads query after cold   : {query_s:6.3f} s")
        warm_connect_s, _ = _timed(lambda: connect(raw_root, cache_dir=base / "c1"))
        print(f"connect again (cache reuse): {warm_connect_s:6.3f} s")

        print(f"\n== warm: {args.quotes:,} cached quotes, per-second mid by exchange (spreads)")
        gen_s, _ = _timed(make_scaled_cache, big_root, args.quotes)
        print(f"generated cache in {gen_s:.1f} s")
        connect_s, con = _timed(lambda: connect(big_root, threads=args.threads))
        total = con.sql("SELECT count(*) FROM quotes").fetchall()[0][0]  # type: ignore[attr-defined]
        timings = []
        result_rows = 0
        for _ in range(5):
            t, table = _timed(lambda: con.sql(spreads).to_arrow_table())  # type: ignore[attr-defined]
            timings.append(t)
            result_rows = table.num_rows  # type: ignore[attr-defined]
        print(f"connect (reuse {total:,} quotes): {connect_s:.3f} s")
        print(f"spreads first run          : {timings[0]:.3f} s  ({result_rows:,} result rows)")
        print(
            f"spreads warm median / min  : {statistics.median(timings[1:]):.3f} s / "
            f"{min(timings[1:]):.3f} s  -> {total / min(timings[1:]) / 1e6:,.1f} M quotes/s"
        )
        for name in ("latency", "panel"):
            t, table = _timed(lambda n=name: con.sql(canned_query(n).sql).to_arrow_table())  # type: ignore[attr-defined]
            print(f"{name:<27}: {t:.3f} s  ({table.num_rows:,} rows)")  # type: ignore[attr-defined]
        target = "met" if min(timings[1:]) < 1.0 else "MISSED"
        print(f"target warm < 1 s: {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
