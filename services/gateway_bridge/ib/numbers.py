"""IB numbers → Decimal at the boundary: via `str`, with every sentinel mapped to `None` (field notes §2.4).

IB marks "unset" with UNSET_DOUBLE (float max), UNSET_INTEGER (2**31-1), NaN, infinities, and -1 for
commissions and prices of an absent quote. None of these may leak past the bridge as a number.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

UNSET_DOUBLE = 1.7976931348623157e308
UNSET_INTEGER = 2**31 - 1
# Anything this large is a sentinel or garbage, never a price, quantity or amount.
_ABSURD = Decimal("1e30")


def to_decimal(value: float | str | Decimal | None) -> Decimal | None:
    """A finite Decimal, or None for None, "", NaN, ±inf, UNSET_DOUBLE and UNSET_INTEGER."""
    if value is None or value == "":
        return None
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value) or value == UNSET_DOUBLE):
        return None
    if isinstance(value, int) and value == UNSET_INTEGER:
        return None
    try:
        result = Decimal(str(value))  # str() of a float is the shortest repr: 100.1 stays 100.1
    except InvalidOperation:
        return None
    if not result.is_finite() or abs(result) >= _ABSURD:
        return None
    return normalize(result)


def to_price(value: float | str | Decimal | None) -> Decimal | None:
    """A price: like `to_decimal`, and -1 (IB's "no quote") and 0 are absent too."""
    result = to_decimal(value)
    if result is None or result <= 0:
        return None
    return result


def to_commission(value: float | str | Decimal | None) -> Decimal | None:
    """A commission: -1 is a sentinel, not a rebate (nautilus PR #4230)."""
    result = to_decimal(value)
    if result is None or result == -1:
        return None
    return result


def to_quantity(value: float | str | Decimal | None) -> Decimal:
    """A quantity (100 and 100.0 alike); absent counts as zero."""
    result = to_decimal(value)
    return Decimal(0) if result is None else result


def normalize(value: Decimal) -> Decimal:
    """Drop trailing zeros without exponent notation: 100.0 → 100, 1.50 → 1.5."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()
