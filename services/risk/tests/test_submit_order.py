"""SubmitOrder over real gRPC: the allow-list and notional rules, input validation, pass-through of the
bridge's errors, and the proof that nothing denied reaches the bridge."""

from __future__ import annotations

from decimal import Decimal

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from ibkr.risk.v1 import risk_pb2
from ibkr.trading.v1 import market_data_pb2, order_pb2

from services.common.config import CommonSettings
from services.common.errors import AlreadyExists, NotFound, Unavailable
from services.common.money import decimal_to_proto
from services.common.telemetry import build_tracer_provider, never_records
from services.risk.tests.conftest import ACCOUNT, spec


def error_info(err: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    status = rpc_status.from_call(err)
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info
    raise AssertionError("no ErrorInfo")


def submit(coid: str, order: order_pb2.OrderSpec, account: str = ACCOUNT) -> risk_pb2.SubmitOrderRequest:
    return risk_pb2.SubmitOrderRequest(account_id=account, client_order_id=coid, order=order, principal="test")


async def test_order_within_limits_is_forwarded_with_its_decision(risk, gateway):
    reply = await risk.stub.SubmitOrder(submit("ok-1", spec(quantity="10", limit="100")))
    assert reply.order.order_id == "ord_ok-1"
    assert reply.decision.outcome == 1 and reply.decision.policy_version >= 1
    assert [r.client_order_id for r in gateway[0].placed] == ["ok-1"]
    assert gateway[0].placed[0].risk_decision_id == reply.decision.decision_id


async def test_order_at_the_notional_limit_passes(risk, gateway):
    await risk.stub.SubmitOrder(submit("at-limit", spec(quantity="1000", limit="100")))  # 100000 = default limit
    assert len(gateway[0].placed) == 1


async def test_order_over_the_notional_limit_is_denied_and_never_reaches_the_bridge(risk, gateway):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await risk.stub.SubmitOrder(submit("big-1", spec(quantity="1001", limit="100")))
    err = caught.value
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "max-order-notional" in err.details()
    info = error_info(err)
    assert info.reason == "RISK_RULE_VIOLATION" and info.domain == "ibkr.local"
    assert info.metadata["rule_id"] == "max-order-notional"
    assert info.metadata["threshold"] == "100000"
    assert info.metadata["observed"] == "100100"
    assert int(info.metadata["policy_version"]) >= 1
    assert info.metadata["control"] == "MARKET_ACCESS_CONTROL_ERRONEOUS_ORDER"
    assert gateway[0].placed == []


async def test_symbol_outside_the_allow_list_is_denied_naming_the_rule(risk_factory, gateway):
    risk = await risk_factory(risk_allowed_symbols="AAPL,MSFT")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await risk.stub.SubmitOrder(submit("tsla-1", spec(symbol="TSLA")))
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(caught.value)
    assert (info.metadata["rule_id"], info.metadata["observed"]) == ("restricted-list", "TSLA")
    assert "restricted-list" in caught.value.details()
    await risk.stub.SubmitOrder(submit("msft-1", spec(symbol="MSFT")))
    assert [r.client_order_id for r in gateway[0].placed] == ["msft-1"]


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda s: s.ClearField("quantity"), "order.quantity"),
    (lambda s: s.quantity.__setattr__("value", "-5"), "order.quantity"),
    (lambda s: s.quantity.__setattr__("value", "0"), "order.quantity"),
    (lambda s: s.quantity.__setattr__("value", "1e"), "order.quantity"),
    (lambda s: s.__setattr__("side", 0), "order.side"),
    (lambda s: s.__setattr__("order_type", 0), "order.order_type"),
    (lambda s: s.__setattr__("time_in_force", 0), "order.time_in_force"),
    (lambda s: s.instrument.__setattr__("symbol", ""), "order.instrument.symbol"),
    (lambda s: s.ClearField("limit_price"), "order.limit_price"),
])
async def test_bad_input_is_invalid_argument_naming_the_field(risk, gateway, mutate, field):
    order = spec()
    mutate(order)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await risk.stub.SubmitOrder(submit("bad-1", order))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in caught.value.details()
    assert gateway[0].placed == []


async def test_missing_client_order_id_is_invalid_argument(risk, gateway):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await risk.stub.SubmitOrder(submit("", spec()))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "client_order_id" in caught.value.details()


@pytest.mark.parametrize("error", [
    Unavailable("BROKER_UNAVAILABLE", "IB is not connected", metadata={"retry": "yes"}),
    AlreadyExists("CLIENT_ORDER_ID_CONFLICT", "same client_order_id, other parameters"),
])
async def test_bridge_errors_pass_through_unchanged_and_release_the_reservation(risk, gateway, error):
    gateway[0].fail_with = error
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await risk.stub.SubmitOrder(submit("down-1", spec()))
    assert caught.value.code() == error.code
    assert caught.value.details() == error.message
    info = error_info(caught.value)
    assert info.reason == error.reason and dict(info.metadata) == error.metadata
    state = await risk.stub.GetRiskState(risk_pb2.GetRiskStateRequest(account_id=ACCOUNT))
    assert state.open_orders == 0


async def test_market_order_is_priced_at_the_reference_price_without_a_quote(risk_factory, gateway):
    risk = await risk_factory(risk_reference_prices="AAPL=200")
    market = {"order_type": order_pb2.ORDER_TYPE_MARKET, "limit": None}
    await risk.stub.SubmitOrder(submit("mkt-1", spec(quantity="500", **market)))  # 100000: at the limit
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await risk.stub.SubmitOrder(submit("mkt-2", spec(quantity="501", **market)))
    assert error_info(caught.value).metadata["observed"] == "100200"


