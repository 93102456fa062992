"""The client's one module converting between Python `Decimal` and `google.type.Decimal` / `Money`.

Prices and quantities go in as `Decimal`, `str` or `int` and come out as `Decimal`. A `float` is refused
with `TypeError`: `0.1` is not one tenth in binary, and an order for the wrong quantity is worse than an
error. Nothing here rounds; a value the wire format cannot hold exactly is a `ValueError`.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from google.type import decimal_pb2, money_pb2

DecimalInput = Decimal | str | int
"""What the client accepts wherever the API takes a price or a quantity."""


class MoneyAmount(NamedTuple):
    """A `google.type.Money` read as an exact `Decimal` amount and its ISO 4217 currency code."""

    amount: Decimal
    currency: str


def to_decimal(value: DecimalInput, field: str = "value") -> Decimal:
    """`value` as a finite `Decimal`; `TypeError` for a float (or any other type), `ValueError` if not a number.

    `field` names the argument in the message, e.g. `quantity`.
    """
    # bool is an int subclass, but `True` shares would be a bug, not a quantity.
    if isinstance(value, float):
        raise TypeError(
            f"{field}: float {value!r} is not accepted for prices and quantities (binary floating point is "
            f"inexact); pass a Decimal, a str such as {str(value)!r}, or an int"
        )
    if isinstance(value, bool) or not isinstance(value, Decimal | str | int):
        raise TypeError(f"{field}: expected Decimal, str or int, got {type(value).__name__}")
    if isinstance(value, Decimal):
        result = value
    else:
        try:
            result = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation:
            raise ValueError(f"{field}: not a decimal number: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"{field}: must be a finite number, got {value!r}")
    return result


def decimal_to_string(value: Decimal) -> str:
    """Canonical text for the wire: no exponent, no trailing fractional zeros, no `-0`."""
    if not value.is_finite():
        raise ValueError(f"cannot represent {value!r} as google.type.Decimal")
    text = format(value, "f")  # exact: formatting applies no context precision
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def to_proto_decimal(value: DecimalInput, field: str = "value") -> decimal_pb2.Decimal:
    """A `google.type.Decimal` holding `value` exactly (see `to_decimal` for what is accepted)."""
    return decimal_pb2.Decimal(value=decimal_to_string(to_decimal(value, field)))


def optional_proto_decimal(value: DecimalInput | None, field: str = "value") -> decimal_pb2.Decimal | None:
    """`to_proto_decimal`, passing `None` through (an unset optional field)."""
    return None if value is None else to_proto_decimal(value, field)


def from_proto_decimal(pb: decimal_pb2.Decimal | None) -> Decimal | None:
    """The `Decimal` in a response field; `None` when the field is unset (empty string)."""
    if pb is None or pb.value == "":
        return None
    try:
        return Decimal(pb.value)
    except InvalidOperation:
        raise ValueError(f"the server sent an invalid google.type.Decimal: {pb.value!r}") from None


def from_proto_money(pb: money_pb2.Money | None) -> MoneyAmount | None:
    """The exact amount of a `google.type.Money`; `None` when unset (no currency code)."""
    if pb is None or (pb.currency_code == "" and pb.units == 0 and pb.nanos == 0):
        return None
    negative = pb.units < 0 or pb.nanos < 0
    amount = Decimal(f"{'-' if negative else ''}{abs(pb.units)}.{abs(pb.nanos):09d}")
    return MoneyAmount(Decimal(decimal_to_string(amount)), pb.currency_code)
