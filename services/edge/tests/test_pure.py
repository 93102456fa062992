"""The edge's pure modules: authorization table, resume-token codec, filters, rate limits, conflation,
field projection and request validation."""

from __future__ import annotations

import pytest
from ibkr.edge.v1 import trading_service_pb2 as trading
from ibkr.risk.v1 import risk_pb2
from ibkr.trading.v1 import order_pb2

from services.common.errors import InvalidArgument, PermissionDenied
from services.edge import authz, resume, validation
from services.edge.app import public_service_names
from services.edge.conflation import Conflator
from services.edge.filters import EventFilter, event_type_for_payload, payload_for_event_type
from services.edge.keys import Principal, Role
from services.edge.mapping import project
from services.edge.ratelimit import RateLimiter, StreamSlots

from ibkr.edge.v1 import (  # isort: skip
    admin_service_pb2, event_service_pb2, market_data_service_pb2, portfolio_service_pb2)

ALL_METHODS = [
    f"/{svc.full_name}/{m.name}"
    for module in (trading, portfolio_service_pb2, market_data_service_pb2, event_service_pb2, admin_service_pb2)
    for svc in module.DESCRIPTOR.services_by_name.values() for m in svc.methods
]


def principal(role: Role, *accounts: str) -> Principal:
    return Principal("k", "id", role, accounts)


def test_every_public_method_has_exactly_one_rule_and_nothing_else_does():
    assert sorted(authz.RULES) == sorted(ALL_METHODS)
    assert len(public_service_names()) == 5


def test_methods_outside_the_table_are_denied_even_to_admins():
    with pytest.raises(PermissionDenied):
        authz.check_role(principal(Role.ADMIN, "*"), authz.rule_for("/x.Y/Z"), "/x.Y/Z")


@pytest.mark.parametrize(("method", "viewer", "trader", "admin"), [
    ("/ibkr.edge.v1.TradingService/PlaceOrder", False, True, True),
    ("/ibkr.edge.v1.TradingService/GetOrder", True, True, True),
    ("/ibkr.edge.v1.AdminService/SetTradingState", False, False, True),
    ("/ibkr.edge.v1.AdminService/GetSystemStatus", True, True, True),
    ("/ibkr.edge.v1.EventService/StreamEvents", True, True, True),
])
def test_roles_are_ordered_viewer_trader_admin(method, viewer, trader, admin):
    for role, allowed in ((Role.VIEWER, viewer), (Role.TRADER, trader), (Role.ADMIN, admin)):
        if allowed:
            authz.check_role(principal(role, "A"), authz.rule_for(method), method)
        else:
            with pytest.raises(PermissionDenied):
                authz.check_role(principal(role, "A"), authz.rule_for(method), method)


def test_empty_account_resolves_to_the_keys_only_account():
    rule = authz.rule_for("/ibkr.edge.v1.TradingService/PlaceOrder")
    assert authz.resolve_account(principal(Role.TRADER, "DU1"), rule, "") == "DU1"


def test_empty_account_is_ambiguous_for_a_multi_account_or_wildcard_key():
    rule = authz.rule_for("/ibkr.edge.v1.TradingService/PlaceOrder")
    for p in (principal(Role.TRADER, "DU1", "DU2"), principal(Role.TRADER, "*")):
        with pytest.raises(InvalidArgument):
            authz.resolve_account(p, rule, "")


def test_account_outside_scope_is_denied_and_global_requests_skip_scoping():
    rule = authz.rule_for("/ibkr.edge.v1.AdminService/SetTradingState")
    with pytest.raises(PermissionDenied):
        authz.resolve_account(principal(Role.ADMIN, "DU1"), rule, "DU2")
    assert authz.resolve_account(principal(Role.ADMIN, "DU1", "DU2"), rule, "", is_global=True) == ""


def test_resume_token_round_trips_and_is_opaque_url_safe_text():
    position = resume.StreamPosition(1_700_000_000_123, 7)
    token = resume.encode("ibkr:events", position)
    assert resume.decode("ibkr:events", token) == position
    assert token.isascii() and "=" not in token and "-" not in token[:0]


@pytest.mark.parametrize("token", ["", "!!!", "AAAA", "A" * 200])
def test_malformed_resume_tokens_are_rejected(token):
    with pytest.raises(resume.InvalidResumeToken):
        resume.decode("s", token)


def test_resume_token_of_another_stream_is_rejected():
    with pytest.raises(resume.InvalidResumeToken):
        resume.decode("b", resume.encode("a", resume.StreamPosition(1, 0)))


