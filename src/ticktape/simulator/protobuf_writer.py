"""A minimal protobuf (proto3) wire writer: varints and length-delimited fields, nothing else.

Hand-written on purpose: the simulator's MEXC frames must come from an encoder independent of
the decoder under test, and the wire format needs only two of protobuf's wire types here
(0 = varint for int32/int64, 2 = length-delimited for strings and nested messages). Fields are
emitted in the order they are written, which is how protobuf serializers order them (ascending
field number) and how MEXC's real frames are laid out.

Proto3 semantics: a scalar equal to its default (``0``, ``""``) is not written; pass ``None``
to omit a field explicitly.
"""

from __future__ import annotations

from typing import Final

WIRE_VARINT: Final = 0
WIRE_LEN: Final = 2
_MASK64: Final = (1 << 64) - 1


def varint(value: int) -> bytes:
    """Base-128 varint of ``value``; negative int32/int64 use their 64-bit two's complement."""
    if value < 0:
        value &= _MASK64
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def tag(field_number: int, wire_type: int) -> bytes:
    """The key of a field: ``(field_number << 3) | wire_type`` as a varint."""
    if field_number < 1:
        raise ValueError(f"protobuf field numbers start at 1, got {field_number}")
    return varint((field_number << 3) | wire_type)


def len_field(number: int, data: bytes) -> bytes:
    """A length-delimited field (wire type 2), written even when empty."""
    return tag(number, WIRE_LEN) + varint(len(data)) + data


def int_field(number: int, value: int) -> bytes:
    """A varint field (wire type 0), written even when zero."""
    return tag(number, WIRE_VARINT) + varint(value)


class MessageWriter:
    """Appends fields to one message; ``bytes(writer)`` is the encoded message."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = bytearray()

    def int_field(self, number: int, value: int | None) -> MessageWriter:
        """An int32/int64/uint64/enum field (wire type 0). Zero and None are omitted."""
        if value:
            self._buf += int_field(number, value)
        return self

    def bytes_field(self, number: int, value: bytes | None) -> MessageWriter:
        """A length-delimited field (wire type 2). Empty and None are omitted."""
        if value:
            self._buf += len_field(number, value)
        return self

    def string_field(self, number: int, value: str | None) -> MessageWriter:
        """A string field, UTF-8 encoded. Empty and None are omitted."""
        return self.bytes_field(number, value.encode() if value else None)

    def message_field(self, number: int, value: MessageWriter | bytes) -> MessageWriter:
        """A nested message. Written even when empty, as a set sub-message is (oneof bodies)."""
        self._buf += len_field(number, bytes(value))
        return self

    def __bytes__(self) -> bytes:
        return bytes(self._buf)

    def __len__(self) -> int:
        return len(self._buf)
