"""Order intents: a PlaceOrder request validated into Decimals, and its idempotency fingerprint.

Validation is declarative (which prices each order type needs) and collects every bad field into one
INVALID_ARGUMENT with a BadRequest violation per field, so a caller fixes its request in one round trip.
Nothing here talks to IB; `ib.orders` turns an intent into IB's vocabulary.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from decimal import Decimal

from ibkr.trading.v1 import instrument_pb2, order_pb2

from services.common.errors import FieldViolation, InvalidArgument
from services.common.money import decimal_to_proto, parse_decimal_string

CLIENT_ORDER_ID = re.compile(r"^[A-Za-z0-9._:-]{1,48}$")
ACCOUNT_ID = re.compile(r"^[A-Z]{1,3}[0-9]{1,12}$")

OT = order_pb2.OrderType
# Which optional prices each order type requires; every price not listed for a type must be unset.
REQUIRED_PRICES: dict[int, frozenset[str]] = {
    OT.ORDER_TYPE_MARKET: frozenset(),
    OT.ORDER_TYPE_LIMIT: frozenset({"limit_price"}),
    OT.ORDER_TYPE_STOP: frozenset({"stop_price"}),
    OT.ORDER_TYPE_STOP_LIMIT: frozenset({"limit_price", "stop_price"}),
    OT.ORDER_TYPE_TRAILING_STOP: frozenset(),
    OT.ORDER_TYPE_TRAILING_STOP_LIMIT: frozenset({"trailing_limit_offset"}),
    OT.ORDER_TYPE_MARKET_ON_CLOSE: frozenset(),
    OT.ORDER_TYPE_LIMIT_ON_CLOSE: frozenset({"limit_price"}),
}
# Prices a type may carry without requiring them (a trailing order's optional initial stop).
OPTIONAL_PRICES: dict[int, frozenset[str]] = {
    OT.ORDER_TYPE_TRAILING_STOP: frozenset({"stop_price"}),
    OT.ORDER_TYPE_TRAILING_STOP_LIMIT: frozenset({"stop_price"}),
}
TRAILING_TYPES = frozenset({OT.ORDER_TYPE_TRAILING_STOP, OT.ORDER_TYPE_TRAILING_STOP_LIMIT})
PRICE_FIELDS = ("limit_price", "stop_price", "trailing_limit_offset")
ENUM_FIELDS = (("side", order_pb2.OrderSide), ("order_type", order_pb2.OrderType),
               ("time_in_force", order_pb2.TimeInForce))


@dataclasses.dataclass(frozen=True)
class ValidatedOrder:
    """A PlaceOrder request that passed validation. `spec` is canonical (decimals in canonical text)."""

    account_id: str
    client_order_id: str
    spec: order_pb2.OrderSpec
    quantity: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    trailing_amount: Decimal | None
    trailing_percent: Decimal | None
    trailing_limit_offset: Decimal | None
    display_quantity: Decimal | None
    risk_decision_id: str = ""

    @property
    def fingerprint(self) -> str:
        """Equal for requests with the same parameters (the account and the canonical spec)."""
        digest = hashlib.sha256(self.account_id.encode())
        digest.update(self.spec.SerializeToString(deterministic=True))
        return digest.hexdigest()


class _Collector:
    def __init__(self) -> None:
        self.violations: list[FieldViolation] = []

    def add(self, field: str, description: str, reason: str = "INVALID") -> None:
        self.violations.append(FieldViolation(field, description, reason))

    def decimal(self, spec: order_pb2.OrderSpec, name: str, *, positive: bool = True) -> Decimal | None:
        field = f"order.{name}"
        if not spec.HasField(name):
            return None
        try:
            value = parse_decimal_string(getattr(spec, name).value, field, required=False)
        except InvalidArgument as err:
            self.violations.extend(err.field_violations)
            return None
        if value is not None and positive and value <= 0:
            self.add(field, "must be greater than zero", "NOT_POSITIVE")
        return value

    def raise_if_any(self) -> None:
        if self.violations:
            fields = ", ".join(v.field for v in self.violations)
            raise InvalidArgument("INVALID_FIELD", f"invalid request: {fields}",
                                  metadata={"field": self.violations[0].field},
                                  field_violations=self.violations)


def _check_instrument(c: _Collector, inst: instrument_pb2.Instrument, prefix: str) -> None:
    if inst.con_id == 0 and not inst.symbol.strip():
        c.add(f"{prefix}.symbol", "a symbol (or con_id) is required", "REQUIRED")
    if inst.security_type == instrument_pb2.SecurityType.SECURITY_TYPE_UNSPECIFIED:
        c.add(f"{prefix}.security_type", "must be set (SECURITY_TYPE_UNSPECIFIED is not accepted)", "UNSPECIFIED")


def _canonical(spec: order_pb2.OrderSpec, values: dict[str, Decimal | None]) -> order_pb2.OrderSpec:
    out = order_pb2.OrderSpec()
    out.CopyFrom(spec)
    for name, value in values.items():
        if value is not None:
            getattr(out, name).CopyFrom(decimal_to_proto(value))
    out.instrument.symbol = out.instrument.symbol.strip().upper()
    return out


def validate_order_spec(spec: order_pb2.OrderSpec, c: _Collector) -> dict[str, Decimal | None]:
    """Check one spec; collects violations into `c` and returns its parsed decimals."""
    _check_instrument(c, spec.instrument, "order.instrument") if spec.HasField("instrument") else \
        c.add("order.instrument", "is required", "REQUIRED")
    for name, enum in ENUM_FIELDS:
        if getattr(spec, name) == 0:
            c.add(f"order.{name}", f"must be set ({enum.Name(0)} is not accepted)", "UNSPECIFIED")
    values: dict[str, Decimal | None] = {"quantity": None}
    if not spec.HasField("quantity") or not spec.quantity.value:
        c.add("order.quantity", "is required", "REQUIRED")
    else:
        values["quantity"] = c.decimal(spec, "quantity")
    for name in (*PRICE_FIELDS, "trailing_amount", "trailing_percent", "display_quantity"):
        values[name] = c.decimal(spec, name)
    required = REQUIRED_PRICES.get(spec.order_type, frozenset())
    allowed = required | OPTIONAL_PRICES.get(spec.order_type, frozenset())
    if spec.order_type != 0:
        type_name = OT.Name(spec.order_type)
        for name in PRICE_FIELDS:
            present = spec.HasField(name) and bool(getattr(spec, name).value)
            if name in required and not present:
                c.add(f"order.{name}", f"is required for {type_name}", "REQUIRED")
            elif present and name not in allowed:
                c.add(f"order.{name}", f"must be unset for {type_name}", "NOT_ALLOWED")
        trailing = [n for n in ("trailing_amount", "trailing_percent") if values[n] is not None]
        if spec.order_type in TRAILING_TYPES and len(trailing) != 1:
            c.add("order.trailing_amount", "exactly one of trailing_amount and trailing_percent is required",
                  "REQUIRED")
        elif spec.order_type not in TRAILING_TYPES and trailing:
            c.add(f"order.{trailing[0]}", f"must be unset for {type_name}", "NOT_ALLOWED")
    gtd = spec.time_in_force == order_pb2.TimeInForce.TIME_IN_FORCE_GTD
    if gtd and not spec.HasField("good_till_time"):
        c.add("order.good_till_time", "is required for TIME_IN_FORCE_GTD", "REQUIRED")
    elif not gtd and spec.HasField("good_till_time"):
        c.add("order.good_till_time", "must be unset unless time_in_force is GTD", "NOT_ALLOWED")
    if spec.HasField("bracket"):
        b = spec.bracket
        if not b.take_profit_price.value and not b.stop_loss_price.value:
            c.add("order.bracket", "needs a take_profit_price or a stop_loss_price", "REQUIRED")
    return values


def validate_place_order(account_id: str, client_order_id: str, spec: order_pb2.OrderSpec | None,
                         has_spec: bool, *, default_account: str, risk_decision_id: str = "") -> ValidatedOrder:
    """Validate a PlaceOrder request; raises InvalidArgument naming every bad field."""
    c = _Collector()
    if not CLIENT_ORDER_ID.match(client_order_id):
        c.add("client_order_id", "is required: 1-48 characters of A-Z a-z 0-9 . _ : -", "INVALID_FORMAT")
    account = account_id or default_account
    if not ACCOUNT_ID.match(account):
        c.add("account_id", "is not an IB account id (like DU1234567)", "INVALID_FORMAT")
    if not has_spec or spec is None:
        c.add("order", "is required", "REQUIRED")
        c.raise_if_any()
        raise AssertionError("unreachable")
    values = validate_order_spec(spec, c)
    c.raise_if_any()
    quantity = values["quantity"]
    assert quantity is not None
    return ValidatedOrder(
        account_id=account, client_order_id=client_order_id, spec=_canonical(spec, values), quantity=quantity,
        limit_price=values["limit_price"], stop_price=values["stop_price"],
        trailing_amount=values["trailing_amount"], trailing_percent=values["trailing_percent"],
        trailing_limit_offset=values["trailing_limit_offset"], display_quantity=values["display_quantity"],
        risk_decision_id=risk_decision_id)


MUTABLE_ON_REPLACE = ("quantity", "limit_price", "stop_price", "time_in_force", "outside_rth", "trailing_amount",
                      "trailing_percent", "trailing_limit_offset", "good_till_time", "display_quantity")


def merge_spec(current: order_pb2.OrderSpec, requested: order_pb2.OrderSpec, paths: list[str]) -> order_pb2.OrderSpec:
    """The spec after a replace: `paths` (an update mask) taken from `requested`; an empty mask takes every
    mutable field. Immutable fields given in the mask stay in so validation can refuse them."""
    merged = order_pb2.OrderSpec()
    merged.CopyFrom(current)
    for path in paths or MUTABLE_ON_REPLACE:
        name = path.removeprefix("order.")
        if name not in order_pb2.OrderSpec.DESCRIPTOR.fields_by_name:
            raise InvalidArgument("INVALID_FIELD", f"update_mask: unknown field {path}",
                                  metadata={"field": "update_mask"},
                                  field_violations=[FieldViolation("update_mask", f"unknown field {path}", "UNKNOWN")])
        field = order_pb2.OrderSpec.DESCRIPTOR.fields_by_name[name]
        if field.message_type is not None:
            if requested.HasField(name):
                getattr(merged, name).CopyFrom(getattr(requested, name))
            else:
                merged.ClearField(name)
        else:
            setattr(merged, name, getattr(requested, name))
    return merged


def closing_spec(request, held: Decimal) -> order_pb2.OrderSpec:  # type: ignore[no-untyped-def]
    """The order that flattens (part of) a position of `held` (signed) for a ClosePosition request."""
    spec = order_pb2.OrderSpec(
        instrument=request.instrument,
        side=order_pb2.ORDER_SIDE_SELL if held > 0 else order_pb2.ORDER_SIDE_BUY,
        order_type=request.order_type or order_pb2.ORDER_TYPE_MARKET,
        time_in_force=request.time_in_force or order_pb2.TIME_IN_FORCE_DAY)
    spec.quantity.CopyFrom(request.quantity if request.HasField("quantity") and request.quantity.value
                           else decimal_to_proto(abs(held)))
    if request.HasField("limit_price"):
        spec.limit_price.CopyFrom(request.limit_price)
    return spec


BRACKET_SUFFIXES = (".tp", ".sl")


def bracket_legs(parent: ValidatedOrder) -> list[ValidatedOrder]:
    """The protective legs of a bracket parent, as validated orders of their own (client_order_id + `.tp` /
    `.sl`): opposite side, same quantity, take-profit LIMIT and stop-loss STOP (or STOP_LIMIT)."""
    b = parent.spec.bracket
    side = order_pb2.ORDER_SIDE_SELL if parent.spec.side == order_pb2.ORDER_SIDE_BUY else order_pb2.ORDER_SIDE_BUY
    tif = b.time_in_force or order_pb2.TIME_IN_FORCE_GTC
    legs: list[ValidatedOrder] = []
    wanted = (
        (".tp", b.take_profit_price.value, order_pb2.ORDER_TYPE_LIMIT, {"limit_price": b.take_profit_price}),
        (".sl", b.stop_loss_price.value,
         order_pb2.ORDER_TYPE_STOP_LIMIT if b.stop_loss_limit_price.value else order_pb2.ORDER_TYPE_STOP,
         {"stop_price": b.stop_loss_price, **({"limit_price": b.stop_loss_limit_price}
                                               if b.stop_loss_limit_price.value else {})}),
    )
    for suffix, present, order_type, prices in wanted:
        if not present:
            continue
        spec = order_pb2.OrderSpec(instrument=parent.spec.instrument, side=side, order_type=order_type,
                                   time_in_force=tif, outside_rth=parent.spec.outside_rth)
        spec.quantity.CopyFrom(parent.spec.quantity)
        for name, value in prices.items():
            getattr(spec, name).CopyFrom(value)
        legs.append(validate_place_order(parent.account_id, parent.client_order_id + suffix, spec, True,
                                         default_account=parent.account_id,
                                         risk_decision_id=parent.risk_decision_id))
    return legs
