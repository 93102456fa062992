"""GatewayService: thin — validate the request, call the domain, map the result back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

import grpc
from ibkr.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from ibkr.trading.v1 import execution_pb2, instrument_pb2, order_pb2, reconciliation_pb2, system_pb2

from services.common.errors import (
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    to_status_proto,
)
from services.gateway_bridge import convert
from services.gateway_bridge.domain.intent import closing_spec, merge_spec, validate_place_order
from services.gateway_bridge.market_data import MarketData
from services.gateway_bridge.orders import OrderService
from services.gateway_bridge.paging import paginate
from services.gateway_bridge.store import OrderRecord

PREVIEW_CLIENT_ORDER_ID = "preview"


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


def _order_key(rec: OrderRecord) -> list[object]:
    """Oldest first; the order id breaks ties (and orders without a creation time sort first)."""
    return [rec.create_time.isoformat() if rec.create_time else "", rec.order_id]


def _fill_key(fill: execution_pb2.Fill) -> list[object]:
    """Oldest first by fill time, then execution id."""
    return [fill.fill_time.seconds, fill.fill_time.nanos, fill.execution_id]


def _require_subscriber(subscriber_id: str) -> None:
    if not subscriber_id:
        raise _invalid("subscriber_id", "is required")


class GatewayServicer(gateway_pb2_grpc.GatewayServiceServicer):
    """The bridge's gRPC face. `status` supplies GetConnectionStatus (the supervisor's view)."""

    def __init__(self, orders: OrderService, market_data: MarketData, default_account: str,
                 status: Callable[[], system_pb2.ConnectionStatus], request_timeout: float,
                 reconcile: Callable[[str], Awaitable[reconciliation_pb2.ReconciliationRun]],
                 data_farms: Callable[[], list[gateway_pb2.DataFarmStatus]] = list) -> None:
        self._reconcile = reconcile
        self._data_farms = data_farms
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
        children = await self._orders.children(rec) if order.spec.HasField("bracket") else []
        reply = gateway_pb2.PlaceOrderResponse(order=convert.order_to_proto(rec),
                                               child_orders=[convert.order_to_proto(c) for c in children])
        reply.order.child_order_ids.extend(c.order_id for c in children)
        return reply

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
        page, token = paginate(records, _order_key, ("open_orders", request.account_id, request.symbol),
                               request.page_size, request.page_token)
        return gateway_pb2.ListOpenOrdersResponse(orders=[convert.order_to_proto(r) for r in page],
                                                  next_page_token=token)

    async def ListPositions(self, request: gateway_pb2.ListPositionsRequest, context: grpc.aio.ServicerContext
                            ) -> gateway_pb2.ListPositionsResponse:
        positions = [p for p in self._orders.positions.values()
                     if not request.account_id or p.account_id == request.account_id]
        page, token = paginate(positions, lambda p: [p.account_id, p.instrument.con_id],
                               ("positions", request.account_id), request.page_size, request.page_token)
        return gateway_pb2.ListPositionsResponse(positions=[self._orders.accounts.enrich(p) for p in page],
                                                 next_page_token=token)

    async def GetConnectionStatus(self, request: gateway_pb2.GetConnectionStatusRequest,
                                  context: grpc.aio.ServicerContext) -> gateway_pb2.GetConnectionStatusResponse:
        status: system_pb2.ConnectionStatus = self._status()
        return gateway_pb2.GetConnectionStatusResponse(status=status, data_farms=self._data_farms())

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

    async def PreviewOrder(self, request: gateway_pb2.PreviewOrderRequest, context: grpc.aio.ServicerContext
                           ) -> gateway_pb2.PreviewOrderResponse:
        # The same validation as PlaceOrder; a preview has no client_order_id, so a fixed valid one stands in.
        order = validate_place_order(request.account_id, PREVIEW_CLIENT_ORDER_ID, request.order,
                                     request.HasField("order"), default_account=self._account)
        preview = await self._orders.preview(order, self._deadline(context))
        return gateway_pb2.PreviewOrderResponse(preview=preview)

    async def ReplaceOrder(self, request: gateway_pb2.ReplaceOrderRequest, context: grpc.aio.ServicerContext
                           ) -> gateway_pb2.ReplaceOrderResponse:
        rec = await self._lookup(request)
        if not request.HasField("order"):
            raise _invalid("order", "is required")
        merged = merge_spec(rec.spec, request.order, list(request.update_mask.paths))
        new = validate_place_order(rec.account_id, rec.client_order_id or "external", merged, True,
                                   default_account=self._account, risk_decision_id=request.risk_decision_id)
        rec = await self._orders.replace(rec, new)
        return gateway_pb2.ReplaceOrderResponse(order=convert.order_to_proto(rec))

    async def CancelAllOrders(self, request: gateway_pb2.CancelAllOrdersRequest, context: grpc.aio.ServicerContext
                              ) -> gateway_pb2.CancelAllOrdersResponse:
        done, failed = await self._orders.cancel_all(request.account_id, request.symbol.upper(), request.side)
        return gateway_pb2.CancelAllOrdersResponse(
            orders=[convert.order_to_proto(r) for r in done],
            failures=[order_pb2.OrderCancelFailure(order_id=oid, status=to_status_proto(err)) for oid, err in failed])

    async def ClosePosition(self, request: gateway_pb2.ClosePositionRequest, context: grpc.aio.ServicerContext
                            ) -> gateway_pb2.ClosePositionResponse:
        _require_instrument(request, "instrument")
        account = request.account_id or self._account
        contract = await self._orders.contracts.resolve(request.instrument, self._deadline(context))
        position = self._orders.positions.get((account, contract.conId))
        held = Decimal(position.quantity.value) if position is not None else Decimal(0)
        if held == 0:
            raise FailedPrecondition("NO_POSITION", f"no position in {request.instrument.symbol} to close",
                                     metadata={"symbol": request.instrument.symbol})
        spec = closing_spec(request, held)
        if request.cancel_open_orders:
            await self._orders.cancel_all(account, request.instrument.symbol.upper(), 0)
        order = validate_place_order(account, request.client_order_id, spec, True, default_account=self._account,
                                     risk_decision_id=request.risk_decision_id)
        if order.quantity > abs(held):
            raise _invalid("quantity", f"larger than the position ({abs(held)})")
        rec = await self._orders.place(order, context.time_remaining())
        return gateway_pb2.ClosePositionResponse(order=convert.order_to_proto(rec))

    async def ListExecutions(self, request: gateway_pb2.ListExecutionsRequest, context: grpc.aio.ServicerContext
                             ) -> gateway_pb2.ListExecutionsResponse:
        fills = [f for f in await self._orders.recorded_fills()
                 if (not request.account_id or f.account_id == request.account_id)
                 and (not request.symbol or f.instrument.symbol == request.symbol.upper())
                 and (not request.HasField("start_time") or f.fill_time.ToDatetime() >= request.start_time.ToDatetime())]
        since = request.start_time.ToJsonString() if request.HasField("start_time") else ""
        page, token = paginate(fills, _fill_key, ("executions", request.account_id, request.symbol.upper(), since),
                               request.page_size, request.page_token)
        return gateway_pb2.ListExecutionsResponse(fills=page, next_page_token=token)

    async def ResolveInstrument(self, request: gateway_pb2.ResolveInstrumentRequest,
                                context: grpc.aio.ServicerContext) -> gateway_pb2.ResolveInstrumentResponse:
        _require_instrument(request, "instrument")
        contract = await self._orders.contracts.resolve(request.instrument, self._deadline(context))
        details = instrument_pb2.InstrumentDetails(instrument=self._orders.contracts.instrument(contract))
        return gateway_pb2.ResolveInstrumentResponse(details=details)

    async def Reconcile(self, request: gateway_pb2.ReconcileRequest, context: grpc.aio.ServicerContext
                        ) -> gateway_pb2.ReconcileResponse:
        run = await self._reconcile(request.account_id or self._account)
        return gateway_pb2.ReconcileResponse(run=run)

    async def GetAccount(self, request: gateway_pb2.GetAccountRequest, context: grpc.aio.ServicerContext
                         ) -> gateway_pb2.GetAccountResponse:
        return gateway_pb2.GetAccountResponse(account=self._orders.accounts.summary(request.account_id or self._account))

    async def GetPnl(self, request: gateway_pb2.GetPnlRequest, context: grpc.aio.ServicerContext
                     ) -> gateway_pb2.GetPnlResponse:
        account = request.account_id or self._account
        book = self._orders.accounts
        lines = [line for (acc, _), line in book.portfolio.items() if acc == account
                 and (not request.HasField("instrument") or line.instrument.symbol == request.instrument.symbol.upper())]
        return gateway_pb2.GetPnlResponse(pnl=book.account_pnl(account),
                                          position_pnls=[book.position_pnl(line) for line in lines])
