"""Bybit v5 public spot frames and REST bodies (protocols.md section 2).

Spot key order matters and is kept: ``orderbook.1`` frames are
``{"topic","ts","type","data":{"s","b","a","u","seq"},"cts"}`` (``ts`` before ``type``),
``publicTrade`` frames
``{"topic","ts","type","data":[{"i","T","p","v","S","seq","s","BT","RPI"}]}``.
Level 1 is snapshot-only (since 2025-03). Numbers are trimmed decimal strings.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from ticktape.simulator.market import SimQuote, SimTrade, SymbolSpec, fmt_trim
from ticktape.simulator.wire_common import QUOTE, TRADE, StreamRef, cross_seq, symbol_offset

MAX_ARGS_PER_REQUEST = 10


def native(symbol: str) -> str:
    return symbol.replace("-", "")


def stream_name(symbol: str, channel: str) -> str:
    return f"orderbook.1.{native(symbol)}" if channel == QUOTE else f"publicTrade.{native(symbol)}"


def parse_stream(name: str, symbols: Sequence[str]) -> StreamRef | None:
    """``orderbook.1.BTCUSDT`` / ``publicTrade.BTCUSDT``; None for topics we do not serve."""
    by_native = {native(s): s for s in symbols}
    if name.startswith("orderbook.1."):
        sym = name[len("orderbook.1.") :]
        channel = QUOTE
    elif name.startswith("publicTrade."):
        sym = name[len("publicTrade.") :]
        channel = TRADE
    else:
        return None
    if sym not in by_native:
        return None  # Bybit rejects unknown symbols at subscribe time
    return StreamRef(name, channel, by_native[sym])  # type: ignore[arg-type]


def _seq_base(symbol: str) -> int:
    return 100_000_000_000 + symbol_offset(symbol, 1000) * 100_000_000


def orderbook1(q: SimQuote, spec: SymbolSpec, exch_ms: int) -> bytes:
    frame = {
        "topic": stream_name(q.symbol, QUOTE),
        "ts": exch_ms,
        "type": "snapshot",
        "data": {
            "s": native(q.symbol),
            "b": [[fmt_trim(q.bid, spec.price_decimals), fmt_trim(q.bid_size, spec.qty_decimals)]],
            "a": [[fmt_trim(q.ask, spec.price_decimals), fmt_trim(q.ask_size, spec.qty_decimals)]],
            "u": q.k + 1,
            "seq": cross_seq(q.t_s, QUOTE, _seq_base(q.symbol)),
        },
        "cts": exch_ms,
    }
    return orjson.dumps(frame)


def trade_item(t: SimTrade, spec: SymbolSpec, exch_ms: int) -> dict[str, object]:
    return {
        "i": str(2_280_000_000_000_000_000 + symbol_offset(t.symbol, 1000) * 10**12 + t.j),
        "T": exch_ms,
        "p": fmt_trim(t.price, spec.price_decimals),
        "v": fmt_trim(t.size, spec.qty_decimals),
        "S": "Buy" if t.side == "buy" else "Sell",
        "seq": cross_seq(t.t_s, TRADE, _seq_base(t.symbol)),
        "s": native(t.symbol),
        "BT": False,
        "RPI": False,
    }


def public_trade(trades: Sequence[SimTrade], spec: SymbolSpec, exch_ms: int) -> bytes:
    """One ``publicTrade`` message holding ``trades`` (all of one symbol, ascending)."""
    frame = {
        "topic": stream_name(trades[0].symbol, TRADE),
        "ts": exch_ms,
        "type": "snapshot",
        "data": [trade_item(t, spec, exch_ms) for t in trades],
    }
    return orjson.dumps(frame)


def op_reply(
    op: str, conn_id: str, req_id: object, success: bool = True, ret_msg: str = ""
) -> bytes:
    """Spot reply to subscribe/unsubscribe/ping; ``req_id`` appears only if the client sent one."""
    reply: dict[str, object] = {"success": success, "ret_msg": ret_msg, "conn_id": conn_id}
    if req_id is not None:
        reply["req_id"] = req_id
    reply["op"] = op
    return orjson.dumps(reply)


def rest_orderbook(q: SimQuote, spec: SymbolSpec, exch_ms: int, now_ms: int) -> bytes:
    body = {
        "retCode": 0,
        "retMsg": "OK",
        "result": {
            "s": native(q.symbol),
            "a": [[fmt_trim(q.ask, spec.price_decimals), fmt_trim(q.ask_size, spec.qty_decimals)]],
            "b": [[fmt_trim(q.bid, spec.price_decimals), fmt_trim(q.bid_size, spec.qty_decimals)]],
            "ts": exch_ms,
            "u": q.k + 1,
            "seq": cross_seq(q.t_s, QUOTE, _seq_base(q.symbol)),
            "cts": exch_ms,
        },
        "retExtInfo": {},
        "time": now_ms,
    }
    return orjson.dumps(body)


def rest_time(exch_ns: int) -> bytes:
    body = {
        "retCode": 0,
        "retMsg": "OK",
        "result": {"timeSecond": str(exch_ns // 1_000_000_000), "timeNano": str(exch_ns)},
        "retExtInfo": {},
        "time": exch_ns // 1_000_000,
    }
    return orjson.dumps(body)


def rest_error(ret_code: int, ret_msg: str, now_ms: int) -> bytes:
    body = {"retCode": ret_code, "retMsg": ret_msg, "result": {}, "retExtInfo": {}, "time": now_ms}
    return orjson.dumps(body)
