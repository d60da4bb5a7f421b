"""A fixed-memory, deterministic log-linear histogram of integer samples (HDR-like).

Why: a latency monitor must report p50..p99.9 over a whole day without keeping every sample, and
the answer must be the same bytes on every machine. Integer bucketing (no floats, no logarithms)
gives both: memory is bounded by the bucket count whatever the day's length, and merging two
histograms is exact (so days or streams can be combined in any order with the same result).

Buckets, with ``P = precision_bits`` (default 7) and ``S = 2**P``:

- ``0 <= |v| < S``: one bucket per integer, so values below 128 ns are exact;
- ``|v| >= S``: with ``e = bit_length(|v|) - P - 1``, bucket ``(e << P) + (|v| >> e)``: every
  power-of-two range is cut into ``S`` equal buckets of width ``2**e``.

Negative values (clock skew makes ``recv_ns - exch_ns`` negative) use a mirrored set of buckets.
A percentile is the *nearest-rank* value (the ``ceil(q/100 * n)``-th smallest sample) reported as
the middle of its bucket, clamped to the exact min and max (ranks 1 and n are exact).
**Documented error:** the result is within ``|exact| * 2**-(P+1)`` of the exact nearest-rank
percentile (0.39 % for ``P=7``; exact for ``|v| < 2**P``). ``min``, ``max``, ``count`` and
``total`` are exact. Memory: at most ``(64 - P) * 2**P`` counters per sign (7296 for ``P=7``),
allocated on first use.

Two ways in, one histogram: :meth:`Histogram.record` (one sample, the live path) and
:meth:`Histogram.record_many` (a numpy array of samples, the replay's batch path). The batch path
computes the same bucket indices with integer numpy arithmetic, parks them (at most
:data:`PENDING_LIMIT` per histogram) and folds them into the counters before anything reads them,
so any mix of the two gives exactly the counters, count, total, min and max of recording the
samples one by one.
"""

from __future__ import annotations

from typing import Final

import numpy as np

DEFAULT_PRECISION_BITS: Final = 7
PERCENTILES: Final = (50.0, 90.0, 99.0, 99.9)


def bucket_index(value: int, precision_bits: int = DEFAULT_PRECISION_BITS) -> int:
    """Bucket of a non-negative ``value`` (see the module docstring)."""
    if value < (1 << precision_bits):
        return value
    e = value.bit_length() - precision_bits - 1
    return (e << precision_bits) + (value >> e)


def bucket_middle(index: int, precision_bits: int = DEFAULT_PRECISION_BITS) -> int:
    """The representative (middle) value of bucket ``index``: exact for single-value buckets."""
    sub = 1 << precision_bits
    if index < 2 * sub:
        return index
    e = (index >> precision_bits) - 1
    low = (index - (e << precision_bits)) << e
    return low + ((1 << e) >> 1)


_EXACT_FLOAT: Final = 1 << 53  # integers below this convert to float64 exactly


def bucket_indices(
    magnitudes: np.ndarray, precision_bits: int = DEFAULT_PRECISION_BITS
) -> np.ndarray:
    """:func:`bucket_index` of every element of an int64 array of values in ``[0, 2**63)``.

    The same integer formula for all values at once: ``e = max(bit_length - P - 1, 0)`` (so
    values below ``2**(P+1)`` are their own index), index ``(e << P) + (v >> e)``. The bit length
    comes from the float64 exponent, exact below 2**53; above, rounding can carry a value up to
    the next power of two, which the shift test takes back.
    """
    bit_length = np.frexp(magnitudes.astype(np.float64))[1].astype(np.int64)
    if len(magnitudes) and int(magnitudes.max()) >= _EXACT_FLOAT:
        bit_length -= (magnitudes >> np.maximum(bit_length - 1, 0)) == 0
    e = np.maximum(bit_length - (precision_bits + 1), 0)
    return (e << precision_bits) + (magnitudes >> e)  # type: ignore[no-any-return]


