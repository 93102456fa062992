"""AIP-158 pagination for the bridge's List RPCs: keyset pages behind opaque, tamper-evident tokens.

A page token is `base64url(JSON {"f": digest of the request's filters, "k": the last key returned}) "." MAC`.
Keyset, not offset: the next page starts after the last key, so orders leaving the open list between two
calls never make a page skip or repeat an item. The MAC (truncated HMAC-SHA256) makes any edit detectable;
it keeps tokens honest, not secret (the key is fixed, so both replicas of an active/standby pair accept
each other's tokens). A token altered, from another server, or replayed with other filters is
INVALID_ARGUMENT naming `page_token`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from services.common.errors import FieldViolation, InvalidArgument

T = TypeVar("T")
DEFAULT_PAGE = 100
MAX_PAGE = 1000
_KEY = b"ibkr.gateway_bridge.page_token.v1"
_MAC_HEX = 16


def _invalid(field: str, description: str) -> InvalidArgument:
    return InvalidArgument("INVALID_FIELD", f"{field}: {description}", metadata={"field": field},
                           field_violations=[FieldViolation(field, description, "INVALID")])


def _digest(filters: Sequence[Any]) -> str:
    return hashlib.sha256(json.dumps(list(filters), separators=(",", ":")).encode()).hexdigest()[:16]


def _mac(body: bytes) -> str:
    return hmac.new(_KEY, body, hashlib.sha256).hexdigest()[:_MAC_HEX]


def encode_token(filters: Sequence[Any], last_key: Sequence[Any]) -> str:
    body = base64.urlsafe_b64encode(json.dumps({"f": _digest(filters), "k": list(last_key)},
                                               separators=(",", ":")).encode()).rstrip(b"=")
    return f"{body.decode()}.{_mac(body)}"


def decode_token(token: str, filters: Sequence[Any]) -> list[Any] | None:
    """The last key a token carries (None for the first page); INVALID_ARGUMENT when it is not ours or was
    issued for other filters."""
    if not token:
        return None
    body, _, mac = token.rpartition(".")
    if not body or not hmac.compare_digest(mac.encode(), _mac(body.encode()).encode()):
        raise _invalid("page_token", "is not a token this server issued")
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (binascii.Error, ValueError):
        raise _invalid("page_token", "is not a token this server issued") from None
    if not isinstance(data, dict) or data.get("f") != _digest(filters) or not isinstance(data.get("k"), list):
        raise _invalid("page_token", "was issued for a request with other filters")
    return data["k"]


def page_size(requested: int) -> int:
    """AIP-158: 0 is the default, above the maximum is capped, negative is INVALID_ARGUMENT."""
    if requested < 0:
        raise _invalid("page_size", "must not be negative")
    return min(requested or DEFAULT_PAGE, MAX_PAGE)


def paginate(items: Sequence[T], key: Callable[[T], list[Any]], filters: Sequence[Any], requested_size: int,
             token: str) -> tuple[list[T], str]:
    """One page of `items` (any order; sorted here by `key`) after the token's key, and the next token."""
    size = page_size(requested_size)
    after = decode_token(token, filters)
    ordered = sorted(items, key=key)
    if after is not None:
        ordered = [item for item in ordered if key(item) > after]
    page = ordered[:size]
    more = len(ordered) > size
    return page, encode_token(filters, key(page[-1])) if more else ""
