"""MEXC spot protobuf messages, built in code from the field table (no generated module, no protoc).

MEXC pushes market data as binary protobuf ``PushDataV3ApiWrapper`` frames on
``wss://wbs-api.mexc.com/ws`` (protocols.md 4.2-4.3). The message definitions below are written from
the published field numbers and types (mexcdevelop/websocket-proto, 2026-06); they are the project's
own description, compiled at import time into a private :class:`DescriptorPool` so they can never
clash with another copy of the MEXC schema loaded by some other library.

Only the messages whose fields protocols.md lists are defined. The wrapper's body is the
``oneof body`` over fields 301-315; the bodies whose schema is not listed there (301 PublicDeals,
302, 304, 306, 307, 309, 310, 312) are simply not declared, so protobuf keeps them as unknown
fields and skips them, exactly as it skips fields MEXC adds in the future.

Users:

* the decoder in ``mexc.py``: its slow path parses with these classes (upb), its fast path reads
  frames through :func:`frame_layout` (the end of this module), which knows the same field
  numbers and the order MEXC writes them in;
* tests, the simulator and users encode frames with :func:`encode_book_ticker` and
  :func:`encode_deals`, or build any message from the exported classes and call
  ``SerializeToString()``.

The classes are created at runtime, so they are typed ``Any`` here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, NamedTuple

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

PACKAGE: Final = "ticktape.mexc"

_F = descriptor_pb2.FieldDescriptorProto
_STRING: Final = _F.TYPE_STRING
_INT64: Final = _F.TYPE_INT64
_INT32: Final = _F.TYPE_INT32
_MESSAGE: Final = _F.TYPE_MESSAGE
_OPTIONAL: Final = _F.LABEL_OPTIONAL
_REPEATED: Final = _F.LABEL_REPEATED

# message -> [(field name, number, repeated, type, message type name or "")]
_SCHEMA: Final[dict[str, list[tuple[str, int, bool, int, str]]]] = {
    "PublicAggreBookTickerV3Api": [
        ("bidPrice", 1, False, _STRING, ""),
        ("bidQuantity", 2, False, _STRING, ""),
        ("askPrice", 3, False, _STRING, ""),
        ("askQuantity", 4, False, _STRING, ""),
        ("version", 5, False, _STRING, ""),
        ("lastOrderCreateTime", 6, False, _INT64, ""),
    ],
    "PublicAggreDealsV3ApiItem": [
        ("price", 1, False, _STRING, ""),
        ("quantity", 2, False, _STRING, ""),
        ("tradeType", 3, False, _INT32, ""),
        ("time", 4, False, _INT64, ""),
        ("tradeId", 5, False, _STRING, ""),
    ],
    "PublicAggreDealsV3Api": [
        ("deals", 1, True, _MESSAGE, "PublicAggreDealsV3ApiItem"),
        ("eventType", 2, False, _STRING, ""),
    ],
    "PublicAggreDepthV3ApiItem": [
        ("price", 1, False, _STRING, ""),
        ("quantity", 2, False, _STRING, ""),
    ],
    "PublicAggreDepthsV3Api": [
        ("asks", 1, True, _MESSAGE, "PublicAggreDepthV3ApiItem"),
        ("bids", 2, True, _MESSAGE, "PublicAggreDepthV3ApiItem"),
        ("eventType", 3, False, _STRING, ""),
        ("fromVersion", 4, False, _STRING, ""),
        ("toVersion", 5, False, _STRING, ""),
        ("lastOrderCreateTime", 6, False, _INT64, ""),
    ],
    "PublicLimitDepthV3ApiItem": [
        ("price", 1, False, _STRING, ""),
        ("quantity", 2, False, _STRING, ""),
    ],
    "PublicLimitDepthsV3Api": [
        ("asks", 1, True, _MESSAGE, "PublicLimitDepthV3ApiItem"),
        ("bids", 2, True, _MESSAGE, "PublicLimitDepthV3ApiItem"),
        ("eventType", 3, False, _STRING, ""),
        ("version", 4, False, _STRING, ""),
        ("lastOrderCreateTime", 5, False, _INT64, ""),
    ],
    "PublicBookTickerV3Api": [
        ("bidPrice", 1, False, _STRING, ""),
        ("bidQuantity", 2, False, _STRING, ""),
        ("askPrice", 3, False, _STRING, ""),
        ("askQuantity", 4, False, _STRING, ""),
    ],
    "PublicBookTickerBatchV3Api": [
        ("items", 1, True, _MESSAGE, "PublicBookTickerV3Api"),
        ("version", 2, False, _STRING, ""),
        ("lastOrderCreateTime", 3, False, _INT64, ""),
    ],
    "PublicSpotKlineV3Api": [
        ("interval", 1, False, _STRING, ""),
        ("windowStart", 2, False, _INT64, ""),
        ("openingPrice", 3, False, _STRING, ""),
        ("closingPrice", 4, False, _STRING, ""),
        ("highestPrice", 5, False, _STRING, ""),
        ("lowestPrice", 6, False, _STRING, ""),
        ("volume", 7, False, _STRING, ""),
        ("amount", 8, False, _STRING, ""),
        ("windowEnd", 9, False, _INT64, ""),
    ],
    "PushDataV3ApiWrapper": [
        ("channel", 1, False, _STRING, ""),
        ("symbol", 3, False, _STRING, ""),
        ("symbolId", 4, False, _STRING, ""),
        ("createTime", 5, False, _INT64, ""),
        ("sendTime", 6, False, _INT64, ""),
    ],
}

# The wrapper's oneof ``body``: field number -> (field name, message type). Numbers not listed are
# bodies we have no schema for; they arrive as unknown fields and are skipped.
BODY_FIELDS: Final[dict[int, tuple[str, str]]] = {
    303: ("publicLimitDepths", "PublicLimitDepthsV3Api"),
    305: ("publicBookTicker", "PublicBookTickerV3Api"),
    308: ("publicSpotKline", "PublicSpotKlineV3Api"),
    311: ("publicBookTickerBatch", "PublicBookTickerBatchV3Api"),
    313: ("publicAggreDepths", "PublicAggreDepthsV3Api"),
    314: ("publicAggreDeals", "PublicAggreDealsV3Api"),
    315: ("publicAggreBookTicker", "PublicAggreBookTickerV3Api"),
}


def _file_descriptor() -> descriptor_pb2.FileDescriptorProto:
    """The whole schema as one proto3 file (implicit presence: an absent string reads as "")."""
    fdp = descriptor_pb2.FileDescriptorProto(
        name="ticktape/mexc_push.proto", package=PACKAGE, syntax="proto3"
    )
    for message_name, fields in _SCHEMA.items():
        message = fdp.message_type.add(name=message_name)
        for field_name, number, repeated, field_type, type_name in fields:
            field = message.field.add(
                name=field_name,
                number=number,
                label=_REPEATED if repeated else _OPTIONAL,
                type=field_type,
            )
            if type_name:
                field.type_name = f".{PACKAGE}.{type_name}"
        if message_name == "PushDataV3ApiWrapper":
            message.oneof_decl.add(name="body")
            for number, (field_name, type_name) in BODY_FIELDS.items():
                message.field.add(
                    name=field_name,
                    number=number,
                    label=_OPTIONAL,
                    type=_MESSAGE,
                    type_name=f".{PACKAGE}.{type_name}",
                    oneof_index=0,
                )
    return fdp


_POOL: Final = descriptor_pool.DescriptorPool()
_POOL.Add(_file_descriptor())


def _message_class(name: str) -> Any:
    return message_factory.GetMessageClass(_POOL.FindMessageTypeByName(f"{PACKAGE}.{name}"))


PushDataV3ApiWrapper: Final[Any] = _message_class("PushDataV3ApiWrapper")
PublicAggreBookTickerV3Api: Final[Any] = _message_class("PublicAggreBookTickerV3Api")
PublicAggreDealsV3Api: Final[Any] = _message_class("PublicAggreDealsV3Api")
PublicAggreDealsV3ApiItem: Final[Any] = _message_class("PublicAggreDealsV3ApiItem")
PublicAggreDepthsV3Api: Final[Any] = _message_class("PublicAggreDepthsV3Api")
PublicLimitDepthsV3Api: Final[Any] = _message_class("PublicLimitDepthsV3Api")
PublicBookTickerV3Api: Final[Any] = _message_class("PublicBookTickerV3Api")
PublicBookTickerBatchV3Api: Final[Any] = _message_class("PublicBookTickerBatchV3Api")
PublicSpotKlineV3Api: Final[Any] = _message_class("PublicSpotKlineV3Api")


def parse_wrapper(frame: bytes) -> Any:
    """Parse one binary frame into a ``PushDataV3ApiWrapper``; raises protobuf's ``DecodeError``."""
    wrapper = PushDataV3ApiWrapper()
    wrapper.ParseFromString(frame)
    return wrapper


