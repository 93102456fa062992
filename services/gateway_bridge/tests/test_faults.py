"""Faults driven through the simulator: the IB socket dropped mid-fill, a gateway restart."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import grpc
import pytest
from ibkr.gateway.v1 import gateway_pb2
from ibkr.trading.v1 import order_pb2

from .conftest import until
from .test_order_surface import wait_status
from .test_orders_e2e import place, spec


async def test_fill_during_a_dropped_socket_is_published_exactly_once_after_reconnect(bridge, bus, sim, unique_name):
    resting = (await bridge.stub.PlaceOrder(
        place(f"{unique_name}-rest", spec(order_type=order_pb2.ORDER_TYPE_LIMIT, limit="100")), timeout=10)).order
    assert resting.status == order_pb2.ORDER_STATUS_SUBMITTED
    sim.restart_in_background(keep_state=True, downtime=1.0)  # every socket dies; the port is closed for 1 s
    await until(lambda: not bridge.app.orders.ready)
    sim.set_price("AAPL", Decimal(95))  # the resting buy fills at the broker while the bridge is away
    assert any(e.order_ref == f"{unique_name}-rest" for e in sim.executions())
    with pytest.raises(grpc.aio.AioRpcError) as err:  # orders placed meanwhile fail fast
        await bridge.stub.PlaceOrder(place(f"{unique_name}-during", spec()), timeout=10)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    await bridge.wait_serving(timeout=20)
    done = await wait_status(bridge, resting.order_id, order_pb2.ORDER_STATUS_FILLED)
    assert done.filled_quantity.value == "10"
    fills = []
    for _ in range(300):
        fills = [e.fill for e in await bus.events() if e.WhichOneof("payload") == "fill"]
        if fills:
            break
        await asyncio.sleep(0.02)
    await bridge.stub.Reconcile(gateway_pb2.ReconcileRequest(), timeout=10)  # a second pass adds nothing
    fills = [e.fill for e in await bus.events() if e.WhichOneof("payload") == "fill"]
    assert [f.order_id for f in fills] == [resting.order_id]
    assert not [o for o in sim.orders() if o.req.order_ref == f"{unique_name}-during"]


async def test_order_sent_but_unacknowledged_before_a_drop_is_resolved_by_reconciliation(bridge, sim, unique_name):
    await bridge.stub.GetQuote(gateway_pb2.GetQuoteRequest(instrument=spec().instrument), timeout=10)  # qualified
    sim.set_response_delay(5.0)  # the simulator holds the order; the bridge returns it PENDING_SUBMIT
    placed = (await bridge.stub.PlaceOrder(place(f"{unique_name}-u", spec()), timeout=1.5)).order
    assert placed.status == order_pb2.ORDER_STATUS_PENDING_SUBMIT
    sim.set_response_delay(0.0)
    sim.drop_connections()
    await until(lambda: not bridge.app.orders.ready)
    await bridge.wait_serving(timeout=20)
    final = (await bridge.stub.GetOrder(gateway_pb2.GetOrderRequest(order_id=placed.order_id), timeout=5)).order
    # Either the broker had it (then its real state) or it never arrived (then REJECTED, never resent).
    at_broker = [o for o in sim.orders() if o.req.order_ref == f"{unique_name}-u"]
    assert len(at_broker) <= 1
    expected = order_pb2.ORDER_STATUS_REJECTED if not at_broker else order_pb2.ORDER_STATUS_FILLED
    if at_broker:
        final = await wait_status(bridge, placed.order_id, expected)
    assert final.status == expected


async def test_silent_socket_is_detected_by_the_staleness_watchdog_and_reconnected(sim, bridge_dsn, redis_url,
                                                                                    unique_name):
    from .conftest import bridge_settings, start_bridge

    running = await start_bridge(bridge_settings(
        sim, bridge_dsn, redis_url, unique_name, bridge_staleness_seconds=0.5,
        bridge_ib_request_timeout_seconds=0.5, bridge_connect_timeout_seconds=2))
    try:
        await running.wait_serving()
        sim.gateway.drop_responses = True  # the socket stays open but the gateway answers nothing
        await until(lambda: not running.app.orders.ready)
        sim.gateway.drop_responses = False
        await running.wait_serving(timeout=20)
    finally:
        await running.stop()
