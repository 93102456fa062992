"""The risk policy between its proto form (`ibkr.trading.v1.RiskPolicy`) and the core's `Policy`, with
validation that reports every problem at once, and the seed policy built from configuration.

Field names in the proto oneof are the core's kind names, so the mapping is a table, not a chain of ifs.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

from google.protobuf import duration_pb2, json_format
from ibkr.trading.v1 import risk_policy_pb2, risk_types_pb2

from services.common.errors import InvalidArgument
from services.common.money import decimal_from_proto, decimal_to_proto
from services.risk.config import RiskSettings
from services.risk.core import policy as core
from services.risk.core.model import TradingState

RULE_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DEFAULT_QUOTE_MAX_AGE = Decimal(10)
_NANOS = Decimal(1_000_000_000)
_REFERENCES = {
    risk_policy_pb2.PRICE_REFERENCE_UNSPECIFIED: "LAST",
    risk_policy_pb2.PRICE_REFERENCE_LAST: "LAST",
    risk_policy_pb2.PRICE_REFERENCE_MIDPOINT: "MIDPOINT",
    risk_policy_pb2.PRICE_REFERENCE_NBBO_FAR_SIDE: "NBBO_FAR_SIDE",
    risk_policy_pb2.PRICE_REFERENCE_CLOSE: "CLOSE",
}
_REFERENCE_ENUM = {v: k for k, v in _REFERENCES.items() if k != risk_policy_pb2.PRICE_REFERENCE_UNSPECIFIED}


class PolicyInvalid(Exception):
    """The policy has problems; `violations` lists them all as (rule_id, field, description)."""

    def __init__(self, violations: list[tuple[str, str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {d}" for _, f, d in violations))
        self.violations = violations


class _Collector:
    """Gathers violations while decoding, so one pass reports every problem."""

    def __init__(self) -> None:
        self.violations: list[tuple[str, str, str]] = []

    def add(self, rule_id: str, field: str, description: str) -> None:
        self.violations.append((rule_id, field, description))

    def decimal(self, msg, name: str, path: str, rule_id: str, *, required: bool = False,
                positive: bool = True, integer: bool = False) -> Decimal | None:
        if not msg.HasField(name):
            if required:
                self.add(rule_id, f"{path}.{name}", "a value is required")
            return None
        try:
            value = decimal_from_proto(getattr(msg, name), f"{path}.{name}", required=True)
        except InvalidArgument as err:
            self.add(rule_id, f"{path}.{name}", err.message)
            return None
        if positive and value <= 0:
            self.add(rule_id, f"{path}.{name}", "must be positive")
        if integer and value != value.to_integral_value():
            self.add(rule_id, f"{path}.{name}", "must be a whole number")
        return value

    def seconds(self, msg, name: str, path: str, rule_id: str) -> Decimal | None:
        if not msg.HasField(name):
            self.add(rule_id, f"{path}.{name}", "a value is required")
            return None
        d = getattr(msg, name)
        value = Decimal(d.seconds) + Decimal(d.nanos) / _NANOS
        if value <= 0:
            self.add(rule_id, f"{path}.{name}", "must be positive")
        return value


def _symbols(values) -> frozenset[str]:
    return frozenset(v.strip().upper() for v in values if v.strip())


def _decode_params(kind: str, p, path: str, rid: str, c: _Collector) -> core.Params | None:
    """One rule's parameters; None (with violations recorded) when unusable."""
    if kind == "restricted_list":
        return core.RestrictedList(_symbols(p.allowed_symbols) - {"*"}, _symbols(p.denied_symbols))
    if kind == "max_order_quantity":
        v = c.decimal(p, "max_quantity", path, rid, required=True)
        return core.MaxOrderQuantity(v) if v else None
    if kind == "max_order_notional":
        v = c.decimal(p, "max_notional", path, rid, required=True)
        return core.MaxOrderNotional(v) if v else None
    if kind == "price_collar":
        v = c.decimal(p, "max_deviation_percent", path, rid, required=True)
        return core.PriceCollar(v, _REFERENCES.get(p.reference, "LAST"),
                                p.require_fresh_quote_for_market_orders) if v else None
    if kind == "max_position":
        q, n = c.decimal(p, "max_quantity", path, rid), c.decimal(p, "max_notional", path, rid)
        if q is None and n is None:
            c.add(rid, path, "set max_quantity, max_notional or both")
        return core.MaxPosition(q, n)
    if kind == "max_gross_exposure":
        g, lev = c.decimal(p, "max_gross_exposure", path, rid), c.decimal(p, "max_leverage", path, rid)
        if g is None and lev is None:
            c.add(rid, path, "set max_gross_exposure, max_leverage or both")
        return core.MaxGrossExposure(g, lev)
    if kind == "buying_power":
        v = c.decimal(p, "max_usage_percent", path, rid, required=True)
        if v is not None and v > 100:
            c.add(rid, f"{path}.max_usage_percent", "must be at most 100")
        return core.BuyingPower(v) if v else None
    if kind == "daily_loss_limit":
        v = c.decimal(p, "max_daily_loss", path, rid, required=True)
        trip = TradingState.REDUCING if p.trip_state == 0 else p.trip_state
        if trip not in (TradingState.REDUCING, TradingState.HALTED):
            c.add(rid, f"{path}.trip_state", "must be REDUCING or HALTED")
            return None
        return core.DailyLossLimit(v, TradingState(trip)) if v else None
    if kind == "order_rate":
        w = c.seconds(p, "window", path, rid)
        m, n = c.decimal(p, "max_orders", path, rid, integer=True), c.decimal(p, "max_notional", path, rid)
        if m is None and n is None:
            c.add(rid, path, "set max_orders, max_notional or both")
        return core.OrderRate(w, m, n) if w else None
    if kind == "duplicate_order":
        w = c.seconds(p, "window", path, rid)
        return core.DuplicateOrder(w) if w else None
    if kind == "max_open_orders":
        v = c.decimal(p, "max_open_orders", path, rid, required=True, integer=True)
        return core.MaxOpenOrders(int(v)) if v else None
    if kind == "max_working_orders_per_side":
        v = c.decimal(p, "max_working_orders", path, rid, required=True, integer=True)
        return core.MaxWorkingOrdersPerSide(int(v)) if v else None
    c.add(rid, path, f"unknown rule kind {kind}")
    return None


