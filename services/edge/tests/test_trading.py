"""The first slice through a real edge: key required, orders routed to risk, reads from bridge/ledger,
bad input refused at the edge with the field named, downstream errors relayed unchanged."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf.unknown_fields import UnknownFieldSet
from google.rpc import error_details_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status
from ibkr.edge.v1 import portfolio_service_pb2 as portfolio
from ibkr.edge.v1 import portfolio_service_pb2_grpc, trading_service_pb2_grpc
from ibkr.edge.v1 import trading_service_pb2 as trading
from ibkr.trading.v1 import instrument_pb2, order_pb2

from services.edge.app import public_service_names
from services.edge.tests.fakes import ACCOUNT, NOTIONAL_LIMIT_QTY, OTHER_ACCOUNT, UNKNOWN_SYMBOL


def market_buy(symbol: str = "AAPL", qty: str = "10") -> order_pb2.OrderSpec:
    spec = order_pb2.OrderSpec(instrument=instrument_pb2.Instrument(
        symbol=symbol, security_type=instrument_pb2.SECURITY_TYPE_STOCK), side=order_pb2.ORDER_SIDE_BUY,
        order_type=order_pb2.ORDER_TYPE_MARKET, time_in_force=order_pb2.TIME_IN_FORCE_DAY)
    spec.quantity.value = qty
    return spec


def details(err: grpc.aio.AioRpcError) -> tuple[str, list[str]]:
    """(ErrorInfo reason, BadRequest fields) of a rich error."""
    status = rpc_status.from_call(err)
    reason, fields = "", []
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason = info.reason
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields = [v.field for v in bad.field_violations]
    return reason, fields


@pytest.fixture
def stub(harness):
    return trading_service_pb2_grpc.TradingServiceStub(harness.channel)


async def test_place_order_without_key_is_unauthenticated_and_reaches_nothing(harness, stub):
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await stub.PlaceOrder(trading.PlaceOrderRequest(client_order_id="a", order=market_buy()))
    assert exc.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert details(exc.value)[0] == "API_KEY_MISSING"
    assert harness.state.calls == []


@pytest.mark.parametrize("header", ["Bearer ibkr_0011223344556677_nope", "Basic abc", "Bearer "])
async def test_place_order_with_bad_key_is_unauthenticated_and_never_echoes_the_key(harness, stub, header):
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await stub.PlaceOrder(trading.PlaceOrderRequest(client_order_id="a", order=market_buy()),
                              metadata=(("authorization", header),))
    assert exc.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "nope" not in (exc.value.details() or "")
    assert harness.state.calls == []


async def test_place_order_goes_to_risk_with_the_keys_account_and_name(harness, stub):
    reply = await stub.PlaceOrder(trading.PlaceOrderRequest(client_order_id="buy-1", order=market_buy()),
                                  metadata=harness.auth("trader"))
    assert reply.order.status == order_pb2.ORDER_STATUS_SUBMITTED
    assert reply.order.account_id == ACCOUNT
    [(method, request)] = harness.state.calls
    assert method == "risk.SubmitOrder"
    assert (request.account_id, request.client_order_id, request.principal) == (ACCOUNT, "buy-1", "trader")
    assert request.order == market_buy()


async def test_place_order_answers_the_order_and_nothing_of_risks_own(harness, stub):
    reply = await stub.PlaceOrder(trading.PlaceOrderRequest(client_order_id="buy-r", order=market_buy()),
                                  metadata=harness.auth("trader"))
    assert reply.order == harness.state.bridge_orders[reply.order.order_id]
    assert not reply.child_orders
    assert len(UnknownFieldSet(reply)) == 0  # risk's decision (its field 3) is not relayed


async def test_just_placed_order_is_readable_at_once_from_the_bridge(harness, stub):
    placed = await stub.PlaceOrder(trading.PlaceOrderRequest(client_order_id="buy-2", order=market_buy()),
                                   metadata=harness.auth("trader"))
    by_key = await stub.GetOrder(trading.GetOrderRequest(client_order_id="buy-2"), metadata=harness.auth("viewer"))
    by_id = await stub.GetOrder(trading.GetOrderRequest(order_id=placed.order.order_id),
                                metadata=harness.auth("viewer"))
    assert by_key.order == placed.order == by_id.order
    assert "ledger.GetOrder" not in harness.state.methods()


async def test_get_order_unknown_to_the_bridge_falls_back_to_the_ledger(harness, stub):
    old = order_pb2.Order(order_id="ord-old", client_order_id="old", account_id=ACCOUNT,
                          status=order_pb2.ORDER_STATUS_FILLED)
    harness.state.ledger_orders[old.order_id] = old
    reply = await stub.GetOrder(trading.GetOrderRequest(order_id="ord-old", include_history=True),
                                metadata=harness.auth("viewer"))
    assert reply.order == old and len(reply.history) == 1


async def test_get_order_of_another_account_is_not_found(harness, stub):
    await stub.PlaceOrder(trading.PlaceOrderRequest(client_order_id="mine", order=market_buy()),
                          metadata=harness.auth("trader"))
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await stub.GetOrder(trading.GetOrderRequest(account_id=OTHER_ACCOUNT, client_order_id="mine"),
                            metadata=harness.auth("multi"))
    assert exc.value.code() == grpc.StatusCode.NOT_FOUND


async def test_cancel_order_goes_to_risk_submit_cancel(harness, stub):
    placed = await stub.PlaceOrder(trading.PlaceOrderRequest(client_order_id="lmt-1", order=market_buy()),
                                   metadata=harness.auth("trader"))
    reply = await stub.CancelOrder(trading.CancelOrderRequest(order_id=placed.order.order_id),
                                   metadata=harness.auth("trader"))
    assert reply.order.status == order_pb2.ORDER_STATUS_CANCELLED
    assert harness.state.methods() == ["risk.SubmitOrder", "risk.SubmitCancel"]
    assert harness.state.calls[1][1].principal == "trader"


async def test_list_positions_comes_from_the_ledger_for_the_keys_account(harness):
    stub = portfolio_service_pb2_grpc.PortfolioServiceStub(harness.channel)
    reply = await stub.ListPositions(portfolio.ListPositionsRequest(), metadata=harness.auth("viewer"))
    assert [(p.instrument.symbol, p.quantity.value, p.average_cost.value) for p in reply.positions] == [
        ("AAPL", "10", "101.5")]
    assert harness.state.calls[0][1].account_id == ACCOUNT


def _spec(**changes) -> order_pb2.OrderSpec:
    spec = market_buy()
    for name, value in changes.items():
        if name == "quantity":
            spec.quantity.value = value
        elif name == "symbol":
            spec.instrument.symbol = value
        elif name == "limit_price":
            spec.limit_price.value = value
        else:
            setattr(spec, name, value)
    return spec


@pytest.mark.parametrize(("spec", "field"), [
    (_spec(quantity="0"), "order.quantity"),
    (_spec(quantity="-5"), "order.quantity"),
    (_spec(quantity="1.2.3"), "order.quantity"),
    (_spec(quantity="NaN"), "order.quantity"),
    (_spec(quantity=""), "order.quantity"),
    (_spec(symbol=""), "order.instrument.symbol"),
    (_spec(side=order_pb2.ORDER_SIDE_UNSPECIFIED), "order.side"),
    (_spec(order_type=order_pb2.ORDER_TYPE_UNSPECIFIED), "order.order_type"),
    (_spec(time_in_force=order_pb2.TIME_IN_FORCE_UNSPECIFIED), "order.time_in_force"),
    (_spec(order_type=order_pb2.ORDER_TYPE_LIMIT), "order.limit_price"),
    (_spec(order_type=order_pb2.ORDER_TYPE_LIMIT, limit_price="abc"), "order.limit_price"),
    (_spec(side=42), "order.side"),
])
async def test_bad_order_is_invalid_argument_naming_the_field_and_reaches_nothing(harness, stub, spec, field):
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await stub.PlaceOrder(trading.PlaceOrderRequest(client_order_id="bad", order=spec),
                              metadata=harness.auth("trader"))
    assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    reason, fields = details(exc.value)
    assert reason == "INVALID_FIELD" and field in fields
    assert field in exc.value.details()
    assert harness.state.calls == []


async def test_unknown_symbol_from_risk_is_relayed_as_not_found_naming_it(harness, stub):
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await stub.PlaceOrder(trading.PlaceOrderRequest(client_order_id="u", order=market_buy(UNKNOWN_SYMBOL)),
                              metadata=harness.auth("trader"))
    assert exc.value.code() == grpc.StatusCode.NOT_FOUND
    assert details(exc.value)[0] == "UNKNOWN_SYMBOL" and UNKNOWN_SYMBOL in exc.value.details()


async def test_risk_denial_is_relayed_as_failed_precondition_with_the_rule(harness, stub):
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await stub.PlaceOrder(trading.PlaceOrderRequest(
            client_order_id="big", order=market_buy(qty=str(NOTIONAL_LIMIT_QTY + 1))), metadata=harness.auth("trader"))
    assert exc.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details(exc.value)[0] == "RISK_RULE_VIOLATION"


async def test_account_outside_the_keys_scope_is_permission_denied(harness, stub):
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await stub.PlaceOrder(trading.PlaceOrderRequest(account_id=OTHER_ACCOUNT, client_order_id="x",
                                                        order=market_buy()), metadata=harness.auth("trader"))
    assert exc.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert harness.state.calls == []


async def test_empty_account_with_a_multi_account_key_is_invalid_argument(harness, stub):
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await stub.PlaceOrder(trading.PlaceOrderRequest(client_order_id="x", order=market_buy()),
                              metadata=harness.auth("multi"))
    assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details(exc.value)[1] == ["account_id"]


async def test_unavailable_downstream_is_unavailable_without_internal_addresses(harness, stub):
    await harness.fakes.stop(0)  # risk, ledger and bridge all gone
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await stub.PlaceOrder(trading.PlaceOrderRequest(client_order_id="x", order=market_buy()),
                              metadata=harness.auth("trader"))
    assert exc.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "127.0.0.1" not in (exc.value.details() or "")


async def test_reflection_lists_every_public_service_without_a_key(harness):
    stub = reflection_pb2_grpc.ServerReflectionStub(harness.channel)
    responses = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    async for reply in responses:
        names = {s.name for s in reply.list_services_response.service}
        break
    assert set(public_service_names()) <= names