def test_stream_positions_order_numerically_not_as_text():
    assert resume.StreamPosition.parse("10-0") > resume.StreamPosition.parse("9-5")
    assert str(resume.StreamPosition.parse(b"5-1")) == "5-1"


def test_filter_passes_suite_wide_events_and_context_without_symbols():
    flt = EventFilter.build("DU1", ["order_update", "account_update"], ["aapl"])
    assert flt.matches("order_update", "DU1", "AAPL")
    assert not flt.matches("order_update", "DU1", "MSFT")
    assert not flt.matches("order_update", "DU2", "AAPL")
    assert flt.matches("account_update", "DU1", "")
    assert flt.matches("order_update", "", "AAPL")  # suite-wide
    assert not flt.matches("fill", "DU1", "AAPL")


def test_event_type_names_map_to_payload_fields_both_ways():
    assert payload_for_event_type("EVENT_TYPE_ORDER_UPDATE") == "order_update"
    assert event_type_for_payload("connection_state_change") == "EVENT_TYPE_CONNECTION_STATE_CHANGE"


def test_rate_limiter_allows_a_burst_then_the_sustained_rate():
    now = [0.0]
    limiter = RateLimiter(rate=2, burst=3, clock=lambda: now[0])
    assert [limiter.try_acquire("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.try_acquire("k") == pytest.approx(0.5)
    assert limiter.try_acquire("other") == 0.0
    now[0] = 0.5
    assert limiter.try_acquire("k") == 0.0


def test_rate_limit_of_zero_disables_limiting():
    limiter = RateLimiter(rate=0, burst=1)
    assert all(limiter.try_acquire("k") == 0.0 for _ in range(100))


def test_stream_slots_cap_per_key_and_free_on_release():
    slots = StreamSlots(2)
    assert slots.acquire("k") and slots.acquire("k") and not slots.acquire("k")
    slots.release("k")
    assert slots.acquire("k") and slots.open_streams("k") == 2


def test_conflator_keeps_latest_per_key_in_first_pending_order():
    c: Conflator[str, int] = Conflator()
    for key, value in (("A", 1), ("B", 2), ("A", 3)):
        c.put(key, value)
    assert (c.pop(), c.pop(), c.pop(), c.conflated) == (3, 2, None, 1)


def test_project_copies_same_named_fields_and_applies_overrides():
    request = trading.CancelOrderRequest(account_id="DU1", client_order_id="c-1")
    mapped = project(request, risk_pb2.SubmitCancelRequest, principal="ops")
    assert (mapped.account_id, mapped.WhichOneof("key"), mapped.client_order_id, mapped.principal) == (
        "DU1", "client_order_id", "c-1", "ops")


def _violations(build) -> list[str]:
    v = validation.Violations()
    build(v)
    return [item.field for item in v.items]


def _limit(**changes) -> trading.PlaceOrderRequest:
    request = trading.PlaceOrderRequest()
    spec = request.order
    spec.instrument.symbol = "AAPL"
    spec.instrument.security_type = 1
    spec.side, spec.order_type, spec.time_in_force = 1, order_pb2.ORDER_TYPE_LIMIT, 1
    spec.quantity.value, spec.limit_price.value = "1", "10.5"
    for k, value in changes.items():
        setattr(spec, k, value)
    return request


def test_valid_limit_order_has_no_violations():
    assert _violations(lambda v: validation.check_order_spec(v, _limit(), "order", "order")) == []


def test_stop_price_on_a_limit_order_is_not_allowed():
    request = _limit()
    request.order.stop_price.value = "9"
    assert _violations(lambda v: validation.check_order_spec(v, request, "order", "order")) == ["order.stop_price"]


def test_trailing_stop_needs_exactly_one_trailing_distance():
    request = _limit(order_type=order_pb2.ORDER_TYPE_TRAILING_STOP)
    request.order.ClearField("limit_price")
    assert _violations(lambda v: validation.check_order_spec(v, request, "order", "order")) == [
        "order.trailing_amount"]
    request.order.trailing_percent.value = "1.5"
    assert _violations(lambda v: validation.check_order_spec(v, request, "order", "order")) == []


def test_gtd_needs_a_good_till_time():
    request = _limit(time_in_force=order_pb2.TIME_IN_FORCE_GTD)
    assert _violations(lambda v: validation.check_order_spec(v, request, "order", "order")) == [
        "order.good_till_time"]


@pytest.mark.parametrize(("value", "ok"), [("abc-1.x:2", True), ("", False), ("-x", False), ("a b", False),
                                           ("x" * 64, True), ("x" * 65, False)])
def test_client_order_id_format(value, ok):
    fields = _violations(lambda v: validation.check_client_order_id(v, value, required=True))
    assert (fields == []) is ok
