"""Decode raw recording rows into normalized columnar tables, with the replay's own decoders.

``quotes``, ``trades`` and ``issues`` (decoder-reported gaps and decode errors) are built by
running every ``data`` row through :func:`ticktape.exchanges.registry.new_decoder` — the very
function the replay uses — in the replay's merge order ``(recv_ns, exchange, conn_id, seq)``.
That is what makes a SQL answer equal the replay's answer by construction; nothing here parses
a payload itself.

One decoder instance per exchange is created per call, i.e. per recording file, where the
replay keeps one per exchange for the whole run. Only decoder state that spans a file rotation
can differ: today that is Bybit's per-connection level-1 sides, used only by legacy (pre-2025-03)
``orderbook.1`` deltas; snapshots, the other exchanges and all trades decode identically.

With the registry's decoders (the default), a file's rows go through the replay's own window
decoder (:class:`ticktape.replay.decoding.WindowDecoder`): the compiled decoder reads the common
frames straight into columns, the Python decoders the rest, exactly as in a replay, and the
tables are cut from the resulting batch's columns without an event object per row. With a
custom decoder factory (or integers too large for int64 columns) every row goes through the
factory's decoder and the events are transposed into columns. ``bench/analysis.py`` measures
the cold decode. A day is decoded once; queries then read the cache.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Final

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ticktape.analysis.errors import AnalysisError
from ticktape.exchanges.base import Decoder
from ticktape.exchanges.events import DecodeError, Event, Gap, Quote, Trade
from ticktape.schema import KIND_DATA, MERGE_KEY

DecoderFactory = Callable[[str], Decoder]
"""``name -> decoder``; the default is ``ticktape.exchanges.registry.new_decoder``."""

_dict = pa.dictionary(pa.int32(), pa.string())

QUOTES_SCHEMA: Final = pa.schema(
    [
        pa.field("exchange", _dict, nullable=False),
        pa.field("symbol", _dict, nullable=False),
        pa.field("recv_ns", pa.int64(), nullable=False),
        pa.field("exch_ns", pa.int64()),
        pa.field("bid", pa.float64(), nullable=False),
        pa.field("bid_size", pa.float64(), nullable=False),
        pa.field("ask", pa.float64(), nullable=False),
        pa.field("ask_size", pa.float64(), nullable=False),
        pa.field("conn_id", pa.int64(), nullable=False),
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("req_ns", pa.int64()),  # REST: request sent (round trip = recv_ns - req_ns)
    ]
)

TRADES_SCHEMA: Final = pa.schema(
    [
        pa.field("exchange", _dict, nullable=False),
        pa.field("symbol", _dict, nullable=False),
        pa.field("recv_ns", pa.int64(), nullable=False),
        pa.field("exch_ns", pa.int64()),
        pa.field("price", pa.float64(), nullable=False),
        pa.field("size", pa.float64(), nullable=False),
        pa.field("side", _dict, nullable=False),
        pa.field("trade_id", pa.string(), nullable=False),
        pa.field("conn_id", pa.int64(), nullable=False),
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("req_ns", pa.int64()),
    ]
)

ISSUES_SCHEMA: Final = pa.schema(
    [
        pa.field("kind", _dict, nullable=False),  # "gap" | "decode_error"
        pa.field("exchange", _dict, nullable=False),
        pa.field("stream", _dict, nullable=False),
        pa.field("recv_ns", pa.int64(), nullable=False),
        pa.field("conn_id", pa.int64(), nullable=False),
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("detail", pa.string(), nullable=False),
    ]
)

TABLE_SCHEMAS: Final = {"quotes": QUOTES_SCHEMA, "trades": TRADES_SCHEMA, "issues": ISSUES_SCHEMA}

RAW_COLUMNS_FOR_DECODE: Final = (
    "recv_ns",
    "exchange",
    "stream",
    "conn_id",
    "seq",
    "kind",
    "req_ns",
    "payload",
)


@dataclass(frozen=True, slots=True)
class Normalized:
    """The decoded form of some raw rows, each table in merge order."""

    quotes: pa.Table
    trades: pa.Table
    issues: pa.Table

    def table(self, name: str) -> pa.Table:
        return {"quotes": self.quotes, "trades": self.trades, "issues": self.issues}[name]

    @classmethod
    def empty(cls) -> Normalized:
        return cls(
            QUOTES_SCHEMA.empty_table(), TRADES_SCHEMA.empty_table(), ISSUES_SCHEMA.empty_table()
        )


def default_decoder_factory() -> DecoderFactory:
    """The replay's decoder registry; :class:`AnalysisError` if it is not installed."""
    try:
        from ticktape.exchanges.registry import new_decoder
    except ImportError as exc:
        raise AnalysisError(
            f"exchange decoders are unavailable (ticktape.exchanges.registry: {exc})"
        ) from exc
    return new_decoder


