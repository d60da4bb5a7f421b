"""The KuCoin token step of a connection: ``POST /api/v1/bullet-public`` before the WebSocket.

The request and its response are rows of the WebSocket connection they are for (same
``conn_id``, ``seq`` 0 and 1, ``stream`` ``"POST /api/v1/bullet-public"``), so one connection's
story reads top to bottom: token, open, subscribe, data, close. The exchange module does the
parsing (``token_request``, ``parse_token``); this module only does the I/O.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from ticktape.recorder.rest_poller import http_request
from ticktape.recorder.rows import ConnBuffer


class TokenError(RuntimeError):
    """No usable token: the request failed, or the response was refused or unreadable."""


async def fetch_token(
    http: aiohttp.ClientSession | None, module: Any, rest_url: str, rows: ConnBuffer
) -> Any:
    """Ask for a public token; return ``module.parse_token(body)`` (e.g. a ``KucoinToken``).

    Raises :class:`TokenError` (or the module's own parse error) after recording the rows.
    """
    if http is None:
        raise TokenError("no HTTP session to request a KuCoin token with")
    result = await http_request(http, rest_url, module.token_request(), rows)
    if result.status == 0:
        raise TokenError(f"token request to {rest_url} failed (no response)")
    if not result.ok:
        raise TokenError(f"token request to {rest_url} answered HTTP {result.status}")
    return module.parse_token(result.body)
