"""REST pieces without the simulator: Retry-After parsing, an unreachable server."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import aiohttp
import pyarrow as pa

from ticktape.exchanges.base import RestRequest
from ticktape.recorder.backoff import Backoff
from ticktape.recorder.batches import exchange_batch
from ticktape.recorder.clock import Clock
from ticktape.recorder.rest_poller import PollState, RestPoller, parse_retry_after
from ticktape.recorder.rows import ConnIds, ExchangeRows


def test_retry_after_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("5", now) == 5.0
    assert parse_retry_after(" 0.5 ", now) == 0.5
    later = now + timedelta(seconds=30)
    assert parse_retry_after(later.strftime("%a, %d %b %Y %H:%M:%S GMT"), now) == 30.0
    assert parse_retry_after("Wed, 01 Jan 2020 00:00:00 GMT", now) == 0.0  # in the past
    assert parse_retry_after(None, now) is None
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after("-3", now) == 0.0


def test_unreachable_server_is_recorded_and_backed_off() -> None:
    module = SimpleNamespace(
        rest_poll_requests=lambda symbols: [RestRequest("GET", "/api/v3/time")],
    )
    rows = ExchangeRows("fake", Clock())

    async def run() -> RestPoller:
        stop = asyncio.Event()
        async with aiohttp.ClientSession() as http:
            poller = RestPoller(
                exchange="fake", module=module, rest_url="http://127.0.0.1:9",  # type: ignore[arg-type]
                symbols=["BTC-USDT"], poll_interval_s=0.01, rows=rows, clock=Clock(),
                conn_ids=ConnIds(1), stop=stop, http=http,
                backoff=Backoff(base_s=0.2, cap_s=0.2, rng=random.Random(0)),
            )  # fmt: skip
            task = asyncio.create_task(poller.run())
            await asyncio.sleep(0.5)
            stop.set()
            await asyncio.wait_for(task, 5)
        return poller

    poller = asyncio.run(run())
    batch = exchange_batch("fake", rows.take())
    assert batch is not None
    table = pa.Table.from_batches([batch]).to_pylist()
    kinds = [r["kind"] for r in table]
    assert kinds[0] == "open" and kinds[-1] == "close"
    errors = [r for r in table if r["kind"] == "error"]
    assert errors and all(r["payload"].startswith(b"request failed:") for r in errors)
    assert all(r["stream"] == "GET /api/v3/time" and r["req_ns"] for r in errors)
    # full-jitter backoff up to 0.2 s between attempts, poll interval 0.01 s: far fewer than 50
    assert len(errors) < 25
    assert poller.messages() == 0 and poller.state is PollState.STOPPED
