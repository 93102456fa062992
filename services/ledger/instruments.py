"""Stable keys for instruments, shared by fills, positions, marks and journal accounts."""

from __future__ import annotations


def instrument_key(con_id: int, symbol: str, security_type: str, currency: str) -> str:
    """IB's contract id when known (it is unique and stable); otherwise symbol, type and currency.

    Bridge events normally carry a qualified contract, so `con:<id>` is the common case.
    """
    if con_id:
        return f"con:{con_id}"
    return f"sym:{symbol.upper()}:{security_type}:{currency.upper()}"
