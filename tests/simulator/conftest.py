"""Helpers for the simulator tests: run a coroutine with a deadline, read frames with bounds.

Every network test talks to the simulator on 127.0.0.1 only, with loops bounded in count and
time (``read_frames`` never waits longer than its timeout).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
import pytest

T = TypeVar("T")


@dataclass
class Received:
    """A frame as the client got it: exact bytes and whether it was binary."""

    payload: bytes
    binary: bool


async def read_frames(
    ws: aiohttp.ClientWebSocketResponse,
    count: int,
    timeout: float = 3.0,
    until: Callable[[Received], bool] | None = None,
) -> list[Received]:
    """Read up to ``count`` data frames (stop early at close, timeout, or when ``until`` says)."""
    out: list[Received] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(out) < count:
        left = deadline - loop.time()
        if left <= 0:
            break
        try:  # an outer deadline: receive(timeout=) restarts on every auto-answered ping
            async with asyncio.timeout(left):
                msg = await ws.receive()
        except TimeoutError:
            break
        if msg.type == aiohttp.WSMsgType.TEXT:
            frame = Received(msg.data.encode(), False)
        elif msg.type == aiohttp.WSMsgType.BINARY:
            frame = Received(msg.data, True)
        else:
            break
        out.append(frame)
        if until is not None and until(frame):
            break
    return out


def run(coro: Awaitable[T], timeout: float = 20.0) -> T:
    """Run ``coro`` in a fresh event loop with a hard deadline."""

    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


@dataclass
class Helpers:
    run: Callable[..., Any] = run
    read_frames: Callable[..., Any] = read_frames


@pytest.fixture(scope="session")
def h() -> Helpers:
    return Helpers()
