"""SubmitReplace and SubmitClosePosition over real gRPC: a modification counts the order once at its new
size, a denied one leaves the old reservation as it was; closing a position is a reducing order."""

from __future__ import annotations

from decimal import Decimal

import grpc
import pytest
from ibkr.risk.v1 import risk_pb2
from ibkr.trading.v1 import instrument_pb2, order_pb2, risk_types_pb2

from services.common.money import decimal_to_proto
from services.risk.tests.conftest import ACCOUNT, eventually, fill_event, install, publish, rule, spec


async def open_buy(risk) -> float:
    reply = await risk.stub.GetRiskState(risk_pb2.GetRiskStateRequest(account_id=ACCOUNT))
    return next((e.open_buy_quantity.value for e in reply.exposures if e.instrument.symbol == "AAPL"), "0")


async def test_replace_within_the_limit_moves_the_reservation_to_the_new_size(risk, gateway):
    await install(risk, rule("max-position", "max_position", max_quantity="100"))
    await risk.stub.SubmitOrder(risk_pb2.SubmitOrderRequest(account_id=ACCOUNT, client_order_id="r-1",
                                                            order=spec(quantity="60")))
    reply = await risk.stub.SubmitReplace(risk_pb2.SubmitReplaceRequest(
        account_id=ACCOUNT, client_order_id="r-1", order=spec(quantity="100")))  # not 60 + 100
    assert reply.decision.request_type == risk_types_pb2.RISK_REQUEST_TYPE_REPLACE_ORDER
    assert await open_buy(risk) == "100" and len(gateway[0].replaced) == 1


async def test_replace_over_the_limit_is_denied_and_the_old_reservation_stays(risk, gateway):
    await install(risk, rule("max-position", "max_position", max_quantity="100"))
    await risk.stub.SubmitOrder(risk_pb2.SubmitOrderRequest(account_id=ACCOUNT, client_order_id="r-2",
                                                            order=spec(quantity="60")))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await risk.stub.SubmitReplace(risk_pb2.SubmitReplaceRequest(
            account_id=ACCOUNT, client_order_id="r-2", order=spec(quantity="101")))
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "max-position" in caught.value.details()
    assert await open_buy(risk) == "60" and gateway[0].replaced == []


async def test_close_position_is_a_reducing_order_that_passes_in_reducing(risk, gateway):
    await risk.stub.SubmitOrder(risk_pb2.SubmitOrderRequest(account_id=ACCOUNT, client_order_id="c-1",
                                                            order=spec(quantity="30")))
    await publish(risk, fill_event("c-1", "30"))

    async def held():
        reply = await risk.stub.GetRiskState(risk_pb2.GetRiskStateRequest(account_id=ACCOUNT))
        return any(e.position_quantity.value == "30" for e in reply.exposures)
    await eventually(held)
    await risk.stub.SetTradingState(risk_pb2.SetTradingStateRequest(
        account_id=ACCOUNT, state=risk_types_pb2.TRADING_STATE_REDUCING, reason="test"))
    instrument = instrument_pb2.Instrument(symbol="AAPL", security_type=instrument_pb2.SECURITY_TYPE_STOCK)
    reply = await risk.stub.SubmitClosePosition(risk_pb2.SubmitClosePositionRequest(
        account_id=ACCOUNT, instrument=instrument, client_order_id="close-1",
        order_type=order_pb2.ORDER_TYPE_LIMIT, limit_price=decimal_to_proto(Decimal(100))))
    assert reply.decision.outcome == 1 and [c.client_order_id for c in gateway[0].closed] == ["close-1"]
    assert reply.decision.order.side == order_pb2.ORDER_SIDE_SELL


async def test_close_without_a_position_is_not_found(risk, gateway):
    instrument = instrument_pb2.Instrument(symbol="MSFT", security_type=instrument_pb2.SECURITY_TYPE_STOCK)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await risk.stub.SubmitClosePosition(risk_pb2.SubmitClosePositionRequest(
            account_id=ACCOUNT, instrument=instrument, client_order_id="close-2"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND and gateway[0].closed == []


async def test_partial_replace_is_merged_onto_the_working_order_before_the_check(risk, gateway):
    await install(risk, rule("max-notional", "max_order_notional", max_notional="10000"))
    await risk.stub.SubmitOrder(risk_pb2.SubmitOrderRequest(account_id=ACCOUNT, client_order_id="m-1",
                                                            order=spec(quantity="50", limit="100")))
    change = order_pb2.OrderSpec(quantity=decimal_to_proto(Decimal(100)))
    request = risk_pb2.SubmitReplaceRequest(account_id=ACCOUNT, order_id="ord_m-1", order=change)
    request.update_mask.paths.append("quantity")
    reply = await risk.stub.SubmitReplace(request)  # 100 × the working limit price 100 = 10000: at the limit
    assert reply.decision.order.limit_price.value == "100"
    request.order.quantity.value = "101"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await risk.stub.SubmitReplace(request)
    assert "max-notional" in caught.value.details()
    assert gateway[0].replaced[0].update_mask.paths == ["quantity"]
