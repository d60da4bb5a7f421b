"""Recording schema v1: the one contract between the recorder, replay and analysis.

One row per thing that crossed the wire or happened to a connection. Payloads are the exact bytes
received (text frames as their UTF-8 bytes, binary frames as bytes); nothing is ever re-serialized.
See ``ARCHITECTURE.md`` ("The recording") for the meaning of each column.

File layout (also a contract): ``<root>/YYYY-MM-DD/<start>-<exchange>-<part>.arrow`` while a segment
is being written (Arrow IPC stream, readable up to its last flush), ``.parquet`` once rotated. The
``<start>`` stamp is ``YYYYMMDDTHHMMSS.ffffffZ`` (UTC) so names sort in time order.
"""

from __future__ import annotations

import re
from typing import Final

import pyarrow as pa

SCHEMA_VERSION: Final = 1

# Row kinds. ``data`` rows are what the exchange sent; the others describe the connection.
KIND_DATA: Final = "data"  # a frame or a REST response body
KIND_SENT: Final = "sent"  # a frame or request we sent (subscribe, ping, ...)
KIND_OPEN: Final = "open"  # connection established; payload = URL (UTF-8)
KIND_CLOSE: Final = "close"  # connection closed; payload = reason (UTF-8)
KIND_ERROR: Final = "error"  # connect/read error, HTTP error status; payload = description
KIND_CLOCK: Final = "clock"  # clock probe; payload = JSON {"wall_ns":..,"mono_ns":..}
KIND_PING: Final = "ping"  # WebSocket protocol ping frame received; payload = its data
KIND_PONG: Final = "pong"  # WebSocket protocol pong frame received; payload = its data
KINDS: Final = (
    KIND_DATA, KIND_SENT, KIND_OPEN, KIND_CLOSE, KIND_ERROR, KIND_CLOCK, KIND_PING, KIND_PONG
)  # fmt: skip

_dict_str = pa.dictionary(pa.int32(), pa.string())

RECORD_SCHEMA: Final = pa.schema(
    [
        pa.field("recv_ns", pa.int64(), nullable=False),
        pa.field("exchange", _dict_str, nullable=False),
        pa.field("stream", _dict_str, nullable=False),
        pa.field("conn_id", pa.int64(), nullable=False),
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("kind", _dict_str, nullable=False),
        pa.field("req_ns", pa.int64(), nullable=True),
        pa.field("binary", pa.bool_(), nullable=False),
        pa.field("payload", pa.binary(), nullable=False),
    ]
)

COLUMNS: Final = tuple(RECORD_SCHEMA.names)

# The total replay order: depends only on the data, never on file names or batch sizes.
MERGE_KEY: Final = ("recv_ns", "exchange", "conn_id", "seq")

# Keys of the file-level metadata (Arrow schema metadata / Parquet key-value metadata).
META_SCHEMA_VERSION: Final = b"ticktape.schema_version"
META_RECORDER_VERSION: Final = b"ticktape.recorder_version"
META_HOST: Final = b"ticktape.host"
META_CONFIG: Final = b"ticktape.config"  # JSON
META_SYMBOLS: Final = b"ticktape.symbols"  # JSON list of canonical symbols
META_EXCHANGE: Final = b"ticktape.exchange"

SEGMENT_SUFFIX: Final = ".arrow"
PARQUET_SUFFIX: Final = ".parquet"
DAY_DIR_RE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FILE_NAME_RE: Final = re.compile(
    r"^(?P<start>\d{8}T\d{6}\.\d{6}Z)-(?P<exchange>[a-z0-9]+)-(?P<part>\d{4,})"
    r"(?P<suffix>\.arrow|\.parquet)$"
)


class SchemaError(ValueError):
    """A file is not a ticktape schema-v1 recording (missing or mistyped columns)."""


def check_schema(schema: pa.Schema, where: str) -> None:
    """Raise :class:`SchemaError` naming ``where`` unless ``schema`` has every v1 column.

    Dictionary-encoded and plain string columns are both accepted (Parquet readers may return
    either), as are extra columns (forward compatibility).
    """
    for field in RECORD_SCHEMA:
        if field.name not in schema.names:
            raise SchemaError(f"{where}: not a ticktape recording (no column {field.name!r})")
        got = schema.field(field.name).type
        want = field.type
        if pa.types.is_dictionary(want):
            value_type = got.value_type if pa.types.is_dictionary(got) else got
            ok = pa.types.is_string(value_type) or pa.types.is_large_string(value_type)
        elif pa.types.is_binary(want):
            ok = pa.types.is_binary(got) or pa.types.is_large_binary(got)
        else:
            ok = got == want
        if not ok:
            raise SchemaError(
                f"{where}: column {field.name!r} has type {got}, expected {want} (schema v1)"
            )