def decoder_fingerprint(factory: DecoderFactory | None) -> str:
    """A short id of the decoding code, stored in caches so a decoder change invalidates them.

    For the built-in registry it hashes the source of every module in ``ticktape.exchanges``
    (plus this module); for a custom factory it is the factory's qualified name.
    """
    digest = hashlib.sha256()
    if factory is None or _is_registry(factory):
        package = resources.files("ticktape.exchanges")
        for entry in sorted(package.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".py"):
                digest.update(entry.name.encode())
                digest.update(entry.read_bytes())
    else:
        digest.update(f"{factory.__module__}.{factory.__qualname__}".encode())
    native = resources.files("ticktape._native")
    for entry in sorted(native.iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".pyx", ".pxi")):  # the compiled decoder's sources
            digest.update(entry.name.encode())
            digest.update(entry.read_bytes())
    digest.update(resources.files("ticktape.analysis").joinpath("normalize.py").read_bytes())
    return digest.hexdigest()[:16]


def _is_registry(factory: DecoderFactory) -> bool:
    try:
        from ticktape.exchanges.registry import new_decoder
    except ImportError:
        return False
    return factory is new_decoder


def _data_rows_in_merge_order(raw: pa.Table) -> pa.Table:
    kind = raw.column("kind")
    if pa.types.is_dictionary(kind.type):
        kind = kind.cast(pa.string())
    data = raw.filter(pc.equal(kind, KIND_DATA))
    if data.num_rows == 0:
        return data
    keys = [(name, "ascending") for name in MERGE_KEY]
    order = pc.sort_indices(
        pa.table({name: _plain(data.column(name)) for name in MERGE_KEY}), sort_keys=keys
    )
    return data.take(order)


