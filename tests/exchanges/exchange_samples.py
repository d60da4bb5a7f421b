"""Loaders for the real captured frames in ``tests/fixtures/samples`` (see the READMEs there).

Each loader strips only the capture container (cryptofeed's ``<time>: `` prefixes, JSON records),
never the frame itself, so the bytes handed to a decoder are the bytes the exchange sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

SAMPLES = Path(__file__).parents[1] / "fixtures" / "samples"


@dataclass(frozen=True)
class Frame:
    """One real message: where it came from, its bytes, and the stream a recorder would store."""

    exchange: str
    source: str  # "<file>:<line>"
    payload: bytes
    stream: str  # REST: "GET /path?query"; WS: "" (tests derive it with route())


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines()


def binance_ws() -> list[bytes]:
    """The 100 combined-stream frames (the first line is the connect line)."""
    lines = _lines(SAMPLES / "binance" / "cryptofeed_2021_BINANCE.ws.1.0.excerpt.txt")
    return [line.split(b": ", 1)[1] for line in lines[1:]]


def binance_rest_depth() -> bytes:
    line = _lines(SAMPLES / "binance" / "cryptofeed_2021_BINANCE.http.0.0.RUNEEUR_depth.txt")[0]
    return line.split(b": ", 1)[1]


def bybit_spot_frames() -> list[bytes]:
    return _lines(SAMPLES / "bybit" / "cryptofeed_v3_2026-08_BYBIT_spot.frames.txt")


def bybit_records(name: str) -> list[dict[str, object]]:
    """cryptofeed v3 capture records (``t`` = header/connect/send/recv, frame text in ``data``)."""
    return [json.loads(line) for line in _lines(SAMPLES / "bybit" / name)]


def bybit_recv_payloads(name: str) -> list[bytes]:
    return [str(r["data"]).encode() for r in bybit_records(name) if r["t"] == "recv"]


def bybit_tardis() -> list[bytes]:
    """Converted (not byte-exact) 2023 spot v5 messages, incl. orderbook.1 snapshot + delta."""
    return _lines(SAMPLES / "bybit" / "tardis-node_2023-04_bybit-spot_v5.converted.jsonl")


def _kucoin_ws_lines() -> list[bytes]:
    return _lines(SAMPLES / "kucoin" / "cryptofeed_2021_KUCOIN.ws.1.0.excerpt.txt")


def kucoin_ws_received() -> list[bytes]:
    """Received frames: lines ``<time>: <frame>`` (sent and connect lines start with the URL)."""
    return [
        line.split(b": ", 1)[1] for line in _kucoin_ws_lines() if not line.startswith(b"wss://")
    ]


def kucoin_ws_sent() -> list[bytes]:
    return [line.split(b": ", 1)[1] for line in _kucoin_ws_lines() if b" <- " in line]


def kucoin_rest_level2() -> bytes:
    line = _lines(SAMPLES / "kucoin" / "cryptofeed_2021_KUCOIN.http.0.0.EQZ-BTC_level2.txt")[0]
    return line.split(b": ", 1)[1]


def kucoin_uta() -> list[bytes]:
    """The two converted Pro/UTA messages, re-serialized compactly (not wire-exact)."""
    items = json.loads(
        (SAMPLES / "kucoin" / "ccxt_kucoin_pro_uta_comment_samples.json").read_text()
    )
    return [json.dumps(item, separators=(",", ":")).encode() for item in items]


MEXC_FRAME_IDS = ("A1", "A2", "A3", "A4", "B1", "C1")


def mexc_frames() -> dict[str, bytes]:
    return {i: (SAMPLES / "mexc" / f"frame_{i}.bin").read_bytes() for i in MEXC_FRAME_IDS}


def mexc_hex_frames() -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for line in (
        (SAMPLES / "mexc" / "unattributed_mexc_protobuf_frames.hex.txt").read_text().splitlines()
    ):
        if line.strip():
            frame_id, _source, _constant, hex_text = line.split("\t")
            out[frame_id] = bytes.fromhex(hex_text.strip())
    return out


def mexc_tardis_decoded() -> list[dict[str, object]]:
    path = SAMPLES / "mexc" / "tardis-node_2026-06_mexc_live_captured.decoded.jsonl"
    return [json.loads(line) for line in _lines(path)]


def all_frames() -> list[Frame]:
    """Every real frame of every exchange, for route() and the fuzzers."""
    frames: list[Frame] = []
    for i, p in enumerate(binance_ws()):
        frames.append(Frame("binance", f"binance ws:{i}", p, ""))
    frames.append(
        Frame("binance", "binance rest depth", binance_rest_depth(),
              "GET /api/v3/depth?symbol=RUNEEUR&limit=1000")
    )  # fmt: skip
    for i, p in enumerate(bybit_spot_frames()):
        frames.append(Frame("bybit", f"bybit spot frames:{i}", p, ""))
    for name in (
        "cryptofeed_v3_2026-08_BYBIT_spot.records.jsonl",
        "cryptofeed_v3_2026-08_BYBIT_linear_contrast.records.jsonl",
    ):
        for i, p in enumerate(bybit_recv_payloads(name)):
            frames.append(Frame("bybit", f"{name}:{i}", p, ""))
    for i, p in enumerate(bybit_tardis()):
        frames.append(Frame("bybit", f"bybit tardis:{i}", p, ""))
    for i, p in enumerate(kucoin_ws_received()):
        frames.append(Frame("kucoin", f"kucoin ws:{i}", p, ""))
    frames.append(
        Frame("kucoin", "kucoin rest level2", kucoin_rest_level2(),
              "GET /api/v3/market/orderbook/level2?symbol=EQZ-BTC")
    )  # fmt: skip
    for i, p in enumerate(kucoin_uta()):
        frames.append(Frame("kucoin", f"kucoin uta:{i}", p, ""))
    for frame_id, p in mexc_frames().items():
        frames.append(Frame("mexc", f"mexc {frame_id}", p, ""))
    return frames
