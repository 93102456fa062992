"""Input validation for the public requests. Pure: a request in, `InvalidArgument` (every bad field) out.

The edge validates before anything goes downstream, so bad input never costs a risk check or a broker
message, and the caller gets every problem at once as `BadRequest` field violations with dotted paths
(`order.instrument.symbol`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from google.protobuf.message import Message
from ibkr.trading.v1 import instrument_pb2, order_pb2

from services.common.errors import FieldViolation, InvalidArgument
from services.common.money import parse_decimal_string

CLIENT_ORDER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}")
ID_MAX = 128
SYMBOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ./\-]{0,31}")
MAX_PAGE_SIZE = 1000

# Which price fields each order type needs (True), forbids (False) or leaves optional (absent).
_PRICE_RULES: dict[int, dict[str, bool]] = {
    order_pb2.ORDER_TYPE_MARKET: {"limit_price": False, "stop_price": False},
    order_pb2.ORDER_TYPE_LIMIT: {"limit_price": True, "stop_price": False},
    order_pb2.ORDER_TYPE_STOP: {"limit_price": False, "stop_price": True},
    order_pb2.ORDER_TYPE_STOP_LIMIT: {"limit_price": True, "stop_price": True},
    order_pb2.ORDER_TYPE_TRAILING_STOP: {"limit_price": False},
    order_pb2.ORDER_TYPE_TRAILING_STOP_LIMIT: {"limit_price": False},
    order_pb2.ORDER_TYPE_MARKET_ON_CLOSE: {"limit_price": False, "stop_price": False},
    order_pb2.ORDER_TYPE_LIMIT_ON_CLOSE: {"limit_price": True, "stop_price": False},
}
_TRAILING = frozenset({order_pb2.ORDER_TYPE_TRAILING_STOP, order_pb2.ORDER_TYPE_TRAILING_STOP_LIMIT})


# Plain decimal text that `parse_decimal_string` always accepts: at most 20 integer and 18 fractional digits,
# no sign, no exponent, digits on both sides of a point. Anything else takes the full parse.
_PLAIN_DECIMAL = re.compile(r"[0-9]{1,20}(?:\.[0-9]{1,18})?")
_CURRENCY = re.compile(r"[A-Z]{3}")
_ENUM_FACTS: dict[tuple[type, str], tuple[str, frozenset[int], str]] = {}


def _enum_facts(msg_type: type, name: str) -> tuple[str, frozenset[int], str]:
    # The enum's name, defined numbers and zero value's name, per (message type, field): reading them from
    # the descriptors costs more than the rest of a check.
    facts = _ENUM_FACTS.get((msg_type, name))
    if facts is None:
        enum_type = msg_type.DESCRIPTOR.fields_by_name[name].enum_type
        zero = enum_type.values_by_number.get(0)
        facts = _ENUM_FACTS[(msg_type, name)] = (enum_type.name, frozenset(enum_type.values_by_number),
                                                 zero.name if zero is not None else "")
    return facts


class Violations:
    """Collects field violations; `raise_if_any()` turns them into one INVALID_ARGUMENT."""

    def __init__(self) -> None:
        self.items: list[FieldViolation] = []

    def add(self, field: str, description: str, reason: str = "INVALID_FIELD") -> None:
        """Record one bad field."""
        self.items.append(FieldViolation(field, description, reason))

    def decimal(self, msg: Message, name: str, path: str, *, required: bool, positive: bool = True) -> None:
        """Check a `google.type.Decimal` field (as `decimal_from_proto` would), recording a violation instead."""
        text = getattr(msg, name).value if msg.HasField(name) else ""
        if _PLAIN_DECIMAL.fullmatch(text):
            # Always valid and in range (at most 20 + 18 digits), so no Decimal is needed: it is > 0 exactly
            # when some digit is not zero.
            if positive and not text.strip("0."):
                self.add(path, "must be greater than zero", "NOT_POSITIVE")
            return
        try:
            value = parse_decimal_string(text, path, required=required)
        except InvalidArgument as err:
            self.items.extend(err.field_violations)
            return
        if value is not None and positive and value <= 0:
            self.add(path, "must be greater than zero", "NOT_POSITIVE")

    def enum(self, msg: Message, name: str, path: str, *, required: bool = True) -> None:
        """Reject `*_UNSPECIFIED` (when required) and numbers the enum does not define."""
        value = getattr(msg, name)
        enum_name, numbers, unspecified = _enum_facts(type(msg), name)
        if value not in numbers:
            self.add(path, f"unknown {enum_name} value {value}", "UNKNOWN_ENUM_VALUE")
        elif required and value == 0:
            self.add(path, f"a {enum_name} is required ({unspecified} is not allowed)", "UNSPECIFIED")

    def raise_if_any(self) -> None:
        """Raise INVALID_ARGUMENT naming every bad field, if there is one."""
        if self.items:
            fields = ", ".join(dict.fromkeys(v.field for v in self.items))
            first = self.items[0]
            raise InvalidArgument("INVALID_FIELD", f"invalid {fields}: {first.description}",
                                  metadata={"field": first.field}, field_violations=self.items)


def check_instrument(v: Violations, msg: Message, name: str, path: str) -> None:
    """An instrument: present, with a symbol (or con_id) and a security type."""
    if not msg.HasField(name):
        v.add(path, "an instrument is required", "REQUIRED")
        return
    inst: instrument_pb2.Instrument = getattr(msg, name)
    if inst.con_id < 0:
        v.add(f"{path}.con_id", "must not be negative")
    if not inst.symbol and inst.con_id == 0:
        v.add(f"{path}.symbol", "a symbol is required", "REQUIRED")
    elif inst.symbol and not SYMBOL.fullmatch(inst.symbol):
        v.add(f"{path}.symbol", "not a valid symbol")
    v.enum(inst, "security_type", f"{path}.security_type")
    v.enum(inst, "right", f"{path}.right", required=False)
    if inst.currency and not _CURRENCY.fullmatch(inst.currency):
        v.add(f"{path}.currency", "must be a three-letter ISO 4217 code")


def check_order_spec(v: Violations, msg: Message, name: str, path: str) -> None:
    """A full order spec: instrument, side, positive quantity, type with the prices it needs, time in force."""
    if not msg.HasField(name):
        v.add(path, "an order is required", "REQUIRED")
        return
    spec: order_pb2.OrderSpec = getattr(msg, name)
    check_instrument(v, spec, "instrument", f"{path}.instrument")
    v.enum(spec, "side", f"{path}.side")
    v.decimal(spec, "quantity", f"{path}.quantity", required=True)
    v.enum(spec, "order_type", f"{path}.order_type")
    v.enum(spec, "time_in_force", f"{path}.time_in_force")
    v.enum(spec, "oca_type", f"{path}.oca_type", required=False)
    rules = _PRICE_RULES.get(spec.order_type, {})
    for price_field in ("limit_price", "stop_price"):
        rule = rules.get(price_field)
        if rule is False and spec.HasField(price_field):
            v.add(f"{path}.{price_field}", f"must be unset for {order_pb2.OrderType.Name(spec.order_type)}",
                  "NOT_ALLOWED")
        elif rule is True or (rule is None and spec.HasField(price_field)):
            v.decimal(spec, price_field, f"{path}.{price_field}", required=True)
    if spec.order_type in _TRAILING:
        amount = spec.HasField("trailing_amount")
        percent = spec.HasField("trailing_percent")
        if amount == percent:
            v.add(f"{path}.trailing_amount", "exactly one of trailing_amount and trailing_percent is required",
                  "ONE_OF_REQUIRED")
        for trail in ("trailing_amount", "trailing_percent"):
            if spec.HasField(trail):
                v.decimal(spec, trail, f"{path}.{trail}", required=True)
        if spec.order_type == order_pb2.ORDER_TYPE_TRAILING_STOP_LIMIT:
            v.decimal(spec, "trailing_limit_offset", f"{path}.trailing_limit_offset", required=True,
                      positive=False)
    if spec.time_in_force == order_pb2.TIME_IN_FORCE_GTD and not spec.HasField("good_till_time"):
        v.add(f"{path}.good_till_time", "required for TIME_IN_FORCE_GTD", "REQUIRED")
    if spec.HasField("display_quantity"):
        v.decimal(spec, "display_quantity", f"{path}.display_quantity", required=True)
    if spec.HasField("bracket"):
        bracket = spec.bracket
        for leg in ("take_profit_price", "stop_loss_price", "stop_loss_limit_price"):
            if bracket.HasField(leg):
                v.decimal(bracket, leg, f"{path}.bracket.{leg}", required=True)
        v.enum(bracket, "time_in_force", f"{path}.bracket.time_in_force", required=False)


def check_client_order_id(v: Violations, value: str, path: str = "client_order_id", *, required: bool) -> None:
    """1–64 characters of letters, digits and `._:-`, starting with a letter or digit."""
    if not value:
        if required:
            v.add(path, "a client_order_id is required", "REQUIRED")
        return
    if not CLIENT_ORDER_ID.fullmatch(value):
        v.add(path, "1-64 characters: letters, digits and ._:- (starting with a letter or digit)")


def check_order_key(v: Violations, msg: Message) -> None:
    """The `key` oneof (order_id or client_order_id) is set and well-formed."""
    which = msg.WhichOneof("key")
    if which is None or not getattr(msg, which):
        v.add("order_id", "one of order_id and client_order_id is required", "REQUIRED")
    elif which == "client_order_id":
        check_client_order_id(v, msg.client_order_id, required=True)
    elif len(msg.order_id) > ID_MAX:
        v.add("order_id", f"longer than {ID_MAX} characters")


def check_page(v: Violations, msg: Message) -> None:
    """AIP-158 paging fields."""
    if msg.page_size < 0:
        v.add("page_size", "must not be negative")
    elif msg.page_size > MAX_PAGE_SIZE:
        v.add("page_size", f"at most {MAX_PAGE_SIZE}")
    if len(msg.page_token) > 1024:
        v.add("page_token", "too long")


def check_symbol_filter(v: Violations, value: str, path: str = "symbol") -> None:
    """An optional symbol filter."""
    if value and not SYMBOL.fullmatch(value):
        v.add(path, "not a valid symbol")


def check_enum_list(v: Violations, msg: Message, name: str, path: str) -> None:
    """A repeated enum: every value defined and none UNSPECIFIED."""
    enum_type = msg.DESCRIPTOR.fields_by_name[name].enum_type
    for i, value in enumerate(getattr(msg, name)):
        if value == 0 or enum_type.values_by_number.get(value) is None:
            v.add(f"{path}[{i}]", f"not a valid {enum_type.name}", "INVALID_ENUM_VALUE")


def check_symbols(v: Violations, symbols: Iterable[str], path: str = "symbols") -> None:
    """A list of symbols."""
    for i, symbol in enumerate(symbols):
        if not SYMBOL.fullmatch(symbol):
            v.add(f"{path}[{i}]", "not a valid symbol")