def _plain(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Dictionary columns sort by index, not value; decode them so the order is by value."""
    return column.cast(pa.string()) if pa.types.is_dictionary(column.type) else column


def normalize(raw: pa.Table, factory: DecoderFactory | None = None) -> Normalized:
    """Decode the ``data`` rows of ``raw`` (schema v1) into quotes, trades and issues.

    Never raises for bad payloads: decoders report them as ``DecodeError`` events, which land in
    ``issues``. Rows of an exchange without a decoder each become a ``decode_error`` issue, as in
    the replay. Seq gaps are not reported here (the replay's driver finds them; the ``gaps`` view
    finds the same ones in SQL).
    """
    rows = _data_rows_in_merge_order(raw)
    if rows.num_rows == 0:
        return Normalized.empty()
    if factory is None or _is_registry(factory):
        batched = _normalize_batched(rows)
        if batched is not None:
            return batched
    new_decoder = factory or default_decoder_factory()
    decoders: dict[str, Decoder] = {}
    quotes: list[Quote] = []
    trades: list[Trade] = []
    issues: list[tuple[str, str, str, int, int, int, str]] = []
    add_quote, add_trade = quotes.append, trades.append
    columns = [rows.column(n).to_pylist() for n in ("payload", "recv_ns", "exchange")]
    columns += [rows.column(n).to_pylist() for n in ("conn_id", "seq", "stream", "req_ns")]
    for payload, recv_ns, exchange, conn_id, seq, stream, req_ns in zip(*columns, strict=True):
        decode = decoders.get(exchange)
        if decode is None:
            decode = decoders[exchange] = _new_decoder(new_decoder, exchange)
        try:
            events = decode(payload, recv_ns, conn_id, seq, stream)
        except Exception as exc:  # the contract says never; keep going if one does
            issues.append(
                ("decode_error", exchange, stream, recv_ns, conn_id, seq, f"decoder raised {exc!r}")
            )
            continue
        if req_ns is not None:  # REST response: carry the request time, as the replay does
            events = [_with_req_ns(e, req_ns) for e in events]
        for event in events:
            kind = type(event)
            if kind is Quote:
                add_quote(event)  # type: ignore[arg-type]
            elif kind is Trade:
                add_trade(event)  # type: ignore[arg-type]
            elif kind is Gap or kind is DecodeError:
                issues.append(_issue(event))  # type: ignore[arg-type]
    return Normalized(_quotes_table(quotes), _trades_table(trades), _issues_table(issues))


def _normalize_batched(rows: pa.Table) -> Normalized | None:
    """The registry's decoders through the replay's window decoder (see the module docstring);
    None when the batch's integer columns cannot hold the values (the caller then decodes
    event by event)."""
    from ticktape.exchanges.registry import new_decoder
    from ticktape.replay.decoding import WindowDecoder, failing_decoder
    from ticktape.replay.merge import NO_REQ, Columns, Routes, payload_locations
    from ticktape.strategies.batch import QUOTE, TRADE, SymbolCodes, fits

    routes = Routes()
    payload = rows.column("payload").combine_chunks()
    addr, size = payload_locations(payload)
    columns = Columns(
        recv=rows.column("recv_ns").to_numpy(),
        conn=rows.column("conn_id").to_numpy(),
        seq=rows.column("seq").to_numpy(),
        route=routes.route_ids(rows),
        req=pc.fill_null(rows.column("req_ns"), NO_REQ).to_numpy(),
        binary=np.zeros(rows.num_rows, dtype=bool),
        addr=addr,
        size=size,
        keep=(payload,),
    )
    if not (fits(columns.recv) and fits(columns.conn) and fits(columns.seq)):
        return None
    decoders: dict[str, Decoder] = {}

    def decoder_for(exchange: str) -> Decoder:
        if exchange not in decoders:
            try:
                decoders[exchange] = new_decoder(exchange)
            except Exception as exc:
                message = f"no decoder for exchange {exchange!r}: {exc}"
                decoders[exchange] = failing_decoder(exchange, message)
        return decoders[exchange]

    codes = SymbolCodes()
    window = WindowDecoder(routes, decoder_for, native=True, codes=codes)
    batch = window.decode(columns).batch(window.exchanges, window.route_exchange, codes)
    if not batch.exact:
        return None
    exchanges = pa.array(window.exchanges, pa.string())
    symbols = pa.array(batch.symbols, pa.string())

    def table(kind: int, schema: pa.Schema, values: dict[str, object]) -> pa.Table:
        at = np.flatnonzero(batch.kind == kind)
        base = {
            "exchange": pa.DictionaryArray.from_arrays(batch.exchange[at], exchanges),
            "symbol": pa.DictionaryArray.from_arrays(batch.symbol[at], symbols),
            "recv_ns": batch.recv_ns[at],
            "exch_ns": pa.array(batch.exch_ns[at], mask=~batch.has_exch_ns[at]),
            "conn_id": batch.conn_id[at],
            "seq": batch.seq[at],
            "req_ns": pa.array(batch.req_ns[at], mask=~batch.has_req_ns[at]),
        }
        picked = {name: (v(at) if callable(v) else v) for name, v in values.items()}
        return pa.table({name: {**base, **picked}[name] for name in schema.names}, schema=schema)

    events = batch.events
    quotes = table(QUOTE, QUOTES_SCHEMA, {
        "bid": lambda at: batch.bid[at], "bid_size": lambda at: batch.bid_size[at],
        "ask": lambda at: batch.ask[at], "ask_size": lambda at: batch.ask_size[at],
    })  # fmt: skip
    sides = pa.array(["buy", "sell"], pa.string())
    trades = table(TRADE, TRADES_SCHEMA, {
        "price": lambda at: batch.bid[at], "size": lambda at: batch.bid_size[at],
        "side": lambda at: pa.DictionaryArray.from_arrays(batch.side[at].astype(np.int32), sides),
        "trade_id": lambda at: _trade_ids(events, at),
    })  # fmt: skip
    issues = [
        _issue(e)  # type: ignore[arg-type]
        for e in (events[k] for k in np.flatnonzero(batch.kind > TRADE).tolist())
        if type(e) is Gap or type(e) is DecodeError
    ]
    return Normalized(quotes, trades, _issues_table(issues))


def _trade_ids(events: Sequence[Event], at: np.ndarray) -> list[str]:
    trade_ids = getattr(events, "trade_ids", None)  # the replay's lazy events: no objects
    if trade_ids is not None:
        return trade_ids(at)  # type: ignore[no-any-return]
    return [events[k].trade_id for k in at.tolist()]  # type: ignore[union-attr]


def _with_req_ns(event: Event, req_ns: int) -> Event:
    if isinstance(event, Quote | Trade) and event.req_ns is None:
        return msgspec.structs.replace(event, req_ns=req_ns)
    return event


def _issue(event: Gap | DecodeError) -> tuple[str, str, str, int, int, int, str]:
    if isinstance(event, Gap):
        return (
            "gap",
            event.exchange,
            event.stream,
            event.recv_ns,
            event.conn_id,
            event.seq,
            event.detail,
        )
    return (
        "decode_error",
        event.exchange,
        event.stream,
        event.recv_ns,
        event.conn_id,
        event.seq,
        event.error,
    )


def _new_decoder(factory: DecoderFactory, exchange: str) -> Decoder:
    """The exchange's decoder, or (as in the replay) one that turns every row into a DecodeError."""
    try:
        return factory(exchange)
    except Exception as exc:
        error = f"no decoder for exchange {exchange!r}: {exc}"

        def failing(
            payload: bytes, recv_ns: int, conn_id: int, seq: int, stream: str
        ) -> list[Event]:
            return [DecodeError(exchange, recv_ns, conn_id, seq, stream, error)]

        return failing


