"""Replay test fixtures; the helpers live in ``replay_testkit`` (importable from these tests)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from replay_testkit import fake_decoder_factory


@pytest.fixture
def fake_decoders(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the replay use the fake decoders wherever it asks the exchanges registry."""
    from ticktape.replay import driver

    monkeypatch.setattr(driver, "default_decoder_factory", fake_decoder_factory)
