"""The merge: one total order whatever the files, batches, row order or dictionary encodings."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from replay_testkit import (
    DAY_NS,
    fake_decoder_factory,
    file_name,
    key,
    make_rows,
    to_table,
    write_parquet,
    write_segment,
)

from ticktape import replay
from ticktape.replay import merge
from ticktape.replay.merge import Columns, Routes, key_order, merged_windows
from ticktape.replay.reader import find_recordings

ROWS = make_rows(seed=7, rows_per_conn=25)
EXPECTED = sorted(ROWS, key=key)


def _rotate(rows: list[dict], folder: Path, rng: random.Random, formats: str = "pa") -> None:
    """Write ``rows`` as random files: random cut points, row orders, row groups, encodings."""
    shuffled = list(rows)
    rng.shuffle(shuffled)
    cuts = sorted(rng.sample(range(1, len(rows)), rng.randrange(0, 6)))
    for index, (lo, hi) in enumerate(zip([0, *cuts], [*cuts, len(rows)], strict=True)):
        chunk = shuffled[lo:hi]
        if rng.random() < 0.5:
            chunk.sort(key=key)
        if rng.choice(formats) == "p":
            write_parquet(
                folder / file_name(index),
                chunk,
                row_group_size=rng.choice([3, 17, 1000]),
                dictionary=rng.random() < 0.5,
            )
        else:
            write_segment(folder / file_name(index, suffix=".arrow"), chunk, rng.choice([1, 5, 64]))


def _ordered_keys(folder: Path, window_rows: int) -> list[tuple]:
    tape = replay.open(folder, window_rows=window_rows)
    return [(r.recv_ns, r.exchange, r.conn_id, r.seq, r.payload) for r in tape.rows()]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), window_rows=st.sampled_from([1, 7, 64, 100_000]))
def test_any_rotation_gives_the_same_order_and_digest(seed: int, window_rows: int) -> None:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _rotate(ROWS, folder, rng)
        got = _ordered_keys(folder, window_rows)
        wanted = [
            (r["recv_ns"], r["exchange"], r["conn_id"], r["seq"], r["payload"]) for r in EXPECTED
        ]
        assert got == wanted
        result = replay.open(folder, window_rows=window_rows).run(
            decoder_factory=fake_decoder_factory
        )
    assert result.events_digest == _REFERENCE_DIGEST


def _reference_digest() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        write_parquet(Path(tmp) / file_name(0), EXPECTED)
        return replay.open(tmp).run(decoder_factory=fake_decoder_factory).events_digest


_REFERENCE_DIGEST = _reference_digest()


def _columns(rows: list[dict]) -> tuple[Columns, Routes]:
    routes = Routes()
    return Columns.from_table(to_table(rows), routes), routes


def test_ties_on_recv_ns_are_broken_by_exchange_then_conn_then_seq() -> None:
    rows = [
        {**ROWS[0], "recv_ns": 5, "exchange": ex, "conn_id": c, "seq": s, "stream": "x"}
        for ex, c, s in [("mexc", 1, 0), ("binance", 9, 1), ("binance", 2, 3), ("binance", 2, 2)]
    ]
    order = key_order(*_columns(rows))
    assert order is not None
    assert [(rows[i]["exchange"], rows[i]["conn_id"], rows[i]["seq"]) for i in order] == [
        ("binance", 2, 2),
        ("binance", 2, 3),
        ("binance", 9, 1),
        ("mexc", 1, 0),
    ]


def test_exact_duplicate_keys_still_get_one_order_from_the_payload() -> None:
    base = {**ROWS[1], "recv_ns": 1, "conn_id": 1, "seq": 1}
    a, b = {**base, "payload": b"b"}, {**base, "payload": b"a"}
    for rows in ([a, b], [b, a]):
        columns, routes = _columns(rows)
        order = key_order(columns, routes)
        ordered = columns if order is None else columns.take(order)
        assert ordered.payloads() == [b"a", b"b"]


def test_sorted_input_is_not_copied() -> None:
    assert key_order(*_columns(EXPECTED)) is None


def test_parts_are_opened_only_when_the_watermark_reaches_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long day of consecutive files: a window never needs more than the files it overlaps."""
    hour = 3_600 * 10**9
    for i in range(12):
        rows = make_rows(seed=i, rows_per_conn=20, day_ns=DAY_NS + i * hour, grid_ns=10**6)
        write_parquet(tmp_path / file_name(i), rows, row_group_size=64)
    files = find_recordings([tmp_path])
    opened: list[int] = []
    real = merge.read_part

    def counting(recording, part):  # type: ignore[no-untyped-def]
        opened.append(part.min_recv_ns)
        return real(recording, part)

    monkeypatch.setattr(merge, "read_part", counting)
    total_parts = sum(len(f.parts) for f in files)
    most_ahead = 0
    for window in merged_windows(files, Routes(), window_rows=64):
        newest_row = int(window.recv[-1])
        ahead = sum(1 for start in opened if start > newest_row + hour)
        most_ahead = max(most_ahead, ahead)
    assert len(opened) == total_parts
    assert most_ahead == 0  # nothing more than an hour ahead of the output was ever read


def test_windows_are_in_order_and_cover_every_row(tmp_path: Path) -> None:
    _rotate(ROWS, tmp_path, random.Random(3))
    routes = Routes()
    windows = list(merged_windows(find_recordings([tmp_path]), routes, window_rows=16))
    assert len(windows) > 5
    merged = Columns.concat(windows)
    assert len(merged) == len(ROWS)
    assert key_order(merged, routes) is None
    table = pa.concat_tables(w.to_table(routes) for w in windows)
    assert table.column("payload").to_pylist() == [r["payload"] for r in EXPECTED]
