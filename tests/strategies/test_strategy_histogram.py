"""The log-linear histogram: exact where promised, within its documented error elsewhere."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ticktape.strategies.histogram import Histogram, bucket_index, bucket_middle

RELATIVE_ERROR = 2.0**-8  # documented for precision_bits=7


def exact_percentile(samples: list[int], q: float) -> int:
    ordered = sorted(samples)
    rank = max(1, math.ceil(q / 100.0 * len(ordered) - 1e-9))
    return ordered[rank - 1]


def histogram_of(samples: list[int]) -> Histogram:
    hist = Histogram()
    for value in samples:
        hist.record(value)
    return hist


@pytest.mark.parametrize(
    ("value", "index", "middle"),
    [
        (0, 0, 0),
        (127, 127, 127),  # exact region
        (128, 128, 128),
        (255, 255, 255),  # width-1 buckets up to 2**8
        (256, 256, 257),  # [256, 258)
        (257, 256, 257),
        (258, 257, 259),
        # 2**19 <= 1e6 < 2**20: e = 12, width 4096, 1e6 >> 12 = 244 -> [999_424, 1_003_520)
        (1_000_000, (12 << 7) + 244, 999_424 + 2048),
    ],
)
def test_bucket_boundaries(value: int, index: int, middle: int) -> None:
    assert bucket_index(value) == index
    assert bucket_middle(index) == middle


@given(st.integers(min_value=0, max_value=2**62))
def test_every_value_is_within_half_a_bucket_of_its_bucket_middle(value: int) -> None:
    middle = bucket_middle(bucket_index(value))
    assert abs(middle - value) <= value * RELATIVE_ERROR


@given(st.integers(min_value=0, max_value=2**62), st.integers(min_value=0, max_value=2**62))
def test_bucket_index_is_monotonic(a: int, b: int) -> None:
    lo, hi = min(a, b), max(a, b)
    assert bucket_index(lo) <= bucket_index(hi)


@pytest.mark.parametrize("q", [50.0, 90.0, 99.0, 99.9, 100.0])
def test_small_values_are_exact(q: float) -> None:
    samples = [(i * 37) % 128 for i in range(1000)]
    assert histogram_of(samples).percentile(q) == exact_percentile(samples, q)


latencies = st.lists(
    st.one_of(
        st.integers(min_value=0, max_value=200),
        st.integers(min_value=-50_000_000, max_value=5_000_000_000),
        st.integers(min_value=-(2**62), max_value=2**62),
    ),
    min_size=1,
    max_size=300,
)


@settings(max_examples=200, deadline=None)
@given(latencies, st.sampled_from([1.0, 50.0, 90.0, 99.0, 99.9, 100.0]))
def test_percentiles_within_documented_error_of_exact(samples: list[int], q: float) -> None:
    hist = histogram_of(samples)
    exact = exact_percentile(samples, q)
    got = hist.percentile(q)
    assert got is not None
    assert abs(got - exact) <= abs(exact) * RELATIVE_ERROR
    assert (hist.count, hist.min, hist.max, hist.total) == (
        len(samples), min(samples), max(samples), sum(samples)
    )  # fmt: skip


@settings(max_examples=100, deadline=None)
@given(latencies, latencies)
def test_merge_equals_recording_everything_in_one(a: list[int], b: list[int]) -> None:
    merged = histogram_of(a)
    merged.merge(histogram_of(b))
    whole = histogram_of(a + b)
    qs = (1.0, 50.0, 90.0, 99.0, 99.9, 100.0)
    assert [merged.percentile(q) for q in qs] == [whole.percentile(q) for q in qs]
    assert (merged.count, merged.min, merged.max, merged.total) == (
        whole.count, whole.min, whole.max, whole.total
    )  # fmt: skip


def test_memory_is_flat_however_many_samples() -> None:
    hist = Histogram()
    hist.record(1)
    allocated = hist.allocated_counters
    for k in range(20_000):
        hist.record((k * 7_919_993) % 4_000_000_000_000 + k)
    assert hist.allocated_counters == allocated == 7296
    hist.record(-5)
    assert hist.allocated_counters == 2 * 7296  # the mirrored negative side, once


def test_huge_values_land_in_the_last_bucket_and_max_stays_exact() -> None:
    hist = histogram_of([2**70, 5])
    assert hist.max == 2**70
    assert hist.percentile(100.0) == 2**70  # clamped to the exact max


def test_empty_and_bad_queries() -> None:
    assert Histogram().percentile(50.0) is None
    assert Histogram().mean() is None
    with pytest.raises(ValueError, match="percentile"):
        Histogram().percentile(0.0)
    with pytest.raises(ValueError, match="precision_bits"):
        Histogram(precision_bits=0)