def encode_book_ticker(
    channel: str,
    symbol: str,
    send_time_ms: int,
    bid_price: str,
    bid_quantity: str,
    ask_price: str,
    ask_quantity: str,
    *,
    version: str = "",
    last_order_create_time_ms: int = 0,
    aggregated: bool = True,
) -> bytes:
    """One book-ticker frame as MEXC sends it: body 315 (``aggregated``) or 305 (plain).

    ``channel`` is the full subscription name, e.g.
    ``spot@public.aggre.bookTicker.v3.api.pb@100ms@BTCUSDT``; prices and quantities are decimal
    strings, times integer milliseconds. ``version``/``last_order_create_time_ms`` exist only on
    the aggregated body (2026-06 fields).
    """
    wrapper = PushDataV3ApiWrapper(channel=channel, symbol=symbol, sendTime=send_time_ms)
    if aggregated:
        body = wrapper.publicAggreBookTicker
        body.version = version
        body.lastOrderCreateTime = last_order_create_time_ms
    else:
        body = wrapper.publicBookTicker
    body.SetInParent()  # mark the oneof even if every field is at its default
    body.bidPrice = bid_price
    body.bidQuantity = bid_quantity
    body.askPrice = ask_price
    body.askQuantity = ask_quantity
    return bytes(wrapper.SerializeToString())


