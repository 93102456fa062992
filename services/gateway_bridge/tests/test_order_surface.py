"""The rest of the order surface: replace, cancel-all scoped, close position, executions, reconcile."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from google.protobuf import field_mask_pb2
from ibkr.gateway.v1 import gateway_pb2
from ibkr.trading.v1 import order_pb2

from .test_orders_e2e import place, spec


async def wait_status(bridge, order_id, status, tries=500):
    got = None
    for _ in range(tries):
        got = (await bridge.stub.GetOrder(gateway_pb2.GetOrderRequest(order_id=order_id), timeout=5)).order
        if got.status == status:
            return got
        await asyncio.sleep(0.02)
    raise AssertionError(f"order {order_id} is {order_pb2.OrderStatus.Name(got.status)}")


async def test_replace_changes_price_and_quantity_of_a_working_order(bridge, sim, unique_name):
    placed = (await bridge.stub.PlaceOrder(
        place(f"{unique_name}-r", spec(order_type=order_pb2.ORDER_TYPE_LIMIT, limit="100")), timeout=10)).order
    new = spec(qty="20", order_type=order_pb2.ORDER_TYPE_LIMIT, limit="101.5")
    reply = await bridge.stub.ReplaceOrder(gateway_pb2.ReplaceOrderRequest(
        order_id=placed.order_id, order=new,
        update_mask=field_mask_pb2.FieldMask(paths=["quantity", "limit_price"])), timeout=10)
    assert reply.order.revision == 1 and reply.order.spec.limit_price.value == "101.5"
    done = await wait_status(bridge, placed.order_id, order_pb2.ORDER_STATUS_SUBMITTED)
    assert done.spec.quantity.value == "20"
    [at_broker] = [o for o in sim.orders() if o.req.order_ref == f"{unique_name}-r"]
    assert str(at_broker.quantity) == "20"


async def test_replace_cannot_change_the_side(bridge, unique_name):
    placed = (await bridge.stub.PlaceOrder(
        place(f"{unique_name}-rs", spec(order_type=order_pb2.ORDER_TYPE_LIMIT, limit="100")), timeout=10)).order
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await bridge.stub.ReplaceOrder(gateway_pb2.ReplaceOrderRequest(
            order_id=placed.order_id, order=spec(side=order_pb2.ORDER_SIDE_SELL, order_type=order_pb2.ORDER_TYPE_LIMIT,
                                                 limit="100"),
            update_mask=field_mask_pb2.FieldMask(paths=["side"])), timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "order.side" in err.value.details()


async def test_cancel_all_is_scoped_by_symbol_and_side(bridge, unique_name):
    lmt = order_pb2.ORDER_TYPE_LIMIT
    aapl_buy = (await bridge.stub.PlaceOrder(place(f"{unique_name}-a", spec(order_type=lmt, limit="100")),
                                             timeout=10)).order
    msft_buy = (await bridge.stub.PlaceOrder(place(f"{unique_name}-m", spec("MSFT", order_type=lmt, limit="100")),
                                             timeout=10)).order
    reply = await bridge.stub.CancelAllOrders(gateway_pb2.CancelAllOrdersRequest(
        account_id="DU1234567", symbol="AAPL", side=order_pb2.ORDER_SIDE_BUY), timeout=10)
    assert [o.order_id for o in reply.orders] == [aapl_buy.order_id] and not reply.failures
    await wait_status(bridge, aapl_buy.order_id, order_pb2.ORDER_STATUS_CANCELLED)
    still = (await bridge.stub.GetOrder(gateway_pb2.GetOrderRequest(order_id=msft_buy.order_id), timeout=5)).order
    assert still.status == order_pb2.ORDER_STATUS_SUBMITTED


async def test_close_position_flattens_it_and_executions_are_listed(bridge, unique_name):
    bought = (await bridge.stub.PlaceOrder(place(f"{unique_name}-b", spec(qty="7")), timeout=10)).order
    await wait_status(bridge, bought.order_id, order_pb2.ORDER_STATUS_FILLED)
    for _ in range(200):
        positions = (await bridge.stub.ListPositions(gateway_pb2.ListPositionsRequest(), timeout=5)).positions
        if any(p.quantity.value == "7" for p in positions):
            break
        await asyncio.sleep(0.02)
    closing = (await bridge.stub.ClosePosition(gateway_pb2.ClosePositionRequest(
        account_id="DU1234567", instrument=spec().instrument, client_order_id=f"{unique_name}-close"),
        timeout=10)).order
    assert closing.spec.side == order_pb2.ORDER_SIDE_SELL and closing.spec.quantity.value == "7"
    await wait_status(bridge, closing.order_id, order_pb2.ORDER_STATUS_FILLED)
    for _ in range(200):
        fills = (await bridge.stub.ListExecutions(gateway_pb2.ListExecutionsRequest(symbol="AAPL"), timeout=5)).fills
        if len(fills) == 2:
            break
        await asyncio.sleep(0.02)
    assert sorted(f.side for f in fills) == [order_pb2.ORDER_SIDE_BUY, order_pb2.ORDER_SIDE_SELL]


async def test_close_position_without_a_position_is_failed_precondition(bridge, unique_name):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await bridge.stub.ClosePosition(gateway_pb2.ClosePositionRequest(
            account_id="DU1234567", instrument=spec("MSFT").instrument, client_order_id=f"{unique_name}-c"), timeout=10)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_reconcile_on_request_completes(bridge):
    reply = await bridge.stub.Reconcile(gateway_pb2.ReconcileRequest(), timeout=10)
    assert reply.run.succeeded and reply.run.trigger == "request"


async def test_bracket_is_placed_atomically_with_linked_take_profit_and_stop_loss(bridge, sim, unique_name):
    s = spec(order_type=order_pb2.ORDER_TYPE_LIMIT, limit="100")
    s.bracket.take_profit_price.value = "120"
    s.bracket.stop_loss_price.value = "80"
    reply = await bridge.stub.PlaceOrder(place(f"{unique_name}-br", s), timeout=10)
    assert [c.client_order_id for c in reply.child_orders] == [f"{unique_name}-br.tp", f"{unique_name}-br.sl"]
    assert all(c.parent_order_id == reply.order.order_id for c in reply.child_orders)
    assert list(reply.order.child_order_ids) == [c.order_id for c in reply.child_orders]
    assert [c.spec.side for c in reply.child_orders] == [order_pb2.ORDER_SIDE_SELL] * 2
    at_broker = {o.req.order_ref: o for o in sim.orders()}
    parent = at_broker[f"{unique_name}-br"]
    assert set(parent.children) == {at_broker[f"{unique_name}-br.tp"].perm_id, at_broker[f"{unique_name}-br.sl"].perm_id}
    again = await bridge.stub.PlaceOrder(place(f"{unique_name}-br", s), timeout=10)
    assert again.order.order_id == reply.order.order_id and len(sim.orders()) == 3


async def test_overlapping_replaces_are_numbered_in_the_order_they_are_applied(bridge, unique_name):
    placed = (await bridge.stub.PlaceOrder(
        place(f"{unique_name}-ro", spec(order_type=order_pb2.ORDER_TYPE_LIMIT, limit="100")), timeout=10)).order
    orders = bridge.app.orders
    qualify, stalled, go = orders.qualify, asyncio.Event(), asyncio.Event()

    async def first_stalls(order, timeout):
        if not stalled.is_set():  # the first replace waits here, after the servicer read the order
            stalled.set()
            await go.wait()
        return await qualify(order, timeout)

    orders.qualify = first_stalls

    def replace(qty: str):
        return bridge.stub.ReplaceOrder(gateway_pb2.ReplaceOrderRequest(
            order_id=placed.order_id, order=spec(qty=qty, order_type=order_pb2.ORDER_TYPE_LIMIT, limit="100"),
            update_mask=field_mask_pb2.FieldMask(paths=["quantity"])), timeout=10)

    first = asyncio.ensure_future(replace("20"))
    await asyncio.wait_for(stalled.wait(), 5)
    second = await replace("30")
    go.set()
    late = await first
    # Revisions only go up, whichever replace the broker saw last: risk orders its reservations by them.
    assert (second.order.revision, late.order.revision) == (1, 2)
    assert late.order.spec.quantity.value == "20"
