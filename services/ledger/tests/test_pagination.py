"""Page tokens are opaque, signed and bound to their query."""

from __future__ import annotations

import pytest

from services.ledger.pagination import InvalidPageToken, PageTokens, page_size

SECRET = b"0123456789abcdef-secret"


def test_token_round_trips_its_position():
    tokens = PageTokens(SECRET)
    token = tokens.encode("fills", {"account": "DU1"}, [42])
    assert tokens.decode(token, "fills", {"account": "DU1"}) == [42]


def test_tampered_token_is_refused():
    tokens = PageTokens(SECRET)
    token = tokens.encode("fills", {"account": "DU1"}, [42])
    body, mac = token.split(".")
    forged = PageTokens(b"another-secret-of-16").encode("fills", {"account": "DU1"}, [1]).split(".")[0]
    for bad in (forged + "." + mac, body[:-2] + "xy." + mac, body + "." + mac[:-2] + "AA", "garbage", ""):
        with pytest.raises(InvalidPageToken):
            tokens.decode(bad, "fills", {"account": "DU1"})


def test_token_used_with_other_filters_or_another_list_is_refused():
    tokens = PageTokens(SECRET)
    token = tokens.encode("fills", {"account": "DU1"}, [42])
    with pytest.raises(InvalidPageToken):
        tokens.decode(token, "fills", {"account": "DU2"})
    with pytest.raises(InvalidPageToken):
        tokens.decode(token, "orders", {"account": "DU1"})


def test_page_size_zero_means_default_and_large_is_capped():
    assert (page_size(0), page_size(5), page_size(10**6)) == (100, 5, 1000)
    with pytest.raises(ValueError):
        page_size(-1)
