"""Rows of the ledger's tables to protobuf messages (and enum names back). Conversions go through
`services.common.money`, the only Decimal ⇄ proto module."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from ibkr.ledger.v1 import ledger_pb2
from ibkr.trading.v1 import execution_pb2, instrument_pb2, order_pb2, portfolio_pb2, reconciliation_pb2

from services.common.money import decimal_to_proto, money_to_proto
from services.ledger import journal
from services.ledger.events import SIDES
from services.ledger.positions import PositionState, money

SIDE_VALUES = {name: value for value, name in SIDES.items()}

ACCOUNT_TYPES = {
    journal.CASH: ledger_pb2.LEDGER_ACCOUNT_TYPE_CASH,
    journal.POSITION_QTY: ledger_pb2.LEDGER_ACCOUNT_TYPE_POSITION,
    journal.POSITION_COST: ledger_pb2.LEDGER_ACCOUNT_TYPE_POSITION,
    journal.POSITION_FEES: ledger_pb2.LEDGER_ACCOUNT_TYPE_POSITION,
    journal.MARKET_QTY: ledger_pb2.LEDGER_ACCOUNT_TYPE_EQUITY,
    journal.COMMISSION: ledger_pb2.LEDGER_ACCOUNT_TYPE_COMMISSION,
    journal.REALIZED_PNL: ledger_pb2.LEDGER_ACCOUNT_TYPE_REALIZED_PNL,
}
QUANTITY_KINDS = frozenset({journal.POSITION_QTY, journal.MARKET_QTY})

Row = Any  # an asyncpg.Record (mapping by column name)


def timestamp(value: datetime | None) -> Timestamp | None:
    """A Timestamp, or None for a missing time (leave the field unset)."""
    if value is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def enum_value(enum_type: Any, prefix: str, name: str) -> int:
    """`FILLED` → ORDER_STATUS_FILLED (UNSPECIFIED for names the enum does not know)."""
    try:
        return enum_type.Value(prefix + name)
    except ValueError:
        return 0


def instrument(raw: bytes) -> instrument_pb2.Instrument:
    """The Instrument stored with a fill, order or position."""
    inst = instrument_pb2.Instrument()
    inst.ParseFromString(raw)
    return inst


def fill(row: Row) -> execution_pb2.Fill:
    """A `fills` row (joined with its commission) as a Fill."""
    out = execution_pb2.Fill(
        execution_id=row["execution_id"], order_id=row["order_id"], client_order_id=row["client_order_id"],
        account_id=row["account_id"], instrument=instrument(row["instrument"]), side=SIDE_VALUES[row["side"]],
        quantity=decimal_to_proto(row["quantity"]), price=decimal_to_proto(row["price"]),
        fill_time=timestamp(row["fill_time"]), exchange=row["venue"], correction=row["correction"],
        superseded_execution_id=row["supersedes"],
        origin=enum_value(order_pb2.OrderOrigin, "ORDER_ORIGIN_", row["origin"]),
    )
    if row["commission_amount"] is not None:
        out.commission.CopyFrom(money_to_proto(row["commission_amount"], row["commission_currency"]))
    if row["commission_realized"] is not None:
        out.realized_pnl.CopyFrom(money_to_proto(row["commission_realized"], row["currency"]))
    if row["broker_order_id"] is not None:
        out.broker_order_id = row["broker_order_id"]
    if row["perm_id"] is not None:
        out.perm_id = row["perm_id"]
    return out


def position_state(row: Row) -> PositionState:
    """The calculator's state of a `positions` row."""
    return PositionState(row["quantity"], row["cost_basis"], row["cost_fees"], row["realized_pnl"])


def position(row: Row, daily_pnl: Decimal | None = None) -> portfolio_pb2.Position:
    """A `positions` row as a Position, valued at its latest mark when there is one."""
    state = position_state(row)
    ccy = row["currency"]
    out = portfolio_pb2.Position(account_id=row["account_id"], instrument=instrument(row["instrument"]),
                                 quantity=decimal_to_proto(state.quantity),
                                 realized_pnl=money_to_proto(money(state.realized_pnl), ccy),
                                 update_time=timestamp(row["updated_at"]))
    avg = state.average_cost(row["multiplier"])
    if avg is not None:
        out.average_cost.CopyFrom(decimal_to_proto(avg))
    mark = row["mark_price"]
    if mark is not None:
        out.market_price.CopyFrom(decimal_to_proto(mark))
        out.market_value.CopyFrom(money_to_proto(money(state.quantity * mark * row["multiplier"]), ccy))
        out.unrealized_pnl.CopyFrom(money_to_proto(state.unrealized_pnl(mark, row["multiplier"]), ccy))
    if daily_pnl is not None:
        out.daily_pnl.CopyFrom(money_to_proto(money(daily_pnl), ccy))
    return out


