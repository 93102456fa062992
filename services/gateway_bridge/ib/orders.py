"""Our order vocabulary ⇄ IB's (`orderType`, `tif`, `action`, `secType` strings), as data tables.

`build_contract` and `build_orders` turn a validated intent into ib_async `Contract` / `Order` objects
(Decimals are passed through: ib_async serializes them with `str`, so no float ever touches a price or a
quantity). The reverse tables let reconciliation describe orders placed outside the suite.
"""

from __future__ import annotations

import datetime as dt

from ib_async import Contract, Order
from ibkr.trading.v1 import instrument_pb2, order_pb2

from services.common.money import decimal_to_proto
from services.gateway_bridge.domain.intent import ValidatedOrder
from services.gateway_bridge.ib.numbers import to_decimal, to_price, to_quantity

OT, TIF, SIDE = order_pb2.OrderType, order_pb2.TimeInForce, order_pb2.OrderSide
ST = instrument_pb2.SecurityType

MAP_ORDER_TYPE: dict[int, str] = {
    OT.ORDER_TYPE_MARKET: "MKT",
    OT.ORDER_TYPE_LIMIT: "LMT",
    OT.ORDER_TYPE_STOP: "STP",
    OT.ORDER_TYPE_STOP_LIMIT: "STP LMT",
    OT.ORDER_TYPE_TRAILING_STOP: "TRAIL",
    OT.ORDER_TYPE_TRAILING_STOP_LIMIT: "TRAIL LIMIT",
    OT.ORDER_TYPE_MARKET_ON_CLOSE: "MOC",
    OT.ORDER_TYPE_LIMIT_ON_CLOSE: "LOC",
}
MAP_TIME_IN_FORCE: dict[int, str] = {
    TIF.TIME_IN_FORCE_DAY: "DAY",
    TIF.TIME_IN_FORCE_GTC: "GTC",
    TIF.TIME_IN_FORCE_IOC: "IOC",
    TIF.TIME_IN_FORCE_FOK: "FOK",
    TIF.TIME_IN_FORCE_GTD: "GTD",
}
MAP_SIDE: dict[int, str] = {SIDE.ORDER_SIDE_BUY: "BUY", SIDE.ORDER_SIDE_SELL: "SELL"}
MAP_SECURITY_TYPE: dict[int, str] = {
    ST.SECURITY_TYPE_STOCK: "STK",
    ST.SECURITY_TYPE_OPTION: "OPT",
    ST.SECURITY_TYPE_FUTURE: "FUT",
    ST.SECURITY_TYPE_FUTURE_OPTION: "FOP",
    ST.SECURITY_TYPE_FOREX: "CASH",
    ST.SECURITY_TYPE_INDEX: "IND",
    ST.SECURITY_TYPE_CFD: "CFD",
    ST.SECURITY_TYPE_BOND: "BOND",
    ST.SECURITY_TYPE_FUND: "FUND",
    ST.SECURITY_TYPE_COMMODITY: "CMDTY",
    ST.SECURITY_TYPE_WARRANT: "WAR",
    ST.SECURITY_TYPE_CRYPTO: "CRYPTO",
}
MAP_OCA_TYPE: dict[int, int] = {
    order_pb2.OcaType.OCA_TYPE_UNSPECIFIED: 1,
    order_pb2.OcaType.OCA_TYPE_CANCEL_WITH_BLOCK: 1,
    order_pb2.OcaType.OCA_TYPE_REDUCE_WITH_BLOCK: 2,
    order_pb2.OcaType.OCA_TYPE_REDUCE_NON_BLOCK: 3,
}
# Executions report the side as BOT/SLD; open orders as BUY/SELL.
MAP_IB_SIDE: dict[str, int] = {"BUY": SIDE.ORDER_SIDE_BUY, "BOT": SIDE.ORDER_SIDE_BUY,
                               "SELL": SIDE.ORDER_SIDE_SELL, "SLD": SIDE.ORDER_SIDE_SELL}
REVERSE_ORDER_TYPE = {v: k for k, v in MAP_ORDER_TYPE.items()}
REVERSE_TIME_IN_FORCE = {v: k for k, v in MAP_TIME_IN_FORCE.items()}
REVERSE_SECURITY_TYPE = {v: k for k, v in MAP_SECURITY_TYPE.items()}

# ValidatedOrder attribute → ib_async Order attribute, for the optional prices.
MAP_ORDER_FIELDS: dict[str, str] = {
    "limit_price": "lmtPrice",
    "stop_price": "auxPrice",
    "trailing_percent": "trailingPercent",
    "trailing_limit_offset": "lmtPriceOffset",
}


