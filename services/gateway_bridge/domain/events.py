"""Broker facts in the bridge's own terms, produced by `ib.translate` from raw IB callbacks.

The session pushes these into one queue; the order service folds them in arrival order, so ib_async's
callback thread never waits on Postgres or Redis.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from ibkr.trading.v1 import instrument_pb2, order_pb2

from services.gateway_bridge.domain.fills import CommissionInfo
from services.gateway_bridge.domain.status import Status


@dataclasses.dataclass(frozen=True)
class OrderSeen:
    """The broker described an order (openOrder, or completedOrder when `completed`)."""

    order_ref: str
    perm_id: int
    client_id: int
    broker_order_id: int
    account_id: str
    spec: order_pb2.OrderSpec
    status: Status | None
    filled: Decimal | None
    completed: bool = False
    parent_broker_order_id: int = 0


@dataclasses.dataclass(frozen=True)
class StatusSeen:
    """orderStatus: the broker's status and quantities of one order."""

    client_id: int
    broker_order_id: int
    perm_id: int
    status: Status | None
    filled: Decimal
    remaining: Decimal
    avg_fill_price: Decimal | None
    last_fill_price: Decimal | None


@dataclasses.dataclass(frozen=True)
class ExecutionSeen:
    """execDetails: one execution."""

    execution_id: str
    order_ref: str
    perm_id: int
    client_id: int
    broker_order_id: int
    account_id: str
    instrument: instrument_pb2.Instrument
    side: int
    quantity: Decimal
    price: Decimal
    cumulative_quantity: Decimal
    avg_price: Decimal | None
    time: dt.datetime
    exchange: str


@dataclasses.dataclass(frozen=True)
class CommissionSeen:
    """commissionReport for one execution."""

    info: CommissionInfo


@dataclasses.dataclass(frozen=True)
class ErrorSeen:
    """An error or notice; `req_id` is an order id for order errors, -1 for system notices."""

    req_id: int
    code: int
    message: str


@dataclasses.dataclass(frozen=True)
class PositionSeen:
    """A position report."""

    account_id: str
    instrument: instrument_pb2.Instrument
    quantity: Decimal
    average_cost: Decimal | None


@dataclasses.dataclass(frozen=True)
class AccountValueSeen:
    """One account value (IB tag, raw text value, currency)."""

    account_id: str
    key: str
    value: str
    currency: str


@dataclasses.dataclass(frozen=True)
class PortfolioSeen:
    """A portfolio line: position with its mark and P&L (absent figures are None)."""

    account_id: str
    instrument: instrument_pb2.Instrument
    quantity: Decimal
    market_price: Decimal | None
    market_value: Decimal | None
    average_cost: Decimal | None
    unrealized_pnl: Decimal | None
    realized_pnl: Decimal | None


@dataclasses.dataclass(frozen=True)
class SessionClosed:
    """The API socket closed."""


BrokerEvent = (OrderSeen | StatusSeen | ExecutionSeen | CommissionSeen | ErrorSeen | PositionSeen | AccountValueSeen
               | PortfolioSeen | SessionClosed)
