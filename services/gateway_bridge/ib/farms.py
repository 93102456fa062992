"""IB data farm notices as data: code → (what the farm serves, whether it is usable now).

IB sends these as "errors" with reqId -1 and the farm's name after the last colon, e.g.
`2103 Market data farm connection is broken:usfarm`. They are informational at IB (orders route through the
order server, not the data farms), so they never change the session state; what they do change is whether
a *new* instrument can be qualified (sec-def farm) and whether a quote can be had (market data farm).
"""

from __future__ import annotations

from ibkr.gateway.v1 import gateway_pb2

Kind = gateway_pb2.DataFarmKind

# code → (kind, connected). "Inactive but available upon demand" (2107/2108) is usable.
FARM_NOTICES: dict[int, tuple[int, bool]] = {
    2103: (Kind.DATA_FARM_KIND_MARKET_DATA, False),
    2104: (Kind.DATA_FARM_KIND_MARKET_DATA, True),
    2108: (Kind.DATA_FARM_KIND_MARKET_DATA, True),
    2105: (Kind.DATA_FARM_KIND_HISTORICAL, False),
    2106: (Kind.DATA_FARM_KIND_HISTORICAL, True),
    2107: (Kind.DATA_FARM_KIND_HISTORICAL, True),
    2157: (Kind.DATA_FARM_KIND_SECURITY_DEFINITION, False),
    2158: (Kind.DATA_FARM_KIND_SECURITY_DEFINITION, True),
}


def farm_name(message: str) -> str:
    """The farm's name: what follows the last colon of IB's text (the whole text when there is none)."""
    return message.rsplit(":", 1)[-1].strip()
