"""Synthetic bus events shaped like the bridge's, for tests, fault drills and the benchmark.

Only what the bridge contract promises is set: `Event` with `event_id`, `event_time`, `account_id`,
`source` and one payload.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from google.protobuf.timestamp_pb2 import Timestamp
from ibkr.trading.v1 import (
    event_pb2,
    execution_pb2,
    instrument_pb2,
    market_data_pb2,
    order_pb2,
    portfolio_pb2,
    risk_types_pb2,
)

from services.common.money import decimal_to_proto, money_to_proto

SIDE = {"BUY": order_pb2.ORDER_SIDE_BUY, "SELL": order_pb2.ORDER_SIDE_SELL}


def instrument(symbol: str = "AAPL", con_id: int = 265598, currency: str = "USD") -> instrument_pb2.Instrument:
    """A US stock."""
    return instrument_pb2.Instrument(symbol=symbol, security_type=instrument_pb2.SECURITY_TYPE_STOCK,
                                     exchange="SMART", currency=currency, con_id=con_id)


def _ts(when: datetime | None) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(when or datetime.now(UTC))
    return ts


def envelope(account_id: str, symbol: str = "", when: datetime | None = None) -> event_pb2.Event:
    """An Event with a fresh id, to set one payload on."""
    return event_pb2.Event(event_id=str(uuid.uuid4()), event_time=_ts(when), account_id=account_id,
                           source="gateway_bridge", symbol=symbol)


def fill_event(
    execution_id: str, side: str, quantity: str | Decimal, price: str | Decimal, *, account_id: str = "DU1234567",
    symbol: str = "AAPL", con_id: int = 265598, commission: str | Decimal | None = "1.00",
    order_id: str = "", correction_of: str = "", when: datetime | None = None,
) -> event_pb2.Event:
    """A Fill event (commission joined unless None)."""
    ev = envelope(account_id, symbol, when)
    fill = execution_pb2.Fill(
        execution_id=execution_id, order_id=order_id or f"ord-{execution_id}", account_id=account_id,
        instrument=instrument(symbol, con_id), side=SIDE[side], quantity=decimal_to_proto(Decimal(quantity)),
        price=decimal_to_proto(Decimal(price)), fill_time=_ts(when), exchange="ISLAND",
        correction=bool(correction_of), superseded_execution_id=correction_of,
        origin=order_pb2.ORDER_ORIGIN_SUITE)
    if commission is not None:
        fill.commission.CopyFrom(money_to_proto(Decimal(commission), "USD"))
    ev.fill.CopyFrom(fill)
    return ev


def commission_event(execution_id: str, amount: str, *, account_id: str = "DU1234567") -> event_pb2.Event:
    """A Commission report published apart from its fill."""
    ev = envelope(account_id)
    ev.commission.CopyFrom(execution_pb2.Commission(execution_id=execution_id, account_id=account_id,
                                                    commission=money_to_proto(Decimal(amount), "USD")))
    return ev


def order_event(order_id: str, status: int, *, client_order_id: str = "", account_id: str = "DU1234567",
                symbol: str = "AAPL", con_id: int = 265598, side: str = "BUY", quantity: str = "100",
                filled: str = "0", previous: int = order_pb2.ORDER_STATUS_UNSPECIFIED,
                limit_price: str | None = None, message: str = "") -> event_pb2.Event:
    """An OrderUpdate."""
    ev = envelope(account_id, symbol)
    spec = order_pb2.OrderSpec(
        instrument=instrument(symbol, con_id), side=SIDE[side], quantity=decimal_to_proto(Decimal(quantity)),
        order_type=order_pb2.ORDER_TYPE_LIMIT if limit_price else order_pb2.ORDER_TYPE_MARKET,
        time_in_force=order_pb2.TIME_IN_FORCE_DAY)
    if limit_price:
        spec.limit_price.CopyFrom(decimal_to_proto(Decimal(limit_price)))
    order = order_pb2.Order(order_id=order_id, client_order_id=client_order_id, account_id=account_id, spec=spec,
                            status=status, filled_quantity=decimal_to_proto(Decimal(filled)),
                            origin=order_pb2.ORDER_ORIGIN_SUITE, risk_decision_id=f"rd-{order_id}")
    ev.order_update.CopyFrom(event_pb2.OrderUpdate(order=order, previous_status=previous, message=message))
    return ev


def position_event(quantity: str, average_cost: str, *, market_price: str | None = None,
                   account_id: str = "DU1234567", symbol: str = "AAPL", con_id: int = 265598) -> event_pb2.Event:
    """A PositionUpdate from the broker."""
    ev = envelope(account_id, symbol)
    pos = portfolio_pb2.Position(account_id=account_id, instrument=instrument(symbol, con_id),
                                 quantity=decimal_to_proto(Decimal(quantity)),
                                 average_cost=decimal_to_proto(Decimal(average_cost)))
    if market_price is not None:
        pos.market_price.CopyFrom(decimal_to_proto(Decimal(market_price)))
    ev.position_update.position.CopyFrom(pos)
    return ev


def quote_event(last: str, *, close: str | None = None, symbol: str = "AAPL", con_id: int = 265598,
                ) -> event_pb2.Event:
    """A QuoteUpdate with a last price (and the previous session's close)."""
    ev = envelope("", symbol)
    ev.quote_update.quote.CopyFrom(market_data_pb2.Quote(instrument=instrument(symbol, con_id),
                                                         last_price=decimal_to_proto(Decimal(last))))
    if close is not None:
        ev.quote_update.quote.close_price.CopyFrom(decimal_to_proto(Decimal(close)))
    return ev


def risk_decision_event(decision_id: str, client_order_id: str, *, denied_rule: str = "",
                        account_id: str = "DU1234567") -> event_pb2.Event:
    """A RiskDecisionEvent on a new order (accepted unless `denied_rule`)."""
    ev = envelope(account_id)
    d = ev.risk_decision.decision
    d.decision_id, d.account_id, d.client_order_id = decision_id, account_id, client_order_id
    d.request_type = risk_types_pb2.RISK_REQUEST_TYPE_NEW_ORDER
    d.outcome = (risk_types_pb2.RISK_DECISION_OUTCOME_DENIED if denied_rule
                 else risk_types_pb2.RISK_DECISION_OUTCOME_ACCEPTED)
    d.denied_rule_id, d.policy_version = denied_rule, 3
    d.decision_time.FromDatetime(datetime.now(UTC))
    return ev
