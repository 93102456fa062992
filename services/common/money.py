"""The one module that converts between `Decimal` and `google.type.Decimal` / `google.type.Money`.

Nothing here goes through `float`, and nothing is rounded: a value that does not fit is an error.
Inbound (from a request) problems raise `InvalidArgument` naming the field; outbound problems (our own
values) raise `ValueError`, because they are bugs.

Supported range, as decimal.proto asks services to document: at most `MAX_DIGITS` significant digits and
at most `MAX_SCALE` digits after the point, which Postgres `NUMERIC` and every IB price/quantity fit.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from google.type import decimal_pb2, money_pb2

from services.common.errors import FieldViolation, InvalidArgument

MAX_DIGITS = 38
MAX_SCALE = 18
MAX_STRING_LENGTH = 64
NANOS_PER_UNIT = 1_000_000_000
MAX_NANOS = NANOS_PER_UNIT - 1
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)

# decimal.proto: [Sign] (Digits ['.'] [Digits] | [Digits] '.' Digits) [('e'|'E') [Sign] Digits]
_DECIMAL_GRAMMAR = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_CURRENCY = re.compile(r"[A-Z]{3}")


def _invalid(field: str, description: str, reason: str = "INVALID_DECIMAL") -> InvalidArgument:
    return InvalidArgument(
        "INVALID_FIELD",
        f"{field}: {description}",
        metadata={"field": field},
        field_violations=[FieldViolation(field, description, reason)],
    )


def parse_decimal_string(text: str, field: str, *, required: bool = True) -> Decimal | None:
    """Validate a decimal string by decimal.proto's grammar and our range; `None` when empty and optional."""
    if text == "":
        if required:
            raise _invalid(field, "a value is required", "REQUIRED")
        return None
    if len(text) > MAX_STRING_LENGTH:
        raise _invalid(field, f"longer than {MAX_STRING_LENGTH} characters")
    # fullmatch, not match: `$` would accept a trailing newline.
    if not _DECIMAL_GRAMMAR.fullmatch(text):
        raise _invalid(field, f"not a decimal number: {text!r}")
    try:
        value = Decimal(text)
    except InvalidOperation:  # an exponent beyond what Decimal can hold at all
        raise _invalid(field, "exponent out of range") from None
    _check_range(value, field)
    # Canonical form (no exponent, no trailing zeros, no -0) so equal values look equal downstream.
    return Decimal(decimal_to_string(value)) if any(value.as_tuple().digits) else Decimal(0)


def _check_range(value: Decimal, field: str) -> None:
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # the grammar admits no NaN/Infinity
    if not any(digits):
        return
    # Strip trailing zeros without Decimal arithmetic (which would round at the context's precision).
    significant = "".join(map(str, digits)).lstrip("0")
    stripped = significant.rstrip("0")
    exponent += len(significant) - len(stripped)
    scale = max(0, -exponent)
    integer_digits = max(0, len(stripped) + exponent)
    if scale > MAX_SCALE:
        raise _invalid(field, f"more than {MAX_SCALE} digits after the decimal point")
    if integer_digits + scale > MAX_DIGITS:
        raise _invalid(field, f"more than {MAX_DIGITS} significant digits")


def decimal_from_proto(
    pb: decimal_pb2.Decimal | None, field: str, *, required: bool = True
) -> Decimal | None:
    """The `Decimal` in a request field, validated; `None` when empty and not required.

    Raises `InvalidArgument` (reason INVALID_FIELD, a BadRequest violation on `field`) for anything that is
    not a finite decimal within range. NaN and Infinity are rejected by the grammar.
    """
    text = "" if pb is None else pb.value
    return parse_decimal_string(text, field, required=required)


def require_decimal(pb: decimal_pb2.Decimal | None, field: str) -> Decimal:
    """`decimal_from_proto` for a required field, typed as a plain `Decimal`."""
    value = decimal_from_proto(pb, field, required=True)
    assert value is not None
    return value


def decimal_to_string(value: Decimal) -> str:
    """Canonical text: no exponent, no trailing fractional zeros, no `-0`. `Decimal('1.50E+3')` → `1500`."""
    if not value.is_finite():
        raise ValueError(f"cannot represent {value!r} as google.type.Decimal")
    text = format(value, "f")  # exact: formatting applies no context precision
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text


def decimal_to_proto(value: Decimal) -> decimal_pb2.Decimal:
    """A `google.type.Decimal` with the canonical string of `value` (ValueError for NaN/Infinity)."""
    return decimal_pb2.Decimal(value=decimal_to_string(value))


def money_from_proto(pb: money_pb2.Money | None, field: str) -> tuple[Decimal, str]:
    """(amount, currency) from a `google.type.Money`, enforcing money.proto's rules.

    `nanos` must lie in ±999,999,999 and share the sign of `units` when `units` is not zero; the currency
    must be a three-letter upper-case code. Violations raise `InvalidArgument` naming `field.<part>`.
    """
    if pb is None:
        raise _invalid(field, "a value is required", "REQUIRED")
    if not _CURRENCY.fullmatch(pb.currency_code):
        raise _invalid(f"{field}.currency_code", "must be a three-letter ISO 4217 code", "INVALID_CURRENCY")
    units, nanos = pb.units, pb.nanos
    if not -MAX_NANOS <= nanos <= MAX_NANOS:
        raise _invalid(f"{field}.nanos", "must be between -999999999 and 999999999", "INVALID_MONEY")
    if (units > 0 and nanos < 0) or (units < 0 and nanos > 0):
        raise _invalid(f"{field}.nanos", "must have the same sign as units", "INVALID_MONEY")
    negative = units < 0 or nanos < 0
    text = f"{'-' if negative else ''}{abs(units)}.{abs(nanos):09d}"
    return Decimal(decimal_to_string(Decimal(text))), pb.currency_code


def money_to_proto(amount: Decimal, currency: str) -> money_pb2.Money:
    """A `google.type.Money`; ValueError if `amount` has more than 9 fractional digits or overflows int64."""
    if not amount.is_finite():
        raise ValueError(f"cannot represent {amount!r} as google.type.Money")
    if not _CURRENCY.fullmatch(currency):
        raise ValueError(f"currency must be a three-letter ISO 4217 code, got {currency!r}")
    sign, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)
    coefficient = int("".join(map(str, digits)) or "0")
    shift = exponent + 9
    if shift >= 0:
        if coefficient and len(str(coefficient)) + shift > 29:  # > 1e28 nanos can never fit int64 units
            raise ValueError(f"{amount} overflows google.type.Money units")
        total_nanos = coefficient * 10**shift
    else:
        if -shift > 400:  # the quotient is zero or the value is not exact; skip a huge power
            total_nanos, rest = (0, coefficient)
        else:
            total_nanos, rest = divmod(coefficient, 10**-shift)
        if rest:
            raise ValueError(f"{amount} has more precision than google.type.Money's nanos")
    units, nanos = divmod(total_nanos, NANOS_PER_UNIT)
    if sign:
        units, nanos = -units, -nanos
    if not INT64_MIN <= units <= INT64_MAX:
        raise ValueError(f"{amount} overflows google.type.Money units")
    return money_pb2.Money(currency_code=currency, units=units, nanos=nanos)
