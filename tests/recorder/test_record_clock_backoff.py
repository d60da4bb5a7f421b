"""Clock (monotonic, anchored to the wall clock) and reconnect backoff (capped, jittered, reset)."""

from __future__ import annotations

import random
import time

import orjson
import pytest

from ticktape.recorder.backoff import Backoff
from ticktape.recorder.batches import chunk_batch
from ticktape.recorder.clock import Clock, ManualClock
from ticktape.recorder.rows import CONN_ID_STRIDE, ConnBuffer, ConnIds


def test_clock_is_anchored_to_the_wall_clock() -> None:
    clock = Clock()
    assert abs(clock.now_ns() - time.time_ns()) < 50_000_000  # 50 ms


def test_clock_never_goes_backwards() -> None:
    clock = Clock()
    last = clock.now_ns()
    for _ in range(100_000):
        now = clock.now_ns()
        assert now >= last
        last = now


def test_clock_ignores_wall_clock_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    before = clock.now_ns()
    monkeypatch.setattr(time, "time_ns", lambda: 0)  # the system clock jumps to 1970
    assert clock.now_ns() >= before


def test_clock_probe_reports_wall_and_monotonic_time() -> None:
    clock = Clock(wall_ns=1_000, mono_ns=0)
    clock.mono = lambda: 5_000
    recv_ns, payload = clock.probe()
    probe = orjson.loads(payload)
    assert recv_ns == 6_000
    assert probe["mono_ns"] == 5_000
    assert abs(probe["wall_ns"] - time.time_ns()) < 1e9


def test_manual_clock_moves_only_forward() -> None:
    clock = ManualClock(start_ns=10)
    assert clock.now_ns() == 10
    clock.advance(5)
    assert clock.now_ns() == 15
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_backoff_is_capped_exponential_with_full_jitter() -> None:
    backoff = Backoff(base_s=1.0, cap_s=8.0, rng=random.Random(1))
    ceilings = []
    for _ in range(200):
        ceilings.append(backoff.ceiling())
        delay = backoff.next_delay()
        assert 0.0 <= delay <= ceilings[-1]
    assert ceilings[:5] == [1.0, 2.0, 4.0, 8.0, 8.0]
    assert max(ceilings) == 8.0


def test_backoff_jitter_spreads_delays_and_is_seeded() -> None:
    def delays(seed: int) -> list[float]:
        b = Backoff(base_s=1.0, cap_s=1.0, rng=random.Random(seed))
        return [b.next_delay() for _ in range(50)]

    assert delays(3) == delays(3)
    assert delays(3) != delays(4)
    spread = delays(3)
    assert min(spread) < 0.25 and max(spread) > 0.75  # full jitter, not "cap minus a bit"


def test_backoff_resets_after_a_stable_connection_only() -> None:
    backoff = Backoff(base_s=1.0, cap_s=30.0, stable_after_s=60.0, rng=random.Random(0))
    for _ in range(4):
        backoff.next_delay()
    backoff.connected_for(5.0)  # dropped quickly: still backing off
    assert backoff.ceiling() == 16.0
    backoff.connected_for(60.0)
    assert backoff.ceiling() == 1.0


def test_backoff_survives_many_failures() -> None:
    backoff = Backoff(base_s=0.5, cap_s=30.0, rng=random.Random(0))
    for _ in range(10_000):
        assert backoff.next_delay() <= 30.0


def test_backoff_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        Backoff(base_s=2.0, cap_s=1.0)


def test_conn_ids_are_unique_across_restarts_and_numbered_from_start_ms() -> None:
    first = ConnIds(start_ms=1_700_000_000_000)
    ids_a = [first.next() for _ in range(1000)]
    second = ConnIds(start_ms=1_700_000_000_001)  # a restart one ms later
    ids_b = [second.next() for _ in range(1000)]
    assert len(set(ids_a) | set(ids_b)) == 2000
    assert ids_a[0] == 1_700_000_000_000 * CONN_ID_STRIDE
    assert max(ids_a + ids_b) < 2**63


def test_conn_buffer_numbers_seq_from_zero_and_builds_schema_v1_batches() -> None:
    clock = ManualClock(start_ns=100)
    seen: list[tuple[object, ...]] = []
    conn = ConnBuffer("fake", 7, "s", clock, hook=lambda *row: seen.append(row))
    conn.add("open", "ws://x")
    clock.advance(3)
    conn.add("data", b"\x00\xff", stream="other", req_ns=50, binary=True)
    conn.recv.append(200)  # the listener's fast path: three appends
    conn.payload.append(b"{}")
    conn.binary.append(False)
    assert conn.seq == 3 and conn.messages() == 2
    first = conn.take()
    assert first is not None and conn.take() is None
    conn.add("close", "shutdown")
    second = conn.take()
    assert second is not None and second.base_seq == 3
    rows = chunk_batch("fake", first).to_pylist() + chunk_batch("fake", second).to_pylist()
    assert [tuple(r.values()) for r in rows] == [
        (100, "fake", "s", 7, 0, "open", None, False, b"ws://x"),
        (103, "fake", "other", 7, 1, "data", 50, True, b"\x00\xff"),
        (200, "fake", "s", 7, 2, "data", None, False, b"{}"),
        (rows[3]["recv_ns"], "fake", "s", 7, 3, "close", None, False, b"shutdown"),
    ]
    assert seen[0] == ("fake", 100, "s", 7, 0, "open", None, False, b"ws://x")
    assert seen[1] == ("fake", 103, "other", 7, 1, "data", 50, True, b"\x00\xff")


def test_last_data_time_skips_control_rows_and_survives_a_take() -> None:
    clock = ManualClock(start_ns=0)
    conn = ConnBuffer("fake", 1, "s", clock)
    assert conn.last_data_ns() == 0
    conn.add("open", "ws://x", recv_ns=5)
    assert conn.last_data_ns() == 0
    conn.add("data", b"{}", recv_ns=10)
    conn.add("data", b"{}", stream="GET /x", req_ns=9, recv_ns=11)  # REST data: still data
    conn.add("ping", b"", recv_ns=20)
    conn.add("sent", b"", stream="pong", recv_ns=21)
    assert conn.last_data_ns() == 11
    conn.take()
    conn.add("ping", b"", recv_ns=30)
    assert conn.last_data_ns() == 11
    conn.recv.append(40)
    conn.payload.append(b"{}")
    conn.binary.append(False)
    assert conn.last_data_ns() == 40
