"""Finding and reading recordings: paths, globs, day ranges, live segments, bad files."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from replay_testkit import DAY_NS, file_name, key, make_rows, write_parquet, write_segment

from ticktape import replay
from ticktape.replay.errors import (
    BadOptionError,
    CorruptRecordingError,
    ForeignRecordingError,
    NoRecordingsError,
)
from ticktape.replay.reader import find_recordings, read_part

DAY2_NS = DAY_NS + 86_400 * 10**9


def _two_days(root: Path) -> tuple[list[dict], list[dict]]:
    day1 = make_rows(seed=1, rows_per_conn=10)
    day2 = make_rows(seed=2, rows_per_conn=10, day_ns=DAY2_NS)
    write_parquet(root / "2025-07-22" / file_name(1), day1)
    write_parquet(root / "2025-07-23" / file_name(1), day2)
    return day1, day2


def test_day_folder_root_and_day_range_select_the_right_files(tmp_path: Path) -> None:
    day1, _ = _two_days(tmp_path)
    assert [f.day for f in find_recordings([tmp_path])] == ["2025-07-22", "2025-07-23"]
    assert [f.day for f in find_recordings([tmp_path / "2025-07-23"])] == ["2025-07-23"]
    only_first = find_recordings([tmp_path], from_day="2025-07-20", to_day="2025-07-22")
    assert [f.day for f in only_first] == ["2025-07-22"]
    assert only_first[0].num_rows == len(day1)
    assert [f.day for f in find_recordings([tmp_path], from_day="2025-07-23")] == ["2025-07-23"]


def test_glob_and_explicit_files_are_deduplicated(tmp_path: Path) -> None:
    _two_days(tmp_path)
    by_glob = find_recordings([str(tmp_path / "2025-07-2*")])
    assert len(by_glob) == 2
    one = tmp_path / "2025-07-22" / file_name(1)
    assert len(find_recordings([one, one, str(tmp_path / "2025-07-22" / "*.parquet")])) == 1


def test_nothing_selected_says_what_was_expected(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    expected = r"no recordings under .*empty: expected \*\.parquet or \*\.arrow files"
    with pytest.raises(NoRecordingsError, match=expected):
        find_recordings([tmp_path / "empty"])
    with pytest.raises(NoRecordingsError, match="no such file or folder"):
        find_recordings([tmp_path / "missing"])
    with pytest.raises(NoRecordingsError, match="no recordings match"):
        find_recordings([str(tmp_path / "*.parquet")])
    _two_days(tmp_path)
    with pytest.raises(NoRecordingsError, match="from 2026-01-01"):
        find_recordings([tmp_path], from_day="2026-01-01")


@pytest.mark.parametrize("bad", ["2025-7-22", "yesterday", "2025-02-30"])
def test_bad_day_option(tmp_path: Path, bad: str) -> None:
    with pytest.raises(BadOptionError, match="expected a UTC day like 2025-07-22"):
        find_recordings([tmp_path], from_day=bad)


def test_corrupt_parquet_is_named_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "2025-07-22" / file_name(1)
    bad.parent.mkdir()
    bad.write_bytes(b"PAR1 this is not really parquet")
    with pytest.raises(CorruptRecordingError) as info:
        find_recordings([bad.parent])
    assert str(bad) in str(info.value) and "\n" not in str(info.value)


def test_foreign_parquet_and_foreign_suffix(tmp_path: Path) -> None:
    other = tmp_path / "prices.parquet"
    pq.write_table(pa.table({"price": [1.0]}), other)
    with pytest.raises(ForeignRecordingError, match=r"prices\.parquet: not a ticktape recording"):
        find_recordings([other])
    csv = tmp_path / "notes.csv"
    csv.write_text("x")
    with pytest.raises(ForeignRecordingError, match=r"notes.csv: not a recording"):
        find_recordings([csv])


def test_plain_strings_and_large_binary_are_accepted(tmp_path: Path) -> None:
    rows = make_rows(rows_per_conn=5)
    path = write_parquet(tmp_path / file_name(1), rows, dictionary=False)
    table = pq.read_table(path)
    table = table.set_column(8, "payload", table.column("payload").cast(pa.large_binary()))
    pq.write_table(table, path)
    recording = find_recordings([path])[0]
    normalized = read_part(recording, recording.parts[0])
    assert pa.types.is_dictionary(normalized.schema.field("stream").type)
    assert normalized.column("payload").to_pylist() == [r["payload"] for r in rows]


def test_live_segment_reads_up_to_the_last_complete_batch(tmp_path: Path) -> None:
    rows = make_rows(rows_per_conn=30, exchanges=("bybit",), conns_per_exchange=1)
    path = write_segment(
        tmp_path / file_name(1, "bybit", ".arrow"), rows, batch_size=8, truncate=40
    )
    recording = find_recordings([path])[0]
    assert recording.format == "arrow"
    readable = recording.num_rows
    assert 0 < readable < len(rows) and readable % 8 == 0
    got = [(r.conn_id, r.seq) for r in replay.open(path).rows()]
    assert got == [(r["conn_id"], r["seq"]) for r in sorted(rows[:readable], key=key)]


def test_empty_and_header_only_segments_are_skipped_not_errors(tmp_path: Path) -> None:
    day = tmp_path / "2025-07-22"
    write_parquet(day / file_name(1), make_rows(rows_per_conn=3))
    (day / file_name(2, "bybit", ".arrow")).write_bytes(b"")
    (day / file_name(3, "bybit", ".arrow")).write_bytes(b"\xff\xff\xff\xff\x10\x00")
    files = find_recordings([day])
    assert [f.num_rows for f in files][1:] == [0, 0]


def test_garbage_segment_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / file_name(1, "bybit", ".arrow")
    path.write_bytes(b"hello world, not arrow")
    with pytest.raises(CorruptRecordingError, match="not an Arrow IPC stream"):
        find_recordings([path])


def test_segment_next_to_its_parquet_twin_is_skipped(tmp_path: Path) -> None:
    rows = make_rows(rows_per_conn=5)
    write_parquet(tmp_path / file_name(1), rows)
    write_segment(tmp_path / file_name(1, suffix=".arrow"), rows)
    files = find_recordings([tmp_path])
    assert [Path(f.path).suffix for f in files] == [".parquet"]


def test_row_group_statistics_give_each_part_its_time_range(tmp_path: Path) -> None:
    rows = sorted(make_rows(rows_per_conn=20), key=key)
    recording = find_recordings([write_parquet(tmp_path / file_name(1), rows, 50)])[0]
    assert len(recording.parts) == -(-len(rows) // 50)
    for part in recording.parts:
        chunk = rows[part.index * 50 : part.index * 50 + 50]
        assert (part.min_recv_ns, part.max_recv_ns) == (chunk[0]["recv_ns"], chunk[-1]["recv_ns"])
