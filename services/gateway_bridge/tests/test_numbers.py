"""IB numbers become Decimals at the boundary and sentinels never leak."""

import math
from decimal import Decimal

import pytest

from services.gateway_bridge.ib.numbers import (
    UNSET_DOUBLE,
    UNSET_INTEGER,
    to_commission,
    to_decimal,
    to_price,
    to_quantity,
)


@pytest.mark.parametrize("sentinel", [None, "", UNSET_DOUBLE, UNSET_INTEGER, math.nan, math.inf, -math.inf, 1e300])
def test_sentinels_become_absent(sentinel):
    assert to_decimal(sentinel) is None


def test_float_converts_through_its_shortest_text():
    assert to_decimal(100.1) == Decimal("100.1") and str(to_decimal(100.0)) == "100"


def test_quantity_accepts_int_and_float_alike():
    assert to_quantity(100) == to_quantity(100.0) == Decimal(100)
    assert to_quantity(None) == Decimal(0)


def test_no_quote_price_minus_one_is_absent():
    assert to_price(-1.0) is None and to_price(0.0) is None and to_price(1.25) == Decimal("1.25")


def test_commission_minus_one_is_a_sentinel_not_a_rebate():
    assert to_commission(-1.0) is None and to_commission(1.0) == Decimal(1)
