"""Make ``exchange_samples`` (loaders for the captured real frames) importable by these tests, and
keep the timing checks opt-in.

pytest runs with ``--import-mode=importlib``, which does not put test directories on ``sys.path``.

The ``slow`` tests here are timing comparisons (fast path against slow path, layout reader against
protobuf): on a shared, loaded machine they fail by noise, so they run only when asked for with
``-m slow``, as the marker's description says.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_HERE = Path(__file__).parent
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "slow" in (config.getoption("markexpr") or ""):
        return
    opt_in = pytest.mark.skip(reason="timing check: opt-in with -m slow")
    for item in items:
        if item.get_closest_marker("slow") and item.path.is_relative_to(_HERE):
            item.add_marker(opt_in)
