"""Issue 2's acceptance: one real order through edge → risk → bridge → simulator, seen on the stream and in
the ledger; a resting limit cancelled; hostile input refused before it reaches the broker."""

from __future__ import annotations

import uuid
from decimal import Decimal

import grpc
import pytest
from ibkr.edge.v1 import (
    portfolio_service_pb2,
    portfolio_service_pb2_grpc,
    trading_service_pb2,
    trading_service_pb2_grpc,
)
from ibkr.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from ibkr.sim.v1 import sim_pb2, sim_pb2_grpc
from ibkr.trading.v1 import event_pb2, order_pb2

from tests.e2e.conftest import ACCOUNT_ID
from tests.e2e.helpers import (
    EventCollector,
    broker_orders,
    dec,
    error_info,
    eventually,
    internal,
    limit,
    market,
)


def coid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def place(channel, auth, client_order_id, spec):
    stub = trading_service_pb2_grpc.TradingServiceStub(channel)
    reply = await stub.PlaceOrder(trading_service_pb2.PlaceOrderRequest(
        client_order_id=client_order_id, order=spec), metadata=auth, timeout=15)
    return reply.order


async def test_market_buy_is_filled_streamed_booked_once_and_positioned(suite, edge_channel, auth):
    stream = EventCollector(edge_channel, auth)
    try:
        client_order_id = coid("mkt")
        order = await place(edge_channel, auth, client_order_id, market("AAPL", "10"))
        assert order.client_order_id == client_order_id
        assert order.account_id == ACCOUNT_ID

        fill_event = await stream.wait_for(
            lambda e: e.WhichOneof("payload") == "fill" and e.fill.client_order_id == client_order_id)
        await stream.wait_for(lambda e: e.WhichOneof("payload") == "order_update"
                              and e.order_update.order.client_order_id == client_order_id
                              and e.order_update.order.status == order_pb2.ORDER_STATUS_FILLED)
        assert Decimal(fill_event.fill.quantity.value) == 10
        assert fill_event.account_id == ACCOUNT_ID

        async with grpc.aio.insecure_channel(suite.address("ledger")) as ledger_channel:
            ledger = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)

            async def booked():
                reply = await ledger.ListFills(ledger_pb2.ListFillsRequest(
                    account_id=ACCOUNT_ID, client_order_id=client_order_id), metadata=internal(suite), timeout=5)
                return list(reply.fills)

            fills = await eventually(booked)
        assert [f.execution_id for f in fills] == [fill_event.fill.execution_id]

        portfolio = portfolio_service_pb2_grpc.PortfolioServiceStub(edge_channel)

        async def aapl_position():
            reply = await portfolio.ListPositions(portfolio_service_pb2.ListPositionsRequest(), metadata=auth,
                                                  timeout=5)
            return next((p for p in reply.positions if p.instrument.symbol == "AAPL"), None)

        position = await eventually(aapl_position)
        assert Decimal(position.quantity.value) >= 10
        assert Decimal(position.average_cost.value) > 0
        assert len(await broker_orders(suite, client_order_id)) == 1
    finally:
        await stream.close()


async def test_limit_order_rests_then_cancel_is_streamed(suite, edge_channel, auth):
    async with grpc.aio.insecure_channel(suite.address("sim")) as sim_channel:
        await sim_pb2_grpc.SimulatorControlServiceStub(sim_channel).SetPrice(
            sim_pb2.SetPriceRequest(symbol="MSFT", last_price=dec("400")), metadata=internal(suite), timeout=5)
    stream = EventCollector(edge_channel, auth)
    try:
        client_order_id = coid("lmt")
        order = await place(edge_channel, auth, client_order_id, limit("MSFT", "5", "380"))
        resting = await stream.wait_for(lambda e: e.WhichOneof("payload") == "order_update"
                                        and e.order_update.order.client_order_id == client_order_id
                                        and e.order_update.order.status == order_pb2.ORDER_STATUS_SUBMITTED)
        assert resting.order_update.order.order_id == order.order_id

        trading = trading_service_pb2_grpc.TradingServiceStub(edge_channel)
        await trading.CancelOrder(trading_service_pb2.CancelOrderRequest(client_order_id=client_order_id),
                                  metadata=auth, timeout=10)
        await stream.wait_for(lambda e: e.WhichOneof("payload") == "order_update"
                              and e.order_update.order.client_order_id == client_order_id
                              and e.order_update.order.status == order_pb2.ORDER_STATUS_CANCELLED)
        got = await trading.GetOrder(trading_service_pb2.GetOrderRequest(client_order_id=client_order_id),
                                     metadata=auth, timeout=5)
        assert got.order.status == order_pb2.ORDER_STATUS_CANCELLED
    finally:
        await stream.close()


