"""TWS API framing: a pure codec with no I/O.

Every message, both ways, is a 4-byte big-endian length followed by NUL-terminated fields. The only
exception is the client's opening: the raw bytes ``API\\0`` and then one length-prefixed version string
(``v157..178`` plus optional connect options) that is not NUL-terminated.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

API_PREFIX = b"API\0"
MAX_FRAME = 16 * 1024 * 1024  # real TWS refuses far smaller messages; anything above is a broken stream
_LEN = struct.Struct(">I")


class FramingError(Exception):
    """The byte stream cannot be split into frames any more; the connection has to be closed."""


def encode(fields: Sequence[str]) -> bytes:
    """One framed message from already-formatted string fields."""
    payload = ("\0".join(fields) + "\0").encode()
    return _LEN.pack(len(payload)) + payload


def encode_many(messages: Iterable[Sequence[str]]) -> bytes:
    return b"".join(encode(m) for m in messages)


def split_fields(payload: bytes) -> list[str]:
    """Fields of one frame payload, decoded the way ib_async does (UTF-8, backslash-escaped errors)."""
    fields = payload.decode(errors="backslashreplace").split("\0")
    if fields and fields[-1] == "":
        fields.pop()  # the terminating NUL
    return fields


@dataclass(frozen=True)
class Hello:
    """The client's version range and connect options, from the opening bytes."""

    min_version: int
    max_version: int
    options: str


def parse_hello(version_text: bytes) -> Hello:
    """Parse ``v157..178 [+options]``; a single ``v178`` means min == max."""
    text = version_text.decode(errors="replace").strip()
    if not text.startswith("v"):
        raise FramingError(f"bad version string {text!r}")
    head, _, options = text[1:].partition(" ")
    low, sep, high = head.partition("..")
    try:
        lo = int(low)
        hi = int(high) if sep else lo
    except ValueError as exc:
        raise FramingError(f"bad version string {text!r}") from exc
    if lo > hi:
        raise FramingError(f"bad version range {text!r}")
    return Hello(lo, hi, options.strip())


def negotiate(hello: Hello, server_min: int, server_max: int) -> int | None:
    """The version to speak: the highest both sides support, or None when the ranges do not meet."""
    version = min(hello.max_version, server_max)
    if version < max(hello.min_version, server_min):
        return None
    return version


class FrameDecoder:
    """Incremental splitter: feed bytes, get complete frames (coalesced and partial reads both work).

    The opening (``API\\0`` + length-prefixed version string) is returned once as a `Hello`.
    """

    def __init__(self, expect_hello: bool = True) -> None:
        self._buf = bytearray()
        self._expect_hello = expect_hello

    def feed(self, data: bytes) -> list[Hello | list[str]]:
        self._buf += data
        out: list[Hello | list[str]] = []
        buf = self._buf
        pos = 0
        if self._expect_hello:
            if len(buf) < len(API_PREFIX):
                if not API_PREFIX.startswith(bytes(buf)):
                    raise FramingError("connection does not start with API\\0")
                return out
            if bytes(buf[:4]) != API_PREFIX:
                raise FramingError("connection does not start with API\\0")
            if len(buf) < 8:
                return out
            (n,) = _LEN.unpack_from(buf, 4)
            if n > 1024:
                raise FramingError("version string too long")
            if len(buf) < 8 + n:
                return out
            out.append(parse_hello(bytes(buf[8 : 8 + n])))
            pos = 8 + n
            self._expect_hello = False
        size = len(buf)
        while size - pos >= 4:
            (n,) = _LEN.unpack_from(buf, pos)
            if n > MAX_FRAME:
                raise FramingError(f"frame of {n} bytes is over the {MAX_FRAME} limit")
            end = pos + 4 + n
            if end > size:
                break
            out.append(split_fields(bytes(buf[pos + 4 : end])))
            pos = end
        if pos:
            del buf[:pos]
        return out
