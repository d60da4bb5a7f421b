"""Digests, result files and parallel days: same data -> same bytes, however it is cut."""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from replay_testkit import (
    DAY_NS,
    CountingStrategy,
    fake_decoder_factory,
    file_name,
    key,
    make_rows,
    write_parquet,
    write_segment,
)

from ticktape import replay
from ticktape.exchanges.events import Gap, Quote
from ticktape.replay import api
from ticktape.replay.digest import EventDigest, results_digest
from ticktape.replay.reader import find_recordings
from ticktape.replay.results import default_out_dir, format_digests, format_summary, write_results

ROWS = make_rows(seed=5, rows_per_conn=60)


def _run(folder: Path) -> replay.ReplayResult:
    return replay.open(folder).run(
        [("counting", CountingStrategy())], decoder_factory=fake_decoder_factory
    )


def _write_rotated(folder: Path, rows: list[dict], file_rows: int, shuffle: int | None) -> None:
    """Rotate by size like the recorder would (``file_rows`` per file), optionally shuffled."""
    ordered = sorted(rows, key=key)
    for index, start in enumerate(range(0, len(ordered), file_rows)):
        chunk = ordered[start : start + file_rows]
        if shuffle is not None:
            random.Random(shuffle + index).shuffle(chunk)
        write_parquet(folder / file_name(index), chunk, row_group_size=max(1, file_rows // 3))


def test_re_rotating_the_same_rows_keeps_every_digest(tmp_path: Path) -> None:
    results = []
    for file_rows, shuffle in [(10_000, None), (37, 1), (100, 2), (5, None)]:
        folder = tmp_path / f"{file_rows}-{shuffle}"
        _write_rotated(folder, ROWS, file_rows, shuffle)
        results.append(_run(folder))
    assert len({r.events_digest for r in results}) == 1
    assert len({r.results_digest for r in results}) == 1
    assert len({r.digest for r in results}) == 1
    assert results[0].counts.events > 0


def test_different_data_gives_a_different_digest(tmp_path: Path) -> None:
    _write_rotated(tmp_path / "a", ROWS, 10_000, None)
    changed = [dict(r) for r in ROWS]
    target = next(r for r in changed if r["kind"] == "data" and b'"b"' in r["payload"])
    target["payload"] = target["payload"].replace(b'"s"', b'"s" ', 1)  # same meaning, new bytes
    target["recv_ns"] += 1
    _write_rotated(tmp_path / "b", changed, 10_000, None)
    assert _run(tmp_path / "a").events_digest != _run(tmp_path / "b").events_digest


def test_event_digest_does_not_depend_on_batching() -> None:
    events = [
        Quote("binance", "BTC-USDT", i, None, 1, i, 1.0, 2.0, 3.0, 4.0) for i in range(70_000)
    ]
    events.insert(5, Gap("binance", 5, 1, 5, "s", "seq jumped"))
    whole, pieces, ones = EventDigest(), EventDigest(), EventDigest()
    whole.update(events)
    for start in range(0, len(events), 15):
        pieces.update(events[start : start + 15])
    for event in events[:300]:
        ones.update([event])
    ones.update(events[300:])
    assert whole.hexdigest() == pieces.hexdigest() == ones.hexdigest()
    assert whole.count == len(events)


def test_results_digest_ignores_chunking_and_dictionary_encoding() -> None:
    plain = pa.table({"exchange": ["a", "b", "a"], "n": [1, 2, 3]})
    chunked = pa.concat_tables([plain.slice(0, 1), plain.slice(1)])
    encoded = plain.set_column(0, "exchange", plain.column("exchange").dictionary_encode())
    digests = {results_digest({"s": {"t": t}}) for t in (plain, chunked, encoded)}
    assert len(digests) == 1
    assert results_digest({"s": {"t": plain.slice(1)}}) not in digests


def test_results_files_are_deterministic_bytes(tmp_path: Path) -> None:
    _write_rotated(tmp_path / "data" / "2025-07-22", ROWS, 50, 3)
    files = find_recordings([tmp_path / "data"])
    assert default_out_dir(files) == tmp_path / "data" / "results"
    first = write_results(_run(tmp_path / "data"), tmp_path / "one")
    second = write_results(_run(tmp_path / "data"), tmp_path / "two")
    assert [p.relative_to(tmp_path / "one") for p in first] == [Path("counting/counts.parquet")]
    assert first[0].read_bytes() == second[0].read_bytes()
    assert pq.read_table(first[0]).num_rows > 0
    assert not list((tmp_path / "one" / "counting").glob(".*"))  # no temporary left behind


def test_summary_and_digest_lines_are_readable(tmp_path: Path) -> None:
    rows = [dict(r) for r in ROWS]
    next(r for r in rows if r["kind"] == "data")["payload"] = b"garbage"
    write_parquet(tmp_path / file_name(1), rows)
    result = _run(tmp_path)
    text = format_summary(result, files=1, elapsed_s=0.5)
    assert text.startswith(f"replayed {len(rows):,} rows (2025-07-22) from 1 file in 0.50 s")
    assert "decode errors: 1" in text and "== counting" in text
    lines = format_digests(result).splitlines()
    assert [line.split()[0] for line in lines] == ["events-digest", "results-digest", "digest"]
    assert result.events_digest in lines[0]


def _fake_day_runner(files, strategies, config=None, digest=True):  # type: ignore[no-untyped-def]
    return api.Tape(files).run(
        [("counting", CountingStrategy())], decoder_factory=fake_decoder_factory
    )


def _build_given(specs, config):  # type: ignore[no-untyped-def]
    return {spec[0]: spec[1] for spec in specs if isinstance(spec, tuple)}


def test_parallel_days_fold_the_same_way_for_any_number_of_jobs(
    tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    day_ns = 86_400 * 10**9
    for d in range(3):
        rows = make_rows(seed=d, rows_per_conn=15, day_ns=DAY_NS + d * day_ns)
        write_parquet(tmp_path / f"2025-07-{22 + d}" / file_name(1), rows[: len(rows) // 2])
        segment = tmp_path / f"2025-07-{22 + d}" / file_name(2, suffix=".arrow")
        write_segment(segment, rows[len(rows) // 2 :])
    monkeypatch.setattr(api, "replay_files", _fake_day_runner)
    monkeypatch.setattr(api, "build_strategies", _build_given)
    files = find_recordings([tmp_path])
    serial = api.run_days(files, ["counting"], jobs=1)
    parallel = api.run_days(files, ["counting"], jobs=2)
    assert serial.days == parallel.days == ["2025-07-22", "2025-07-23", "2025-07-24"]
    assert serial.digest == parallel.digest
    assert serial.counts == parallel.counts
    counts = serial.results["counting"]["counts"]
    assert counts.column_names[0] == "day"
    assert sorted(set(counts.column("day").to_pylist())) == serial.days
