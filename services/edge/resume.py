"""Resume tokens: an opaque encoding of a position on the bus (a Redis stream id).

A token is `base64url(version | stream fingerprint | ms | seq)`. The fingerprint (CRC-32 of the stream
name) makes a token from another deployment's stream fail loudly instead of replaying the wrong history.
Clients must treat tokens as opaque; the layout may change with the version byte.
"""

from __future__ import annotations

import base64
import binascii
import functools
import struct
import zlib
from dataclasses import dataclass

_VERSION = 1
_LAYOUT = struct.Struct(">BIQQ")


class InvalidResumeToken(ValueError):
    """The token is malformed, of an unknown version, or from another stream."""


@dataclass(frozen=True, order=True)
class StreamPosition:
    """A Redis stream id `ms-seq`; ordered like the stream."""

    ms: int
    seq: int

    @classmethod
    def parse(cls, stream_id: str | bytes) -> StreamPosition:
        """`"1700000000000-3"` → StreamPosition(1700000000000, 3)."""
        text = stream_id.decode() if isinstance(stream_id, bytes) else stream_id
        ms, _, seq = text.partition("-")
        return cls(int(ms), int(seq or 0))

    def __str__(self) -> str:
        return f"{self.ms}-{self.seq}"


ORIGIN = StreamPosition(0, 0)
"""Before the first entry of any stream."""


def fingerprint(stream: str) -> int:
    """A short, stable identity of a stream name."""
    return zlib.crc32(stream.encode())


@functools.lru_cache(maxsize=4096)
def encode(stream: str, position: StreamPosition) -> str:
    """The token for `position` on `stream` (memoized: every subscriber of a fan-out asks for the same one)."""
    raw = _LAYOUT.pack(_VERSION, fingerprint(stream), position.ms, position.seq)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode(stream: str, token: str) -> StreamPosition:
    """The position a token encodes; raises InvalidResumeToken when it is not a token for `stream`."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        version, fp, ms, seq = _LAYOUT.unpack(raw)
    except (binascii.Error, struct.error, ValueError):
        raise InvalidResumeToken("malformed resume token") from None
    if version != _VERSION:
        raise InvalidResumeToken(f"unsupported resume token version {version}")
    if fp != fingerprint(stream):
        raise InvalidResumeToken("resume token belongs to another event stream")
    return StreamPosition(ms, seq)
