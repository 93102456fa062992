"""Request pieces from friendly arguments: instruments, order specs and enum values by short name.

Enums are accepted as the generated int, the full name (`ORDER_SIDE_BUY`) or the short one (`buy`), so the
CLI and callers need not import the generated modules for everyday use.
"""

from __future__ import annotations

from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

from ibkr.client.decimals import DecimalInput, optional_proto_decimal, to_proto_decimal
from ibkr.trading.v1 import event_pb2, instrument_pb2, order_pb2, risk_types_pb2

EnumInput = int | str


def enum_value(enum: EnumTypeWrapper, value: EnumInput, prefix: str) -> int:
    """The number of `value` in `enum`: an int, `PREFIX_NAME`, or `name` in any case (`buy` → ORDER_SIDE_BUY)."""
    if isinstance(value, bool):
        raise TypeError(f"expected a {prefix.lower()} name or number, got {value!r}")
    if isinstance(value, int):
        enum.Name(value)  # ValueError for an unknown number
        return value
    name = value.strip().upper().replace("-", "_")
    if not name.startswith(prefix):
        name = prefix + name
    try:
        return enum.Value(name)
    except ValueError:
        names = enum.keys()  # an EnumTypeWrapper is not iterable itself
        choices = ", ".join(n.removeprefix(prefix).lower() for n in names if not n.endswith("UNSPECIFIED"))
        raise ValueError(f"unknown {prefix.rstrip('_').lower()} {value!r}; one of: {choices}") from None


def enum_name(enum: EnumTypeWrapper, value: int, prefix: str) -> str:
    """The short lower-case name of an enum number (`ORDER_STATUS_FILLED` → `filled`)."""
    try:
        return enum.Name(value).removeprefix(prefix).lower()
    except ValueError:
        return str(value)


def side(value: EnumInput) -> int:
    """An `OrderSide` from `buy`/`sell` or the generated value."""
    return enum_value(order_pb2.OrderSide, value, "ORDER_SIDE_")


def order_type(value: EnumInput) -> int:
    """An `OrderType` from `market`, `limit`, `stop`, `stop_limit`, ... or the generated value."""
    return enum_value(order_pb2.OrderType, value, "ORDER_TYPE_")


def time_in_force(value: EnumInput) -> int:
    """A `TimeInForce` from `day`, `gtc`, `ioc`, ... or the generated value."""
    return enum_value(order_pb2.TimeInForce, value, "TIME_IN_FORCE_")


def event_type(value: EnumInput) -> int:
    """An `EventType` from `order_update`, `fill`, ... or the generated value."""
    return enum_value(event_pb2.EventType, value, "EVENT_TYPE_")


def trading_state(value: EnumInput) -> int:
    """A `TradingState` from `active`, `reducing`, `halted` or the generated value."""
    return enum_value(risk_types_pb2.TradingState, value, "TRADING_STATE_")


def instrument(
    symbol: str | instrument_pb2.Instrument,
    *,
    security_type: EnumInput = "stock",
    exchange: str = "SMART",
    currency: str = "USD",
    con_id: int = 0,
) -> instrument_pb2.Instrument:
    """An `Instrument`; a bare symbol means a US stock routed SMART. An `Instrument` passes through."""
    if isinstance(symbol, instrument_pb2.Instrument):
        return symbol
    return instrument_pb2.Instrument(
        symbol=symbol,
        security_type=enum_value(instrument_pb2.SecurityType, security_type, "SECURITY_TYPE_"),
        exchange=exchange,
        currency=currency,
        con_id=con_id,
    )


def order_spec(
    symbol: str | instrument_pb2.Instrument,
    side_: EnumInput,
    quantity: DecimalInput,
    *,
    limit_price: DecimalInput | None = None,
    stop_price: DecimalInput | None = None,
    type_: EnumInput | None = None,
    tif: EnumInput = "day",
    outside_rth: bool = False,
) -> order_pb2.OrderSpec:
    """An `OrderSpec`. The type defaults from the prices: LIMIT with a limit price, STOP with a stop price,
    STOP_LIMIT with both, else MARKET."""
    if type_ is None:
        type_ = {
            (False, False): "market", (True, False): "limit", (False, True): "stop", (True, True): "stop_limit",
        }[(limit_price is not None, stop_price is not None)]
    return order_pb2.OrderSpec(
        instrument=instrument(symbol),
        side=side(side_),
        quantity=to_proto_decimal(quantity, "quantity"),
        order_type=order_type(type_),
        limit_price=optional_proto_decimal(limit_price, "limit_price"),
        stop_price=optional_proto_decimal(stop_price, "stop_price"),
        time_in_force=time_in_force(tif),
        outside_rth=outside_rth,
    )
