"""AIP-158 page tokens: opaque, tamper-evident, bound to the query's filters. Pure.

A token is `base64url(payload) "." base64url(HMAC-SHA256(secret, payload))[:16 bytes]` where the payload is
JSON with the list it pages (`l`), a digest of the request's filters (`f`) and the keyset position (`k`).
A token that was edited, forged, or sent with other filters is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


class InvalidPageToken(ValueError):
    """The token was not issued by us for this list and these filters."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def filters_digest(filters: Mapping[str, Any]) -> str:
    """A short digest of the request's filters (everything but page_size and page_token)."""
    canonical = json.dumps(filters, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def page_size(requested: int, default: int = DEFAULT_PAGE_SIZE, maximum: int = MAX_PAGE_SIZE) -> int:
    """AIP-158: 0 means the default, larger than the maximum is capped (negative is the caller's error)."""
    if requested < 0:
        raise ValueError("page_size must not be negative")
    return default if requested == 0 else min(requested, maximum)


class PageTokens:
    """Signs and verifies page tokens with one secret."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("page token secret must be at least 16 bytes")
        self._secret = secret

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()[:16]

    def encode(self, list_name: str, filters: Mapping[str, Any], position: list[Any]) -> str:
        """A token resuming `list_name` after keyset `position`."""
        payload = json.dumps({"l": list_name, "f": filters_digest(filters), "k": position},
                             separators=(",", ":")).encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def decode(self, token: str, list_name: str, filters: Mapping[str, Any]) -> list[Any]:
        """The keyset position of a token; raises `InvalidPageToken` if it is not genuine or not for this query."""
        try:
            body, mac = token.split(".")
            payload = _unb64(body)
            genuine = hmac.compare_digest(_unb64(mac), self._mac(payload))
        except (ValueError, TypeError):
            raise InvalidPageToken("malformed page token") from None
        if not genuine:
            raise InvalidPageToken("page token was altered or not issued by this ledger")
        data = json.loads(payload)
        if data.get("l") != list_name or data.get("f") != filters_digest(filters):
            raise InvalidPageToken("page token belongs to another query; repeat the original filters")
        position = data.get("k")
        if not isinstance(position, list):
            raise InvalidPageToken("malformed page token")
        return position
