"""Decisions leaving the core: the `RiskDecision` proto (responses, bus, Postgres) and the denial error.

A denial is FAILED_PRECONDITION with ErrorInfo reason `RISK_RULE_VIOLATION` (or `TRADING_HALTED` /
`TRADING_REDUCING` when the kill switch denied) and metadata `rule_id`, `threshold`, `observed`,
`observed_value` (the same, the name the proto comment uses), `policy_version`, `control`, `decision_id`;
the message names the rule and explains it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from google.protobuf import timestamp_pb2
from ibkr.trading.v1 import order_pb2, risk_types_pb2

from services.common.errors import FailedPrecondition
from services.common.money import decimal_to_string
from services.risk.core.evaluate import TRADING_STATE_RULE_ID
from services.risk.core.model import Decision, Outcome, RuleResult, TradingState
from services.risk.wire import SMALL as _SMALL
from services.risk.wire import field as _field
from services.risk.wire import text_field
from services.risk.wire import varint as _varint

_STATE_REASON = {TradingState.HALTED: "TRADING_HALTED", TradingState.REDUCING: "TRADING_REDUCING"}


@dataclass(slots=True)
class DecisionRecord:
    """A core decision with the identity and context it is recorded under. `pb` memoizes its proto (the
    response and the bus record share one conversion)."""

    decision_id: str
    account_id: str
    client_order_id: str
    request_type: int  # ibkr.trading.v1.RiskRequestType
    decision: Decision
    spec: order_pb2.OrderSpec
    time: datetime
    principal: str = ""
    order_id: str = ""
    pb: risk_types_pb2.RiskDecision | None = None
    blob: bytes | None = None  # the serialized RiskDecision (decision_bytes)


_PASSED = int(Outcome.PASSED)
_TEXT: dict[Decimal, str] = {}  # thresholds recur order after order: format each once (bounded, see _text)


def _text(value: Decimal) -> str:
    text = _TEXT.get(value)
    if text is None:
        if len(_TEXT) > 4096:
            _TEXT.clear()
        text = _TEXT[value] = decimal_to_string(value)
    return text


def rule_result_to_proto(r: RuleResult | tuple) -> risk_types_pb2.RuleResult:
    """One rule's result as a proto, from a RuleResult or the compact passing form (model.Compact)."""
    if r.__class__ is tuple:
        rule, threshold, observed, unit = r
        pb = risk_types_pb2.RuleResult(rule_id=rule.rule_id, outcome=_PASSED, control=int(rule.control), unit=unit,
                                       scope_account_id=rule.account_id, scope_symbol=rule.symbol)
    else:
        threshold, observed = r.threshold, r.observed
        pb = risk_types_pb2.RuleResult(rule_id=r.rule_id, outcome=int(r.outcome), control=int(r.control),
                                       unit=r.unit, message=r.message, scope_account_id=r.scope_account_id,
                                       scope_symbol=r.scope_symbol)
    if threshold is not None:
        pb.threshold.value = _text(threshold)
    if observed is not None:
        pb.observed_value.value = decimal_to_string(observed)
    return pb


# The RiskDecision of an order is assembled as bytes: building ~15 RuleResult messages through the Python
# protobuf API cost ~100 µs per order, concatenating their wire form (a cached prefix per rule, then the two
# decimals) a few. Parsing the result back, when a message is needed, is cheap and exact.
_RULE_RESULTS = 7  # RiskDecision.rule_results
_ORDER = 12  # RiskDecision.order
_THRESHOLD, _OBSERVED = 4, 5  # RuleResult.threshold, RuleResult.observed_value
_CACHE_LIMIT = 4096
_prefixes: dict[tuple[int, str], tuple[object, bytes]] = {}  # (id(rule), unit) → (rule, passing prefix)
_full: dict[int, tuple[RuleResult, bytes]] = {}  # id(result) → (result, bytes); the result kept alive


# Decimals recur by identity order after order (a rule's thresholds, cached counts, validated quantities and
# prices): each object's encoded google.type.Decimal is kept, keyed by id (cheaper than hashing a Decimal; the
# object is held so its id cannot be reused). Computed values miss and are encoded; the cache is bounded.
_encoded: dict[int, tuple[Decimal, bytes, bytes]] = {}  # id → (value, as threshold field, as observed field)


def _encode(value: Decimal) -> tuple[Decimal, bytes, bytes]:
    cached = _encoded.get(id(value))
    if cached is None or cached[0] is not value:
        if len(_encoded) > _CACHE_LIMIT:
            _encoded.clear()
        cached = _encoded[id(value)] = _encoded_fields(value)
    return cached


def _encoded_fields(value: Decimal) -> tuple[Decimal, bytes, bytes]:
    text = decimal_to_string(value).encode()
    body = b"\x0a" + _varint(len(text)) + text  # google.type.Decimal.value = 1
    return value, _field(_THRESHOLD, body), _field(_OBSERVED, body)


def _observed(value: Decimal) -> bytes:
    """An observed value's field. Only values already cached (thresholds, counts, validated quantities) are
    looked up: the rest are computed per order and never recur, so caching them would only fill the cache
    with garbage kept alive until it is cleared (for the collector to traverse again and again)."""
    cached = _encoded.get(id(value))
    if cached is not None and cached[0] is value:
        return cached[2]
    return _encoded_fields(value)[2]


