"""Small pieces shared by the four exchange modules (private: not part of the module contract).

Nothing here does I/O. The helpers exist so that each exchange module is only about its exchange:
stream-count checks, a memo for symbol spellings, exact millisecond-to-nanosecond conversion, the
lenient-but-exact JSON number reading used by every decoder, and the one place that turns an
exception into a :class:`~ticktape.exchanges.events.DecodeError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final, Protocol, TypeVar, cast

import msgspec

from ticktape.exchanges.events import DecodeError, Event
from ticktape.symbols import SymbolError, canonical

NS_PER_MS: Final = 1_000_000
MAX_ERROR_CHARS: Final = 160

T = TypeVar("T")

# Generic JSON -> Python builtins (ints stay exact Python ints, never floats).
json_any: Final = msgspec.json.Decoder()


class RowDecoder(Protocol):
    """What ``new_decoder()`` returns: a plain function (cheap to call on the replay's hot path:
    calling an instance with ``__call__`` costs ~40 ns more) carrying a ``reset`` attribute.

    ``decoder(payload, recv_ns, conn_id, seq, stream) -> list[Event]`` never raises;
    ``decoder.reset(conn_id)`` forgets one connection's state (``None``: all of it).
    """

    def __call__(
        self, payload: bytes, recv_ns: int, conn_id: int, seq: int, stream: str, /
    ) -> list[Event]: ...

    def reset(self, conn_id: int | None = None) -> None: ...


def _forget_nothing(conn_id: int | None = None) -> None:
    """``reset`` of a stateless decoder."""


def row_decoder(
    decode: Callable[[bytes, int, int, int, str], list[Event]],
    reset: Callable[[int | None], None] = _forget_nothing,
) -> RowDecoder:
    """``decode`` (a closure holding the decoder's state) with ``reset`` attached to it."""
    decode.reset = reset  # type: ignore[attr-defined]
    return cast(RowDecoder, decode)


def stateless_decoder(decode: Callable[[bytes, int, int, int, str], list[Event]]) -> RowDecoder:
    """A fresh :class:`RowDecoder` calling ``decode`` (a module-level, stateless function).

    A new function object, because :func:`row_decoder` attaches ``reset`` to the function it is
    given and a module-level function must not be changed for everyone.
    """

    def forward(payload: bytes, recv_ns: int, conn_id: int, seq: int, stream: str) -> list[Event]:
        return decode(payload, recv_ns, conn_id, seq, stream)

    return row_decoder(forward)


class TooManyStreamsError(ValueError):
    """More streams were asked of one connection than the exchange allows."""


class UnrecognizedMessage(ValueError):
    """A syntactically valid message that matches no shape the exchange is known to send."""


def check_stream_count(exchange: str, streams: Sequence[str], limit: int) -> None:
    """Raise :class:`TooManyStreamsError` if ``streams`` exceeds the per-connection ``limit``."""
    if len(streams) > limit:
        raise TooManyStreamsError(
            f"{exchange}: {len(streams)} streams on one connection, the exchange allows at most "
            f"{limit}; split them over several connections"
        )


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size`` (order kept)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def convert(obj: Any, type_: type[T]) -> T:
    """Builtins (from :data:`json_any`) -> a typed Struct, with the same leniency as the fast path.

    ``strict=False`` lets a decimal string become a ``float`` (the exchanges quote prices as
    strings); msgspec parses them correctly rounded, i.e. exactly like ``float(text)``.
    """
    return msgspec.convert(obj, type_, strict=False)


def typed_decoder(type_: type[T]) -> msgspec.json.Decoder[T]:
    """A reusable typed JSON decoder with string-to-number leniency (see :func:`convert`)."""
    return msgspec.json.Decoder(type_, strict=False)


class SymbolMemo:
    """Memoized ``native -> canonical`` symbol spelling (the replay sees few distinct symbols).

    ``to_canonical`` is the exchange's own mapping; failures are not cached and raise
    :class:`~ticktape.symbols.SymbolError`. Hot paths may read ``memo.cache.get(native) or
    memo(native)`` to skip a Python-level call.
    """

    __slots__ = ("_to_canonical", "cache")

    def __init__(self, to_canonical: Callable[[str], str] = canonical) -> None:
        self.cache: dict[str, str] = {}
        self._to_canonical = to_canonical

    def __call__(self, native: str) -> str:
        found = self.cache.get(native)
        if found is None:
            found = self._to_canonical(native)
            if len(self.cache) < 100_000:  # bounded even on hostile input
                self.cache[native] = found
        return found


OTHER_CHANNEL: Final = 0
"""Channel kind 0: a channel the decoder does not normalize (or a name it cannot read)."""


class ChannelTable:
    """Channel names (``"btcusdt@bookTicker"``, ``"orderbook.1.BTCUSDT"``) -> ``(kind, symbol)``.

    A decoder reads a frame's channel name and looks it up here, so per frame the routing costs
    one dict lookup; parsing the name and canonicalizing its symbol happen once per distinct name.
    ``classify(name)`` is the exchange's rule: kind 0 (:data:`OTHER_CHANNEL`) for channels it does
    not normalize; it raises (``SymbolError``) for one of ours whose symbol it cannot read, which
    is not remembered and becomes that frame's ``DecodeError``. At most 100,000 names are kept,
    so hostile input cannot grow the table without bound.

    Hot path: ``table.names.get(name) or table.learn(name)``.
    """

    __slots__ = ("_classify", "names")

    def __init__(self, classify: Callable[[str], tuple[int, str]]) -> None:
        self.names: dict[str, tuple[int, str]] = {}
        self._classify = classify

    def learn(self, name: str) -> tuple[int, str]:
        entry = self._classify(name)
        if len(self.names) < 100_000:
            self.names[name] = entry
        return entry


def error_text(exc: BaseException) -> str:
    """A short, single-line description of why a payload could not be decoded."""
    if isinstance(exc, msgspec.ValidationError):  # valid JSON, unexpected types or fields
        text = f"unexpected shape: {exc}"
    elif isinstance(exc, msgspec.DecodeError):
        text = f"bad JSON: {exc}"
    elif isinstance(exc, SymbolError):
        text = f"bad symbol: {exc}"
    elif isinstance(exc, UnrecognizedMessage):
        text = str(exc)
    else:
        text = f"{type(exc).__name__}: {exc}"
    text = " ".join(text.split())
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 3] + "..."


