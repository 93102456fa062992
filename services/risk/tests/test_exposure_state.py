"""Exposure state over real gRPC, Postgres and Redis: atomic reservations under concurrency, release on
fill / cancel / reject, quotes from the bus, and the same state after a restart."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D

import grpc
import pytest
from ibkr.risk.v1 import risk_pb2
from ibkr.trading.v1 import order_pb2

from services.risk.tests.conftest import (
    ACCOUNT,
    eventually,
    fill_event,
    install,
    order_event,
    publish,
    quote_event,
    rule,
    spec,
)


def submit(coid: str, **kw) -> risk_pb2.SubmitOrderRequest:
    return risk_pb2.SubmitOrderRequest(account_id=ACCOUNT, client_order_id=coid, order=spec(**kw))


async def state(risk) -> risk_pb2.GetRiskStateResponse:
    return await risk.stub.GetRiskState(risk_pb2.GetRiskStateRequest(account_id=ACCOUNT))


def exposure(reply: risk_pb2.GetRiskStateResponse, symbol: str = "AAPL"):
    return next((e for e in reply.exposures if e.instrument.symbol == symbol), None)


async def test_hundred_simultaneous_orders_never_jointly_exceed_the_position_limit(risk, gateway):
    await install(risk, rule("max-position", "max_position", max_quantity="500"))
    gateway[0].delay = 0.005  # the bridge takes a while: every order is in flight at once

    async def one(i: int) -> bool:
        try:
            await risk.stub.SubmitOrder(submit(f"c-{i}", quantity="10"))
            return True
        except grpc.aio.AioRpcError as err:
            assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
            return False

    accepted = sum(await asyncio.gather(*(one(i) for i in range(100))))
    assert accepted == 50  # 50 × 10 = 500: the limit exactly, never beyond
    assert len(gateway[0].placed) == 50
    reply = await state(risk)
    assert exposure(reply).open_buy_quantity.value == "500"


async def test_fills_move_quantity_from_reservation_to_position_and_free_the_limit(risk, gateway):
    await install(risk, rule("max-position", "max_position", max_quantity="100"))
    await risk.stub.SubmitOrder(submit("f-1", quantity="100"))
    with pytest.raises(grpc.aio.AioRpcError):
        await risk.stub.SubmitOrder(submit("f-2", quantity="1"))
    await publish(risk, fill_event("f-1", "40"))

    async def applied():
        e = exposure(await state(risk))
        return e.position_quantity.value == "40" and e.open_buy_quantity.value == "60"
    await eventually(applied)
    await publish(risk, fill_event("f-1", "40"))  # the same execution again: counted once
    await publish(risk, order_event("f-1", order_pb2.ORDER_STATUS_CANCELLED, "100", filled="40"))

    async def released():
        reply = await state(risk)
        return reply.open_orders == 0 and exposure(reply).position_quantity.value == "40"
    await eventually(released)
    await risk.stub.SubmitOrder(submit("f-3", quantity="60"))  # 40 held + 60 = the limit again


async def test_market_order_is_priced_from_the_latest_bus_quote(risk_factory, gateway):
    risk = await risk_factory(risk_reference_prices="AAPL=1")
    await publish(risk, quote_event("AAPL", "199", "200", "199.5"))

    async def priced():
        reply = await risk.stub.CheckOrder(risk_pb2.CheckOrderRequest(
            account_id=ACCOUNT, order=spec(quantity="500", order_type=order_pb2.ORDER_TYPE_MARKET, limit=None)))
        return reply.decision.outcome == 1 and reply
    await eventually(priced)  # 500 × ask 200 = 100000: at the limit
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await risk.stub.SubmitOrder(submit("m-1", quantity="501", order_type=order_pb2.ORDER_TYPE_MARKET, limit=None))
    assert "100200" in caught.value.details()


async def test_restart_restores_positions_and_open_order_reservations(risk_factory, gateway):
    risk = await risk_factory()
    for i, qty in enumerate(["100", "50", "25"]):
        await risk.stub.SubmitOrder(submit(f"r-{i}", quantity=qty))
    await risk.stub.SubmitOrder(submit("r-sell", quantity="5", side=order_pb2.ORDER_SIDE_SELL, symbol="MSFT"))
    await publish(risk, fill_event("r-0", "30"))
    await publish(risk, fill_event("r-1", "50"))
    await publish(risk, order_event("r-1", order_pb2.ORDER_STATUS_FILLED, "50", filled="50"))

    async def settled():
        reply = await state(risk)
        return reply.open_orders == 3 and exposure(reply).position_quantity.value == "80" and reply
    before = await eventually(settled)
    await risk.stop()

    again = await risk_factory()
    after = await state(again)
    assert after.open_orders == before.open_orders == 3
    # Each reservation comes back with the quantity it was reserved for (fills count against it).
    restored = {o.key: (o.remaining, o.quantity) for o in again.app.gate.books.account(ACCOUNT).open_orders.values()}
    assert restored == {"r-0": (D(70), D(100)), "r-2": (D(25), D(25)), "r-sell": (D(5), D(5))}
    assert list(after.exposures) == list(before.exposures)
    assert after.reserved_buying_power == before.reserved_buying_power
    # A fill published while risk was down is applied once after the restart, not twice.
    await again.stop()
    await publish(again, fill_event("r-0", "70", execution_id="ex-late"))
    third = await risk_factory()

    async def caught_up():
        reply = await state(third)
        return exposure(reply).position_quantity.value == "150" and reply.open_orders == 2
    await eventually(caught_up)


async def test_check_order_is_a_dry_run_that_reserves_and_sends_nothing(risk, gateway):
    reply = await risk.stub.CheckOrder(risk_pb2.CheckOrderRequest(account_id=ACCOUNT, order=spec(quantity="2000")))
    assert reply.decision.outcome == 2 and reply.decision.denied_rule_id == "max-order-notional"
    assert reply.decision.request_type == 4
    ok = await risk.stub.CheckOrder(risk_pb2.CheckOrderRequest(account_id=ACCOUNT, order=spec(quantity="10")))
    assert ok.decision.outcome == 1
    assert gateway[0].placed == [] and (await state(risk)).open_orders == 0


async def test_unknown_working_order_from_the_bus_is_adopted_as_a_reservation(risk, gateway):
    await install(risk, rule("max-position", "max_position", max_quantity="100"))
    await publish(risk, order_event("external-1", order_pb2.ORDER_STATUS_SUBMITTED, "80"))

    async def adopted():
        return (await state(risk)).open_orders == 1
    await eventually(adopted)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await risk.stub.SubmitOrder(submit("n-1", quantity="21"))
    assert "max-position" in caught.value.details()


async def test_rolling_windows_and_duplicate_history_survive_a_restart(risk_factory, gateway):
    risk = await risk_factory()
    await install(risk, rule("rate", "order_rate", window=60, max_orders="2"),
                  rule("dup", "duplicate_order", window=60))
    await risk.stub.SubmitOrder(submit("w-1", quantity="1"))
    await risk.stub.SubmitOrder(submit("w-2", quantity="2"))
    await risk.stop()

    again = await risk_factory()
    with pytest.raises(grpc.aio.AioRpcError) as rate:
        await again.stub.SubmitOrder(submit("w-3", quantity="3"))
    assert rate.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "rate" in rate.value.details()
    reply = await again.stub.CheckOrder(risk_pb2.CheckOrderRequest(account_id=ACCOUNT, order=spec(quantity="1")))
    dup = next(r for r in reply.decision.rule_results if r.rule_id == "dup")
    assert dup.outcome == 2  # w-1's twin, accepted before the restart, is still remembered
