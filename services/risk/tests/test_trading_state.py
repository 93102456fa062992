"""The kill switch over real gRPC, Postgres and Redis: HALTED stops new orders at once, cancels always
pass, REDUCING admits only reducing orders, the loss limit trips the account, states persist and are
announced on the bus."""

from __future__ import annotations

import grpc
import pytest
from google.type import money_pb2
from ibkr.risk.v1 import risk_pb2
from ibkr.trading.v1 import event_pb2, order_pb2, portfolio_pb2, risk_types_pb2
from prometheus_client import generate_latest

from services.common.bus import EventBus
from services.risk.tests.conftest import ACCOUNT, eventually, fill_event, install, publish, rule, spec

HALTED, REDUCING, ACTIVE = (risk_types_pb2.TRADING_STATE_HALTED, risk_types_pb2.TRADING_STATE_REDUCING,
                            risk_types_pb2.TRADING_STATE_ACTIVE)


def submit(coid: str, **kw) -> risk_pb2.SubmitOrderRequest:
    return risk_pb2.SubmitOrderRequest(account_id=ACCOUNT, client_order_id=coid, order=spec(**kw))


async def set_state(risk, state: int, *, is_global: bool = False, cancel: bool = False):
    request = risk_pb2.SetTradingStateRequest(account_id=ACCOUNT, state=state, reason="test", principal="ops",
                                              cancel_open_orders=cancel, global_scope=is_global)
    return await risk.stub.SetTradingState(request)


async def bus_events(risk, kind: str) -> list[event_pb2.Event]:
    entries = await EventBus(risk.redis, risk.app.settings.bus_stream, None).read_after("0", count=1000)
    return [e for e in (event_pb2.Event.FromString(x.payload) for x in entries) if e.WhichOneof("payload") == kind]


@pytest.mark.parametrize("is_global", [False, True])
async def test_halted_denies_new_orders_at_once_and_cancels_still_pass(risk, gateway, is_global):
    await set_state(risk, HALTED, is_global=is_global)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await risk.stub.SubmitOrder(submit("h-1"))
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "trading-state" in caught.value.details()
    await risk.stub.SubmitCancel(risk_pb2.SubmitCancelRequest(account_id=ACCOUNT, client_order_id="h-0"))
    assert gateway[0].placed == [] and len(gateway[0].cancelled) == 1
    listed = await risk.stub.ListDecisions(risk_pb2.ListDecisionsRequest(account_id=ACCOUNT, client_order_id="h-0"))
    assert [(d.request_type, d.outcome) for d in listed.decisions] == [
        (risk_types_pb2.RISK_REQUEST_TYPE_CANCEL_ORDER, risk_types_pb2.RISK_DECISION_OUTCOME_ACCEPTED)]
    got = await risk.stub.GetTradingState(risk_pb2.GetTradingStateRequest(account_id=ACCOUNT))
    assert got.trading_state.effective_state == HALTED


async def test_halt_with_cancel_open_orders_asks_the_bridge_to_cancel_them(risk, gateway):
    await risk.stub.SubmitOrder(submit("w-1"))
    await set_state(risk, HALTED, cancel=True)
    assert [r.account_id for r in gateway[0].cancel_alls] == [ACCOUNT]


async def test_reducing_admits_only_orders_that_shrink_the_position(risk, gateway):
    await risk.stub.SubmitOrder(submit("p-1", quantity="100"))
    await publish(risk, fill_event("p-1", "100"))

    async def filled():
        reply = await risk.stub.GetRiskState(risk_pb2.GetRiskStateRequest(account_id=ACCOUNT))
        return any(e.position_quantity.value == "100" for e in reply.exposures)
    await eventually(filled)
    await set_state(risk, REDUCING)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await risk.stub.SubmitOrder(submit("p-2", quantity="1"))
    assert "TRADING_REDUCING" in str(caught.value.trailing_metadata()) or "REDUCING" in caught.value.details()
    with pytest.raises(grpc.aio.AioRpcError):  # would flip the position short
        await risk.stub.SubmitOrder(submit("p-3", quantity="101", side=order_pb2.ORDER_SIDE_SELL))
    await risk.stub.SubmitOrder(submit("p-4", quantity="100", side=order_pb2.ORDER_SIDE_SELL))


async def test_state_persists_across_restart_and_changes_are_announced_on_the_bus(risk_factory, gateway):
    risk = await risk_factory()
    await set_state(risk, HALTED)
    await set_state(risk, REDUCING, is_global=True)
    await risk.stop()
    again = await risk_factory()
    got = await again.stub.GetTradingState(risk_pb2.GetTradingStateRequest(account_id=ACCOUNT))
    assert (got.trading_state.state, got.trading_state.changed_by) == (HALTED, "ops")
    glob = risk_pb2.GetTradingStateRequest(global_scope=True)
    assert (await again.stub.GetTradingState(glob)).trading_state.state == REDUCING
    changes = await bus_events(again, "trading_state_change")
    assert [(c.account_id, c.trading_state_change.trading_state.state) for c in changes] == [
        (ACCOUNT, HALTED), ("", REDUCING)]


async def test_daily_loss_beyond_the_limit_trips_the_account_to_reducing(risk, gateway):
    await install(risk, rule("daily-loss", "daily_loss_limit", max_daily_loss="1000"),
                  rule("max-order-notional", "max_order_notional", max_notional="100000"))
    pnl = portfolio_pb2.Pnl(account_id=ACCOUNT, daily_pnl=money_pb2.Money(currency_code="USD", units=-1000))
    await publish(risk, event_pb2.Event(event_id="pnl-1", account_id=ACCOUNT, source="gateway_bridge",
                                        pnl_update=event_pb2.PnlUpdate(pnl=pnl)))
    await risk.stub.SubmitOrder(submit("l-1"))  # a loss of exactly 1000 is at the limit
    pnl.daily_pnl.nanos = -10_000_000  # -1000.01
    await publish(risk, event_pb2.Event(event_id="pnl-2", account_id=ACCOUNT, source="gateway_bridge",
                                        pnl_update=event_pb2.PnlUpdate(pnl=pnl)))

    async def tripped():
        got = await risk.stub.GetTradingState(risk_pb2.GetTradingStateRequest(account_id=ACCOUNT))
        return got.trading_state.state == REDUCING and got.trading_state
    state = await eventually(tripped)
    assert state.automatic and state.changed_by == "risk:daily-loss"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await risk.stub.SubmitOrder(submit("l-2"))
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_set_trading_state_without_a_state_is_invalid_argument(risk):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await set_state(risk, 0)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "state" in caught.value.details()


async def test_trading_state_gauge_is_exposed_from_the_start(risk):
    text = generate_latest(risk.app.registry).decode()
    assert 'ibkr_risk_trading_state{scope="global"} 1.0' in text
    assert f'ibkr_risk_trading_state{{scope="{ACCOUNT}"}} 1.0' in text