def bucket_codes(values: np.ndarray, precision_bits: int = DEFAULT_PRECISION_BITS) -> np.ndarray:
    """Per int64 sample (``|v| < 2**63``): its bucket index, or ``-index - 1`` if negative."""
    if not len(values) or int(values.min()) >= 0:
        return bucket_indices(values, precision_bits)
    index = bucket_indices(np.abs(values), precision_bits)
    return np.where(values < 0, -index - 1, index)  # type: ignore[no-any-return]


PENDING_LIMIT: Final = 1 << 15  # batch samples parked per histogram before they are counted
_SAFE_SUM: Final = 1 << 63

_NO_MIN: Final = 1 << 200  # sentinels beyond any sample, so record() needs no "first?" branch
_NO_MAX: Final = -(1 << 200)


class Histogram:
    """Counts of integer samples (ns) in log-linear buckets. Not thread-safe; cheap to record."""

    __slots__ = ("_cum", "_cum_count", "_max", "_min", "_neg", "_pending", "_pending_n", "_pos",
                 "_shift", "_size", "_sub", "count", "precision_bits", "total")  # fmt: skip

    def __init__(self, precision_bits: int = DEFAULT_PRECISION_BITS) -> None:
        if not 1 <= precision_bits <= 16:
            raise ValueError(f"precision_bits must be in 1..16, got {precision_bits}")
        self.precision_bits = precision_bits
        self._sub = 1 << precision_bits
        self._shift = precision_bits + 1
        self._size = (64 - precision_bits) << precision_bits  # covers |v| < 2**63
        # bucket counters, allocated by the first sample of each sign: a list (fast for record())
        # until batch samples or a merge arrive, then an int64 array (fast for numpy)
        self._pos: list[int] | np.ndarray = []
        self._neg: list[int] | np.ndarray = []
        self.count = 0
        self.total = 0  # exact sum of samples
        self._min = _NO_MIN
        self._max = _NO_MAX
        self._pending: list[np.ndarray] = []  # batch bucket codes not yet counted (see above)
        self._pending_n = 0
        self._cum = np.zeros(0, dtype=np.int64)  # see _cumulative()
        self._cum_count = -1

    @property
    def min(self) -> int:
        """Smallest sample (exact); 0 when empty."""
        return self._min if self.count else 0

    @property
    def max(self) -> int:
        """Largest sample (exact); 0 when empty."""
        return self._max if self.count else 0

    def record(self, value: int) -> None:
        """Add one sample (values beyond +-2**63 land in the last bucket; min/max stay exact)."""
        self.count += 1
        self.total += value
        if value > self._max:
            self._max = value
        if value < self._min:
            self._min = value
        if value < 0:
            self._record_magnitude(self._neg, -value)
            return
        if value < self._sub:
            index = value
        else:
            e = value.bit_length() - self._shift
            index = (e << self.precision_bits) + (value >> e)
        try:
            self._pos[index] += 1
        except IndexError:  # first positive sample, or beyond 2**63
            self._record_magnitude(self._pos, value)

    def record_many(self, values: np.ndarray) -> None:
        """Add every sample of an int64 array with ``|v| < 2**63``: the same as ``record`` on
        each, in any order (a histogram does not depend on the order of its samples)."""
        if not len(values):
            return
        low, high = int(values.min()), int(values.max())
        if max(high, -low) * len(values) < _SAFE_SUM:
            total = int(values.sum())
        else:  # an int64 sum could overflow: Python integers are exact
            total = sum(values.tolist())
        self.record_coded(bucket_codes(values, self.precision_bits), total, low, high)

    def record_coded(self, codes: np.ndarray, total: int, low: int, high: int) -> None:
        """Add samples given as :func:`bucket_codes` (for this ``precision_bits``), with their
        exact sum, minimum and maximum: the batch path's way in, one call per stream."""
        n = len(codes)
        if not n:
            return
        self.count += n
        self.total += total
        if high > self._max:
            self._max = high
        if low < self._min:
            self._min = low
        self._pending.append(codes.astype(np.int32))  # |code| <= (64 - P) << P < 2**31
        self._pending_n += n
        if self._pending_n >= PENDING_LIMIT:
            self._settle()

    def _settle(self) -> None:
        """Count the parked batch samples into the bucket lists."""
        if not self._pending:
            return
        codes = self._pending[0] if len(self._pending) == 1 else np.concatenate(self._pending)
        self._pending = []
        self._pending_n = 0
        negative = codes < 0
        if negative.any():
            self._neg = self._add_counts(self._neg, -codes[negative] - 1)
            codes = codes[~negative]
        if len(codes):
            self._pos = self._add_counts(self._pos, codes)

    def _add_counts(self, counts: list[int] | np.ndarray, index: np.ndarray) -> np.ndarray:
        added = np.bincount(index, minlength=self._size)
        return added if not len(counts) else added + np.asarray(counts, dtype=np.int64)

    def _record_magnitude(self, counts: list[int] | np.ndarray, value: int) -> None:
        if not len(counts):  # unallocated: always the initial empty list
            counts.extend([0] * self._size)  # type: ignore[union-attr]
        index = bucket_index(value, self.precision_bits)
        counts[index if index < self._size else -1] += 1

    def merge(self, other: Histogram) -> None:
        """Add ``other``'s samples to this one (exact; order of merges does not matter)."""
        if other.precision_bits != self.precision_bits:
            raise ValueError("cannot merge histograms with different precision_bits")
        if not other.count:
            return
        self._settle()
        other._settle()
        self._min = min(self._min, other._min)
        self._max = max(self._max, other._max)
        self.count += other.count
        self.total += other.total
        self._pos = _added(self._pos, other._pos)
        self._neg = _added(self._neg, other._neg)

    def percentile(self, q: float) -> int | None:
        """Nearest-rank ``q``-th percentile (0 < q <= 100), or None when empty."""
        if not 0.0 < q <= 100.0:
            raise ValueError(f"percentile must be in (0, 100], got {q}")
        if not self.count:
            return None
        # rank = ceil(q/100 * n) computed in integers (q has at most 4 decimals here)
        scaled = round(q * 10_000)
        rank = max(1, -(-scaled * self.count // 1_000_000))
        if rank == self.count:
            return self.max  # the largest sample is known exactly
        if rank == 1:
            return self.min
        # the first bucket, most negative first, where the running count reaches ``rank``
        cumulative = self._cumulative()
        position = int(np.searchsorted(cumulative, rank, side="left"))
        if position == len(cumulative):
            return self.max  # unreachable: counts add up to self.count
        p = self.precision_bits
        if len(self._neg):
            if position < self._size:
                return self._clamp(-bucket_middle(self._size - 1 - position, p))
            position -= self._size
        return self._clamp(bucket_middle(position, p))

    def _cumulative(self) -> np.ndarray:
        """Running counts over the buckets in value order (negative side first, reversed);
        kept while ``count`` is unchanged (every way to add samples changes it)."""
        if self._cum_count != self.count:
            self._settle()
            parts = []
            if len(self._neg):
                parts.append(np.asarray(self._neg, dtype=np.int64)[::-1])
            if len(self._pos):
                parts.append(np.asarray(self._pos, dtype=np.int64))
            self._cum = np.cumsum(np.concatenate(parts)) if parts else np.zeros(0, np.int64)
            self._cum_count = self.count
        return self._cum

    @property
    def allocated_counters(self) -> int:
        """Bucket counters in memory (flat: at most two sides of ``(64 - P) * 2**P``)."""
        self._settle()
        return len(self._pos) + len(self._neg)

    def percentiles(self, qs: tuple[float, ...] = PERCENTILES) -> list[int | None]:
        return [self.percentile(q) for q in qs]

    def mean(self) -> float | None:
        return self.total / self.count if self.count else None

    def _clamp(self, value: int) -> int:
        return self._min if value < self._min else self._max if value > self._max else value


def _added(mine: list[int] | np.ndarray, theirs: list[int] | np.ndarray) -> list[int] | np.ndarray:
    """Bucket counts ``mine + theirs`` (either may be unallocated: empty)."""
    if not len(theirs):
        return mine
    if not len(mine):
        return np.array(theirs, dtype=np.int64)
    return np.asarray(mine, dtype=np.int64) + np.asarray(theirs, dtype=np.int64)
