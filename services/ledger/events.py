"""Decoding bus entries (`ibkr.trading.v1.Event`) into ledger records. Protobuf stays in this module.

A malformed entry raises `PoisonEvent`; ingest retries it and dead-letters it after N deliveries.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from google.protobuf.message import DecodeError
from ibkr.trading.v1 import event_pb2, instrument_pb2, order_pb2, risk_types_pb2

from services.common.bus import BusEntry
from services.common.errors import DomainError
from services.common.money import money_from_proto, require_decimal
from services.ledger.instruments import instrument_key
from services.ledger.records import (
    BrokerPositionRecord,
    CommissionRecord,
    FillRecord,
    IngestEvent,
    MarkRecord,
    OrderRecord,
    Record,
    RiskDecisionRecord,
    SnapshotRecord,
)

SIDES = {order_pb2.ORDER_SIDE_BUY: "BUY", order_pb2.ORDER_SIDE_SELL: "SELL"}
UNSTORED_TYPES = frozenset({"quote_update"})
"""Payload types not kept in `bus_events` (high volume; only the latest mark matters)."""


class PoisonEvent(ValueError):
    """The entry cannot be booked as it is (undecodable, or a required field missing or invalid)."""


@functools.cache  # a handful of (enum, value) pairs, looked up for every event
def enum_name(enum_type, value: int, prefix: str) -> str:  # type: ignore[no-untyped-def]
    """`ORDER_STATUS_FILLED` → `FILLED`; unknown numbers keep their number."""
    try:
        return enum_type.Name(value).removeprefix(prefix)
    except ValueError:
        return str(value)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MIN_SECONDS, _MAX_SECONDS = -62135596800, 253402300799  # 0001-01-01 .. 9999-12-31, as Timestamp allows


def _time(ts, default: datetime) -> datetime:  # type: ignore[no-untyped-def]
    """`Timestamp.ToDatetime(tzinfo=UTC)` by arithmetic (a quarter of its cost; two per fill)."""
    seconds, nanos = ts.seconds, ts.nanos
    if seconds == 0 and nanos == 0:
        return default
    if not (_MIN_SECONDS <= seconds <= _MAX_SECONDS and 0 <= nanos <= 999_999_999):
        raise PoisonEvent(f"timestamp out of range: {seconds}s {nanos}ns")
    return _EPOCH + timedelta(0, seconds, nanos // 1000)


_CURRENCY = re.compile(r"[A-Z]{3}")


def _money(pb, field: str) -> tuple[Decimal, str]:  # type: ignore[no-untyped-def]
    """`money_from_proto`, with a shortcut for whole amounts (what commissions mostly are)."""
    if pb.nanos == 0 and _CURRENCY.fullmatch(pb.currency_code):
        return Decimal(pb.units), pb.currency_code
    return money_from_proto(pb, field)


# Already canonical and within range (≤ 20 integer digits, ≤ 18 after the point, no leading or trailing
# zeros): what the bridge sends. Such text needs no further validation or normalization, and `Decimal(text)`
# is exactly what `decimal_from_proto` would return; anything else takes the full path.
_CANONICAL_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]{0,19})(?:\.[0-9]{0,17}[1-9])?")


def _decimal(pb, field: str) -> Decimal:  # type: ignore[no-untyped-def]
    text = pb.value
    if _CANONICAL_DECIMAL.fullmatch(text) and text != "-0":
        return Decimal(text)
    return require_decimal(pb, field)


def _optional_decimal(pb, field: str) -> Decimal | None:  # type: ignore[no-untyped-def]
    if pb.value == "":
        return None
    return _decimal(pb, field)


def _instrument(inst: instrument_pb2.Instrument, field: str) -> tuple[str, str, str, Decimal, bytes]:
    if not inst.symbol and not inst.con_id:
        raise PoisonEvent(f"{field}: no symbol and no con_id")
    currency = inst.currency or "USD"  # IB stocks always carry one; the bridge should too
    multiplier = _optional_decimal(inst.multiplier, f"{field}.multiplier") or Decimal(1)
    sec_type = enum_name(instrument_pb2.SecurityType, inst.security_type, "SECURITY_TYPE_")
    key = instrument_key(inst.con_id, inst.symbol, sec_type, currency)
    return key, inst.symbol, currency, multiplier, inst.SerializeToString(deterministic=True)


def _fill(event: event_pb2.Event, default_time: datetime) -> FillRecord:
    f = event.fill
    if not f.execution_id:
        raise PoisonEvent("fill.execution_id is empty")
    side = SIDES.get(f.side)
    if side is None:
        raise PoisonEvent(f"fill.side is not BUY or SELL: {f.side}")
    quantity = _decimal(f.quantity, "fill.quantity")
    price = _decimal(f.price, "fill.price")
    if quantity <= 0 or price < 0:
        raise PoisonEvent(f"fill {f.execution_id}: quantity {quantity} / price {price} out of range")
    account = f.account_id or event.account_id
    if not account:
        raise PoisonEvent(f"fill {f.execution_id}: no account")
    key, symbol, currency, multiplier, inst = _instrument(f.instrument, "fill.instrument")
    commission = commission_ccy = None
    if f.HasField("commission"):
        commission, commission_ccy = _money(f.commission, "fill.commission")
        if commission < 0:  # IB's -1 sentinel must be mapped at the bridge; never book a rebate by accident
            raise PoisonEvent(f"fill {f.execution_id}: negative commission {commission}")
    realized = _money(f.realized_pnl, "fill.realized_pnl")[0] if f.HasField("realized_pnl") else None
    return FillRecord(
        execution_id=f.execution_id, account_id=account, order_id=f.order_id,
        client_order_id=f.client_order_id, instrument_key=key, symbol=symbol, currency=currency,
        multiplier=multiplier, instrument=inst, side=side, quantity=quantity, price=price,
        fill_time=_time(f.fill_time, default_time), venue=f.exchange, correction=f.correction,
        supersedes=f.superseded_execution_id if f.correction else "",
        broker_order_id=f.broker_order_id if f.HasField("broker_order_id") else None,
        perm_id=f.perm_id if f.HasField("perm_id") else None,
        origin=enum_name(order_pb2.OrderOrigin, f.origin, "ORDER_ORIGIN_"),
        commission=commission, commission_currency=commission_ccy or "", realized_pnl=realized,
    )


def _commission(event: event_pb2.Event) -> CommissionRecord:
    c = event.commission
    if not c.execution_id:
        raise PoisonEvent("commission.execution_id is empty")
    amount, currency = money_from_proto(c.commission, "commission.commission")
    if amount < 0:
        raise PoisonEvent(f"commission {c.execution_id}: negative amount {amount}")
    realized = money_from_proto(c.realized_pnl, "commission.realized_pnl")[0] if c.HasField("realized_pnl") else None
    return CommissionRecord(c.execution_id, c.account_id or event.account_id, amount, currency, realized,
                            _time(c.report_time, None) if c.HasField("report_time") else None)  # type: ignore[arg-type]


def _order(event: event_pb2.Event) -> OrderRecord:
    u = event.order_update
    o = u.order
    if not o.order_id:
        raise PoisonEvent("order_update.order.order_id is empty")
    spec = o.spec
    key, symbol, _ccy, _mult, _inst = _instrument(spec.instrument, "order_update.order.spec.instrument")
    quantity = require_decimal(spec.quantity, "order_update.order.spec.quantity")
    if quantity <= 0:
        raise PoisonEvent(f"order {o.order_id}: quantity {quantity}")
    return OrderRecord(
        order_id=o.order_id, client_order_id=o.client_order_id, account_id=o.account_id or event.account_id,
        instrument_key=key, symbol=symbol, side=SIDES.get(spec.side, "UNSPECIFIED"), quantity=quantity,
        order_type=enum_name(order_pb2.OrderType, spec.order_type, "ORDER_TYPE_"),
        limit_price=_optional_decimal(spec.limit_price, "order.spec.limit_price"),
        stop_price=_optional_decimal(spec.stop_price, "order.spec.stop_price"),
        time_in_force=enum_name(order_pb2.TimeInForce, spec.time_in_force, "TIME_IN_FORCE_"),
        outside_rth=spec.outside_rth, spec=spec.SerializeToString(deterministic=True),
        status=enum_name(order_pb2.OrderStatus, o.status, "ORDER_STATUS_"),
        previous_status=enum_name(order_pb2.OrderStatus, u.previous_status, "ORDER_STATUS_"),
        filled_quantity=_optional_decimal(o.filled_quantity, "order.filled_quantity") or Decimal(0),
        average_fill_price=_optional_decimal(o.average_fill_price, "order.average_fill_price"),
        broker_order_id=o.broker_order_id if o.HasField("broker_order_id") else None,
        perm_id=o.perm_id if o.HasField("perm_id") else None,
        origin=enum_name(order_pb2.OrderOrigin, o.origin, "ORDER_ORIGIN_"),
        risk_decision_id=o.risk_decision_id, reject_code=o.reject_code, reject_reason=o.reject_reason,
        order_message=o.SerializeToString(deterministic=True), description=u.message,
        broker_error_code=u.broker_error_code if u.HasField("broker_error_code") else None,
    )


def _position(event: event_pb2.Event) -> BrokerPositionRecord:
    p = event.position_update.position
    key, symbol, currency, multiplier, inst = _instrument(p.instrument, "position_update.position.instrument")
    return BrokerPositionRecord(
        account_id=p.account_id or event.account_id, instrument_key=key, symbol=symbol, currency=currency,
        multiplier=multiplier, instrument=inst,
        quantity=require_decimal(p.quantity, "position.quantity"),
        average_cost=_optional_decimal(p.average_cost, "position.average_cost"),
        market_price=_optional_decimal(p.market_price, "position.market_price"),
    )


def _mark(event: event_pb2.Event) -> MarkRecord | None:
    q = event.quote_update.quote
    key = _instrument(q.instrument, "quote_update.quote.instrument")[0]
    price = _optional_decimal(q.last_price, "quote.last_price")
    if price is None:  # no trade yet: the mid of a two-sided quote
        bid = _optional_decimal(q.bid_price, "quote.bid_price")
        ask = _optional_decimal(q.ask_price, "quote.ask_price")
        price = (bid + ask) / 2 if bid is not None and ask is not None else None
    close = _optional_decimal(q.close_price, "quote.close_price")
    return None if price is None or price <= 0 else MarkRecord(key, price, close if close and close > 0 else None)


def _snapshot(event: event_pb2.Event) -> SnapshotRecord:
    a = event.account_update.account

    def amount(field: str) -> Decimal | None:
        return money_from_proto(getattr(a, field), field)[0] if a.HasField(field) else None

    return SnapshotRecord(
        account_id=a.account_id or event.account_id, base_currency=a.base_currency,
        net_liquidation=amount("net_liquidation"), total_cash=amount("total_cash"),
        realized_pnl=amount("realized_pnl"), unrealized_pnl=amount("unrealized_pnl"),
        summary=a.SerializeToString(deterministic=True),
    )


def _risk_decision(event: event_pb2.Event, event_time: datetime) -> RiskDecisionRecord:
    d = event.risk_decision.decision
    if not d.decision_id:
        raise PoisonEvent("risk_decision.decision.decision_id is empty")
    return RiskDecisionRecord(
        decision_id=d.decision_id, account_id=d.account_id or event.account_id, client_order_id=d.client_order_id,
        order_id=d.order_id, request_type=enum_name(risk_types_pb2.RiskRequestType, d.request_type, "RISK_REQUEST_TYPE_"),
        outcome=enum_name(risk_types_pb2.RiskDecisionOutcome, d.outcome, "RISK_DECISION_OUTCOME_"),
        denied_rule_id=d.denied_rule_id, policy_version=d.policy_version, shadow=d.shadow,
        decision_time=_time(d.decision_time, event_time), decision=d.SerializeToString(deterministic=True))


def _record(event: event_pb2.Event, kind: str, event_time: datetime) -> Record | None:
    if kind == "fill":
        return _fill(event, event_time)
    if kind == "commission":
        return _commission(event)
    if kind == "order_update":
        return _order(event)
    if kind == "position_update":
        return _position(event)
    if kind == "quote_update":
        return _mark(event)
    if kind == "account_update":
        return _snapshot(event)
    if kind == "risk_decision":
        return _risk_decision(event, event_time)
    return None  # stored as an event, nothing else to book


def decode(entry: BusEntry, stream: str, now: datetime | None = None) -> IngestEvent:
    """The ledger's view of one bus entry; raises `PoisonEvent` when it cannot be booked."""
    return decode_fields(entry.stream_id, entry.payload, entry.trace_context.get("traceparent", ""),
                         entry.trace_context.get("tracestate", ""), stream, now)


def decode_fields(stream_id: str, payload: bytes, traceparent: str, tracestate: str, stream: str,
                  now: datetime | None = None) -> IngestEvent:
    """`decode` from the entry's fields (replay reads them straight from the XRANGE reply)."""
    event = event_pb2.Event()
    try:
        event.ParseFromString(payload)
    except DecodeError as exc:
        raise PoisonEvent(f"undecodable event: {exc}") from None
    kind = event.WhichOneof("payload")
    if not event.event_id or kind is None:
        raise PoisonEvent("event without event_id or payload")
    event_time = _time(event.event_time, now or datetime.now(UTC))
    try:
        record = _record(event, kind, event_time)
    except DomainError as exc:  # a malformed decimal or money field
        raise PoisonEvent(exc.message) from None
    return IngestEvent(stream, stream_id, event.event_id, kind, event.account_id, event_time, payload, traceparent,
                       tracestate, kind not in UNSTORED_TYPES, record)