async def test_market_order_without_any_price_is_denied(risk, gateway):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await risk.stub.SubmitOrder(submit("mkt-x", spec(order_type=order_pb2.ORDER_TYPE_MARKET, limit=None)))
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(caught.value).metadata["rule_id"] == "max-order-notional"
    assert gateway[0].placed == []


async def test_retry_of_a_working_order_is_forwarded_once_more_without_a_second_reservation(risk, gateway):
    await risk.stub.SubmitOrder(submit("retry-1", spec(quantity="600", limit="100")))
    await risk.stub.SubmitOrder(submit("retry-1", spec(quantity="600", limit="100")))
    assert len(gateway[0].placed) == 2  # the bridge answers the retry idempotently
    state = await risk.stub.GetRiskState(risk_pb2.GetRiskStateRequest(account_id=ACCOUNT))
    assert state.open_orders == 1


async def test_market_order_without_a_bus_quote_is_priced_from_the_bridge_quote(risk_factory, gateway):
    gateway[0].quote = market_data_pb2.Quote(bid_price=decimal_to_proto(Decimal(199)),
                                             ask_price=decimal_to_proto(Decimal(200)))
    risk = await risk_factory(risk_quote_lookup=True)
    market = {"order_type": order_pb2.ORDER_TYPE_MARKET, "limit": None}
    await risk.stub.SubmitOrder(submit("look-1", spec(quantity="500", **market)))  # 500 × ask 200: at the limit
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await risk.stub.SubmitOrder(submit("look-2", spec(quantity="501", **market)))
    assert error_info(caught.value).metadata["observed"] == "100200"


async def test_unknown_symbol_reported_by_the_bridge_quote_is_relayed_as_not_found(risk_factory, gateway):
    risk = await risk_factory(risk_quote_lookup=True)
    gateway[0].quote = None  # the recording gateway answers UNAVAILABLE without a quote ...
    gateway[0].quote_error = NotFound("UNKNOWN_SYMBOL", "unknown symbol NOSUCHSYM")  # ... or this when set
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await risk.stub.SubmitOrder(submit("unk-1", spec(symbol="NOSUCHSYM", order_type=order_pb2.ORDER_TYPE_MARKET,
                                                         limit=None)))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND and "NOSUCHSYM" in caught.value.details()
    assert gateway[0].placed == []


async def test_order_reaches_the_bridge_with_the_internal_token_and_the_callers_trace(risk_factory, gateway):
    risk = await risk_factory(internal_token="s3cret")
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    await risk.stub.SubmitOrder(submit("tok-1", spec()), metadata=(
        ("x-ibkr-internal-token", "s3cret"), ("traceparent", f"00-{trace_id}-00f067aa0ba902b7-01")))
    sent = gateway[0].place_metadata[-1]
    assert sent["x-ibkr-internal-token"] == "s3cret"
    assert sent["traceparent"].split("-")[1] == trace_id  # risk's CLIENT span continues the caller's trace


async def test_without_an_exporter_the_order_still_carries_the_callers_trace(risk_factory, gateway):
    # No exporter: nothing is recorded and risk makes its spans without the SDK (UnrecordedSpans); the trace
    # must still reach the bridge, and the decision still reach the caller.
    provider = build_tracer_provider("risk", CommonSettings(otel_exporter_otlp_endpoint=None))
    risk = await risk_factory(tracer_provider=provider, internal_token="s3cret")
    assert never_records(risk.app.tracer_provider)
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    reply = await risk.stub.SubmitOrder(submit("untraced-1", spec()), metadata=(
        ("x-ibkr-internal-token", "s3cret"), ("traceparent", f"00-{trace_id}-00f067aa0ba902b7-01")))
    sent = gateway[0].place_metadata[-1]
    assert sent["x-ibkr-internal-token"] == "s3cret"
    assert sent["traceparent"].split("-")[1] == trace_id
    assert reply.decision.decision_id == gateway[0].placed[-1].risk_decision_id
    assert reply.decision.order_id == "ord_untraced-1"


async def test_an_accepted_order_the_bridge_fails_or_leaves_unanswered_is_reported_once(risk, gateway):
    # The accepted decision is reported while the bridge call is in flight, or by the gate when the call
    # never got that far: exactly once either way, whatever became of the call.
    gateway[0].fail_with = Unavailable("BROKER_UNAVAILABLE", "IB is not connected")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await risk.stub.SubmitOrder(submit("fail-1", spec()))
    gateway[0].fail_with, gateway[0].delay = None, 2.0
    with pytest.raises(grpc.aio.AioRpcError) as late:
        await risk.stub.SubmitOrder(submit("late-1", spec()), timeout=0.5)
    assert (refused.value.code(), late.value.code()) == (grpc.StatusCode.UNAVAILABLE,
                                                         grpc.StatusCode.DEADLINE_EXCEEDED)
    decisions = (await risk.stub.ListDecisions(risk_pb2.ListDecisionsRequest(account_id=ACCOUNT))).decisions
    assert sorted((d.client_order_id, d.outcome) for d in decisions) == [("fail-1", 1), ("late-1", 1)]
    state = await risk.stub.GetRiskState(risk_pb2.GetRiskStateRequest(account_id=ACCOUNT))
    assert state.open_orders == 1  # the unanswered order may be working: its reservation stays
