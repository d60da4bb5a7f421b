"""The recorder's batch routing patterns agree with each module's ``route()`` on real frames."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pytest

from ticktape.exchanges import registry
from ticktape.exchanges.routing import STREAM_PATTERNS, extract_streams, routed_streams

SAMPLES = Path(__file__).parents[1] / "fixtures" / "samples"


def _frames(exchange: str) -> list[bytes]:
    """Byte-exact received frames of the captures (see the samples READMEs)."""
    if exchange == "mexc":
        return [p.read_bytes() for p in sorted((SAMPLES / "mexc").glob("frame_*.bin"))]
    if exchange == "bybit":
        text = (SAMPLES / "bybit" / "cryptofeed_v3_2026-08_BYBIT_spot.frames.txt").read_bytes()
        return [line for line in text.splitlines() if line]
    name = {"binance": "cryptofeed_2021_BINANCE.ws.1.0.excerpt.txt",
            "kucoin": "cryptofeed_2021_KUCOIN.ws.1.0.excerpt.txt"}[exchange]  # fmt: skip
    frames = []
    for line in (SAMPLES / exchange / name).read_bytes().splitlines()[1:]:
        head, sep, frame = line.partition(b": ")
        if sep and re.fullmatch(rb"[0-9.]+", head):  # "<recv time>: <frame>" = received
            frames.append(frame)
    return frames


@pytest.mark.parametrize("exchange", registry.EXCHANGES)
def test_pattern_matches_route_on_every_captured_frame(exchange: str) -> None:
    frames = _frames(exchange)
    assert len(frames) >= 4
    module = registry.get(exchange)
    extracted = extract_streams(exchange, pa.array(frames, pa.binary()))
    assert extracted is not None
    got = extracted.to_pylist()
    assert got == [module.route(frame) for frame in frames]
    assert any(s is not None for s in got)


def test_every_exchange_has_a_pattern() -> None:
    assert set(STREAM_PATTERNS) == set(registry.EXCHANGES)


def test_unknown_exchange_has_no_routing() -> None:
    assert extract_streams("nasdaq", pa.array([b"x"], pa.binary())) is None


def test_routed_streams_routes_only_websocket_data_rows() -> None:
    frame = b'{"topic":"orderbook.1.BTCUSDT","ts":1,"type":"snapshot","data":{}}'
    ack = b'{"success":true,"ret_msg":"subscribe","op":"subscribe"}'
    label = "orderbook.1.BTCUSDT,publicTrade.BTCUSDT"
    rest = "GET /v5/market/orderbook?category=spot&symbol=BTCUSDT&limit=1"
    labels = pa.array([label, label, label, rest], pa.string()).dictionary_encode()
    payloads = pa.array([frame, ack, frame, b'{"topic":"x"}'], pa.binary())
    is_data = pa.array([True, True, False, True])
    got = routed_streams("bybit", labels, payloads, is_data).to_pylist()
    # data frame -> its subscription; ack names none -> label; a sent row and REST keep labels
    assert got == ["orderbook.1.BTCUSDT", label, label, rest]
