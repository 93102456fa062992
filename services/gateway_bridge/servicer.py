"""GatewayService: thin — validate the request, call the domain, map the result back."""

from __future__ import annotations

from collections.abc import Callable

import grpc
from ibkr.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from ibkr.trading.v1 import system_pb2

from services.common.errors import DomainError, FieldViolation, InvalidArgument
from services.gateway_bridge import convert
from services.gateway_bridge.domain.intent import validate_place_order
from services.gateway_bridge.market_data import MarketData
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


def _invalid(field: str, description: str) -> InvalidArgument:
    return InvalidArgument("INVALID_FIELD", f"{field}: {description}", metadata={"field": field},
                           field_violations=[FieldViolation(field, description, "INVALID")])


def _require_instrument(request: object, field: str) -> None:
    if not request.HasField(field):  # type: ignore[attr-defined]
        raise _invalid(field, "is required")
    inst = getattr(request, field)
    if not inst.symbol and not inst.con_id:
        raise _invalid(f"{field}.symbol", "a symbol (or con_id) is required")
    if not inst.security_type:
        raise _invalid(f"{field}.security_type", "must be set (SECURITY_TYPE_UNSPECIFIED is not accepted)")


def _require_subscriber(subscriber_id: str) -> None:
    if not subscriber_id:
        raise _invalid("subscriber_id", "is required")


class GatewayServicer(gateway_pb2_grpc.GatewayServiceServicer):
    """The bridge's gRPC face. `status` supplies GetConnectionStatus (the supervisor's view)."""

    def __init__(self, orders: OrderService, market_data: MarketData, default_account: str,
                 status: Callable[[], system_pb2.ConnectionStatus], request_timeout: float) -> None:
        self._orders = orders
        self._market_data = market_data
        self._account = default_account
        self._status = status
        self._timeout = request_timeout

    def _deadline(self, context: grpc.aio.ServicerContext, asked: float | None = None) -> float:
        """The IB request deadline: ours, shortened by the caller's deadline and by what it asked for."""
        limits = [self._timeout, *(x for x in (asked, context.time_remaining()) if x)]
        return max(0.01, min(limits))

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

    async def GetQuote(self, request: gateway_pb2.GetQuoteRequest, context: grpc.aio.ServicerContext
                       ) -> gateway_pb2.GetQuoteResponse:
        _require_instrument(request, "instrument")
        asked = request.timeout.ToTimedelta().total_seconds() if request.HasField("timeout") else None
        quote = await self._market_data.quote(request.instrument, self._deadline(context, asked))
        return gateway_pb2.GetQuoteResponse(quote=quote)

    async def SubscribeQuotes(self, request: gateway_pb2.SubscribeQuotesRequest, context: grpc.aio.ServicerContext
                              ) -> gateway_pb2.SubscribeQuotesResponse:
        _require_subscriber(request.subscriber_id)
        if not request.instruments:
            raise _invalid("instruments", "at least one instrument is required")
        held = await self._market_data.subscribe(request.subscriber_id, list(request.instruments),
                                                 self._deadline(context))
        return gateway_pb2.SubscribeQuotesResponse(
            subscriptions=[gateway_pb2.QuoteSubscription(instrument=i, reference_count=n) for i, n in held],
            lines_in_use=self._market_data.book.in_use, line_budget=self._market_data.book.budget)

    async def UnsubscribeQuotes(self, request: gateway_pb2.UnsubscribeQuotesRequest,
                                context: grpc.aio.ServicerContext) -> gateway_pb2.UnsubscribeQuotesResponse:
        _require_subscriber(request.subscriber_id)
        held = await self._market_data.unsubscribe(request.subscriber_id,
                                                   None if request.all else list(request.instruments),
                                                   self._deadline(context))
        return gateway_pb2.UnsubscribeQuotesResponse(
            subscriptions=[gateway_pb2.QuoteSubscription(instrument=i, reference_count=n) for i, n in held],
            lines_in_use=self._market_data.book.in_use)

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

    async def GetAccount(self, request, context):  # type: ignore[no-untyped-def]
        raise _unimplemented("GetAccount")

    async def GetPnl(self, request, context):  # type: ignore[no-untyped-def]
        raise _unimplemented("GetPnl")

    async def Reconcile(self, request, context):  # type: ignore[no-untyped-def]
        raise _unimplemented("Reconcile")