def encode_deals(
    channel: str,
    symbol: str,
    send_time_ms: int,
    deals: Sequence[tuple[str, str, int, int, str]],
    *,
    event_type: str = "",
) -> bytes:
    """One aggregated-deals frame (body 314).

    ``deals`` holds ``(price, quantity, trade_type, time_ms, trade_id)`` per trade, with
    ``trade_type`` 1 = taker bought, 2 = taker sold; pass ``trade_id=""`` to omit it (pre-2026-06
    frames had none). ``event_type`` is the channel without the symbol, e.g.
    ``spot@public.aggre.deals.v3.api.pb@100ms``.
    """
    wrapper = PushDataV3ApiWrapper(channel=channel, symbol=symbol, sendTime=send_time_ms)
    body = wrapper.publicAggreDeals
    body.SetInParent()
    for price, quantity, trade_type, time_ms, trade_id in deals:
        body.deals.add(
            price=price, quantity=quantity, tradeType=trade_type, time=time_ms, tradeId=trade_id
        )
    body.eventType = event_type
    return bytes(wrapper.SerializeToString())


# ---- frame layouts: the byte positions of a push frame's fields, learned once per shape --------

ANY_DIGIT: Final = 0x80
"""In a frame's shape: a digit or ``.`` (a byte below 0x80 whose value the shape leaves open)."""
ANY_HIGH: Final = 0x81
"""In a frame's shape: any byte from 0x80 up (a varint continuation byte, or non-ASCII text)."""
SHAPE_TABLE: Final = bytes.maketrans(
    b"0123456789." + bytes(range(0x80, 0x100)), bytes([ANY_DIGIT]) * 11 + bytes([ANY_HIGH]) * 128
)
"""``frame.translate(SHAPE_TABLE)`` is the frame's *shape*: every byte kept except digits and
``.`` (-> :data:`ANY_DIGIT`) and bytes >= 0x80 (-> :data:`ANY_HIGH`). Frames that differ only in
their decimal texts and varint values share a shape, so the layout of a frame (where each field
is) can be learned once per shape, except where the shape leaves a structural byte open: those
positions are the layout's ``checks``."""

BOOK_BODIES: Final = (315, 305)  # publicAggreBookTicker, publicBookTicker
DEALS_BODY: Final = 314  # publicAggreDeals
_VARINT, _LEN = 0, 2
_SEND_TIME_BYTES: Final = 6  # sendTime in ms from 2004-09 to 2109: a 6-byte varint


class FrameLayout(NamedTuple):
    """Where a push frame's fields are, valid for every frame with the same shape and the same
    bytes at ``checks`` (positions a parser reads for structure that the shape leaves open).

    ``body`` is 315, 305 (a book ticker: ``texts`` = bid price, bid quantity, ask price, ask
    quantity) or 314 (deals: ``texts`` = price, quantity per deal, with ``trade_types`` and
    ``trade_ids``, ``None`` where the deal has no id). ``send_time_at`` is the offset of the
    6-byte ``sendTime`` varint; texts are ``(offset, length)``. Every text in the frame is ASCII,
    so it is valid UTF-8 exactly as protobuf requires.
    """

    body: int
    symbol: bytes
    send_time_at: int
    texts: tuple[tuple[int, int], ...]
    trade_types: tuple[int, ...]
    trade_ids: tuple[tuple[int, int] | None, ...]


class _Unsupported(Exception):
    """The frame is not laid out the way :func:`frame_layout` reads (the decoder uses protobuf)."""


