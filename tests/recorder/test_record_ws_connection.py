"""One WebSocket connection task against a scripted picows server on 127.0.0.1 (no simulator).

Checks the row story of a connection byte for byte: open, sent subscribe, data (text, binary,
fragmented, malformed), protocol ping answered with the same payload, remote close, reconnect
under a new conn_id; staleness; shutdown.
"""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Awaitable, Callable, Coroutine
from types import SimpleNamespace
from typing import Any

import picows
import pytest
from picows import WSMsgType

from ticktape.recorder.backoff import Backoff
from ticktape.recorder.batches import exchange_batch
from ticktape.recorder.clock import Clock
from ticktape.recorder.rows import ConnIds, ExchangeRows
from ticktape.recorder.ws_connection import ConnState, WsConnection


def arun(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test in a fresh event loop (no pytest-asyncio here)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(asyncio.wait_for(fn(*args, **kwargs), 30))

    return wrapper


Row = tuple[int, str, int, int, str, Any, bool, bytes]
Script = Callable[[picows.WSTransport, "Server"], Awaitable[None]]


class Server:
    """A picows server running ``script`` for every connection; records what clients send."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.received: list[tuple[int, WSMsgType, bytes]] = []
        self.connections = 0
        self.url = ""
        self._server: Any = None

    async def __aenter__(self) -> Server:
        server = self

        class Listener(picows.WSListener):  # type: ignore[misc]
            def on_ws_connected(self, transport: picows.WSTransport) -> None:
                server.connections += 1
                self.n = server.connections
                asyncio.get_running_loop().create_task(server.script(transport, server))

            def on_ws_frame(self, transport: picows.WSTransport, frame: picows.WSFrame) -> None:
                server.received.append((self.n, frame.msg_type, frame.get_payload_as_bytes()))
                if frame.msg_type == WSMsgType.CLOSE:
                    transport.send_close(frame.get_close_code())
                    transport.disconnect()

        self._server = await picows.ws_create_server(lambda _req: Listener(), "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/ws"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()


def fake_module(**overrides: Any) -> SimpleNamespace:
    base = dict(
        NAME="fake",
        DEFAULT_WS_URL="ws://unused",
        STALE_AFTER_S=30.0,
        HEARTBEAT_INTERVAL_S=None,
        MAX_STREAMS_PER_CONNECTION=10,
        ws_connect_url=lambda url, streams: url,
        subscribe_messages=lambda streams: [b'{"op":"subscribe","args":["a","b"]}'],
        heartbeat_message=lambda counter: f'{{"op":"ping","id":{counter}}}'.encode(),
    )
    base.update(overrides)
    return SimpleNamespace(**base)


class Rows(list):  # type: ignore[type-arg]
    """The rows recorded so far, sorted by (conn_id, seq), as tuples
    (recv_ns, stream, conn_id, seq, kind, req_ns, binary, payload)."""

    def __init__(self) -> None:
        super().__init__()
        self.store = ExchangeRows("fake", Clock())

    def refresh(self) -> Rows:
        batch = exchange_batch("fake", self.store.take())
        if batch is not None:
            cols = batch.to_pydict()
            names = ("recv_ns", "stream", "conn_id", "seq", "kind", "req_ns", "binary", "payload")
            self.extend(zip(*(cols[n] for n in names), strict=True))
            self.sort(key=lambda r: (r[2], r[3]))
        return self


def make_connection(
    server: Server, rows: Rows, stop: asyncio.Event, module: Any = None, **kw: Any
) -> WsConnection:
    return WsConnection(
        exchange="fake",
        module=module or fake_module(),
        ws_url=server.url,
        rest_url="http://unused",
        streams=["a", "b"],
        rows=rows.store,
        clock=Clock(),
        conn_ids=ConnIds(1_700_000_000_000),
        stop=stop,
        backoff=Backoff(base_s=0.01, cap_s=0.02, rng=random.Random(0)),
        **kw,
    )


def by_conn(rows: list[Row]) -> dict[int, list[Row]]:
    out: dict[int, list[Row]] = {}
    for row in rows:
        out.setdefault(row[2], []).append(row)
    return out


def check_invariants(rows: list[Row]) -> None:
    for conn_rows in by_conn(rows).values():
        assert [r[3] for r in conn_rows] == list(range(len(conn_rows)))  # seq contiguous from 0
        stamps = [r[0] for r in conn_rows]
        assert stamps == sorted(stamps)  # recv_ns never decreases
        assert [r[4] for r in conn_rows].count("close") == 1
        assert conn_rows[-1][4] == "close"


async def scripted_session(transport: picows.WSTransport, server: Server) -> None:
    await asyncio.sleep(0.05)  # let the client subscribe first
    transport.send(WSMsgType.TEXT, b'{"topic":"a","v":1}')
    transport.send(WSMsgType.BINARY, b"\x0a\x03abc\xff\x00")
    transport.send(WSMsgType.TEXT, b'{"topic":"b",', fin=False)
    transport.send(WSMsgType.CONTINUATION, b'"v":2}', fin=True)
    transport.send(WSMsgType.TEXT, b"{not json \xc3\x28")  # malformed JSON and invalid UTF-8
    transport.send_ping(b"ping-123")
    await asyncio.sleep(0.05)
    if server.connections == 1:
        transport.send_close(picows.WSCloseCode.GOING_AWAY, b"maintenance")
        transport.disconnect()


@arun
async def test_rows_of_a_connection_and_a_reconnect() -> None:
    rows = Rows()
    stop = asyncio.Event()
    async with Server(scripted_session) as server:
        conn = make_connection(server, rows, stop)
        task = asyncio.create_task(conn.run())
        for _ in range(200):
            await asyncio.sleep(0.02)
            if server.connections >= 2 and len(by_conn(rows.refresh())) >= 2 and len(rows) >= 18:
                break
        stop.set()
        await asyncio.wait_for(task, 5)
    rows.refresh()
    check_invariants(rows)
    conns = by_conn(rows)
    assert len(conns) == 2
    first, second = conns.values()
    simple = [(r[4], r[7], r[6], r[1]) for r in first]
    assert simple == [
        ("open", server.url.encode(), False, "a,b"),
        ("sent", b'{"op":"subscribe","args":["a","b"]}', False, "a,b"),
        ("data", b'{"topic":"a","v":1}', False, "a,b"),
        ("data", b"\x0a\x03abc\xff\x00", True, "a,b"),
        ("data", b'{"topic":"b","v":2}', False, "a,b"),
        ("data", b"{not json \xc3\x28", False, "a,b"),
        ("ping", b"ping-123", False, "a,b"),
        ("sent", b"ping-123", False, "pong"),
        ("sent", b"\x03\xe9", False, "close"),  # our close reply: code 1001
        ("close", b"remote closed 1001 maintenance", False, "a,b"),
    ]
    assert second[0][4] == "open" and second[-1][7] == b"shutdown"
    assert second[0][2] == first[0][2] + 1  # a new conn_id for the reconnect
    # the server got the subscribe and our pong with the ping's payload
    assert (1, WSMsgType.TEXT, b'{"op":"subscribe","args":["a","b"]}') in server.received
    assert (1, WSMsgType.PONG, b"ping-123") in server.received
    assert conn.reconnects == 1 and conn.state is ConnState.STOPPED
    assert conn.messages() == 8


@arun
async def test_stale_feed_is_closed_and_reconnected() -> None:
    async def silent(transport: picows.WSTransport, server: Server) -> None:
        if server.connections == 1:
            transport.send(WSMsgType.TEXT, b'{"only":"one"}')

    rows = Rows()
    stop = asyncio.Event()
    async with Server(silent) as server:
        conn = make_connection(server, rows, stop, stale_after_s=0.3)
        task = asyncio.create_task(conn.run())
        for _ in range(200):
            await asyncio.sleep(0.02)
            if len(by_conn(rows.refresh())) >= 2:
                break
        await asyncio.sleep(0.1)
        stop.set()
        await asyncio.wait_for(task, 5)
    rows.refresh()
    check_invariants(rows)
    first = next(iter(by_conn(rows).values()))
    assert first[-1][7] == b"stale: no data for 0.3s"
    assert ("sent", b"\x03\xe8", "close") in [(r[4], r[7], r[1]) for r in first]
    assert any(r[4] == "data" and r[7] == b'{"only":"one"}' for r in first)


@arun
async def test_heartbeats_are_sent_and_recorded() -> None:
    async def quiet(transport: picows.WSTransport, server: Server) -> None:
        for _ in range(20):
            transport.send(WSMsgType.TEXT, b"{}")
            await asyncio.sleep(0.02)

    rows = Rows()
    stop = asyncio.Event()
    async with Server(quiet) as server:
        conn = make_connection(server, rows, stop, heartbeat_interval_s=0.1)
        task = asyncio.create_task(conn.run())
        await asyncio.sleep(0.35)
        stop.set()
        await asyncio.wait_for(task, 5)
    rows.refresh()
    check_invariants(rows)
    beats = [r[7] for r in rows if r[4] == "sent" and b'"op":"ping"' in r[7]]
    assert beats[:3] == [b'{"op":"ping","id":1}', b'{"op":"ping","id":2}', b'{"op":"ping","id":3}']
    assert [p for n, t, p in server.received if b"ping" in p][:3] == beats[:3]


@arun
async def test_shutdown_records_frames_in_flight_then_close() -> None:
    async def stream(transport: picows.WSTransport, server: Server) -> None:
        for i in range(10_000):
            if transport.is_close_frame_sent or transport.is_disconnected:
                return
            transport.send(WSMsgType.TEXT, f'{{"i":{i}}}'.encode())
            server.sent = i + 1  # type: ignore[attr-defined]
            if i % 50 == 0:
                await asyncio.sleep(0.001)

    rows = Rows()
    stop = asyncio.Event()
    async with Server(stream) as server:
        conn = make_connection(server, rows, stop)
        task = asyncio.create_task(conn.run())
        await asyncio.sleep(0.2)
        stop.set()
        await asyncio.wait_for(task, 5)
        sent = server.sent  # type: ignore[attr-defined]
    rows.refresh()
    check_invariants(rows)
    data = [r[7] for r in rows if r[4] == "data"]
    assert data == [f'{{"i":{i}}}'.encode() for i in range(sent)]  # nothing lost, in order
    assert rows[-1][4] == "close" and rows[-1][7] == b"shutdown"


@arun
async def test_connect_failure_is_recorded_and_retried() -> None:
    rows = Rows()
    stop = asyncio.Event()
    server = SimpleNamespace(url="ws://127.0.0.1:9/nothing-listens-here")
    conn = make_connection(server, rows, stop)  # type: ignore[arg-type]
    task = asyncio.create_task(conn.run())
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.wait_for(task, 5)
    conns = by_conn(rows.refresh())
    assert len(conns) >= 2  # retried with backoff, a new conn_id each time
    for conn_rows in conns.values():
        assert [r[4] for r in conn_rows] == ["error", "close"]
        assert conn_rows[0][7].startswith(b"connect failed:")
    assert conn.reconnects == 0


@pytest.mark.parametrize("welcome_first", [True, False])
@arun
async def test_wait_for_welcome_before_subscribing(welcome_first: bool) -> None:
    async def greet(transport: picows.WSTransport, server: Server) -> None:
        if welcome_first:
            await asyncio.sleep(0.05)
            transport.send(WSMsgType.TEXT, b'{"id":"x","type":"welcome"}')

    module = fake_module(
        WAIT_FOR_WELCOME=True, is_welcome=lambda payload: b'"type":"welcome"' in payload
    )
    rows = Rows()
    stop = asyncio.Event()
    async with Server(greet) as server:
        conn = make_connection(server, rows, stop, module=module)
        task = asyncio.create_task(conn.run())
        await asyncio.sleep(0.3)
        stop.set()
        await asyncio.wait_for(task, 15)
    rows.refresh()
    first = next(iter(by_conn(rows).values()))
    kinds = [(r[4], r[1]) for r in first]
    if welcome_first:  # subscribe only after the welcome
        assert kinds[:3] == [("open", "a,b"), ("data", "a,b"), ("sent", "a,b")]
    else:  # never subscribed; closed at shutdown
        assert kinds == [("open", "a,b"), ("sent", "close"), ("close", "a,b")]
        assert first[-1][7] == b"shutdown"
        assert not any(t == WSMsgType.TEXT for _, t, _ in server.received)
