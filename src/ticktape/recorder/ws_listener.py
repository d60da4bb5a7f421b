"""The per-frame side of a WebSocket connection: picows listeners that turn frames into rows.

:class:`WsListener` holds one connection's :class:`~ticktape.recorder.rows.ConnBuffer`. picows
calls ``on_ws_frame`` from the event loop's read callback for every frame; for a complete text
or binary frame it takes ``recv_ns`` first (``clock.anchor_ns + clock.mono()``) and appends
``recv_ns``, the payload bytes untouched (text frames as their UTF-8 bytes) and the binary flag
from the opcode; ``seq`` is the row's position in the buffer. Everything else is the slow path:

- protocol ping: a ``ping`` row, answered at once with a pong carrying the same payload (a
  ``sent`` row, stream ``"pong"``); protocol pong: a ``pong`` row;
- close frame: remembered as the close reason ("remote closed 1001 maintenance"), answered
  with the same code (a ``sent`` row, stream ``"close"``, payload = the 2-byte code);
- fragments: reassembled into one data row stamped at the last fragment.

Three variants, picked per connection by :class:`~ticktape.recorder.ws_connection.WsConnection`:
:func:`fast_listener_type` (the common case: state in closure cells, nothing checked per frame),
:class:`WsListener` (also checks for the KuCoin welcome frame), :class:`HookedWsListener`
(every data row also goes to the live hook).
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

import picows
from picows import WSCloseCode, WSMsgType

from ticktape import schema
from ticktape.recorder.clock import Clock
from ticktape.recorder.rows import STREAM_CLOSE, STREAM_PONG, ConnBuffer

_TEXT: Final = WSMsgType.TEXT
_BINARY: Final = WSMsgType.BINARY
_CONT: Final = WSMsgType.CONTINUATION
_PING: Final = WSMsgType.PING
_PONG: Final = WSMsgType.PONG
_CLOSE: Final = WSMsgType.CLOSE
_DATA: Final = schema.KIND_DATA


class WsListener(picows.WSListener):
    """Rows of one WebSocket connection; ``on_ws_frame`` is the recorder's hot path."""

    def __init__(self, buffer: ConnBuffer, clock: Clock, url: str, welcome: Any = None) -> None:
        super().__init__()
        self.buffer = buffer
        self.recv_append = buffer.recv.append
        self.payload_append = buffer.payload.append
        self.binary_append = buffer.binary.append
        self.anchor_ns = clock.anchor_ns
        self.mono = clock.mono
        self.url = url
        self.transport: picows.WSTransport | None = None
        self.close_reason: str | None = None
        self.welcome = welcome  # callable(payload) -> bool while waiting for it, else None
        self.welcomed = asyncio.get_running_loop().create_future()
        self._frag: list[bytes] | None = None
        self._frag_binary = False

    # -- per frame (the fast variant is made by fast_listener_type) --------------------------
    def on_ws_frame(self, transport: picows.WSTransport, frame: picows.WSFrame) -> None:
        recv_ns = self.anchor_ns + self.mono()
        msg_type = frame.msg_type
        if msg_type is _TEXT:
            if frame.fin:
                payload = frame.get_payload_as_bytes()
                self.recv_append(recv_ns)
                self.payload_append(payload)
                self.binary_append(False)
                if self.welcome is not None:
                    self._check_welcome(payload)
                return
        elif msg_type is _BINARY and frame.fin:
            self.recv_append(recv_ns)
            self.payload_append(frame.get_payload_as_bytes())
            self.binary_append(True)
            return
        self._slow_frame(transport, frame, msg_type, recv_ns)

    # -- slow path --------------------------------------------------------------------------
    def add(
        self, kind: str, payload: bytes, stream: str | None = None, recv_ns: int | None = None
    ) -> None:
        """Append a non-data row (open, sent, ping, pong, error, close)."""
        self.buffer.add(kind, payload, stream=stream, recv_ns=recv_ns)

    def send_text(self, message: bytes) -> None:
        """Send one text frame and record it as a ``sent`` row."""
        assert self.transport is not None
        self.transport.send(_TEXT, message)
        self.add(schema.KIND_SENT, message)

    def close_locally(self, reason: str, code: WSCloseCode = WSCloseCode.OK) -> None:
        """Start the close handshake; frames still in flight are recorded until the reply."""
        if self.close_reason is None:
            self.close_reason = reason
        transport = self.transport
        if transport is not None and not transport.is_close_frame_sent:
            transport.send_close(code)
            self.add(schema.KIND_SENT, code.value.to_bytes(2, "big"), STREAM_CLOSE)

    def on_ws_connected(self, transport: picows.WSTransport) -> None:
        self.transport = transport
        self.add(schema.KIND_OPEN, self.url.encode())

    def _check_welcome(self, payload: bytes) -> None:
        if self.welcome(payload) and not self.welcomed.done():
            self.welcome = None
            self.welcomed.set_result(True)

    def _data(self, recv_ns: int, payload: bytes, binary: bool) -> None:
        """A data row from the slow path (reassembled fragments)."""
        self.recv_append(recv_ns)
        self.payload_append(payload)
        self.binary_append(binary)

    def _slow_frame(
        self, transport: picows.WSTransport, frame: picows.WSFrame, msg_type: Any, recv_ns: int
    ) -> None:
        if msg_type is _PING:
            payload = frame.get_payload_as_bytes()
            self.add(schema.KIND_PING, payload, recv_ns=recv_ns)
            if not transport.is_close_frame_sent:
                transport.send_pong(payload)
                self.add(schema.KIND_SENT, payload, STREAM_PONG)
        elif msg_type is _PONG:
            self.add(schema.KIND_PONG, frame.get_payload_as_bytes(), recv_ns=recv_ns)
        elif msg_type is _CLOSE:
            code = frame.get_close_code()
            if self.close_reason is None:
                reason = frame.get_close_reason()
                self.close_reason = f"remote closed {code.value} {reason}".rstrip()
                reply = code if code is not WSCloseCode.NO_INFO else WSCloseCode.OK
                transport.send_close(reply)
                self.add(schema.KIND_SENT, reply.value.to_bytes(2, "big"), STREAM_CLOSE)
            transport.disconnect()
        elif msg_type is _TEXT or msg_type is _BINARY:  # the first fragment of a message
            if self._frag is not None:
                self.add(schema.KIND_ERROR, b"new data frame before the last fragment")
            self._frag = [frame.get_payload_as_bytes()]
            self._frag_binary = msg_type is _BINARY
        elif msg_type is _CONT:
            if self._frag is None:
                self.add(schema.KIND_ERROR, b"continuation frame without a message start")
                return
            self._frag.append(frame.get_payload_as_bytes())
            if frame.fin:
                self._finish_fragments(recv_ns)

    def _finish_fragments(self, recv_ns: int) -> None:
        """A fragmented message is complete: one data row, stamped at its last fragment."""
        assert self._frag is not None
        payload = b"".join(self._frag)
        self._frag = None
        self._data(recv_ns, payload, self._frag_binary)
        if self.welcome is not None and not self._frag_binary:
            self._check_welcome(payload)


