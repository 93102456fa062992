"""TradingService: validate → risk (orders, cancels) / bridge + ledger (reads) → map back.

Source of truth for GetOrder: the bridge first. It persists an order before sending it to IB and updates it
from every broker callback, so an order is readable the instant PlaceOrder returns, whereas the ledger
learns of it only after consuming the bus. The ledger answers when the bridge does not know the order (or
is down), and supplies the history and fills when `include_history` is set.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import grpc
from ibkr.edge.v1 import trading_service_pb2 as pb
from ibkr.edge.v1 import trading_service_pb2_grpc
from ibkr.gateway.v1 import gateway_pb2
from ibkr.ledger.v1 import ledger_pb2
from ibkr.risk.v1 import risk_pb2
from ibkr.trading.v1 import order_pb2

from services.common.errors import DomainError, NotFound
from services.common.server import WrappingServer
from services.edge import validation as val
from services.edge.auth import current_principal_name
from services.edge.downstream import Downstream, place_order_reply
from services.edge.mapping import project

OPEN_STATUSES = (
    order_pb2.ORDER_STATUS_PENDING_SUBMIT, order_pb2.ORDER_STATUS_SUBMITTED, order_pb2.ORDER_STATUS_PARTIALLY_FILLED,
    order_pb2.ORDER_STATUS_PENDING_CANCEL, order_pb2.ORDER_STATUS_INACTIVE, order_pb2.ORDER_STATUS_UNKNOWN,
    order_pb2.ORDER_STATUS_PENDING_REPLACE,
)
# The bridge may not know an order (placed long ago) or be down; the ledger still does.
_FALLBACK_CODES = frozenset({grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNAVAILABLE,
                             grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.DEADLINE_EXCEEDED})
# Fields ReplaceOrder may change (the rest of a working order is fixed at IB).
_REPLACEABLE = frozenset({"quantity", "limit_price", "stop_price", "time_in_force", "outside_rth",
                          "trailing_amount", "trailing_percent", "trailing_limit_offset", "good_till_time",
                          "display_quantity"})


PLACE_ORDER = "/ibkr.edge.v1.TradingService/PlaceOrder"


def add_trading_service(servicer: trading_service_pb2_grpc.TradingServiceServicer, server: Any) -> None:
    """The generated registration, except that PlaceOrder's answer goes out as is when it is relayed bytes."""
    trading_service_pb2_grpc.add_TradingServiceServicer_to_server(servicer, WrappingServer(server, _bytes_as_is))


