"""RowBuffer: the hot-path append buffer → RECORD_SCHEMA batches."""

from __future__ import annotations

import os

import pyarrow as pa
import pytest

from ticktape.recorder.buffer import RowBuffer, RowBufferError
from ticktape.schema import RECORD_SCHEMA, check_schema

ROWS = [
    (1_700_000_000_000_000_000, "btcusdt@bookTicker", 1, 0, "data", None, False, b'{"u":1}'),
    (1_700_000_000_000_000_500, "btcusdt@bookTicker", 1, 1, "data", None, False, b""),
    (1_700_000_000_000_001_000, "GET /api/v3/depth", 2, 0, "data", 1_699_999_999_999_000_000,
     False, b"\x00\xff\x80binary\x00"),
    (1_700_000_000_000_002_000, "spot@public.deals", 3, 7, "data", None, True, os.urandom(300)),
    (1_700_000_000_000_003_000, "", 3, 8, "close", None, False, "bye ✓".encode()),
]  # fmt: skip


def test_round_trip_preserves_every_value_and_order() -> None:
    buffer = RowBuffer("binance")
    for row in ROWS:
        buffer.append(*row)
    assert len(buffer) == len(ROWS)

    batch = buffer.take()

    assert batch is not None
    assert batch.schema.equals(RECORD_SCHEMA)
    check_schema(batch.schema, "buffer")
    batch.validate(full=True)
    got = batch.to_pylist()
    names = [n for n in RECORD_SCHEMA.names if n != "exchange"]
    assert [tuple(r[n] for n in names) for r in got] == ROWS
    assert {r["exchange"] for r in got} == {"binance"}
    for name in ("exchange", "stream", "kind"):
        assert pa.types.is_dictionary(batch.schema.field(name).type)


def test_take_empties_the_buffer_and_returns_none_when_empty() -> None:
    buffer = RowBuffer("bybit")
    assert buffer.take() is None
    buffer.append(*ROWS[0])
    assert buffer.take() is not None
    assert len(buffer) == 0
    assert buffer.nbytes == 0
    assert buffer.take() is None
    buffer.append(*ROWS[1])
    second = buffer.take()
    assert second is not None and second.num_rows == 1
    assert second.column("seq").to_pylist() == [1]


def test_nbytes_counts_payload_bytes_incrementally() -> None:
    buffer = RowBuffer("mexc")
    total = 0
    for row in ROWS:
        buffer.append(*row)
        total += len(row[-1])
        assert buffer.nbytes == total
    buffer.append(*ROWS[0])
    buffer.append(*ROWS[3])
    assert buffer.nbytes == total + len(ROWS[0][-1]) + len(ROWS[3][-1])


def test_bad_value_names_column_and_row_and_keeps_rows() -> None:
    buffer = RowBuffer("kucoin")
    buffer.append(*ROWS[0])
    buffer.append(1, "s", 1, 1, "data", None, False, 12345)  # type: ignore[arg-type]
    with pytest.raises(RowBufferError, match=r"'payload'.*row 1.*int"):
        buffer.take()
    assert len(buffer) == 2
    buffer.clear()
    assert buffer.take() is None


def test_str_payload_is_stored_as_its_utf8_bytes() -> None:
    buffer = RowBuffer("bybit")
    buffer.append(1, "s", 1, 0, "data", None, False, '{"p":"é€"}')  # type: ignore[arg-type]
    batch = buffer.take()
    assert batch is not None
    assert batch.column("payload").to_pylist() == ['{"p":"é€"}'.encode()]


def test_none_in_a_required_column_is_rejected() -> None:
    buffer = RowBuffer("kucoin")
    buffer.append(1, None, 1, 0, "data", None, False, b"x")  # type: ignore[arg-type]
    with pytest.raises(RowBufferError, match=r"'stream'.*row 0"):
        buffer.take()


def test_empty_exchange_name_is_rejected() -> None:
    with pytest.raises(RowBufferError):
        RowBuffer("")
