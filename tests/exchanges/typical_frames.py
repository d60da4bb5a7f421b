"""Frames shaped like the ones each exchange sends most (book tickers and trades), made up.

Used by the fast-path equivalence tests (``test_decoder_fast_paths.py``) and the speed check
(``test_decoder_speed.py``). Values vary (prices, sizes, ids, times); the layouts are the real
ones (Binance combined stream, Bybit v5, KuCoin classic, MEXC protobuf push frames).
"""

from __future__ import annotations

import json
import random


def dumps(obj: object) -> bytes:
    """Compact JSON, as the exchanges send it."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def varint(value: int) -> bytes:
    """Protobuf's base-128 varint of ``value`` (an int64 as two's complement)."""
    value &= (1 << 64) - 1  # negative int64: ten bytes, as protobuf writes them
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number: int, wire: int, body: bytes | int, padded_length: bool = False) -> bytes:
    """One protobuf field: tag, then the varint (wire 0) or the length and bytes (wire 2)."""
    tag = varint(number << 3 | wire)
    if wire == 0:
        assert isinstance(body, int)
        return tag + varint(body)
    assert isinstance(body, bytes)
    length = varint(len(body))
    if padded_length:  # a non-minimal length varint, which protobuf still accepts
        length = bytes([length[0] | 0x80]) + length[1:] + b"\x00" if len(length) == 1 else length
    return tag + length + body


def typical_frames(exchange: str, rng: random.Random, count: int = 300) -> list[bytes]:
    """``2 * count`` frames of ``exchange``, alternating book ticker and trade(s)."""
    frames: list[bytes] = []
    for n in range(count):
        bid, ask = f"{rng.uniform(0.1, 90_000):.6g}", f"{rng.uniform(0.1, 90_000):.6g}"
        size = f"{rng.uniform(0.01, 5):.6f}"
        ms = 1_753_142_400_000 + n
        if exchange == "binance":
            frames.append(dumps({"stream": "ethusdt@bookTicker", "data": {
                "u": n, "s": "ETHUSDT", "b": bid, "B": size, "a": ask, "A": size}}))  # fmt: skip
            frames.append(dumps({"stream": "ethusdt@trade", "data": {
                "e": "trade", "E": ms, "s": "ETHUSDT", "t": n, "p": bid, "q": size, "T": ms,
                "m": n % 2 == 0, "M": True}}))  # fmt: skip
        elif exchange == "bybit":
            book = {"s": "ETHUSDT", "b": [[bid, size]], "a": [[ask, size]], "u": n}
            frames.append(dumps({"topic": "orderbook.1.ETHUSDT", "ts": ms, "type": "snapshot",
                                 "data": book}))  # fmt: skip
            trade = {"i": str(n), "T": ms, "p": bid, "v": size, "S": "Buy", "s": "ETHUSDT"}
            frames.append(dumps({"topic": "publicTrade.ETHUSDT", "ts": ms, "type": "snapshot",
                                 "data": [trade]}))  # fmt: skip
        elif exchange == "kucoin":
            frames.append(dumps({"topic": "/spotMarket/level1:ETH-USDT", "type": "message",
                "subject": "level1", "data": {"asks": [ask, size], "bids": [bid, size],
                "timestamp": ms}}))  # fmt: skip
            frames.append(dumps({"topic": "/market/match:ETH-USDT", "type": "message",
                "subject": "trade.l3match", "data": {"price": bid, "size": size, "side": "sell",
                "time": f"{ms}000000", "tradeId": str(n), "symbol": "ETH-USDT"}}))  # fmt: skip
        else:
            channel = b"spot@public.aggre.bookTicker.v3.api.pb@100ms@ETHUSDT"
            body = b"".join(
                field(i + 1, 2, t.encode()) for i, t in enumerate([bid, size, ask, size])
            )
            body += field(5, 2, str(n).encode()) + field(6, 0, ms - 3)
            frames.append(field(1, 2, channel) + field(3, 2, b"ETHUSDT") + field(6, 0, ms)
                          + field(315, 2, body))  # fmt: skip
            deal = field(1, 2, bid.encode()) + field(2, 2, size.encode()) + field(3, 0, 1 + n % 2)
            deal += field(4, 0, ms) + (field(5, 2, str(n).encode()) if n % 5 else b"")
            channel = b"spot@public.aggre.deals.v3.api.pb@100ms@ETHUSDT"
            deals = field(1, 2, deal) * (n % 3 if n % 7 else 1)  # mostly 1 deal, also 0 and 2
            frames.append(field(1, 2, channel) + field(3, 2, b"ETHUSDT") + field(6, 0, ms)
                          + field(314, 2, deals + field(2, 2, channel[:-8])))  # fmt: skip
    return frames