def policy_from_proto(pb: risk_policy_pb2.RiskPolicy, *, version: int | None = None) -> core.Policy:
    """Decode and validate; raises `PolicyInvalid` listing every problem."""
    c = _Collector()
    rules: list[core.RuleSpec] = []
    seen: set[str] = set()
    for i, r in enumerate(pb.rules):
        path = f"rules[{i}]"
        if not RULE_ID.match(r.rule_id):
            c.add(r.rule_id, f"{path}.rule_id", "must be lower-kebab-case, for example max-order-notional")
        elif r.rule_id in seen:
            c.add(r.rule_id, f"{path}.rule_id", "duplicate rule id")
        seen.add(r.rule_id)
        kind = r.WhichOneof("parameters")
        if kind is None:
            c.add(r.rule_id, f"{path}.parameters", "exactly one rule kind must be set")
            continue
        params = _decode_params(kind, getattr(r, kind), f"{path}.{kind}", r.rule_id, c)
        if params is not None:
            rules.append(core.RuleSpec(r.rule_id, params, r.account_id.strip(), r.symbol.strip().upper(),
                                       r.description, r.disabled))
    if pb.currency not in ("", "USD"):
        c.add("", "currency", "only USD policies are supported")
    max_age = DEFAULT_QUOTE_MAX_AGE
    if pb.HasField("quote_max_age"):
        max_age = c.seconds(pb, "quote_max_age", "policy", "") or DEFAULT_QUOTE_MAX_AGE
    if c.violations:
        raise PolicyInvalid(c.violations)
    return core.Policy(version if version is not None else pb.version, tuple(rules), "USD", max_age,
                       pb.change_reason, pb.created_by)


def _duration(seconds: Decimal) -> duration_pb2.Duration:
    whole = int(seconds)
    return duration_pb2.Duration(seconds=whole, nanos=int((seconds - whole) * _NANOS))


