"""Integration: files written by the recorder's RotatingWriter replay in the same total order."""

from __future__ import annotations

from pathlib import Path

from replay_testkit import fake_decoder_factory, file_name, key, make_rows, to_table, write_parquet

from ticktape import replay
from ticktape.recorder.writer import RotatingWriter


def _arrival_order(rows: list[dict]) -> list[dict]:
    """What a recorder writes: each connection's rows in arrival order, connections interleaved."""
    return sorted(rows, key=lambda r: (r["recv_ns"], r["conn_id"], r["seq"]))


def test_rotated_recorder_output_replays_like_one_sorted_file(tmp_path: Path) -> None:
    rows = make_rows(seed=21, rows_per_conn=80, exchanges=("binance", "bybit"))
    data = tmp_path / "data"
    for exchange in ("binance", "bybit"):
        mine = _arrival_order([r for r in rows if r["exchange"] == exchange])
        with RotatingWriter(data, exchange, rotate_bytes=4_096) as writer:
            for start in range(0, len(mine), 13):
                writer.write(to_table(mine[start : start + 13]).to_batches()[0])
        assert len(writer.files_written) > 2  # rotated several times, converted to Parquet
    live = RotatingWriter(data, "mexc", rotate_bytes=1 << 30)
    mexc_rows = _arrival_order(make_rows(seed=22, rows_per_conn=30, exchanges=("mexc",)))
    for r in mexc_rows:
        r["conn_id"] += 100
    live.write(to_table(mexc_rows).to_batches()[0])  # still open: a live .arrow segment
    try:
        reference = tmp_path / "reference"
        write_parquet(reference / file_name(1), rows + mexc_rows)
        got = replay.open(data).run(decoder_factory=fake_decoder_factory)
        want = replay.open(reference).run(decoder_factory=fake_decoder_factory)
        assert got.counts.rows == len(rows) + len(mexc_rows)
        assert got.events_digest == want.events_digest
        ordered = [(r.recv_ns, r.exchange, r.conn_id, r.seq) for r in replay.open(data).rows()]
        assert ordered == [key(r) for r in sorted(rows + mexc_rows, key=key)]
    finally:
        live.close()
