"""Stand-ins for risk, ledger and bridge: real gRPC servers on port 0 implementing the internal protos.

They record every call (method name, request) so tests can assert what reached "downstream", and answer
from a small shared state: orders placed through risk are visible at the bridge (as in the real suite) but
not at the ledger until a test puts them there.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from ibkr.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from ibkr.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from ibkr.risk.v1 import risk_pb2, risk_pb2_grpc
from ibkr.trading.v1 import event_pb2, market_data_pb2, order_pb2, portfolio_pb2, risk_types_pb2, system_pb2

from services.common.errors import FailedPrecondition, NotFound, to_rpc_status

ACCOUNT = "DU1234567"
OTHER_ACCOUNT = "DU7654321"
UNKNOWN_SYMBOL = "NOPE"
NOTIONAL_LIMIT_QTY = 1000


@dataclass
class FakeState:
    """What the fakes know and what reached them."""

    calls: list[tuple[str, object]] = field(default_factory=list)
    bridge_orders: dict[str, order_pb2.Order] = field(default_factory=dict)
    ledger_orders: dict[str, order_pb2.Order] = field(default_factory=dict)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    quote_subscriptions: dict[str, int] = field(default_factory=dict)
    stored_events: list[tuple[str, object]] = field(default_factory=list)
    ingest: object | None = None

    def record(self, name: str, request: object) -> None:
        self.calls.append((name, request))

    def methods(self) -> list[str]:
        return [name for name, _ in self.calls]

    def find(self, orders: dict[str, order_pb2.Order], request: object) -> order_pb2.Order | None:
        key = request.WhichOneof("key")
        for order in orders.values():
            if key == "order_id" and order.order_id == request.order_id:
                return order
            if key == "client_order_id" and order.client_order_id == request.client_order_id:
                return order
        return None


async def _fail(context: grpc.aio.ServicerContext, err: Exception) -> None:
    await context.abort_with_status(to_rpc_status(err))


class FakeRisk(risk_pb2_grpc.RiskServiceServicer):
    def __init__(self, state: FakeState) -> None:
        self.s = state

    async def SubmitOrder(self, request, context):
        self.s.record("risk.SubmitOrder", request)
        spec = request.order
        if spec.instrument.symbol == UNKNOWN_SYMBOL:
            await _fail(context, NotFound("UNKNOWN_SYMBOL", f"unknown symbol {UNKNOWN_SYMBOL}",
                                          metadata={"symbol": UNKNOWN_SYMBOL}))
        if int(float(spec.quantity.value)) > NOTIONAL_LIMIT_QTY:
            await _fail(context, FailedPrecondition("RISK_RULE_VIOLATION", "max order notional exceeded",
                                                    metadata={"rule": "max_order_notional"}))
        order = order_pb2.Order(order_id=f"ord-{next(self.s.ids)}", client_order_id=request.client_order_id,
                                account_id=request.account_id, spec=spec,
                                status=order_pb2.ORDER_STATUS_SUBMITTED)
        self.s.bridge_orders[order.order_id] = order
        # Like risk, the accepting decision comes with the order (field 3, which the edge must not pass on).
        reply = risk_pb2.SubmitOrderResponse(order=order)
        reply.decision.decision_id = f"rd-{order.order_id}"
        return reply

    async def SubmitCancel(self, request, context):
        self.s.record("risk.SubmitCancel", request)
        order = self.s.find(self.s.bridge_orders, request)
        if order is None or order.account_id != request.account_id:
            await _fail(context, NotFound("ORDER_NOT_FOUND", "no such order"))
        order.status = order_pb2.ORDER_STATUS_CANCELLED
        return risk_pb2.SubmitCancelResponse(order=order)

    async def CheckOrder(self, request, context):
        self.s.record("risk.CheckOrder", request)
        return risk_pb2.CheckOrderResponse(decision=risk_types_pb2.RiskDecision())

    async def SubmitReplace(self, request, context):
        self.s.record("risk.SubmitReplace", request)
        return risk_pb2.SubmitReplaceResponse(order=order_pb2.Order(order_id="ord-r", account_id=request.account_id))

    async def SubmitCancelAll(self, request, context):
        self.s.record("risk.SubmitCancelAll", request)
        return risk_pb2.SubmitCancelAllResponse()

    async def SubmitClosePosition(self, request, context):
        self.s.record("risk.SubmitClosePosition", request)
        return risk_pb2.SubmitClosePositionResponse(order=order_pb2.Order(order_id="ord-c",
                                                                           account_id=request.account_id))

    async def GetTradingState(self, request, context):
        self.s.record("risk.GetTradingState", request)
        return risk_pb2.GetTradingStateResponse()

    async def SetTradingState(self, request, context):
        self.s.record("risk.SetTradingState", request)
        return risk_pb2.SetTradingStateResponse()

    async def GetRiskPolicy(self, request, context):
        self.s.record("risk.GetRiskPolicy", request)
        return risk_pb2.GetRiskPolicyResponse()

    async def UpdateRiskPolicy(self, request, context):
        self.s.record("risk.UpdateRiskPolicy", request)
        return risk_pb2.UpdateRiskPolicyResponse(policy=request.policy)


class FakeLedger(ledger_pb2_grpc.LedgerServiceServicer):
    def __init__(self, state: FakeState) -> None:
        self.s = state

    async def GetOrder(self, request, context):
        self.s.record("ledger.GetOrder", request)
        order = self.s.find(self.s.ledger_orders, request)
        if order is None or order.account_id != request.account_id:
            await _fail(context, NotFound("ORDER_NOT_FOUND", "no such order"))
        return ledger_pb2.GetOrderResponse(order=order, events=[order_pb2.OrderEvent(event_id="e1")])

    async def ListOrders(self, request, context):
        self.s.record("ledger.ListOrders", request)
        return ledger_pb2.ListOrdersResponse(orders=[o for o in self.s.ledger_orders.values()
                                                     if o.account_id == request.account_id])

    async def ListFills(self, request, context):
        self.s.record("ledger.ListFills", request)
        return ledger_pb2.ListFillsResponse()

    async def ListPositions(self, request, context):
        self.s.record("ledger.ListPositions", request)
        position = portfolio_pb2.Position(account_id=request.account_id)
        position.instrument.symbol = "AAPL"
        position.quantity.value = "10"
        position.average_cost.value = "101.5"
        return ledger_pb2.ListPositionsResponse(positions=[position])

    async def GetPnl(self, request, context):
        self.s.record("ledger.GetPnl", request)
        return ledger_pb2.GetPnlResponse()

    async def GetIngestStatus(self, request, context):
        self.s.record("ledger.GetIngestStatus", request)
        return ledger_pb2.GetIngestStatusResponse(status=self.s.ingest)

    async def ListEvents(self, request, context):
        self.s.record("ledger.ListEvents", request)
        after = tuple(map(int, request.after_stream_id.split("-"))) if request.after_stream_id else (0, 0)
        types = {event_pb2.EventType.Name(t).removeprefix("EVENT_TYPE_").lower() for t in request.event_types}
        out = ledger_pb2.ListEventsResponse()
        for stream_id, event in self.s.stored_events:
            if tuple(map(int, stream_id.split("-"))) <= after:
                continue
            if request.account_id and event.account_id not in ("", request.account_id):
                continue
            if types and event.WhichOneof("payload") not in types:
                continue
            out.events.add(stream_id=stream_id, event=event)
        return out

    async def GetReconciliationReport(self, request, context):
        self.s.record("ledger.GetReconciliationReport", request)
        return ledger_pb2.GetReconciliationReportResponse()


class FakeBridge(gateway_pb2_grpc.GatewayServiceServicer):
    def __init__(self, state: FakeState) -> None:
        self.s = state

    async def GetOrder(self, request, context):
        self.s.record("bridge.GetOrder", request)
        order = self.s.find(self.s.bridge_orders, request)
        if order is None or order.account_id != request.account_id:
            await _fail(context, NotFound("ORDER_NOT_FOUND", "no such order"))
        return gateway_pb2.GetOrderResponse(order=order)

    async def ListOpenOrders(self, request, context):
        self.s.record("bridge.ListOpenOrders", request)
        return gateway_pb2.ListOpenOrdersResponse(orders=[
            o for o in self.s.bridge_orders.values()
            if o.account_id == request.account_id and o.status == order_pb2.ORDER_STATUS_SUBMITTED])

    async def GetAccount(self, request, context):
        self.s.record("bridge.GetAccount", request)
        account = portfolio_pb2.AccountSummary(account_id=request.account_id, base_currency="USD")
        return gateway_pb2.GetAccountResponse(account=account)

    async def PreviewOrder(self, request, context):
        self.s.record("bridge.PreviewOrder", request)
        return gateway_pb2.PreviewOrderResponse()

    async def GetQuote(self, request, context):
        self.s.record("bridge.GetQuote", request)
        return gateway_pb2.GetQuoteResponse(quote=market_data_pb2.Quote(instrument=request.instrument))

    async def SubscribeQuotes(self, request, context):
        self.s.record("bridge.SubscribeQuotes", request)
        for inst in request.instruments:
            self.s.quote_subscriptions[inst.symbol] = self.s.quote_subscriptions.get(inst.symbol, 0) + 1
        return gateway_pb2.SubscribeQuotesResponse()

    async def UnsubscribeQuotes(self, request, context):
        self.s.record("bridge.UnsubscribeQuotes", request)
        for inst in request.instruments:
            self.s.quote_subscriptions[inst.symbol] -= 1
        return gateway_pb2.UnsubscribeQuotesResponse()

    async def GetConnectionStatus(self, request, context):
        self.s.record("bridge.GetConnectionStatus", request)
        return gateway_pb2.GetConnectionStatusResponse(status=system_pb2.ConnectionStatus(
            state=system_pb2.BROKER_CONNECTION_STATE_CONNECTED))


async def start_fakes(state: FakeState) -> tuple[grpc.aio.Server, int]:
    """One server on port 0 serving all three fakes plus health (SERVING)."""
    server = grpc.aio.server()
    risk_pb2_grpc.add_RiskServiceServicer_to_server(FakeRisk(state), server)
    ledger_pb2_grpc.add_LedgerServiceServicer_to_server(FakeLedger(state), server)
    gateway_pb2_grpc.add_GatewayServiceServicer_to_server(FakeBridge(state), server)
    health = HealthServicer()
    # Per service too, like the real servers: the bridge channel health-checks its service name.
    for name in ("", "ibkr.risk.v1.RiskService", "ibkr.ledger.v1.LedgerService", "ibkr.gateway.v1.GatewayService"):
        await health.set(name, health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port
