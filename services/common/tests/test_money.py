"""Decimal and Money conversions: exact round trips, strict parsing, money.proto's sign rules."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from google.type import decimal_pb2, money_pb2
from hypothesis import example, given
from hypothesis import strategies as st

from services.common.errors import InvalidArgument
from services.common.money import (
    MAX_DIGITS,
    MAX_SCALE,
    decimal_from_proto,
    decimal_to_proto,
    money_from_proto,
    money_to_proto,
    require_decimal,
)

CANONICAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?")


def in_range_decimals() -> st.SearchStrategy[Decimal]:
    """Finite decimals within the documented range (≤ 38 digits, ≤ 18 after the point)."""
    return st.builds(
        lambda coefficient, scale: Decimal(coefficient).scaleb(-scale),
        st.integers(min_value=-(10**20) + 1, max_value=10**20 - 1),
        st.integers(min_value=0, max_value=MAX_SCALE),
    )


def pb(text: str) -> decimal_pb2.Decimal:
    return decimal_pb2.Decimal(value=text)


@given(in_range_decimals())
@example(Decimal(0))
@example(Decimal("-0.000"))
@example(Decimal("1E+5"))
@example(Decimal("123456789012345678.901234567890123456"))
def test_decimal_round_trip_is_exact_and_canonical(value: Decimal) -> None:
    proto = decimal_to_proto(value)
    assert CANONICAL.fullmatch(proto.value), proto.value
    assert "e" not in proto.value.lower()
    assert decimal_from_proto(proto, "qty") == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.50", "1.5"),
        ("+2.5", "2.5"),
        (".5", "0.5"),
        ("5.", "5"),
        ("2.5E8", "250000000"),
        ("2.5e-3", "0.0025"),
        ("-0", "0"),
        ("0e99999", "0"),
        ("100", "100"),
    ],
)
def test_decimal_grammar_variants_are_accepted_and_normalised(text: str, expected: str) -> None:
    value = require_decimal(pb(text), "price")
    assert decimal_to_proto(value).value == expected


@pytest.mark.parametrize(
    "text",
    [
        "NaN",
        "nan",
        "Infinity",
        "-inf",
        "sNaN",
        "1,5",
        "1 000",
        " 1",
        "1 ",
        "1\n",
        "0x10",
        "1e",
        "e5",
        ".",
        "+",
        "1.2.3",
        "١٢",
        "1e999999999",
        "1e-999999999",
        "9" * 39,
        "0." + "0" * 18 + "1",
        "1" * 65,
        "1e99999999999999999999",
    ],
)
def test_bad_decimal_strings_are_invalid_argument_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        decimal_from_proto(pb(text), "order.limit_price")
    err = caught.value
    assert err.reason == "INVALID_FIELD"
    assert [v.field for v in err.field_violations] == ["order.limit_price"]
    assert err.message.startswith("order.limit_price: ")


@given(
    st.text(max_size=40).filter(
        lambda s: not re.fullmatch(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", s)
    )
)
def test_anything_outside_the_grammar_is_rejected(text: str) -> None:
    if text == "":
        assert decimal_from_proto(pb(text), "q", required=False) is None
        return
    with pytest.raises(InvalidArgument):
        decimal_from_proto(pb(text), "q")


def test_empty_is_an_error_when_required_and_none_otherwise() -> None:
    with pytest.raises(InvalidArgument) as caught:
        decimal_from_proto(pb(""), "order.quantity")
    assert caught.value.field_violations[0].reason == "REQUIRED"
    assert decimal_from_proto(pb(""), "order.stop_price", required=False) is None
    assert decimal_from_proto(None, "order.stop_price", required=False) is None


def test_range_limits_are_the_documented_ones() -> None:
    assert require_decimal(pb("9" * MAX_DIGITS), "q") == Decimal("9" * MAX_DIGITS)
    assert require_decimal(pb("0." + "0" * (MAX_SCALE - 1) + "1"), "q") == Decimal("1E-18")
    assert require_decimal(pb("1.000000000000000000000"), "q") == 1  # trailing zeros are not precision


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_non_finite_values_cannot_be_sent(bad: Decimal) -> None:
    with pytest.raises(ValueError):
        decimal_to_proto(bad)
    with pytest.raises(ValueError):
        money_to_proto(bad, "USD")


def money_amounts() -> st.SearchStrategy[Decimal]:
    return st.builds(
        lambda nanos, scale: Decimal(nanos).scaleb(-scale),
        st.integers(min_value=-(2**63) * 10**9 + 1, max_value=(2**63 - 1) * 10**9 + 999_999_999),
        st.integers(min_value=0, max_value=9),
    ).filter(lambda d: -(2**63) - 1 < d < 2**63)


@given(money_amounts(), st.sampled_from(["USD", "EUR", "JPY"]))
@example(Decimal("-0.5"), "USD")
@example(Decimal("-1.000000001"), "USD")
@example(Decimal("9223372036854775807.999999999"), "USD")
@example(Decimal("-9223372036854775808.999999999"), "USD")
def test_money_round_trip_is_exact_and_signs_agree(amount: Decimal, currency: str) -> None:
    proto = money_to_proto(amount, currency)

    assert -999_999_999 <= proto.nanos <= 999_999_999
    assert not (proto.units > 0 and proto.nanos < 0) and not (proto.units < 0 and proto.nanos > 0)
    assert Decimal(proto.units) + Decimal(proto.nanos).scaleb(-9) == amount
    assert money_from_proto(proto, "commission") == (amount, currency)


@pytest.mark.parametrize(
    "amount",
    [Decimal("0.0000000001"), Decimal("1.1234567891"), Decimal(9223372036854775808), Decimal("1E+30")],
)
def test_money_never_rounds_or_overflows_silently(amount: Decimal) -> None:
    with pytest.raises(ValueError):
        money_to_proto(amount, "USD")


def test_trailing_zeros_beyond_nanos_are_not_extra_precision() -> None:
    assert money_to_proto(Decimal("1.5000000000000"), "USD") == money_pb2.Money(
        currency_code="USD", units=1, nanos=500_000_000
    )


@pytest.mark.parametrize(
    ("money", "field"),
    [
        (money_pb2.Money(currency_code="USD", units=1, nanos=-1), "fee.nanos"),
        (money_pb2.Money(currency_code="USD", units=-1, nanos=1), "fee.nanos"),
        (money_pb2.Money(currency_code="USD", units=0, nanos=1_000_000_000), "fee.nanos"),
        (money_pb2.Money(currency_code="usd", units=1), "fee.currency_code"),
        (money_pb2.Money(currency_code="", units=1), "fee.currency_code"),
    ],
)
def test_invalid_money_is_invalid_argument_naming_the_part(money: money_pb2.Money, field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        money_from_proto(money, "fee")
    assert caught.value.field_violations[0].field == field


def test_zero_units_allow_either_nanos_sign() -> None:
    assert money_from_proto(money_pb2.Money(currency_code="USD", nanos=-5), "c") == (Decimal("-5E-9"), "USD")
    assert money_from_proto(money_pb2.Money(currency_code="USD", nanos=5), "c") == (Decimal("5E-9"), "USD")
