"""What the ledger books, as plain typed records (no protobuf): the output of `events.decode`."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple


class FillRecord(NamedTuple):
    """One execution. `side` is BUY/SELL; `commission` is None until IB's report is joined. A NamedTuple, like
    `CommissionRecord` and `IngestEvent`: one is built per event, several times cheaper than a frozen
    dataclass."""

    execution_id: str
    account_id: str
    order_id: str
    client_order_id: str
    instrument_key: str
    symbol: str
    currency: str
    multiplier: Decimal
    instrument: bytes
    side: str
    quantity: Decimal
    price: Decimal
    fill_time: datetime
    venue: str
    correction: bool
    supersedes: str
    broker_order_id: int | None
    perm_id: int | None
    origin: str
    commission: Decimal | None
    commission_currency: str
    realized_pnl: Decimal | None


class CommissionRecord(NamedTuple):
    """IB's commission report for one execution, when it came apart from the fill."""

    execution_id: str
    account_id: str
    amount: Decimal
    currency: str
    realized_pnl: Decimal | None
    report_time: datetime | None


@dataclasses.dataclass(frozen=True)
class OrderRecord:
    """An order after a change (OrderUpdate), with the change itself."""

    order_id: str
    client_order_id: str
    account_id: str
    instrument_key: str
    symbol: str
    side: str
    quantity: Decimal
    order_type: str
    limit_price: Decimal | None
    stop_price: Decimal | None
    time_in_force: str
    outside_rth: bool
    spec: bytes
    status: str
    previous_status: str
    filled_quantity: Decimal
    average_fill_price: Decimal | None
    broker_order_id: int | None
    perm_id: int | None
    origin: str
    risk_decision_id: str
    reject_code: str
    reject_reason: str
    order_message: bytes
    description: str
    broker_error_code: int | None


@dataclasses.dataclass(frozen=True)
class BrokerPositionRecord:
    """The broker's view of one position (PositionUpdate)."""

    account_id: str
    instrument_key: str
    symbol: str
    currency: str
    multiplier: Decimal
    instrument: bytes
    quantity: Decimal
    average_cost: Decimal | None
    market_price: Decimal | None


@dataclasses.dataclass(frozen=True)
class MarkRecord:
    """A price to value positions at (QuoteUpdate)."""

    instrument_key: str
    price: Decimal
    close: Decimal | None = None


@dataclasses.dataclass(frozen=True)
class SnapshotRecord:
    """The broker's account summary (AccountUpdate)."""

    account_id: str
    base_currency: str
    net_liquidation: Decimal | None
    total_cash: Decimal | None
    realized_pnl: Decimal | None
    unrealized_pnl: Decimal | None
    summary: bytes


@dataclasses.dataclass(frozen=True)
class RiskDecisionRecord:
    """The risk service's decision on one request (RiskDecisionEvent)."""

    decision_id: str
    account_id: str
    client_order_id: str
    order_id: str
    request_type: str
    outcome: str
    denied_rule_id: str
    policy_version: int
    shadow: bool
    decision_time: datetime
    decision: bytes


Record = (FillRecord | CommissionRecord | OrderRecord | BrokerPositionRecord | MarkRecord | SnapshotRecord
          | RiskDecisionRecord)


class IngestEvent(NamedTuple):
    """One bus entry, decoded. `store` says whether it is kept in `bus_events` (quotes are not: they are
    frequent and only their latest price matters)."""

    stream: str
    stream_id: str
    event_id: str
    event_type: str
    account_id: str
    event_time: datetime
    payload: bytes
    traceparent: str
    tracestate: str
    store: bool
    record: Record | None

    @property
    def trace_id(self) -> str:
        """The W3C trace id of the publisher's span; empty when untraced."""
        parts = self.traceparent.split("-")
        return parts[1] if len(parts) >= 4 else ""
