"""500 orders in one second: the simulator never sees more than 45 messages in any second, and the excess is
answered RESOURCE_EXHAUSTED at once (never queued without bound)."""

from __future__ import annotations

import asyncio
import collections

import grpc
from ibkr.gateway.v1 import gateway_pb2
from ibkr.trading.v1 import order_pb2

from .test_orders_e2e import place, spec


async def test_five_hundred_orders_in_a_second_stay_within_pacing_and_excess_is_resource_exhausted(
        bridge, sim, unique_name):
    loop = asyncio.get_running_loop()
    seen: list[float] = []
    sim.gateway.on_request = lambda msg_id: seen.append(loop.time())
    # Qualify once first, so the burst is pure placeOrder traffic plus whatever the bridge adds.
    await bridge.stub.GetQuote(gateway_pb2.GetQuoteRequest(instrument=spec().instrument), timeout=10)

    async def one(i: int) -> grpc.StatusCode:
        request = place(f"{unique_name}-{i}", spec(order_type=order_pb2.ORDER_TYPE_LIMIT, limit="100"))
        try:
            await bridge.stub.PlaceOrder(request, timeout=30)
            return grpc.StatusCode.OK
        except grpc.aio.AioRpcError as err:
            return err.code()

    codes = collections.Counter(await asyncio.gather(*(one(i) for i in range(500))))
    assert set(codes) <= {grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED}
    assert codes[grpc.StatusCode.RESOURCE_EXHAUSTED] > 0 and codes[grpc.StatusCode.OK] > 0
    assert len(sim.orders()) == codes[grpc.StatusCode.OK]
    worst = max(sum(1 for t in seen if start <= t < start + 1.0) for start in seen)
    assert worst <= 45, f"{worst} messages reached the simulator within one second"