class HookedWsListener(WsListener):
    """The listener when a live hook watches every row: data rows go through ``buffer.add``,
    which calls the hook. Only used with ``record --strategy``; the plain listener pays nothing.
    """

    def on_ws_frame(self, transport: picows.WSTransport, frame: picows.WSFrame) -> None:
        recv_ns = self.anchor_ns + self.mono()
        msg_type = frame.msg_type
        if (msg_type is _TEXT or msg_type is _BINARY) and frame.fin:
            payload = frame.get_payload_as_bytes()
            binary = msg_type is _BINARY
            self._data(recv_ns, payload, binary)
            if self.welcome is not None and not binary:
                self._check_welcome(payload)
            return
        self._slow_frame(transport, frame, msg_type, recv_ns)

    def _data(self, recv_ns: int, payload: bytes, binary: bool) -> None:
        self.buffer.add(_DATA, payload, binary=binary, recv_ns=recv_ns)


def fast_listener_type(buffer: ConnBuffer, clock: Clock) -> type[WsListener]:
    """A listener class for one connection whose ``on_ws_frame`` keeps its state in closure
    cells instead of instance attributes (about 60 ns less per frame, measured).

    Used when nothing has to be checked per frame (no welcome to wait for, no live hook).
    """
    anchor_ns = clock.anchor_ns
    mono = clock.mono
    recv_append = buffer.recv.append
    payload_append = buffer.payload.append
    binary_append = buffer.binary.append

    class FastWsListener(WsListener):
        def on_ws_frame(self, transport: picows.WSTransport, frame: picows.WSFrame) -> None:
            recv_ns = anchor_ns + mono()
            msg_type = frame.msg_type
            if msg_type is _TEXT:
                if frame.fin:
                    recv_append(recv_ns)
                    payload_append(frame.get_payload_as_bytes())
                    binary_append(False)
                    return
            elif msg_type is _BINARY and frame.fin:
                recv_append(recv_ns)
                payload_append(frame.get_payload_as_bytes())
                binary_append(True)
                return
            self._slow_frame(transport, frame, msg_type, recv_ns)

    return FastWsListener
