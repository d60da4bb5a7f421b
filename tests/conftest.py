"""Shared test fixtures: paths to the captured real exchange frames."""

from __future__ import annotations

from pathlib import Path

import pytest

SAMPLES = Path(__file__).parent / "fixtures" / "samples"


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """Real captured exchange messages (see tests/fixtures/samples/README.md)."""
    return SAMPLES