def build_contract(inst: instrument_pb2.Instrument) -> Contract:
    """The ib_async contract to qualify for an instrument (SMART/USD when left empty)."""
    return Contract(
        conId=int(inst.con_id), symbol=inst.symbol.upper(), secType=MAP_SECURITY_TYPE[inst.security_type],
        exchange=inst.exchange or "SMART", currency=inst.currency or "USD",
        primaryExchange=inst.primary_exchange, localSymbol=inst.local_symbol)


def instrument_from_contract(contract: Contract) -> instrument_pb2.Instrument:
    """Our instrument for a (qualified) IB contract."""
    inst = instrument_pb2.Instrument(
        symbol=contract.symbol, security_type=REVERSE_SECURITY_TYPE.get(contract.secType, 0),
        exchange=contract.exchange or "SMART", currency=contract.currency or "",
        con_id=int(contract.conId or 0), primary_exchange=contract.primaryExchange or "",
        local_symbol=contract.localSymbol if contract.localSymbol != contract.symbol else "")
    multiplier = to_decimal(contract.multiplier) if contract.multiplier else None
    if multiplier is not None and multiplier != 1:
        inst.multiplier.CopyFrom(decimal_to_proto(multiplier))
    return inst


def _gtd(order: ValidatedOrder) -> str:
    when = order.spec.good_till_time.ToDatetime(tzinfo=dt.UTC)
    return when.strftime("%Y%m%d-%H:%M:%S")  # IB accepts UTC as yyyymmdd-hh:mm:ss


def build_order(order: ValidatedOrder, order_ref: str, account: str) -> Order:
    """The IB order for a validated intent (bracket legs: `link_bracket`)."""
    spec = order.spec
    ib = Order(action=MAP_SIDE[spec.side], totalQuantity=order.quantity,  # type: ignore[arg-type]
               orderType=MAP_ORDER_TYPE[spec.order_type], tif=MAP_TIME_IN_FORCE[spec.time_in_force],
               outsideRth=spec.outside_rth, orderRef=order_ref, account=account, transmit=True)
    for ours, theirs in MAP_ORDER_FIELDS.items():
        value = getattr(order, ours)
        if value is not None:
            setattr(ib, theirs, value)
    if order.trailing_amount is not None:
        ib.auxPrice = order.trailing_amount  # type: ignore[assignment]
    if spec.order_type in (OT.ORDER_TYPE_TRAILING_STOP, OT.ORDER_TYPE_TRAILING_STOP_LIMIT) \
            and order.stop_price is not None:
        ib.auxPrice = order.trailing_amount if order.trailing_amount is not None else ib.auxPrice
        ib.trailStopPrice = order.stop_price  # type: ignore[assignment]
    if spec.time_in_force == TIF.TIME_IN_FORCE_GTD:
        ib.goodTillDate = _gtd(order)
    if spec.oca_group:
        ib.ocaGroup, ib.ocaType = spec.oca_group, MAP_OCA_TYPE[spec.oca_type]
    if order.display_quantity is not None:
        ib.displaySize = int(order.display_quantity)
    return ib


def link_bracket(parent: Order, legs: list[Order], client_order_id: str) -> None:
    """Chain a bracket for atomic activation: every leg names the parent and shares one OCA group, and only
    the last message has transmit=True, so IB activates all of them together or none (IB's bracket protocol)."""
    oca = f"bracket:{client_order_id}"
    parent.transmit = False
    for leg in legs:
        leg.parentId, leg.ocaGroup, leg.ocaType, leg.transmit = parent.orderId, oca, 1, False
    legs[-1].transmit = True


def spec_from_ib(contract: Contract, order: Order) -> order_pb2.OrderSpec:
    """Describe an IB order in our terms (used for orders adopted from outside the suite)."""
    spec = order_pb2.OrderSpec(
        instrument=instrument_from_contract(contract), side=MAP_IB_SIDE.get(order.action, 0),
        order_type=REVERSE_ORDER_TYPE.get(order.orderType, 0),
        time_in_force=REVERSE_TIME_IN_FORCE.get(order.tif, TIF.TIME_IN_FORCE_DAY), outside_rth=order.outsideRth)
    spec.quantity.CopyFrom(decimal_to_proto(to_quantity(order.totalQuantity)))
    for field, value in (("limit_price", order.lmtPrice), ("stop_price", order.auxPrice)):
        price = to_price(value)
        if price is not None:
            getattr(spec, field).CopyFrom(decimal_to_proto(price))
    return spec
