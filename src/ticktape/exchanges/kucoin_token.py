"""KuCoin's connection token (``POST /api/v1/bullet-public``), sans-I/O; re-exported by ``kucoin``.

A classic KuCoin WebSocket needs a token and the endpoint that comes with it (protocols.md 3.2):
the recorder sends :func:`token_request`, hands the response body to :func:`parse_token`, opens
:func:`token_connect_url` and subscribes only after the frame :func:`is_welcome` recognises. Tokens
last 24 h while connected; a reconnect should fetch a fresh one.
"""

from __future__ import annotations

from urllib.parse import urlencode

import msgspec

from ticktape.exchanges._support import json_any
from ticktape.exchanges.base import RestRequest


class KucoinTokenError(ValueError):
    """The bullet-public response did not give a usable token and endpoint."""


class KucoinToken(msgspec.Struct, frozen=True):
    """What ``POST /api/v1/bullet-public`` grants: where to connect and how often to ping."""

    endpoint: str  # e.g. "wss://ws-api-spot.kucoin.com/"
    token: str
    ping_interval_s: float
    ping_timeout_s: float


def token_request() -> RestRequest:
    """``POST /api/v1/bullet-public`` (weight 10, public: no key needed)."""
    return RestRequest("POST", "/api/v1/bullet-public", weight=10)


def parse_token(body: bytes) -> KucoinToken:
    """Read a bullet-public response; raise :class:`KucoinTokenError` saying what is wrong."""
    try:
        reply = json_any.decode(body)
    except msgspec.DecodeError as exc:
        raise KucoinTokenError(f"kucoin bullet-public: response is not JSON ({exc})") from None
    if not isinstance(reply, dict):
        raise KucoinTokenError("kucoin bullet-public: response is not a JSON object")
    if reply.get("code") != "200000":
        raise KucoinTokenError(
            f"kucoin bullet-public refused: code {reply.get('code')!r}, "
            f"msg {reply.get('msg')!r}; check the REST URL and rate limits"
        )
    data = reply.get("data")
    token = data.get("token") if isinstance(data, dict) else None
    servers = data.get("instanceServers") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise KucoinTokenError("kucoin bullet-public: no token in data.token")
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], dict):
        raise KucoinTokenError("kucoin bullet-public: no server in data.instanceServers")
    server = servers[0]
    endpoint = server.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint.startswith(("ws://", "wss://")):
        raise KucoinTokenError(f"kucoin bullet-public: bad endpoint {endpoint!r}")
    interval_ms = server.get("pingInterval", 18_000)
    timeout_ms = server.get("pingTimeout", 10_000)
    if not isinstance(interval_ms, int | float) or not isinstance(timeout_ms, int | float):
        raise KucoinTokenError("kucoin bullet-public: pingInterval/pingTimeout are not numbers")
    if interval_ms <= 0 or timeout_ms <= 0:
        raise KucoinTokenError("kucoin bullet-public: pingInterval/pingTimeout must be positive")
    return KucoinToken(endpoint, token, interval_ms / 1000.0, timeout_ms / 1000.0)


def token_connect_url(
    token: KucoinToken, connect_id: str, endpoint_override: str | None = None
) -> str:
    """``<endpoint>?token=<token>&connectId=<connect_id>`` (values URL-encoded).

    ``endpoint_override`` replaces the token's endpoint (e.g. the local simulator); the welcome
    frame echoes ``connect_id``, so make it unique per connection.
    """
    endpoint = endpoint_override or token.endpoint
    joiner = "&" if "?" in endpoint else "?"
    return f"{endpoint}{joiner}{urlencode({'token': token.token, 'connectId': connect_id})}"


def is_welcome(payload: bytes) -> bool:
    """True for the ``{"id":"..","type":"welcome"}`` frame the server sends first."""
    return b'"type":"welcome"' in payload
