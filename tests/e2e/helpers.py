"""Small builders and readers shared by the e2e tests."""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal

import grpc
from google.rpc import error_details_pb2
from google.type import decimal_pb2
from grpc_status import rpc_status
from ibkr.edge.v1 import event_service_pb2, event_service_pb2_grpc
from ibkr.sim.v1 import sim_pb2, sim_pb2_grpc
from ibkr.trading.v1 import instrument_pb2, order_pb2


def dec(value: str | int | Decimal) -> decimal_pb2.Decimal:
    return decimal_pb2.Decimal(value=str(value))


def stock(symbol: str) -> instrument_pb2.Instrument:
    return instrument_pb2.Instrument(symbol=symbol, security_type=instrument_pb2.SECURITY_TYPE_STOCK)


def market(symbol: str, qty: str, side: int = order_pb2.ORDER_SIDE_BUY) -> order_pb2.OrderSpec:
    return order_pb2.OrderSpec(instrument=stock(symbol), side=side, quantity=dec(qty),
                               order_type=order_pb2.ORDER_TYPE_MARKET, time_in_force=order_pb2.TIME_IN_FORCE_DAY)


def limit(symbol: str, qty: str, price: str, side: int = order_pb2.ORDER_SIDE_BUY) -> order_pb2.OrderSpec:
    spec = market(symbol, qty, side)
    spec.order_type = order_pb2.ORDER_TYPE_LIMIT
    spec.limit_price.CopyFrom(dec(price))
    return spec


def error_info(err: grpc.aio.AioRpcError) -> tuple[error_details_pb2.ErrorInfo | None, list[str]]:
    """The ErrorInfo and the BadRequest field names carried by a rich gRPC error."""
    status = rpc_status.from_call(err)
    info, fields = None, []
    for detail in status.details if status else []:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields += [v.field for v in bad.field_violations]
    return info, fields


class EventCollector:
    """Reads StreamEvents in the background and lets a test wait for a matching frame."""

    def __init__(self, channel: grpc.aio.Channel, auth, request=None) -> None:
        stub = event_service_pb2_grpc.EventServiceStub(channel)
        self.call = stub.StreamEvents(request or event_service_pb2.StreamEventsRequest(), metadata=auth)
        self.frames: list[event_service_pb2.StreamEventsResponse] = []
        self._changed = asyncio.Condition()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        with contextlib.suppress(asyncio.CancelledError, grpc.aio.AioRpcError):
            async for frame in self.call:
                async with self._changed:
                    self.frames.append(frame)
                    self._changed.notify_all()

    def events(self):
        return [f.event for f in self.frames if f.WhichOneof("frame") == "event"]

    async def wait_for(self, predicate, timeout: float = 20.0):
        async def matched():
            async with self._changed:
                while True:
                    for event in self.events():
                        if predicate(event):
                            return event
                    await self._changed.wait()
        return await asyncio.wait_for(matched(), timeout)

    async def close(self) -> None:
        self.call.cancel()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def broker_orders(suite, order_ref: str):
    """The simulator's own record ("broker truth") of orders carrying this orderRef."""
    async with grpc.aio.insecure_channel(suite.address("sim")) as channel:
        reply = await sim_pb2_grpc.SimulatorControlServiceStub(channel).GetBrokerLog(
            sim_pb2.GetBrokerLogRequest(order_ref=order_ref), metadata=internal(suite), timeout=5)
    return list(reply.orders)


def internal(suite) -> tuple[tuple[str, str], ...]:
    """Metadata a suite-internal caller presents."""
    return (("x-ibkr-internal-token", suite.settings.internal_token),)


async def eventually(check, timeout: float = 20.0, interval: float = 0.1):
    """Poll an async check until it returns a truthy value."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {result!r})")
        await asyncio.sleep(interval)
