"""The send log: every byte the simulator put on the wire, in send order.

This is the ground truth a recorder test compares its files against byte for byte. An entry is
appended right after its payload was handed to the transport without error, with the exact
``bytes`` object that was passed (never re-encoded), so for each connection the ``text`` and
``binary`` entries are exactly the data frames a client can receive, in order. Caveat: an abrupt
TCP abort discards whatever the kernel had not yet sent, so after ``drop(abrupt=True)`` the
client may have received only a prefix.

Kinds: ``text`` / ``binary`` (WebSocket data frames), ``ping`` (protocol-level ping frames,
Binance only) and ``rest`` (an HTTP response body; ``status`` holds the HTTP status).
``conn_id`` is the simulator's own connection id (unique across exchanges, from 1); REST
responses get a fresh id per request. ``stream`` is the data frame's stream name, ``control``
for replies (acks, pongs, welcome, errors), ``malformed`` for injected garbage, or for REST
``"<METHOD> <path?query>"`` as requested.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

SentKind = Literal["text", "binary", "ping", "rest"]
CONTROL_STREAM = "control"
MALFORMED_STREAM = "malformed"


@dataclass(frozen=True, slots=True)
class SentFrame:
    """One frame or response body the simulator sent."""

    exchange: str
    conn_id: int
    send_ns: int  # time.time_ns() taken just before the payload was built and sent
    kind: SentKind
    payload: bytes
    stream: str
    status: int | None = None  # HTTP status, REST only


SENT_LOG_SCHEMA = pa.schema(
    [
        pa.field("exchange", pa.string(), nullable=False),
        pa.field("conn_id", pa.int64(), nullable=False),
        pa.field("send_ns", pa.int64(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("stream", pa.string(), nullable=False),
        pa.field("status", pa.int32(), nullable=True),
        pa.field("payload", pa.binary(), nullable=False),
    ]
)


class SentLog:
    """Append-only, in-memory list of :class:`SentFrame` with dump helpers."""

    def __init__(self, enabled: bool = True) -> None:
        self._frames: list[SentFrame] = []
        self.enabled = enabled

    def append(self, frame: SentFrame) -> None:
        if self.enabled:
            self._frames.append(frame)

    def __len__(self) -> int:
        return len(self._frames)

    def __iter__(self) -> Iterator[SentFrame]:
        return iter(self._frames)

    def __getitem__(self, index: int) -> SentFrame:
        return self._frames[index]

    @property
    def frames(self) -> list[SentFrame]:
        """A snapshot copy of the log (safe to keep while the simulator runs)."""
        return list(self._frames)

    def filter(
        self,
        exchange: str | None = None,
        conn_id: int | None = None,
        kinds: tuple[SentKind, ...] | None = None,
        stream: str | None = None,
    ) -> list[SentFrame]:
        return [
            f
            for f in self._frames
            if (exchange is None or f.exchange == exchange)
            and (conn_id is None or f.conn_id == conn_id)
            and (kinds is None or f.kind in kinds)
            and (stream is None or f.stream == stream)
        ]

    def to_table(self) -> pa.Table:
        frames = self._frames
        return pa.table(
            {
                "exchange": [f.exchange for f in frames],
                "conn_id": [f.conn_id for f in frames],
                "send_ns": [f.send_ns for f in frames],
                "kind": [f.kind for f in frames],
                "stream": [f.stream for f in frames],
                "status": [f.status for f in frames],
                "payload": [f.payload for f in frames],
            },
            schema=SENT_LOG_SCHEMA,
        )

    def dump(self, path: str | Path) -> Path:
        """Write the log to ``path``: Parquet if it ends in ``.parquet``, else JSON lines.

        JSONL rows carry ``payload_b64`` (exact bytes) and, for text frames and REST bodies,
        ``text`` for reading by eye.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".parquet":
            pq.write_table(self.to_table(), path, compression="zstd")
            return path
        with path.open("wb") as out:
            for f in self._frames:
                row: dict[str, object] = {
                    "exchange": f.exchange,
                    "conn_id": f.conn_id,
                    "send_ns": f.send_ns,
                    "kind": f.kind,
                    "stream": f.stream,
                    "status": f.status,
                    "payload_b64": base64.b64encode(f.payload).decode(),
                }
                if f.kind in ("text", "rest"):
                    row["text"] = f.payload.decode("utf-8", errors="replace")
                out.write(orjson.dumps(row) + b"\n")
        return path


def load_jsonl(path: str | Path) -> list[SentFrame]:
    """Read a log written by :meth:`SentLog.dump` as JSON lines back into frames."""
    frames = []
    for line in Path(path).read_bytes().splitlines():
        row = orjson.loads(line)
        frames.append(
            SentFrame(
                exchange=row["exchange"],
                conn_id=row["conn_id"],
                send_ns=row["send_ns"],
                kind=row["kind"],
                payload=base64.b64decode(row["payload_b64"]),
                stream=row["stream"],
                status=row["status"],
            )
        )
    return frames
