"""Domain records → `ibkr.trading.v1` messages (Decimals go through `services.common.money` only)."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

from google.protobuf import timestamp_pb2
from ibkr.trading.v1 import execution_pb2, order_pb2, portfolio_pb2

from services.common.money import decimal_to_proto, money_to_proto
from services.gateway_bridge.domain.events import ExecutionSeen, PositionSeen
from services.gateway_bridge.domain.fills import CommissionInfo
from services.gateway_bridge.ib.numbers import to_commission, to_decimal
from services.gateway_bridge.store import OrderRecord

ORIGIN = {"SUITE": order_pb2.OrderOrigin.ORDER_ORIGIN_SUITE, "EXTERNAL": order_pb2.OrderOrigin.ORDER_ORIGIN_EXTERNAL}


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_EPOCH_NAIVE = _EPOCH.replace(tzinfo=None)


def timestamp(when: dt.datetime | None) -> timestamp_pb2.Timestamp | None:
    """Naive datetimes are UTC. Integer arithmetic on the timedelta: Timestamp.FromDatetime goes through
    utctimetuple and calendar.timegm in Python, ~2 % of the bridge's CPU per order (several per order)."""
    if when is None:
        return None
    delta = when - (_EPOCH if when.tzinfo else _EPOCH_NAIVE)
    # days may be negative; seconds and microseconds never are: nanos stay in [0, 1e9) as Timestamp wants.
    return timestamp_pb2.Timestamp(seconds=delta.days * 86400 + delta.seconds, nanos=delta.microseconds * 1000)


def now_timestamp() -> timestamp_pb2.Timestamp:
    seconds, nanos = divmod(time.time_ns(), 1_000_000_000)
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos)


def _money(amount: Decimal | None, currency: str | None):
    if amount is None:
        return None
    return money_to_proto(amount.quantize(Decimal("0.000000001")).normalize() if amount.as_tuple().exponent
                          < -9 else amount, currency or "USD")


def order_to_proto(rec: OrderRecord) -> order_pb2.Order:
    """The Order message of a record."""
    s = rec.state
    out = order_pb2.Order(
        order_id=rec.order_id, client_order_id=rec.client_order_id or "", account_id=rec.account_id, spec=rec.spec,
        status=int(s.status), origin=ORIGIN[rec.origin], parent_order_id=rec.parent_order_id or "",
        reject_code=s.reject_code, reject_reason=s.reject_reason, risk_decision_id=rec.risk_decision_id,
        revision=rec.revision)
    out.filled_quantity.CopyFrom(decimal_to_proto(s.filled))
    out.remaining_quantity.CopyFrom(decimal_to_proto(s.remaining))
    if s.avg_fill_price is not None:
        out.average_fill_price.CopyFrom(decimal_to_proto(s.avg_fill_price))
    if s.last_fill_price is not None:
        out.last_fill_price.CopyFrom(decimal_to_proto(s.last_fill_price))
    if rec.broker_order_id is not None:
        out.broker_order_id = rec.broker_order_id
    if rec.perm_id:
        out.perm_id = rec.perm_id
    if rec.broker_client_id is not None:
        out.broker_client_id = rec.broker_client_id
    if s.broker_error_code is not None:
        out.broker_error_code = s.broker_error_code
    commission = _money(rec.commission, rec.commission_currency)
    if commission is not None:
        out.commission.CopyFrom(commission)
    for field in ("create_time", "update_time", "submit_time", "done_time"):
        ts = timestamp(getattr(rec, field))
        if ts is not None:
            getattr(out, field).CopyFrom(ts)
    return out


