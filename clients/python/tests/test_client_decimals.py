"""The client's Decimal conversions: exact round trips, floats refused, Money read exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest
from google.type import decimal_pb2, money_pb2
from hypothesis import given
from hypothesis import strategies as st
from ibkr.client import builders
from ibkr.client.async_client import AsyncClient
from ibkr.client.convert import to_json, to_python
from ibkr.client.decimals import (
    decimal_to_string,
    from_proto_decimal,
    from_proto_money,
    to_decimal,
    to_proto_decimal,
)

finite_decimals = st.decimals(allow_nan=False, allow_infinity=False)


@given(finite_decimals)
def test_any_finite_decimal_round_trips_through_the_proto_exactly(value: Decimal) -> None:
    assert from_proto_decimal(to_proto_decimal(value)) == value


@given(finite_decimals)
def test_the_wire_string_has_no_exponent_and_no_trailing_zeros(value: Decimal) -> None:
    text = to_proto_decimal(value).value
    assert "e" not in text.lower()
    assert text == "0" or not (("." in text) and text.endswith("0"))
    assert text != "-0"


@given(finite_decimals)
def test_a_decimal_given_as_its_string_converts_to_the_same_value(value: Decimal) -> None:
    assert to_decimal(str(value)) == value


@given(st.integers(min_value=-(10**30), max_value=10**30))
def test_ints_convert_exactly(value: int) -> None:
    assert from_proto_decimal(to_proto_decimal(value)) == Decimal(value)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_any_float_is_refused_with_a_type_error_naming_the_field(value: float) -> None:
    with pytest.raises(TypeError, match="limit_price: float .* not accepted"):
        to_decimal(value, "limit_price")


@pytest.mark.parametrize("value", [True, None, b"1", [1]])
def test_other_types_are_refused_with_a_type_error(value: object) -> None:
    with pytest.raises(TypeError):
        to_decimal(value, "quantity")  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-inf", "abc", "", "1.2.3", Decimal("NaN")])
def test_non_finite_or_malformed_values_are_refused_with_a_value_error(value: object) -> None:
    with pytest.raises(ValueError):
        to_decimal(value, "quantity")  # type: ignore[arg-type]


def test_an_order_with_a_float_price_is_refused_before_any_call() -> None:
    with pytest.raises(TypeError, match="limit_price"):
        builders.order_spec("AAPL", "buy", 1, limit_price=187.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="quantity"):
        AsyncClient._spec("AAPL", "buy", 0.5, None, None, None, "day", False)  # type: ignore[arg-type]


def test_an_unset_decimal_reads_as_none() -> None:
    assert from_proto_decimal(decimal_pb2.Decimal()) is None
    assert from_proto_decimal(None) is None


@given(
    st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1),
    st.integers(min_value=0, max_value=999_999_999),
)
def test_money_reads_exactly_with_nanos_sharing_the_sign_of_units(units: int, nanos: int) -> None:
    signed_nanos = -nanos if units < 0 else nanos
    money = from_proto_money(money_pb2.Money(currency_code="USD", units=units, nanos=signed_nanos))
    assert money is not None
    expected = Decimal(units) + Decimal(signed_nanos).scaleb(-9)
    assert money.amount == expected
    assert money.currency == "USD"


def test_negative_money_below_one_unit_keeps_its_sign() -> None:
    money = from_proto_money(money_pb2.Money(currency_code="USD", units=0, nanos=-500_000_000))
    assert money is not None and money.amount == Decimal("-0.5")


@given(finite_decimals)
def test_canonical_string_parses_back_to_the_same_value(value: Decimal) -> None:
    assert Decimal(decimal_to_string(value)) == value


def test_to_python_reads_every_decimal_of_an_order_spec_as_decimal_and_json_keeps_digits() -> None:
    spec = builders.order_spec("AAPL", "buy", "100.000000000000000001", limit_price="187.50")
    plain = to_python(spec)
    assert plain["quantity"] == Decimal("100.000000000000000001")
    assert plain["limit_price"] == Decimal("187.5")
    assert plain["side"] == "ORDER_SIDE_BUY"
    assert '"quantity":"100.000000000000000001"' in to_json(spec)
