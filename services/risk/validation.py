"""Request validation: proto in, a core `OrderIntent` out, or `InvalidArgument` naming the field.

Only what the risk decision depends on is checked here; the bridge validates the rest of the order surface
(TIF/GTD combinations, brackets) before anything reaches IB.
"""

from __future__ import annotations

import re
from decimal import Decimal

from ibkr.trading.v1 import order_pb2

from services.common.errors import FieldViolation, InvalidArgument
from services.common.money import decimal_from_proto
from services.risk.core.model import ONE, OrderIntent, OrderType, Side

CLIENT_ORDER_ID = re.compile(r"^[A-Za-z0-9._:-]{1,48}$")
_NEEDS_LIMIT = frozenset({OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.LIMIT_ON_CLOSE})
_NEEDS_STOP = frozenset({OrderType.STOP, OrderType.STOP_LIMIT})
_NO_LIMIT = frozenset({OrderType.MARKET, OrderType.STOP, OrderType.MARKET_ON_CLOSE, OrderType.TRAILING_STOP})
_SIDES = {order_pb2.ORDER_SIDE_BUY: Side.BUY, order_pb2.ORDER_SIDE_SELL: Side.SELL}
_ORDER_TYPES = {t.value: t for t in OrderType}
# Decimal texts already validated as positive (quantities and prices recur order after order): parsing and
# range-checking one costs more than all the rules; the cache is bounded and holds only accepted values.
_POSITIVE: dict[str, Decimal] = {}


def invalid(field: str, description: str, reason: str = "INVALID_FIELD") -> InvalidArgument:
    """INVALID_ARGUMENT naming `field` in the message, the ErrorInfo metadata and a BadRequest violation."""
    return InvalidArgument("INVALID_FIELD", f"{field}: {description}", metadata={"field": field},
                           field_violations=[FieldViolation(field, description, reason)])


def require_text(value: str, field: str) -> str:
    if not value.strip():
        raise invalid(field, "is required", "REQUIRED")
    return value.strip()


def _positive(pb, field: str, *, required: bool) -> Decimal | None:
    if pb is not None:
        value = _POSITIVE.get(pb.value)
        if value is not None:
            return value
    elif not required:
        return None
    value = decimal_from_proto(pb, field, required=required)
    if value is not None and value <= 0:
        raise invalid(field, "must be positive")
    if value is not None:
        if len(_POSITIVE) > 8192:
            _POSITIVE.clear()
        _POSITIVE[pb.value] = value
    return value


def _enum(value: int, allowed: type, field: str):
    try:
        return allowed(value)
    except ValueError:
        raise invalid(field, "is required (UNSPECIFIED or unknown value)", "REQUIRED") from None


def intent_from_spec(account_id: str, client_order_id: str, spec: order_pb2.OrderSpec,
                     prefix: str = "order") -> OrderIntent:
    """Validate an OrderSpec (and its keys) into the core's view of the order."""
    account_id = require_text(account_id, "account_id")
    if client_order_id and not CLIENT_ORDER_ID.match(client_order_id):
        raise invalid("client_order_id", "must be 1-48 characters of A-Z a-z 0-9 . _ : -")
    if not spec.HasField("instrument"):
        raise invalid(f"{prefix}.instrument", "is required", "REQUIRED")
    instrument = spec.instrument
    symbol = require_text(instrument.symbol, f"{prefix}.instrument.symbol").upper()
    if instrument.security_type == 0:
        raise invalid(f"{prefix}.instrument.security_type", "is required (UNSPECIFIED)", "REQUIRED")
    side = _SIDES.get(spec.side)
    if side is None:
        raise invalid(f"{prefix}.side", "is required (UNSPECIFIED or unknown value)", "REQUIRED")
    order_type = _ORDER_TYPES.get(spec.order_type) or _enum(spec.order_type, OrderType, f"{prefix}.order_type")
    if spec.time_in_force == 0:
        raise invalid(f"{prefix}.time_in_force", "is required (UNSPECIFIED)", "REQUIRED")
    quantity = _positive(spec.quantity if spec.HasField("quantity") else None, f"{prefix}.quantity", required=True)
    limit = _positive(spec.limit_price if spec.HasField("limit_price") else None, f"{prefix}.limit_price",
                      required=order_type in _NEEDS_LIMIT)
    stop = _positive(spec.stop_price if spec.HasField("stop_price") else None, f"{prefix}.stop_price",
                     required=order_type in _NEEDS_STOP)
    if limit is not None and order_type in _NO_LIMIT:
        raise invalid(f"{prefix}.limit_price", f"must be unset for {order_type.name} orders")
    multiplier = ONE
    if instrument.HasField("multiplier"):
        multiplier = _positive(instrument.multiplier, f"{prefix}.instrument.multiplier", required=True)
    return OrderIntent(account_id, symbol, side, quantity, order_type, limit, stop, client_order_id, multiplier)