def fill_to_proto(ex: ExecutionSeen, rec: OrderRecord | None, commission: CommissionInfo | None,
                  superseded: str) -> execution_pb2.Fill:
    """The Fill message of an execution, with its commission joined when known."""
    fill = execution_pb2.Fill(
        execution_id=ex.execution_id, order_id=rec.order_id if rec else "",
        client_order_id=(rec.client_order_id or "") if rec else "", account_id=ex.account_id,
        instrument=ex.instrument, side=ex.side, exchange=ex.exchange, correction=bool(superseded),
        superseded_execution_id=superseded,
        origin=ORIGIN[rec.origin] if rec else order_pb2.OrderOrigin.ORDER_ORIGIN_EXTERNAL)
    fill.quantity.CopyFrom(decimal_to_proto(ex.quantity))
    fill.price.CopyFrom(decimal_to_proto(ex.price))
    fill.cumulative_quantity.CopyFrom(decimal_to_proto(ex.cumulative_quantity))
    if ex.avg_price is not None:
        fill.average_price.CopyFrom(decimal_to_proto(ex.avg_price))
    fill.fill_time.CopyFrom(timestamp(ex.time))
    if ex.broker_order_id:
        fill.broker_order_id = ex.broker_order_id
    if ex.perm_id:
        fill.perm_id = ex.perm_id
    if commission is not None:
        _attach_commission(fill, commission)
    return fill


def _attach_commission(fill: execution_pb2.Fill, commission: CommissionInfo) -> None:
    amount = _money(commission.amount, commission.currency)
    if amount is not None:
        fill.commission.CopyFrom(amount)
    pnl = _money(commission.realized_pnl, commission.currency)
    if pnl is not None:
        fill.realized_pnl.CopyFrom(pnl)


def commission_to_proto(info: CommissionInfo, account_id: str, order_id: str) -> execution_pb2.Commission:
    out = execution_pb2.Commission(execution_id=info.execution_id, account_id=account_id, order_id=order_id,
                                   report_time=now_timestamp())
    amount = _money(info.amount, info.currency)
    if amount is not None:
        out.commission.CopyFrom(amount)
    pnl = _money(info.realized_pnl, info.currency)
    if pnl is not None:
        out.realized_pnl.CopyFrom(pnl)
    return out


def position_to_proto(pos: PositionSeen) -> portfolio_pb2.Position:
    out = portfolio_pb2.Position(account_id=pos.account_id, instrument=pos.instrument, update_time=now_timestamp())
    out.quantity.CopyFrom(decimal_to_proto(pos.quantity))
    if pos.average_cost is not None:
        out.average_cost.CopyFrom(decimal_to_proto(pos.average_cost))
    return out


# OrderState attribute prefix → OrderPreview MarginImpact field.
PREVIEW_MARGINS = {"initMargin": "initial_margin", "maintMargin": "maintenance_margin",
                   "equityWithLoan": "equity_with_loan"}
PREVIEW_COMMISSIONS = {"commission": "commission", "minCommission": "min_commission",
                       "maxCommission": "max_commission"}


def _preview_money(amount: Decimal | None, currency: str):
    """Money, or None when absent or not representable (a garbage figure is absent, never a wrong number)."""
    try:
        return _money(amount, currency)
    except ValueError:
        return None


def preview_to_proto(state: object, *, currency: str = "USD", notional: Decimal | None = None,
                     notional_currency: str = "") -> order_pb2.OrderPreview:
    """IB's what-if `OrderState` → `OrderPreview`. IB sends the margin figures as strings and the commissions
    as doubles, with "" / UNSET_DOUBLE (and -1 for commissions) meaning unknown: those fields stay ABSENT.
    Margins are in `currency` (the account's); commissions in `commissionCurrency` when IB names one."""
    out = order_pb2.OrderPreview(warning_text=str(getattr(state, "warningText", "") or ""))
    for prefix, field in PREVIEW_MARGINS.items():
        impact = order_pb2.MarginImpact()
        for part in ("before", "change", "after"):
            amount = _preview_money(to_decimal(getattr(state, f"{prefix}{part.capitalize()}", None)), currency)
            if amount is not None:
                getattr(impact, part).CopyFrom(amount)
        if impact.ListFields():
            getattr(out, field).CopyFrom(impact)
    commission_currency = str(getattr(state, "commissionCurrency", "") or "") or currency
    for attr, field in PREVIEW_COMMISSIONS.items():
        amount = _preview_money(to_commission(getattr(state, attr, None)), commission_currency)
        if amount is not None:
            getattr(out, field).CopyFrom(amount)
    money = _preview_money(notional, notional_currency or currency)
    if money is not None:
        out.estimated_notional.CopyFrom(money)
    return out