_RULE_RESULT_TAG = _SMALL[_RULE_RESULTS << 3 | 2]


def _rule_field(r) -> bytes:
    """One `rule_results` entry of a RiskDecision, wire-encoded (tag, length, RuleResult)."""
    if r.__class__ is tuple:
        rule, threshold, observed, unit = r
        key = (id(rule), unit)
        cached = _prefixes.get(key)
        if cached is None or cached[0] is not rule:
            if len(_prefixes) > _CACHE_LIMIT:
                _prefixes.clear()
            prefix = risk_types_pb2.RuleResult(rule_id=rule.rule_id, outcome=_PASSED, control=int(rule.control),
                                               unit=unit, scope_account_id=rule.account_id,
                                               scope_symbol=rule.symbol).SerializeToString()
            cached = _prefixes[key] = (rule, prefix)
        out = cached[1]
        if threshold is not None:
            out += _encode(threshold)[1]
        if observed is not None:
            out += _observed(observed)
    else:
        cached = _full.get(id(r))
        if cached is None or cached[0] is not r:  # shared results (trading state, symbol lists) hit this cache
            if len(_full) > _CACHE_LIMIT:
                _full.clear()
            cached = _full[id(r)] = (r, rule_result_to_proto(r).SerializeToString())
        out = cached[1]
    return _RULE_RESULT_TAG + _varint(len(out)) + out


def decision_bytes(rec: DecisionRecord) -> bytes:
    """The serialized RiskDecision of a record, built once per record."""
    if rec.blob is None:
        d = rec.decision
        ts = timestamp_pb2.Timestamp()
        ts.FromDatetime(rec.time)
        head = risk_types_pb2.RiskDecision(
            decision_id=rec.decision_id, account_id=rec.account_id, client_order_id=rec.client_order_id,
            order_id=rec.order_id, request_type=rec.request_type,
            outcome=(risk_types_pb2.RISK_DECISION_OUTCOME_ACCEPTED if d.accepted
                     else risk_types_pb2.RISK_DECISION_OUTCOME_DENIED),
            denied_rule_id=d.denied_by.rule_id if d.denied_by else "", policy_version=d.policy_version,
            trading_state=int(d.trading_state), shadow=d.shadow, decision_time=ts, principal=rec.principal)
        parts = [head.SerializeToString(), _field(_ORDER, rec.spec.SerializeToString())]
        parts.extend(map(_rule_field, d.raw))
        rec.blob = b"".join(parts)
    return rec.blob


_RESPONSE_DECISION = 3  # SubmitOrderResponse.decision
_DECISION_ORDER_ID = 4  # RiskDecision.order_id
_RESPONSE_DECISION_TAG = _SMALL[_RESPONSE_DECISION << 3 | 2]


def submit_order_response_bytes(bridge_answer: bytes, rec: DecisionRecord, order_id: str) -> bytes:
    """A serialized SubmitOrderResponse: the bridge's serialized PlaceOrderResponse as it came (its fields are
    SubmitOrderResponse's first two, same numbers and types: test_wire holds them so) and the accepting
    decision, with the bridge's order id, appended as field 3 (concatenated messages merge)."""
    decision, tail = decision_bytes(rec), text_field(_DECISION_ORDER_ID, order_id)
    return b"".join((bridge_answer, _RESPONSE_DECISION_TAG, _varint(len(decision) + len(tail)), decision, tail))


_EVENT_RISK_DECISION = 18  # Event.risk_decision (RiskDecisionEvent, whose field 1 is the decision)


def risk_decision_event_bytes(rec: DecisionRecord, event_head: bytes) -> bytes:
    """A serialized bus `Event` carrying the decision: `event_head` (the envelope, no payload) + the payload."""
    payload = _field(1, decision_bytes(rec))
    return event_head + _varint(_EVENT_RISK_DECISION << 3 | 2) + _varint(len(payload)) + payload


def decision_to_proto(rec: DecisionRecord) -> risk_types_pb2.RiskDecision:
    """The proto of a decision, built once per record (treat the result as read-only)."""
    if rec.pb is None:
        rec.pb = risk_types_pb2.RiskDecision.FromString(decision_bytes(rec))
    return rec.pb


def denial_error(rec: DecisionRecord) -> FailedPrecondition:
    """The FAILED_PRECONDITION a denied order is answered with."""
    d = rec.decision
    r = d.denied_by
    assert r is not None
    reason = "RISK_RULE_VIOLATION"
    if r.rule_id == TRADING_STATE_RULE_ID:
        reason = _STATE_REASON.get(d.trading_state, reason)
    observed = r.observed_str()
    metadata = {
        "rule_id": r.rule_id,
        "threshold": r.threshold_str(),
        "observed": observed,
        "observed_value": observed,
        "unit": r.unit,
        "policy_version": d.policy_version,
        "control": risk_types_pb2.MarketAccessControl.Name(int(r.control)),
        "decision_id": rec.decision_id,
        "trading_state": d.trading_state.name,
    }
    message = f"denied by risk rule {r.rule_id}: {r.message.partition(': ')[2] or r.message}"
    return FailedPrecondition(reason, message, metadata=metadata)