def decode_error(
    exchange: str, recv_ns: int, conn_id: int, seq: int, stream: str, exc: BaseException
) -> DecodeError:
    """The one event a decoder returns for a payload it cannot read."""
    return DecodeError(exchange, recv_ns, conn_id, seq, stream, error_text(exc))


def string_after(payload: bytes, marker: bytes, start: int = 0) -> str | None:
    """The JSON string value that follows ``marker`` (which ends with the opening quote).

    A byte-level search, not a parse: ``string_after(b'{"topic":"x.y",...}', b'"topic":"')``
    returns ``"x.y"``. ``None`` if the marker is absent or the string is not closed or not UTF-8.
    Values with escapes are returned as written (stream names never contain any).
    """
    at = payload.find(marker, start)
    if at < 0:
        return None
    begin = at + len(marker)
    end = payload.find(b'"', begin)
    if end < 0:
        return None
    try:
        return payload[begin:end].decode()
    except UnicodeDecodeError:
        return None


def query_value(stream: str, key: str) -> str | None:
    """``query_value("GET /x?symbol=BTC-USDT&limit=1", "symbol") -> "BTC-USDT"`` (no decoding)."""
    _, _, query = stream.partition("?")
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        if name == key:
            return value
    return None


def is_rest(stream: str) -> bool:
    """REST rows are stored under ``"<METHOD> <path>?<query>"`` (see ``RestRequest.stream``)."""
    return stream.startswith(("GET ", "POST "))