def _quotes_table(quotes: list[Quote]) -> pa.Table:
    return pa.table(
        {
            "exchange": [q.exchange for q in quotes],
            "symbol": [q.symbol for q in quotes],
            "recv_ns": [q.recv_ns for q in quotes],
            "exch_ns": [q.exch_ns for q in quotes],
            "bid": [q.bid for q in quotes],
            "bid_size": [q.bid_size for q in quotes],
            "ask": [q.ask for q in quotes],
            "ask_size": [q.ask_size for q in quotes],
            "conn_id": [q.conn_id for q in quotes],
            "seq": [q.seq for q in quotes],
            "req_ns": [q.req_ns for q in quotes],
        },
        schema=QUOTES_SCHEMA,
    )


def _trades_table(trades: list[Trade]) -> pa.Table:
    return pa.table(
        {
            "exchange": [t.exchange for t in trades],
            "symbol": [t.symbol for t in trades],
            "recv_ns": [t.recv_ns for t in trades],
            "exch_ns": [t.exch_ns for t in trades],
            "price": [t.price for t in trades],
            "size": [t.size for t in trades],
            "side": [t.side for t in trades],
            "trade_id": [t.trade_id for t in trades],
            "conn_id": [t.conn_id for t in trades],
            "seq": [t.seq for t in trades],
            "req_ns": [t.req_ns for t in trades],
        },
        schema=TRADES_SCHEMA,
    )


def _issues_table(issues: list[tuple[str, str, str, int, int, int, str]]) -> pa.Table:
    names = ISSUES_SCHEMA.names
    columns = list(zip(*issues, strict=True)) if issues else [() for _ in names]
    return pa.table(
        {name: list(col) for name, col in zip(names, columns, strict=True)}, schema=ISSUES_SCHEMA
    )
