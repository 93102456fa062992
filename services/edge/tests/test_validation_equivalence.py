"""The validators' fast paths give exactly the violations the straightforward checks gave."""

from __future__ import annotations

import random

from google.type import decimal_pb2
from ibkr.trading.v1 import instrument_pb2, order_pb2

from services.common.errors import InvalidArgument
from services.common.money import decimal_from_proto
from services.edge import validation as val


def reference_decimal(v: val.Violations, msg, name: str, path: str, *, required: bool, positive: bool = True) -> None:
    """The check as it was: parse through `decimal_from_proto`, then compare with zero."""
    pb = getattr(msg, name) if msg.HasField(name) else None
    try:
        value = decimal_from_proto(pb, path, required=required)
    except InvalidArgument as err:
        v.items.extend(err.field_violations)
        return
    if value is not None and positive and value <= 0:
        v.add(path, "must be greater than zero", "NOT_POSITIVE")


def reference_enum(v: val.Violations, msg, name: str, path: str, *, required: bool = True) -> None:
    """The enum check as it was, reading the descriptors on every call."""
    value = getattr(msg, name)
    enum_type = msg.DESCRIPTOR.fields_by_name[name].enum_type
    if enum_type.values_by_number.get(value) is None:
        v.add(path, f"unknown {enum_type.name} value {value}", "UNKNOWN_ENUM_VALUE")
    elif required and value == 0:
        v.add(path, f"a {enum_type.name} is required ({enum_type.values_by_number[0].name} is not allowed)",
              "UNSPECIFIED")


def _random_decimal_text(rng: random.Random) -> str:
    alphabet = "0123456789" * 4 + ".-+eE x٣"
    if rng.random() < 0.5:
        whole = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 24)))
        frac = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 21)))
        return whole + rng.choice(["", ".", "."]) + frac
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 70)))


def _items(v: val.Violations) -> list[tuple[str, str, str]]:
    return [(i.field, i.description, i.reason) for i in v.items]


def test_decimal_check_matches_the_full_parse() -> None:
    rng = random.Random(7)
    texts = ["", "0", "0.0", "00.000", "1", "0.000000000000000001", "0.0000000000000000001", "5.", ".5", "+1",
             "-1", "1e3", "99999999999999999999.999999999999999999", "999999999999999999999", "1" * 39, "1" * 38]
    texts += [_random_decimal_text(rng) for _ in range(20000)]
    for text in texts:
        for set_field in (True, False):
            spec = order_pb2.OrderSpec()
            if set_field:
                spec.quantity.CopyFrom(decimal_pb2.Decimal(value=text))
            for required in (True, False):
                for positive in (True, False):
                    got, want = val.Violations(), val.Violations()
                    got.decimal(spec, "quantity", "order.quantity", required=required, positive=positive)
                    reference_decimal(want, spec, "quantity", "order.quantity", required=required, positive=positive)
                    assert _items(got) == _items(want), (text, set_field, required, positive)


def test_enum_check_matches_the_descriptor_reads() -> None:
    cases = [(order_pb2.OrderSpec, "side"), (order_pb2.OrderSpec, "order_type"), (order_pb2.OrderSpec, "oca_type"),
             (order_pb2.OrderSpec, "time_in_force"), (instrument_pb2.Instrument, "security_type"),
             (instrument_pb2.Instrument, "right")]
    for msg_type, name in cases:
        for value in [*range(-3, 40), 2**31 - 1, -(2**31)]:
            msg = msg_type()
            setattr(msg, name, value)
            for required in (True, False):
                got, want = val.Violations(), val.Violations()
                got.enum(msg, name, f"order.{name}", required=required)
                reference_enum(want, msg, name, f"order.{name}", required=required)
                assert _items(got) == _items(want), (msg_type, name, value, required)