def _bytes_as_is(method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    if method != PLACE_ORDER:
        return handler
    serialize = handler.response_serializer

    def serialize_or_relay(response: Any) -> bytes:
        return response if type(response) is bytes else serialize(response)

    return handler._replace(response_serializer=serialize_or_relay)


class TradingServicer(trading_service_pb2_grpc.TradingServiceServicer):
    """Thin: every method validates, makes one or two downstream calls and maps the answer back."""

    def __init__(self, downstream: Downstream) -> None:
        self._down = downstream

    async def PlaceOrder(self, request: pb.PlaceOrderRequest,
                         context: grpc.aio.ServicerContext) -> pb.PlaceOrderResponse | bytes:
        v = val.Violations()
        val.check_client_order_id(v, request.client_order_id, required=False)
        val.check_order_spec(v, request, "order", "order")
        v.raise_if_any()
        # No key given: make one, so the order is still traceable end to end (retries then cannot dedupe).
        client_order_id = request.client_order_id or f"edge-{uuid.uuid4().hex}"
        submit = risk_pb2.SubmitOrderRequest(account_id=request.account_id, client_order_id=client_order_id,
                                             order=request.order, principal=current_principal_name())
        down = self._down
        if down.submit_order_bytes is None:
            reply = await down.call(down.risk.SubmitOrder, submit, context)
        else:
            # Risk's reply shares fields 1-2 with ours: relay their bytes rather than parse and copy the orders.
            raw = await down.call(down.submit_order_bytes, submit, context)
            relayed = place_order_reply(raw)
            if relayed is not None:
                return relayed
            reply = risk_pb2.SubmitOrderResponse.FromString(raw)
        return pb.PlaceOrderResponse(order=reply.order, child_orders=reply.child_orders)

    async def PreviewOrder(self, request: pb.PreviewOrderRequest, context: grpc.aio.ServicerContext) -> pb.PreviewOrderResponse:
        v = val.Violations()
        val.check_order_spec(v, request, "order", "order")
        v.raise_if_any()
        check, preview = await asyncio.gather(
            self._down.call(self._down.risk.CheckOrder, risk_pb2.CheckOrderRequest(
                account_id=request.account_id, order=request.order, principal=current_principal_name()), context),
            self._down.call(self._down.bridge.PreviewOrder, gateway_pb2.PreviewOrderRequest(
                account_id=request.account_id, order=request.order), context))
        return pb.PreviewOrderResponse(preview=preview.preview, risk_decision=check.decision,
                                       shadow_risk_decision=check.shadow_decision)

    async def ReplaceOrder(self, request: pb.ReplaceOrderRequest, context: grpc.aio.ServicerContext) -> pb.ReplaceOrderResponse:
        v = val.Violations()
        val.check_order_key(v, request)
        check_replace(v, request)
        v.raise_if_any()
        reply = await self._down.call(self._down.risk.SubmitReplace, project(
            request, risk_pb2.SubmitReplaceRequest, principal=current_principal_name()), context)
        return pb.ReplaceOrderResponse(order=reply.order)

    async def CancelOrder(self, request: pb.CancelOrderRequest, context: grpc.aio.ServicerContext) -> pb.CancelOrderResponse:
        v = val.Violations()
        val.check_order_key(v, request)
        v.raise_if_any()
        reply = await self._down.call(self._down.risk.SubmitCancel, project(
            request, risk_pb2.SubmitCancelRequest, principal=current_principal_name()), context)
        return pb.CancelOrderResponse(order=reply.order)

    async def CancelAllOrders(self, request: pb.CancelAllOrdersRequest,
                              context: grpc.aio.ServicerContext) -> pb.CancelAllOrdersResponse:
        v = val.Violations()
        val.check_symbol_filter(v, request.symbol)
        v.enum(request, "side", "side", required=False)
        v.raise_if_any()
        reply = await self._down.call(self._down.risk.SubmitCancelAll, project(
            request, risk_pb2.SubmitCancelAllRequest, principal=current_principal_name()), context)
        return pb.CancelAllOrdersResponse(orders=reply.orders, failures=reply.failures)

    async def ClosePosition(self, request: pb.ClosePositionRequest,
                            context: grpc.aio.ServicerContext) -> pb.ClosePositionResponse:
        v = val.Violations()
        val.check_instrument(v, request, "instrument", "instrument")
        if request.HasField("quantity"):
            v.decimal(request, "quantity", "quantity", required=True)
        v.enum(request, "order_type", "order_type", required=False)
        v.enum(request, "time_in_force", "time_in_force", required=False)
        if request.order_type not in (order_pb2.ORDER_TYPE_UNSPECIFIED, order_pb2.ORDER_TYPE_MARKET,
                                      order_pb2.ORDER_TYPE_LIMIT):
            v.add("order_type", "a position is closed with a MARKET or LIMIT order", "NOT_ALLOWED")
        if request.order_type == order_pb2.ORDER_TYPE_LIMIT:
            v.decimal(request, "limit_price", "limit_price", required=True)
        elif request.HasField("limit_price"):
            v.add("limit_price", "only for ORDER_TYPE_LIMIT", "NOT_ALLOWED")
        val.check_client_order_id(v, request.client_order_id, required=False)
        v.raise_if_any()
        reply = await self._down.call(self._down.risk.SubmitClosePosition, project(
            request, risk_pb2.SubmitClosePositionRequest, principal=current_principal_name()), context)
        return pb.ClosePositionResponse(order=reply.order)

    async def GetOrder(self, request: pb.GetOrderRequest, context: grpc.aio.ServicerContext) -> pb.GetOrderResponse:
        v = val.Violations()
        val.check_order_key(v, request)
        v.raise_if_any()
        order = await self._order_from_bridge(request, context)
        response = pb.GetOrderResponse()
        if order is not None:
            response.order.CopyFrom(order)
        if order is None or request.include_history:
            try:
                ledger = await self._down.call(self._down.ledger.GetOrder,
                                               project(request, ledger_pb2.GetOrderRequest), context)
            except DomainError as err:
                if order is None or err.code != grpc.StatusCode.NOT_FOUND:
                    raise
            else:
                if order is None:
                    response.order.CopyFrom(ledger.order)
                if request.include_history:
                    response.history.extend(ledger.events)
                    response.fills.extend(ledger.fills)
        if response.order.account_id and response.order.account_id != request.account_id:
            # Same answer as an unknown order: an id must not reveal another account's orders.
            raise NotFound("ORDER_NOT_FOUND", "no such order")
        return response

    async def _order_from_bridge(self, request: pb.GetOrderRequest,
                                 context: grpc.aio.ServicerContext) -> order_pb2.Order | None:
        try:
            reply = await self._down.call(self._down.bridge.GetOrder,
                                          project(request, gateway_pb2.GetOrderRequest), context)
        except DomainError as err:
            if err.code in _FALLBACK_CODES:
                return None
            raise
        return reply.order

    async def ListOrders(self, request: pb.ListOrdersRequest, context: grpc.aio.ServicerContext) -> pb.ListOrdersResponse:
        v = val.Violations()
        val.check_page(v, request)
        val.check_symbol_filter(v, request.symbol)
        val.check_enum_list(v, request, "statuses", "statuses")
        v.raise_if_any()
        query = project(request, ledger_pb2.ListOrdersRequest)
        if request.open_only and not request.statuses:
            query.statuses.extend(OPEN_STATUSES)
        elif request.open_only:
            del query.statuses[:]
            query.statuses.extend(s for s in request.statuses if s in OPEN_STATUSES)
            if not query.statuses:
                return pb.ListOrdersResponse()
        reply = await self._down.call(self._down.ledger.ListOrders, query, context)
        return pb.ListOrdersResponse(orders=reply.orders, next_page_token=reply.next_page_token)

    async def ListFills(self, request: pb.ListFillsRequest, context: grpc.aio.ServicerContext) -> pb.ListFillsResponse:
        v = val.Violations()
        val.check_page(v, request)
        val.check_symbol_filter(v, request.symbol)
        if request.client_order_id:
            val.check_client_order_id(v, request.client_order_id, required=False)
        v.raise_if_any()
        reply = await self._down.call(self._down.ledger.ListFills, project(request, ledger_pb2.ListFillsRequest),
                                      context)
        return pb.ListFillsResponse(fills=reply.fills, next_page_token=reply.next_page_token)


def check_replace(v: val.Violations, request: pb.ReplaceOrderRequest) -> None:
    """A replace: with a mask, each masked field must be replaceable and valid; without, a full valid spec."""
    if not request.HasField("order"):
        v.add("order", "the new order values are required", "REQUIRED")
        return
    paths = list(request.update_mask.paths)
    if not paths:
        val.check_order_spec(v, request, "order", "order")
        return
    spec = request.order
    for i, path in enumerate(paths):
        if path not in _REPLACEABLE:
            v.add(f"update_mask.paths[{i}]", f"{path!r} cannot be replaced; allowed: {', '.join(sorted(_REPLACEABLE))}",
                  "NOT_REPLACEABLE")
        elif path == "time_in_force":
            v.enum(spec, "time_in_force", "order.time_in_force")
        elif path in ("quantity", "limit_price", "stop_price", "trailing_amount", "trailing_percent",
                      "display_quantity"):
            v.decimal(spec, path, f"order.{path}", required=True)
        elif path == "trailing_limit_offset":
            v.decimal(spec, path, f"order.{path}", required=True, positive=False)
