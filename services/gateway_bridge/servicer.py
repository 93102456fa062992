"""GatewayService: thin — validate the request, call the domain, map the result back."""

from __future__ import annotations

import grpc
from ibkr.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from ibkr.trading.v1 import system_pb2

from services.common.errors import DomainError, FieldViolation, InvalidArgument
from services.gateway_bridge import convert
from services.gateway_bridge.domain.intent import validate_place_order
from services.gateway_bridge.orders import OrderService
from services.gateway_bridge.store import OrderRecord

MAX_PAGE = 1000


def _unimplemented(name: str) -> DomainError:
    return DomainError("NOT_IMPLEMENTED", f"GatewayService.{name} is not implemented yet",
                       code=grpc.StatusCode.UNIMPLEMENTED)


def _require_key(request: object, field: str = "key") -> str:
    which = request.WhichOneof(field)  # type: ignore[attr-defined]
    if which is None or not getattr(request, which):
        raise InvalidArgument("INVALID_FIELD", "order_id or client_order_id is required",
                              metadata={"field": "order_id"},
                              field_violations=[FieldViolation("order_id", "order_id or client_order_id is required",
                                                               "REQUIRED")])
    return which


class GatewayServicer(gateway_pb2_grpc.GatewayServiceServicer):
    """The bridge's gRPC face. `status` supplies GetConnectionStatus (the supervisor's view)."""

    def __init__(self, orders: OrderService, default_account: str, status: callable) -> None:  # type: ignore[valid-type]
        self._orders = orders
        self._account = default_account
        self._status = status

    async def _lookup(self, request: object) -> OrderRecord:
        which = _require_key(request)
        return await self._orders.get(**{which: getattr(request, which)})

    async def PlaceOrder(self, request: gateway_pb2.PlaceOrderRequest, context: grpc.aio.ServicerContext
                         ) -> gateway_pb2.PlaceOrderResponse:
        order = validate_place_order(request.account_id, request.client_order_id, request.order,
                                     request.HasField("order"), default_account=self._account,
                                     risk_decision_id=request.risk_decision_id)
        rec = await self._orders.place(order, context.time_remaining())
        return gateway_pb2.PlaceOrderResponse(order=convert.order_to_proto(rec))

    async def CancelOrder(self, request: gateway_pb2.CancelOrderRequest, context: grpc.aio.ServicerContext
                          ) -> gateway_pb2.CancelOrderResponse:
        rec = await self._orders.cancel(await self._lookup(request))
        return gateway_pb2.CancelOrderResponse(order=convert.order_to_proto(rec))

    async def GetOrder(self, request: gateway_pb2.GetOrderRequest, context: grpc.aio.ServicerContext
                       ) -> gateway_pb2.GetOrderResponse:
        rec = await self._lookup(request)
        return gateway_pb2.GetOrderResponse(order=convert.order_to_proto(rec))

    async def ListOpenOrders(self, request: gateway_pb2.ListOpenOrdersRequest, context: grpc.aio.ServicerContext
                             ) -> gateway_pb2.ListOpenOrdersResponse:
        records = [r for r in self._orders.open_orders()
                   if (not request.account_id or r.account_id == request.account_id)
                   and (not request.symbol or r.spec.instrument.symbol == request.symbol)]
        limit = min(request.page_size or 100, MAX_PAGE)
        return gateway_pb2.ListOpenOrdersResponse(orders=[convert.order_to_proto(r) for r in records[:limit]])

    async def ListPositions(self, request: gateway_pb2.ListPositionsRequest, context: grpc.aio.ServicerContext
                            ) -> gateway_pb2.ListPositionsResponse:
        positions = [p for p in self._orders.positions.values()
                     if not request.account_id or p.account_id == request.account_id]
        limit = min(request.page_size or 100, MAX_PAGE)
        return gateway_pb2.ListPositionsResponse(positions=positions[:limit])

    async def GetConnectionStatus(self, request: gateway_pb2.GetConnectionStatusRequest,
                                  context: grpc.aio.ServicerContext) -> gateway_pb2.GetConnectionStatusResponse:
        status: system_pb2.ConnectionStatus = self._status()
        return gateway_pb2.GetConnectionStatusResponse(status=status)

    async def ReplaceOrder(self, request, context):  # type: ignore[no-untyped-def]
        raise _unimplemented("ReplaceOrder")

    async def CancelAllOrders(self, request, context):  # type: ignore[no-untyped-def]
        raise _unimplemented("CancelAllOrders")

    async def ClosePosition(self, request, context):  # type: ignore[no-untyped-def]
        raise _unimplemented("ClosePosition")

    async def ListExecutions(self, request, context):  # type: ignore[no-untyped-def]
        raise _unimplemented("ListExecutions")

    async def PreviewOrder(self, request, context):  # type: ignore[no-untyped-def]
        raise _unimplemented("PreviewOrder")

    async def ResolveInstrument(self, request, context):  # type: ignore[no-untyped-def]
        raise _unimplemented("ResolveInstrument")

    async def GetQuote(self, request, context):  # type: ignore[no-untyped-def]
        raise _unimplemented("GetQuote")

    async def SubscribeQuotes(self, request, context):  # type: ignore[no-untyped-def]
        raise _unimplemented("SubscribeQuotes")

    async def UnsubscribeQuotes(self, request, context):  # type: ignore[no-untyped-def]
        raise _unimplemented("UnsubscribeQuotes")

    async def GetAccount(self, request, context):  # type: ignore[no-untyped-def]
        raise _unimplemented("GetAccount")

    async def GetPnl(self, request, context):  # type: ignore[no-untyped-def]
        raise _unimplemented("GetPnl")

    async def Reconcile(self, request, context):  # type: ignore[no-untyped-def]
        raise _unimplemented("Reconcile")
