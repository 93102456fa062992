"""Responses as plain Python: any message → dict with `Decimal` amounts, aware datetimes and enum names.

The client returns the generated messages (typed by their `.pyi` stubs); `to_python` is for code that
wants plain values (and for the CLI's `--json`), with every `google.type.Decimal` read as a `Decimal`
through `ibkr.client.decimals`, never through float.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from ibkr.client.decimals import from_proto_decimal, from_proto_money


def _scalar_message(message: Message) -> tuple[bool, Any]:
    """(True, value) for well-known and google.type messages read as one Python value, else (False, None)."""
    name = message.DESCRIPTOR.full_name
    if name == "google.type.Decimal":
        return True, from_proto_decimal(message)  # type: ignore[arg-type]
    if name == "google.type.Money":
        money = from_proto_money(message)  # type: ignore[arg-type]
        return True, None if money is None else {"amount": money.amount, "currency": money.currency}
    if name == "google.protobuf.Timestamp":
        return True, message.ToDatetime(tzinfo=dt.UTC)  # type: ignore[attr-defined]
    if name == "google.protobuf.Duration":
        return True, message.ToTimedelta()  # type: ignore[attr-defined]
    if name == "google.type.Date":
        return True, f"{message.year:04d}-{message.month:02d}-{message.day:02d}"  # type: ignore[attr-defined]
    return False, None


def _value(field: FieldDescriptor, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return to_python(value)
    if field.type == FieldDescriptor.TYPE_ENUM:
        enum = field.enum_type.values_by_number.get(value)
        return enum.name if enum is not None else value
    if field.type == FieldDescriptor.TYPE_BYTES:
        return value.hex()
    return value


def to_python(message: Message) -> Any:
    """`message` as plain Python: set fields only (like proto3 JSON), Decimals exact, enums by name."""
    is_scalar, scalar = _scalar_message(message)
    if is_scalar:
        return scalar
    result: dict[str, Any] = {}
    for field, value in message.ListFields():
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            result[field.name] = {k: _value(value_field, v) for k, v in value.items()}
        elif field.is_repeated:
            result[field.name] = [_value(field, v) for v in value]
        else:
            result[field.name] = _value(field, value)
    return result


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # a string keeps every digit; JSON numbers are doubles to most readers
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.timedelta):
        return f"{value.total_seconds()}s"
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def to_json(value: Any) -> str:
    """One line of JSON for `to_python` output (or a message): Decimals as strings, times in RFC 3339."""
    if isinstance(value, Message):
        value = to_python(value)
    return json.dumps(value, default=_json_default, separators=(",", ":"))
