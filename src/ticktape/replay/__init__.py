"""Deterministic replay of recordings: read, merge in one total order, decode, run strategies.

Public API::

    from ticktape import replay
    tape = replay.open("data/2025-07-22")          # or several days, a glob, files, a root
    result = tape.run(["arb", "latency"])           # -> ReplayResult (tables, counts, digests)

See :mod:`ticktape.replay.api` for the details and :mod:`ticktape.replay.cli` for ``replay``.
"""

from ticktape.replay.api import ReplayResult, Row, Tape, open, run_days
from ticktape.replay.counts import ReplayCounts
from ticktape.replay.errors import (
    BadOptionError,
    CorruptRecordingError,
    ForeignRecordingError,
    NoRecordingsError,
    ReplayError,
    UnknownStrategyNameError,
)

__all__ = [
    "BadOptionError",
    "CorruptRecordingError",
    "ForeignRecordingError",
    "NoRecordingsError",
    "ReplayCounts",
    "ReplayError",
    "ReplayResult",
    "Row",
    "Tape",
    "UnknownStrategyNameError",
    "open",
    "run_days",
]
