"""Bare WebSocket receive loops on loopback: the ceiling the recorder is measured against.

A blaster server (picows, in its own process so it has its own core) sends ``count`` copies of a
realistic Binance combined-stream bookTicker frame as fast as the socket takes them, then closes.
Each client library receives them with the least work possible (count frames, keep a reference to
the payload), which is the fastest any recorder built on that library could go.

    python bench/ws_bare.py --count 500000

Used by ``bench/record.py``; runnable alone to compare libraries.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import socket
import time
from collections.abc import Callable, Coroutine
from typing import Any

FRAME = (
    b'{"stream":"btcusdt@bookTicker","data":{"u":400900217,"s":"BTCUSDT",'
    b'"b":"84270.00000000","B":"0.00638700","a":"84270.01000000","A":"5.42169969"}}'
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ws_frame(payload: bytes, binary: bool = False) -> bytes:
    """One unmasked, final WebSocket frame (RFC 6455 section 5.2) as a server sends it."""
    first = 0x82 if binary else 0x81
    n = len(payload)
    if n < 126:
        header = bytes((first, n))
    elif n < 1 << 16:
        header = bytes((first, 126)) + n.to_bytes(2, "big")
    else:
        header = bytes((first, 127)) + n.to_bytes(8, "big")
    return header + payload


def _blaster_main(port: int, count: int, ready: Any, frame: bytes, binary: bool) -> None:
    """Serve one connection at a time: send ``count`` frames, then a close frame."""
    import picows

    framed = ws_frame(frame, binary)

    class Blaster(picows.WSListener):  # type: ignore[misc]
        def on_ws_connected(self, transport: picows.WSTransport) -> None:
            asyncio.get_running_loop().create_task(self._blast(transport))

        async def _blast(self, transport: picows.WSTransport) -> None:
            # Pre-framed server->client frames (unmasked), written straight to the socket
            # transport in large chunks: the sender must be much faster than any receiver.
            raw = transport.underlying_transport
            per_chunk = max(1, (1 << 20) // len(framed))
            chunk = framed * per_chunk
            sent = 0
            while sent < count:
                n = min(per_chunk, count - sent)
                raw.write(chunk if n == per_chunk else framed * n)
                sent += n
                while raw.get_write_buffer_size() > 8 << 20:
                    await asyncio.sleep(0.0002)
            transport.send_close(picows.WSCloseCode.OK)
            transport.disconnect()

    async def serve() -> None:
        server = await picows.ws_create_server(lambda _req: Blaster(), "127.0.0.1", port)
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


class BlasterProcess:
    """Context manager running the blaster in a child process; ``url`` to connect to."""

    def __init__(self, count: int, frame: bytes = FRAME, binary: bool = False) -> None:
        self.port = free_port()
        self.url = f"ws://127.0.0.1:{self.port}/ws"
        ctx = mp.get_context("spawn")
        self._ready = ctx.Event()
        self._proc = ctx.Process(
            target=_blaster_main, args=(self.port, count, self._ready, frame, binary), daemon=True
        )

    def __enter__(self) -> BlasterProcess:
        self._proc.start()
        if not self._ready.wait(20):
            raise RuntimeError("blaster did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._proc.terminate()
        self._proc.join(5)


async def recv_websockets(url: str) -> int:
    import websockets

    n = 0
    last = b""
    async with websockets.connect(url, max_size=None, compression=None) as ws:
        try:
            async for msg in ws:
                last = msg
                n += 1
        except websockets.ConnectionClosed:
            pass
    del last
    return n


async def recv_aiohttp(url: str) -> int:
    import aiohttp

    n = 0
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        while True:
            msg = await ws.receive()
            if msg.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                n += 1
            else:
                break
    return n


async def recv_picows(url: str) -> int:
    import picows

    class Counter(picows.WSListener):  # type: ignore[misc]
        n = 0
        last = b""

        def on_ws_frame(self, transport: picows.WSTransport, frame: picows.WSFrame) -> None:
            if frame.msg_type == picows.WSMsgType.CLOSE:
                transport.disconnect()
                return
            self.last = frame.get_payload_as_bytes()
            self.n += 1

    transport, listener = await picows.ws_connect(Counter, url)
    await transport.wait_disconnected()
    return int(listener.n)


CLIENTS: dict[str, Callable[[str], Coroutine[Any, Any, int]]] = {
    "websockets": recv_websockets,
    "aiohttp": recv_aiohttp,
    "picows": recv_picows,
}


def measure(client: str, count: int, repeats: int = 3) -> float:
    """Best-of-``repeats`` receive rate in msg/s for one library."""
    best = 0.0
    with BlasterProcess(count) as blaster:
        for _ in range(repeats):
            t0 = time.perf_counter()
            got = asyncio.run(CLIENTS[client](blaster.url))
            dt = time.perf_counter() - t0
            if got != count:
                raise RuntimeError(f"{client}: received {got} of {count}")
            best = max(best, got / dt)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=300_000, help="frames per run")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for name in CLIENTS:
        rate = measure(name, args.count, args.repeats)
        print(f"{name:<11} {rate / 1e3:8.0f} k msg/s")


if __name__ == "__main__":
    main()