def _encode_params(params: core.Params, target) -> None:
    """Fill the proto parameters message of one rule (the inverse of `_decode_params`)."""
    for name in target.DESCRIPTOR.fields_by_name:
        value = getattr(params, {"allowed_symbols": "allowed", "denied_symbols": "denied",
                                 "window": "window_seconds"}.get(name, name))
        if value is None:
            continue
        if name in ("allowed_symbols", "denied_symbols"):
            getattr(target, name).extend(sorted(value))
        elif name == "window":
            target.window.CopyFrom(_duration(value))
        elif name == "reference":
            target.reference = _REFERENCE_ENUM[value]
        elif name == "trip_state":
            target.trip_state = int(value)
        elif isinstance(value, bool):
            setattr(target, name, value)
        else:
            getattr(target, name).CopyFrom(decimal_to_proto(Decimal(value)))


def policy_to_proto(policy: core.Policy) -> risk_policy_pb2.RiskPolicy:
    """The proto form of a core policy (output-only `control` filled in from the kind)."""
    pb = risk_policy_pb2.RiskPolicy(version=policy.version, currency=policy.currency,
                                    change_reason=policy.change_reason, created_by=policy.created_by)
    pb.quote_max_age.CopyFrom(_duration(policy.quote_max_age_seconds))
    for rule in policy.rules:
        r = pb.rules.add(rule_id=rule.rule_id, description=rule.description, disabled=rule.disabled,
                         account_id=rule.account_id, symbol=rule.symbol, control=int(rule.control))
        _encode_params(rule.params, getattr(r, rule.kind))
    return pb


def violations_to_proto(violations: list[tuple[str, str, str]]) -> list[risk_policy_pb2.RiskPolicyViolation]:
    return [risk_policy_pb2.RiskPolicyViolation(rule_id=r, field=f, description=d) for r, f, d in violations]


def load_policy_file(path: Path) -> risk_policy_pb2.RiskPolicy:
    """A RiskPolicy from a YAML or JSON file in proto-JSON form (snake_case or camelCase field names)."""
    text = path.read_text()
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml  # only needed for YAML policy files

        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    return json_format.ParseDict(data or {}, risk_policy_pb2.RiskPolicy())


def seed_policy_proto(settings: RiskSettings) -> risk_policy_pb2.RiskPolicy:
    """The first policy, from `IBKR_RISK_POLICY_FILE` when set, else from the `IBKR_RISK_*` variables:
    a restricted list, a maximum order notional, IB's working-orders cap (plus a maximum quantity when
    configured)."""
    if settings.risk_policy_file is not None:
        pb = load_policy_file(settings.risk_policy_file)
        if not pb.change_reason:
            pb.change_reason = f"seeded from {settings.risk_policy_file}"
        return pb
    pb = risk_policy_pb2.RiskPolicy(currency="USD", change_reason="seeded from IBKR_RISK_* environment")
    pb.quote_max_age.CopyFrom(_duration(settings.risk_quote_max_age_seconds))
    restricted = pb.rules.add(rule_id="restricted-list", description="symbols allowed and denied",
                              control=risk_types_pb2.MARKET_ACCESS_CONTROL_RESTRICTED_SECURITY)
    restricted.restricted_list.allowed_symbols.extend(sorted(settings.allowed_symbols()))
    restricted.restricted_list.denied_symbols.extend(sorted(settings.denied_symbols()))
    notional = pb.rules.add(rule_id="max-order-notional", description="largest notional of one order",
                            control=risk_types_pb2.MARKET_ACCESS_CONTROL_ERRONEOUS_ORDER)
    notional.max_order_notional.max_notional.CopyFrom(decimal_to_proto(settings.risk_max_order_notional))
    if settings.risk_max_working_orders_per_side:
        working = pb.rules.add(rule_id="ib-working-orders-per-side",
                               description="IB accepts at most 20 working orders per contract and side",
                               control=risk_types_pb2.MARKET_ACCESS_CONTROL_VENUE_LIMIT)
        working.max_working_orders_per_side.max_working_orders.CopyFrom(
            decimal_to_proto(Decimal(settings.risk_max_working_orders_per_side)))
    if settings.risk_max_order_quantity is not None:
        qty = pb.rules.add(rule_id="max-order-quantity", description="largest quantity of one order",
                           control=risk_types_pb2.MARKET_ACCESS_CONTROL_ERRONEOUS_ORDER)
        qty.max_order_quantity.max_quantity.CopyFrom(decimal_to_proto(settings.risk_max_order_quantity))
    return pb
