"""The bridge's reads, relayed through risk, so that risk is the one peer the bridge accepts.

The edge (quotes, account, orders' live status, connection status, what-if previews, quote lines) and the
ledger (the broker's positions and cash, for reconciliation) call `ibkr.gateway.v1.GatewayService` at risk's
address. Risk forwards each read unchanged (opaque bytes in, opaque bytes out, the bridge's error with its
`ErrorInfo` relayed as it is) over its own channel, which only calls the SERVING bridge replica. A network
policy then lets only risk reach the bridge: it cannot tell methods apart, this relay can.

Methods that change orders are refused with PERMISSION_DENIED without reaching the bridge: they go through
`ibkr.risk.v1.RiskService`, where the policy is checked. `Reconcile` is an operator's tool, not a peer's read,
so it is refused too. Every GatewayService method must be classified here (a test enforces it), so a new
RPC cannot slip through unreviewed.

The relay also keeps the health of `ibkr.gateway.v1.GatewayService` on risk's health server in step with
the bridge's (`BridgeHealthMirror`), so the edge's system status can report the bridge without reaching it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from ibkr.gateway.v1 import gateway_pb2

from services.common.errors import PermissionDenied, domain_error_from_rpc_error
from services.common.tasks import cancel_and_wait

GATEWAY_SERVICE = gateway_pb2.DESCRIPTOR.services_by_name["GatewayService"]
GATEWAY_SERVICE_NAME = GATEWAY_SERVICE.full_name
RELAYED = frozenset({
    "GetOrder", "ListOpenOrders", "ListExecutions", "PreviewOrder", "ResolveInstrument", "GetQuote",
    "SubscribeQuotes", "UnsubscribeQuotes", "ListPositions", "GetAccount", "GetPnl", "GetConnectionStatus",
})
REFUSED = frozenset({"PlaceOrder", "ReplaceOrder", "CancelOrder", "CancelAllOrders", "ClosePosition", "Reconcile"})
RETRY_SECONDS = 1.0

log = logging.getLogger("services.risk.gateway_relay")
Handler = Callable[[bytes, grpc.aio.ServicerContext], Awaitable[bytes]]


def _relay(call: grpc.aio.UnaryUnaryMultiCallable, timeout: float) -> Handler:
    async def handle(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        remaining = context.time_remaining()
        deadline = timeout if remaining is None else max(0.001, min(timeout, remaining))
        try:
            return await call(request, timeout=deadline)
        except grpc.aio.AioRpcError as err:
            raise domain_error_from_rpc_error(err) from err
    return handle


def _refuse(method: str) -> Handler:
    async def handle(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        raise PermissionDenied("ORDER_PATH_IS_RISK", f"{GATEWAY_SERVICE_NAME}/{method} is not relayed: orders are "
                               "placed, changed and cancelled through ibkr.risk.v1.RiskService")
    return handle


def gateway_relay_handler(bridge: grpc.aio.Channel, timeout: float) -> grpc.GenericRpcHandler:
    """The generic handler serving `ibkr.gateway.v1.GatewayService` on risk's server.

    `bridge` is risk's channel to the bridge replicas; `timeout` caps each relayed call (a shorter deadline of
    the caller wins)."""
    handlers: dict[str, grpc.RpcMethodHandler] = {}
    for method in GATEWAY_SERVICE.methods:
        if method.name in RELAYED:
            call = bridge.unary_unary(f"/{GATEWAY_SERVICE_NAME}/{method.name}")
            handlers[method.name] = grpc.unary_unary_rpc_method_handler(_relay(call, timeout))
        else:
            handlers[method.name] = grpc.unary_unary_rpc_method_handler(_refuse(method.name))
    return grpc.method_handlers_generic_handler(GATEWAY_SERVICE_NAME, handlers)


def add_gateway_relay_to_server(handler: grpc.GenericRpcHandler, server: grpc.aio.Server) -> None:
    """`ServiceSpec.add_to_server` for the relay."""
    server.add_generic_rpc_handlers((handler,))


class BridgeHealthMirror:
    """Watches the bridge's health (through the channel, i.e. the SERVING replica if any) and sets the same
    status for `ibkr.gateway.v1.GatewayService` on risk's health server; NOT_SERVING while it cannot tell.

    A bridge without a health service (UNIMPLEMENTED) counts as SERVING, as gRPC's client-side health
    checking treats it."""

    def __init__(self, bridge: grpc.aio.Channel, health: HealthServicer) -> None:
        self._stub = health_pb2_grpc.HealthStub(bridge)
        self._health = health
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="bridge-health-mirror")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    async def _set(self, status: health_pb2.HealthCheckResponse.ServingStatus) -> None:
        await self._health.set(GATEWAY_SERVICE_NAME, status)

    async def _run(self) -> None:
        request = health_pb2.HealthCheckRequest(service=GATEWAY_SERVICE_NAME)
        while True:
            try:
                async for reply in self._stub.Watch(request):
                    serving = reply.status == health_pb2.HealthCheckResponse.SERVING
                    await self._set(reply.status if serving else health_pb2.HealthCheckResponse.NOT_SERVING)
            except grpc.aio.AioRpcError as err:
                if err.code() == grpc.StatusCode.UNIMPLEMENTED:
                    await self._set(health_pb2.HealthCheckResponse.SERVING)
                    return
                log.debug("bridge health watch ended: %s", err.code().name)
            await self._set(health_pb2.HealthCheckResponse.NOT_SERVING)
            await asyncio.sleep(RETRY_SECONDS)
