"""Fixtures for the analysis tests: generated recordings and the decoder factory.

The decoders are the replay's (``ticktape.exchanges.registry.new_decoder``) whenever that module
exists; before it landed, a small stand-in that reads exactly the formats of
``ticktape.analysis.synthetic`` is used so the analysis layer could be built in parallel.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ticktape.analysis import synthetic
from ticktape.exchanges.events import DecodeError, Event, Quote, Trade

DAY_START_NS = 1_753_142_400_000_000_000  # 2025-07-22T00:00:00Z


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def _fields(buf: bytes) -> list[tuple[int, int | bytes]]:
    out: list[tuple[int, int | bytes]] = []
    i = 0
    while i < len(buf):
        tag, i = _varint(buf, i)
        if tag & 7 == 0:
            value, i = _varint(buf, i)
            out.append((tag >> 3, value))
        else:
            size, i = _varint(buf, i)
            out.append((tag >> 3, buf[i : i + size]))
            i += size
    return out


def _canon(native: str) -> str:
    return native[:-4] + "-USDT" if native.endswith("USDT") else native


def fake_new_decoder(name: str) -> Callable[[bytes, int, int, int, str], list[Event]]:
    """Decodes the synthetic formats only (stand-in until the exchange modules land)."""

    def decode(payload: bytes, recv_ns: int, conn_id: int, seq: int, stream: str) -> list[Event]:
        try:
            return _decode(payload, recv_ns, conn_id, seq)
        except Exception as exc:
            return [DecodeError(name, recv_ns, conn_id, seq, stream, repr(exc))]

    def _decode(payload: bytes, recv_ns: int, conn_id: int, seq: int) -> list[Event]:
        if name == "mexc":
            if payload[:1] == b"{":
                return []
            wrapper = dict(_fields(payload))
            symbol = _canon(wrapper[3].decode())  # type: ignore[union-attr]
            exch_ns = int(wrapper[6]) * 1_000_000  # type: ignore[arg-type]
            if 315 in wrapper:
                body = {k: v.decode() for k, v in _fields(wrapper[315])}  # type: ignore[union-attr,arg-type]
                return [
                    Quote(
                        name,
                        symbol,
                        recv_ns,
                        exch_ns,
                        conn_id,
                        seq,
                        float(body[1]),
                        float(body[2]),
                        float(body[3]),
                        float(body[4]),
                    )
                ]
            trades: list[Event] = []
            for field, item in _fields(wrapper[314]):  # type: ignore[arg-type]
                if field == 1:
                    deal = dict(_fields(item))  # type: ignore[arg-type]
                    trades.append(
                        Trade(
                            name,
                            symbol,
                            recv_ns,
                            int(deal[4]) * 1_000_000,
                            conn_id,
                            seq,
                            float(deal[1]),
                            float(deal[2]),  # type: ignore[arg-type]
                            "buy" if deal[3] == 1 else "sell",
                            "",
                        )
                    )
            return trades
        msg = json.loads(payload)
        if name == "binance":
            if "b" in msg and "u" in msg:
                return [
                    Quote(
                        name,
                        _canon(msg["s"]),
                        recv_ns,
                        None,
                        conn_id,
                        seq,
                        float(msg["b"]),
                        float(msg["B"]),
                        float(msg["a"]),
                        float(msg["A"]),
                    )
                ]
            if msg.get("e") == "trade":
                side = "sell" if msg["m"] else "buy"
                return [
                    Trade(
                        name,
                        _canon(msg["s"]),
                        recv_ns,
                        msg["T"] * 1_000_000,
                        conn_id,
                        seq,
                        float(msg["p"]),
                        float(msg["q"]),
                        side,
                        str(msg["t"]),
                    )
                ]
            return []
        if name == "bybit":
            topic = msg.get("topic", "")
            if topic.startswith("orderbook.1."):
                d = msg["data"]
                return [
                    Quote(
                        name,
                        _canon(d["s"]),
                        recv_ns,
                        msg["ts"] * 1_000_000,
                        conn_id,
                        seq,
                        float(d["b"][0][0]),
                        float(d["b"][0][1]),
                        float(d["a"][0][0]),
                        float(d["a"][0][1]),
                    )
                ]
            if topic.startswith("publicTrade."):
                return [
                    Trade(
                        name,
                        _canon(t["s"]),
                        recv_ns,
                        t["T"] * 1_000_000,
                        conn_id,
                        seq,
                        float(t["p"]),
                        float(t["v"]),
                        t["S"].lower(),
                        t["i"],
                    )
                    for t in msg["data"]
                ]
            return []
        if name == "kucoin":
            if msg.get("subject") == "level1":
                d, symbol = msg["data"], msg["topic"].split(":")[1]
                return [
                    Quote(
                        name,
                        symbol,
                        recv_ns,
                        d["timestamp"] * 1_000_000,
                        conn_id,
                        seq,
                        float(d["bids"][0]),
                        float(d["bids"][1]),
                        float(d["asks"][0]),
                        float(d["asks"][1]),
                    )
                ]
            if msg.get("subject") == "trade.l3match":
                d = msg["data"]
                return [
                    Trade(
                        name,
                        d["symbol"],
                        recv_ns,
                        int(d["time"]),
                        conn_id,
                        seq,
                        float(d["price"]),
                        float(d["size"]),
                        d["side"],
                        d["tradeId"],
                    )
                ]
            return []
        raise KeyError(name)

    if name not in synthetic.EXCHANGES:
        raise KeyError(name)
    return decode


def _registry_factory() -> Callable[[str], Callable[..., list[Event]]] | None:
    try:
        from ticktape.exchanges.registry import new_decoder
    except ImportError:
        return None
    return new_decoder


@pytest.fixture(scope="session")
def decoder_factory() -> Callable[[str], Callable[..., list[Event]]]:
    """The replay's decoder registry, or the stand-in before it exists."""
    return _registry_factory() or fake_new_decoder


@pytest.fixture
def uses_registry(decoder_factory: object) -> bool:
    return decoder_factory is not fake_new_decoder


@pytest.fixture
def day_root(tmp_path: Path) -> Path:
    """A data folder with one generated day (all four exchanges, a reconnect each)."""
    root = tmp_path / "data"
    synthetic.write_day(root, DAY_START_NS, messages=120)
    return root