async def test_call_without_a_key_is_unauthenticated(edge_channel):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await place(edge_channel, (), coid("nokey"), market("AAPL", "1"))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


def _bad_orders():
    unspecified_side = market("AAPL", "1")
    unspecified_side.side = order_pb2.ORDER_SIDE_UNSPECIFIED
    unspecified_type = market("AAPL", "1")
    unspecified_type.order_type = order_pb2.ORDER_TYPE_UNSPECIFIED
    malformed = market("AAPL", "1")
    malformed.quantity.value = "1..0"
    return [
        ("zero quantity", market("AAPL", "0"), "quantity"),
        ("negative quantity", market("AAPL", "-5"), "quantity"),
        ("unspecified side", unspecified_side, "side"),
        ("unspecified order type", unspecified_type, "order_type"),
        ("malformed decimal", malformed, "quantity"),
    ]


@pytest.mark.parametrize(("case", "spec", "field"), _bad_orders(), ids=[c[0] for c in _bad_orders()])
async def test_bad_input_is_invalid_argument_naming_the_field_and_never_reaches_the_broker(
        suite, edge_channel, auth, case, spec, field):
    client_order_id = coid("bad")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await place(edge_channel, auth, client_order_id, spec)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    _, fields = error_info(caught.value)
    assert any(field in f for f in fields) or field in caught.value.details()
    assert await broker_orders(suite, client_order_id) == []


async def test_unknown_symbol_is_refused_naming_it(suite, edge_channel, auth):
    client_order_id = coid("unk")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await place(edge_channel, auth, client_order_id, market("NOSUCHSYM", "1"))
    assert caught.value.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT)
    assert "NOSUCHSYM" in caught.value.details()
    assert await broker_orders(suite, client_order_id) == []


async def test_order_over_the_notional_limit_is_failed_precondition_naming_the_rule_and_on_the_record(suite, edge_channel, auth):
    client_order_id = coid("big")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await place(edge_channel, auth, client_order_id, limit("AAPL", "100000", "150"))
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    info, _ = error_info(caught.value)
    assert info is not None and "notional" in info.metadata.get("rule_id", "")
    assert "notional" in caught.value.details().lower()
    assert await broker_orders(suite, client_order_id) == []

    # The denial is on the record too: risk published it and the ledger stored it, rule and all.
    decision_id = info.metadata["decision_id"]
    async with grpc.aio.insecure_channel(suite.address("ledger")) as ledger_channel:
        ledger = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)

        async def stored_denial():
            request = ledger_pb2.ListEventsRequest(account_id=ACCOUNT_ID, page_size=500,
                                                   event_types=[event_pb2.EVENT_TYPE_RISK_DECISION])
            while True:
                reply = await ledger.ListEvents(request, metadata=internal(suite), timeout=5)
                for stored in reply.events:
                    if stored.event.risk_decision.decision.decision_id == decision_id:
                        return stored.event.risk_decision.decision
                if not reply.next_page_token:
                    return None
                request.page_token = reply.next_page_token

        decision = await eventually(stored_denial)
    assert decision.client_order_id == client_order_id
    assert decision.denied_rule_id == info.metadata["rule_id"]
