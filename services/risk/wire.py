"""Protocol-buffer wire encoding by hand, for the few places where concatenating bytes replaces building a
message only to serialize it (decisions, the order path's request and answer)."""

from __future__ import annotations

SMALL = tuple(bytes((i,)) for i in range(128))  # one-byte varints: every tag and almost every length here


def varint(n: int) -> bytes:
    """A non-negative integer as a base-128 varint."""
    if n < 128:
        return SMALL[n]
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (tag, length, payload); for field numbers below 16."""
    return SMALL[number << 3 | 2] + varint(len(payload)) + payload


def text_field(number: int, text: str) -> bytes:
    """A string field, or nothing for the empty string (proto3 does not send a default)."""
    return field(number, text.encode()) if text else b""
