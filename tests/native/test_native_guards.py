"""The compiled loops refuse arguments that would make them read or write out of bounds.

They run with bounds checks off, so the Python entry points check every length once per call.
"""

from __future__ import annotations

from array import array

import numpy as np
import pytest

from ticktape import _native


def outputs(n: int) -> list[np.ndarray]:
    return [
        np.zeros(n, np.int8), *(np.zeros(n) for _ in range(4)), np.zeros(n, np.int64),
        np.zeros(n, np.int8), np.zeros(n, np.int8), np.zeros(n, np.int32), np.zeros(n, np.int32),
    ]  # fmt: skip


def test_decode_window_checks_lengths() -> None:
    fastdecode = _native.fastdecode
    assert fastdecode is not None
    addr, size, routes = np.zeros(4, np.int64), np.full(4, -1, np.int64), np.zeros(4, np.int64)
    codec = np.array([1], np.int8)
    assert fastdecode.decode_window(addr, size, routes, codec, [b"x"], *outputs(4)) == 0
    with pytest.raises(ValueError, match="shorter than the window"):
        fastdecode.decode_window(addr, size, routes, codec, [b"x"], *outputs(3))
    with pytest.raises(ValueError, match="differ in length"):
        fastdecode.decode_window(addr, size[:3], routes, codec, [b"x"], *outputs(4))
    with pytest.raises(ValueError, match="route_expect"):
        fastdecode.decode_window(addr, size, routes, codec, [], *outputs(4))


def test_quiet_run_checks_its_range() -> None:
    arbquiet = _native.arbquiet
    assert arbquiet is not None
    n = 3
    events = (np.full(n, -1, np.int32), np.arange(n, dtype=np.int64), np.zeros(n), np.zeros(n))
    state = (array("d"), array("d"), array("q"), array("q"), array("q"), array("d"), array("d"))
    assert arbquiet.quiet_run(0, n, *events, 1 << 62, *state) == n  # no quotes: all pass
    assert arbquiet.quiet_run(0, n, *events, 1, *state) == 1  # stops at the deadline
    with pytest.raises(IndexError):
        arbquiet.quiet_run(0, n + 1, *events, 1 << 62, *state)
    with pytest.raises(IndexError):
        arbquiet.quiet_run(-1, n, *events, 1 << 62, *state)
