"""PlaceOrder / CancelOrder / GetOrder against the real simulator, Postgres and Redis."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2
from ibkr.gateway.v1 import gateway_pb2
from ibkr.trading.v1 import instrument_pb2, order_pb2

from services.common._grpc_util import STATUS_DETAILS_KEY, metadata_get

from .conftest import until

STOCK = instrument_pb2.SecurityType.SECURITY_TYPE_STOCK


def spec(symbol="AAPL", qty="10", side=order_pb2.ORDER_SIDE_BUY, order_type=order_pb2.ORDER_TYPE_MARKET,
         limit=None, tif=order_pb2.TIME_IN_FORCE_DAY) -> order_pb2.OrderSpec:
    s = order_pb2.OrderSpec(instrument=instrument_pb2.Instrument(symbol=symbol, security_type=STOCK), side=side,
                            order_type=order_type, time_in_force=tif)
    s.quantity.value = qty
    if limit is not None:
        s.limit_price.value = limit
    return s


def place(coid, order_spec, account="DU1234567") -> gateway_pb2.PlaceOrderRequest:
    return gateway_pb2.PlaceOrderRequest(account_id=account, client_order_id=coid, order=order_spec)


def error_details(err: grpc.aio.AioRpcError) -> tuple[error_details_pb2.ErrorInfo, list[str]]:
    status = status_pb2.Status.FromString(metadata_get(err.trailing_metadata(), STATUS_DETAILS_KEY))
    info, fields = error_details_pb2.ErrorInfo(), []
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            detail.Unpack(info)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields = [v.field for v in bad.field_violations]
    return info, fields


async def test_market_buy_is_filled_and_published_once_with_commission(bridge, bus, sim, unique_name):
    reply = await bridge.stub.PlaceOrder(place(f"{unique_name}-1", spec()), timeout=10)
    order = reply.order
    assert order.client_order_id == f"{unique_name}-1" and order.order_id.startswith("ord_")
    assert order.status in (order_pb2.ORDER_STATUS_SUBMITTED, order_pb2.ORDER_STATUS_FILLED)

    async def fills():
        return [e.fill for e in await bus.events() if e.WhichOneof("payload") == "fill"]

    found = []

    async def probe():
        found[:] = await fills()
        return found

    for _ in range(500):
        if await probe():
            break
        await __import__("asyncio").sleep(0.02)
    assert len(found) == 1
    fill = found[0]
    assert fill.order_id == order.order_id and fill.client_order_id == f"{unique_name}-1"
    assert fill.quantity.value == "10" and fill.commission.currency_code == "USD"
    assert fill.commission.units == 1  # the simulator's minimum commission, joined to the fill
    statuses: list[int] = []
    for _ in range(300):
        events = await bus.events()
        statuses = [e.order_update.order.status for e in events if e.WhichOneof("payload") == "order_update"]
        positions = [e for e in events if e.WhichOneof("payload") == "position_update"]
        if statuses and statuses[-1] == order_pb2.ORDER_STATUS_FILLED and positions:  # the position follows the fill
            break
        await __import__("asyncio").sleep(0.02)
    assert statuses[0] == order_pb2.ORDER_STATUS_PENDING_SUBMIT and statuses[-1] == order_pb2.ORDER_STATUS_FILLED
    assert any(e.WhichOneof("payload") == "position_update" and e.position_update.position.instrument.symbol == "AAPL"
               for e in events)
    got = await bridge.stub.GetOrder(gateway_pb2.GetOrderRequest(client_order_id=f"{unique_name}-1"), timeout=5)
    assert got.order.status == order_pb2.ORDER_STATUS_FILLED and got.order.filled_quantity.value == "10"
    assert [o.req.order_ref for o in sim.orders()] == [f"{unique_name}-1"]


async def test_limit_order_rests_then_cancel_cancels_it(bridge, bus, sim, unique_name):
    reply = await bridge.stub.PlaceOrder(
        place(f"{unique_name}-lmt", spec(order_type=order_pb2.ORDER_TYPE_LIMIT, limit="100")), timeout=10)
    assert reply.order.status == order_pb2.ORDER_STATUS_SUBMITTED
    cancel = await bridge.stub.CancelOrder(gateway_pb2.CancelOrderRequest(order_id=reply.order.order_id), timeout=5)
    assert cancel.order.status in (order_pb2.ORDER_STATUS_PENDING_CANCEL, order_pb2.ORDER_STATUS_CANCELLED)
    state = {}

    async def cancelled():
        got = await bridge.stub.GetOrder(gateway_pb2.GetOrderRequest(order_id=reply.order.order_id), timeout=5)
        state["status"] = got.order.status
        return got.order.status == order_pb2.ORDER_STATUS_CANCELLED

    for _ in range(500):
        if await cancelled():
            break
        await __import__("asyncio").sleep(0.02)
    assert state["status"] == order_pb2.ORDER_STATUS_CANCELLED
    updates: list[int] = []
    for _ in range(300):  # the bus follows the order's state in order, a moment later
        updates = [e.order_update.order.status for e in await bus.events() if e.WhichOneof("payload") == "order_update"]
        if updates and updates[-1] == order_pb2.ORDER_STATUS_CANCELLED:
            break
        await __import__("asyncio").sleep(0.02)
    assert updates[-1] == order_pb2.ORDER_STATUS_CANCELLED


async def test_same_client_order_id_returns_the_original_and_other_params_are_already_exists(
        bridge, sim, unique_name):
    request = place(f"{unique_name}-idem", spec(order_type=order_pb2.ORDER_TYPE_LIMIT, limit="100.0"))
    first = await bridge.stub.PlaceOrder(request, timeout=10)
    again = await bridge.stub.PlaceOrder(
        place(f"{unique_name}-idem", spec(order_type=order_pb2.ORDER_TYPE_LIMIT, limit="100")), timeout=10)
    assert again.order.order_id == first.order.order_id
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await bridge.stub.PlaceOrder(
            place(f"{unique_name}-idem", spec(order_type=order_pb2.ORDER_TYPE_LIMIT, limit="101")), timeout=10)
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert len([o for o in sim.orders() if o.req.order_ref == f"{unique_name}-idem"]) == 1


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda s: setattr(s.quantity, "value", "0"), "order.quantity"),
    (lambda s: setattr(s.quantity, "value", "-5"), "order.quantity"),
    (lambda s: setattr(s.quantity, "value", "1.2.3"), "order.quantity"),
    (lambda s: setattr(s, "side", order_pb2.ORDER_SIDE_UNSPECIFIED), "order.side"),
    (lambda s: setattr(s, "time_in_force", order_pb2.TIME_IN_FORCE_UNSPECIFIED), "order.time_in_force"),
    (lambda s: setattr(s.instrument, "security_type", 0), "order.instrument.security_type"),
    (lambda s: setattr(s, "order_type", order_pb2.ORDER_TYPE_LIMIT), "order.limit_price"),
])
async def test_bad_input_is_invalid_argument_naming_the_field_and_never_reaches_the_broker(
        bridge, sim, unique_name, mutate, field):
    s = spec()
    mutate(s)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await bridge.stub.PlaceOrder(place(f"{unique_name}-bad", s), timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in err.value.details()
    _, fields = error_details(err.value)
    assert field in fields
    assert sim.orders() == []


async def test_unknown_symbol_is_not_found_naming_it_and_never_reaches_the_broker(bridge, sim, unique_name):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await bridge.stub.PlaceOrder(place(f"{unique_name}-x", spec(symbol="NOSUCH")), timeout=10)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert "NOSUCH" in err.value.details()
    info, _ = error_details(err.value)
    assert info.reason == "UNKNOWN_SYMBOL" and info.domain == "ibkr.local"
    assert sim.orders() == []


async def test_broker_gone_makes_health_not_serving_and_orders_fail_fast_unavailable(bridge, sim, unique_name):
    await sim.stop()
    await until(lambda: not bridge.app.orders.ready)
    for _ in range(200):
        if await bridge.health() == health_pb2.HealthCheckResponse.NOT_SERVING:
            break
        await __import__("asyncio").sleep(0.02)
    assert await bridge.health() == health_pb2.HealthCheckResponse.NOT_SERVING
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await bridge.stub.PlaceOrder(place(f"{unique_name}-down", spec()), timeout=10)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_get_order_of_unknown_id_is_not_found(bridge):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await bridge.stub.GetOrder(gateway_pb2.GetOrderRequest(order_id="ord_nope"), timeout=5)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
