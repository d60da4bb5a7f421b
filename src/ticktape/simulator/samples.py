"""Real captured frames for samples mode, extracted byte-exactly from the fixture files.

Samples mode serves these instead of generated quotes, unchanged, so a recorder test can check
that a real frame survives the whole pipeline byte for byte. Control frames found in captures
(KuCoin welcome/ack/pong, Bybit subscribe acks) are left out: the simulator speaks the protocol
itself and answers the client's own requests; what is replayed is the market data.

Sources (see each folder's README): ``binance/cryptofeed_2021_BINANCE.ws.1.0.excerpt.txt``
(combined-stream frames after ``"<time>: "``), ``bybit/cryptofeed_v3_2026-08_BYBIT_spot.frames.txt``
(one frame per line), ``kucoin/cryptofeed_2021_KUCOIN.ws.1.0.excerpt.txt`` (received lines
``"<time>: <frame>"``; sent lines start with the URL), ``mexc/frame_*.bin`` (binary frames).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson

BINANCE_FILE = "binance/cryptofeed_2021_BINANCE.ws.1.0.excerpt.txt"
BYBIT_FILE = "bybit/cryptofeed_v3_2026-08_BYBIT_spot.frames.txt"
KUCOIN_FILE = "kucoin/cryptofeed_2021_KUCOIN.ws.1.0.excerpt.txt"
MEXC_GLOB = "mexc/frame_*.bin"


class SamplesError(FileNotFoundError):
    """The samples directory is missing or does not hold the expected capture files."""


@dataclass(frozen=True, slots=True)
class SampleFrame:
    payload: bytes
    binary: bool
    stream: str  # what the frame says about its stream ("" if it does not say)


def default_samples_dir() -> Path:
    """``tests/fixtures/samples`` of the source checkout this package runs from."""
    return Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "samples"


def _require(path: Path) -> bytes:
    if not path.is_file():
        raise SamplesError(
            f"samples mode needs {path}; set SimConfig.samples_dir to a copy of "
            "tests/fixtures/samples (see its README.md)"
        )
    return path.read_bytes()


def _after_timestamp(line: bytes) -> bytes | None:
    """``b"1633998512.06: {...}"`` -> ``b"{...}"``; None for lines of another shape."""
    stamp, sep, frame = line.partition(b": ")
    if not sep or not stamp.replace(b".", b"").isdigit():
        return None
    return frame


def _json_stream(frame: bytes, key: str) -> str:
    try:
        value = orjson.loads(frame)
    except orjson.JSONDecodeError:
        return ""
    return str(value.get(key, "")) if isinstance(value, dict) else ""


def load_samples(exchange: str, root: Path | None = None) -> list[SampleFrame]:
    """The real data frames of ``exchange`` in capture order."""
    root = root or default_samples_dir()
    if exchange == "binance":
        lines = _require(root / BINANCE_FILE).split(b"\n")[1:]  # first line: connect record
        frames = [f for f in (_after_timestamp(line) for line in lines) if f]
        return [SampleFrame(f, False, _json_stream(f, "stream")) for f in frames]
    if exchange == "bybit":
        lines = [line for line in _require(root / BYBIT_FILE).split(b"\n") if line]
        data = [line for line in lines if not line.startswith(b'{"success"')]
        return [SampleFrame(f, False, _json_stream(f, "topic")) for f in data]
    if exchange == "kucoin":
        out = []
        for line in _require(root / KUCOIN_FILE).split(b"\n"):
            frame = _after_timestamp(line)
            if frame and _json_stream(frame, "type") == "message":
                out.append(SampleFrame(frame, False, _json_stream(frame, "topic")))
        return out
    if exchange == "mexc":
        paths = sorted(root.glob(MEXC_GLOB))
        if not paths:
            raise SamplesError(f"samples mode needs {root / MEXC_GLOB} (real MEXC binary frames)")
        return [SampleFrame(p.read_bytes(), True, "") for p in paths]
    raise SamplesError(f"no samples for exchange {exchange!r}")