def order(row: Row) -> order_pb2.Order:
    """An `orders` row: the last Order message the bridge published, with the ledger's monotonic status."""
    out = order_pb2.Order()
    out.ParseFromString(row["order_message"])
    out.status = enum_value(order_pb2.OrderStatus, "ORDER_STATUS_", row["status"])
    out.filled_quantity.CopyFrom(decimal_to_proto(row["filled_quantity"]))
    if row["client_order_id"]:
        out.client_order_id = row["client_order_id"]
    return out


def order_event(row: Row) -> order_pb2.OrderEvent:
    """An `order_events` row."""
    out = order_pb2.OrderEvent(
        event_id=row["event_id"], event_time=timestamp(row["event_time"]),
        status=enum_value(order_pb2.OrderStatus, "ORDER_STATUS_", row["status"]),
        previous_status=enum_value(order_pb2.OrderStatus, "ORDER_STATUS_", row["previous_status"]),
        filled_quantity=decimal_to_proto(row["filled_quantity"]), description=row["description"],
        risk_decision_id=row["risk_decision_id"], trace_id=row["trace_id"])
    if row["broker_error_code"] is not None:
        out.broker_error_code = row["broker_error_code"]
    return out


def journal_entry(row: Row, postings: list[Row]) -> ledger_pb2.JournalEntry:
    """A `journal_entries` row with its postings."""
    out = ledger_pb2.JournalEntry(
        entry_id=str(row["entry_id"]), account_id=row["account_id"], entry_time=timestamp(row["event_time"]),
        create_time=timestamp(row["created_at"]), description=row["description"],
        execution_id=row["execution_id"], event_id=row["source_event_id"] or "")
    for p in postings:
        ledger_account = p["account_key"].removeprefix(p["account_id"] + ":")
        posting = ledger_pb2.JournalPosting(ledger_account=ledger_account, account_type=ACCOUNT_TYPES[p["kind"]],
                                            symbol=p["symbol"] or "")
        if p["kind"] in QUANTITY_KINDS:
            posting.quantity.CopyFrom(decimal_to_proto(p["amount"]))
        else:
            posting.amount.CopyFrom(money_to_proto(p["amount"], p["currency"]))
        out.postings.append(posting)
    return out


def rebuild_difference(stored: Row, rebuilt: Row) -> reconciliation_pb2.PositionDrift:
    """A stored position that differs from the journal's (ledger = stored, broker = recomputed)."""
    before, after = position_state(stored), position_state(rebuilt)
    out = reconciliation_pb2.PositionDrift(
        account_id=stored["account_id"], instrument=instrument(stored["instrument"]),
        ledger_quantity=decimal_to_proto(before.quantity), broker_quantity=decimal_to_proto(after.quantity),
        quantity_difference=decimal_to_proto(after.quantity - before.quantity))
    for field, state in (("ledger_average_cost", before), ("broker_average_cost", after)):
        avg = state.average_cost(stored["multiplier"])
        if avg is not None:
            getattr(out, field).CopyFrom(decimal_to_proto(avg))
    return out


# A risk decision as a step of the order's history: a denial rejects, an accepted new order is on its way.
DECISION_STATUS = {("DENIED", "NEW_ORDER"): order_pb2.ORDER_STATUS_REJECTED,
                   ("ACCEPTED", "NEW_ORDER"): order_pb2.ORDER_STATUS_PENDING_SUBMIT}


def risk_decision_event(row: Row) -> order_pb2.OrderEvent:
    """A `risk_decisions` row as an entry of the order's history."""
    what = f"risk {row['outcome'].lower()} {row['request_type'].lower().replace('_', ' ')}"
    if row["denied_rule_id"]:
        what += f": rule {row['denied_rule_id']}"
    return order_pb2.OrderEvent(
        event_id=row["decision_id"], event_time=timestamp(row["decision_time"]),
        status=DECISION_STATUS.get((row["outcome"], row["request_type"]), order_pb2.ORDER_STATUS_UNSPECIFIED),
        description=f"{what} (policy v{row['policy_version']}{', shadow' if row['shadow'] else ''})",
        risk_decision_id=row["decision_id"], trace_id=row["trace_id"])
