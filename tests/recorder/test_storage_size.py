"""File size: the compacted layout (sorted by stream, zstd, no payload dictionary) vs defaults.

The dataset imitates a Binance combined-stream capture (shapes from
tests/fixtures/samples/binance): bookTicker, depth@100ms and aggTrade frames of eight symbols,
interleaved in arrival order, prices as random walks on a tick grid, quantities on lot sizes.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from batch_builder import BatchBuilder

from ticktape.recorder.compaction import write_sorted_parquet

T0 = 1_772_409_600_000_000_000  # 2026-03-02T00:00:00Z
SYMBOLS = ("btcusdt", "ethusdt", "solusdt", "xrpusdt", "dogeusdt", "bnbusdt", "adausdt", "linkusdt")


def _qty(rng: random.Random) -> str:
    return f"{round(rng.lognormvariate(0, 2), rng.choice((0, 1, 2, 3, 4, 5))):.8f}"


def binance_like_table(n_rows: int, seed: int = 7) -> pa.Table:
    rng = random.Random(seed)
    price = {s: 10 ** rng.uniform(-1, 4.8) for s in SYMBOLS}
    update_id = {s: rng.randrange(10**9, 10**10) for s in SYMBOLS}
    trade_id = {s: rng.randrange(10**8, 10**9) for s in SYMBOLS}
    buffer = BatchBuilder("binance")
    recv_ns = T0
    for seq in range(n_rows):
        recv_ns += rng.randrange(50_000, 3_000_000)
        sym = rng.choice(SYMBOLS)
        price[sym] *= 1 + rng.gauss(0, 2e-5)
        p = price[sym]
        dec = 2 if p > 100 else 4 if p > 1 else 6
        update_id[sym] += rng.randrange(1, 40)
        event_ms = recv_ns // 1_000_000 - rng.randrange(1, 30)
        kind = rng.random()
        if kind < 0.65:
            stream = f"{sym}@bookTicker"
            body = (
                f'{{"u":{update_id[sym]},"s":"{sym.upper()}","b":"{p:.{dec}f}","B":"{_qty(rng)}",'
                f'"a":"{p * (1 + 1e-5):.{dec}f}","A":"{_qty(rng)}"}}'
            )
        elif kind < 0.9:
            stream = f"{sym}@depth@100ms"
            first = update_id[sym]
            update_id[sym] += rng.randrange(1, 30)
            bids = ",".join(
                f'["{p * (1 - k * 1e-4):.{dec}f}","{_qty(rng)}"]' for k in range(rng.randrange(8))
            )
            asks = ",".join(
                f'["{p * (1 + k * 1e-4):.{dec}f}","{_qty(rng)}"]' for k in range(rng.randrange(8))
            )
            body = (
                f'{{"e":"depthUpdate","E":{event_ms},"s":"{sym.upper()}","U":{first},'
                f'"u":{update_id[sym]},"b":[{bids}],"a":[{asks}]}}'
            )
        else:
            stream = f"{sym}@aggTrade"
            trade_id[sym] += 1
            body = (
                f'{{"e":"aggTrade","E":{event_ms},"s":"{sym.upper()}","a":{trade_id[sym]},'
                f'"p":"{p:.{dec}f}","q":"{_qty(rng)}","f":{trade_id[sym] * 3},'
                f'"l":{trade_id[sym] * 3 + rng.randrange(3)},"T":{event_ms - 1},'
                f'"m":{str(rng.random() < 0.5).lower()},"M":true}}'
            )
        payload = f'{{"stream":"{stream}","data":{body}}}'.encode()
        buffer.append(recv_ns, stream, 1, seq, "data", None, False, payload)
    batch = buffer.take()
    assert batch is not None
    return pa.Table.from_batches([batch])


def test_sorted_zstd_layout_is_smaller_than_defaults(tmp_path: Path) -> None:
    table = binance_like_table(30_000)
    ours = tmp_path / "ours.parquet"
    write_sorted_parquet(pafs.LocalFileSystem(), table, str(ours))

    def size_of(**options: object) -> int:
        sink = io.BytesIO()
        pq.write_table(table, sink, **options)  # type: ignore[arg-type]
        return len(sink.getvalue())

    defaults = size_of()  # snappy, dictionary everywhere, arrival order
    zstd_arrival = size_of(compression="zstd")
    size = ours.stat().st_size
    print(
        f"\nsize: ours {size} B; pyarrow defaults {defaults} B (ratio {size / defaults:.3f}); "
        f"zstd in arrival order {zstd_arrival} B (ratio {size / zstd_arrival:.3f})"
    )
    assert size < 0.6 * defaults
    assert size < 0.85 * zstd_arrival
    assert pq.read_table(ours).num_rows == table.num_rows