class _Walker:
    """Reads a frame field by field in the order MEXC writes them, noting open structural bytes.

    Every decision it takes depends only on the shape and on the bytes it notes in ``checks``.
    """

    def __init__(self, frame: bytes, shape: bytes) -> None:
        self.frame, self.shape, self.pos = frame, shape, 0
        self.checks: set[int] = {0}

    def varint(self, structural: bool = True) -> int:
        """A varint of at most 9 bytes (never a negative int64, never an overflow).

        ``structural``: its value shapes the layout (a tag, a length, a trade type), so its open
        bytes become checks; otherwise only where it ends matters, which the shape tells.
        """
        frame, shape = self.frame, self.shape
        value = 0
        for shift in range(0, 63, 7):
            if self.pos >= len(frame):
                raise _Unsupported
            if structural and shape[self.pos] >= ANY_DIGIT:
                self.checks.add(self.pos)
            byte = frame[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
        raise _Unsupported

    def peek_field(self) -> int:
        """The field number of the next tag (-1 at the end), without consuming it."""
        if self.pos >= len(self.frame):
            return -1
        start = self.pos
        number = self.varint() >> 3
        self.pos = start
        return number

    def tag(self, number: int, wire_type: int) -> None:
        if self.varint() != number << 3 | wire_type:
            raise _Unsupported

    def text(self, number: int, fixed: bool = False) -> tuple[int, int]:
        """A length-delimited ASCII field; ``fixed``: its bytes are part of the layout."""
        self.tag(number, _LEN)
        length = self.varint()
        start, end = self.pos, self.pos + length
        if end > len(self.frame) or ANY_HIGH in self.shape[start:end]:
            raise _Unsupported
        if fixed:
            self.checks.update(p for p in range(start, end) if self.shape[p] == ANY_DIGIT)
        self.pos = end
        return start, length

    def message(self, number: int) -> int:
        """The tag and length of a sub-message; returns where it ends."""
        self.tag(number, _LEN)
        length = self.varint()
        end = self.pos + length
        if end > len(self.frame):
            raise _Unsupported
        return end


def frame_layout(frame: bytes, shape: bytes) -> tuple[tuple[int, ...], FrameLayout | None]:
    """``(checks, layout)`` of a push frame (``shape`` = ``frame.translate(SHAPE_TABLE)``).

    ``layout`` is ``None`` when the frame is not a book ticker or deals frame written field by
    field as MEXC does (channel, symbol, sendTime, body; body fields in number order, each at
    most once, nothing unknown, texts ASCII): such frames are for the protobuf parser. Either
    answer holds for every frame of this shape with the same bytes at ``checks`` (sorted, always
    starting with position 0).
    """
    walker = _Walker(frame, shape)
    try:
        layout = _read(walker)
    except _Unsupported:
        layout = None
    return tuple(sorted(walker.checks)), layout


def _read(walker: _Walker) -> FrameLayout:
    frame, shape = walker.frame, walker.shape
    walker.text(1)  # channel
    symbol_at, symbol_length = walker.text(3, fixed=True)
    if not symbol_length:
        raise _Unsupported
    walker.tag(6, _VARINT)  # sendTime: the shape says where it ends; its value is read later
    send_time_at = walker.pos
    last = send_time_at + _SEND_TIME_BYTES - 1
    if (
        last >= len(frame)
        or shape[send_time_at:last] != bytes([ANY_HIGH]) * (_SEND_TIME_BYTES - 1)
        or shape[last] == ANY_HIGH
        or shape[last] == 0  # zero-padded: leave such oddities to the protobuf parser
    ):
        raise _Unsupported
    walker.pos = last + 1
    body = walker.peek_field()
    end = walker.message(body)
    if end != len(frame):
        raise _Unsupported
    trade_types: list[int] = []
    trade_ids: list[tuple[int, int] | None] = []
    if body in BOOK_BODIES:
        texts = [walker.text(number) for number in (1, 2, 3, 4)]
        if body == 315:
            if walker.peek_field() == 5:
                walker.text(5)  # version
            if walker.peek_field() == 6:
                walker.tag(6, _VARINT)  # lastOrderCreateTime
                walker.varint(structural=False)
    elif body == DEALS_BODY:
        texts = []
        while walker.peek_field() == 1:
            deal_end = walker.message(1)
            texts += (walker.text(1), walker.text(2))
            walker.tag(3, _VARINT)
            trade_types.append(walker.varint())
            walker.tag(4, _VARINT)
            walker.varint(structural=False)  # the deal's own time (events carry sendTime)
            trade_ids.append(walker.text(5) if walker.pos < deal_end else None)
            if walker.pos != deal_end:
                raise _Unsupported
        if walker.peek_field() == 2:
            walker.text(2)  # eventType
    else:
        raise _Unsupported
    if walker.pos != end:
        raise _Unsupported
    symbol = frame[symbol_at : symbol_at + symbol_length]
    return FrameLayout(body, symbol, send_time_at, tuple(texts), tuple(trade_types),
                       tuple(trade_ids))  # fmt: skip
