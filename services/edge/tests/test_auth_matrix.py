"""Every public RPC × (no key, viewer, trader, admin, key for another account), unary and streaming: the
caller gets exactly the code its role and scope call for, and refused calls reach nothing downstream."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf.message import Message
from ibkr.edge.v1 import admin_service_pb2 as admin
from ibkr.edge.v1 import event_service_pb2 as events
from ibkr.edge.v1 import market_data_service_pb2 as market
from ibkr.edge.v1 import portfolio_service_pb2 as portfolio
from ibkr.edge.v1 import trading_service_pb2 as trading
from ibkr.trading.v1 import instrument_pb2, order_pb2, risk_types_pb2

from services.edge import authz
from services.edge.keys import Role
from services.edge.tests.fakes import ACCOUNT
from services.edge.tests.test_pure import ALL_METHODS

AAPL = instrument_pb2.Instrument(symbol="AAPL", security_type=instrument_pb2.SECURITY_TYPE_STOCK)


def _spec() -> order_pb2.OrderSpec:
    spec = order_pb2.OrderSpec(instrument=AAPL, side=order_pb2.ORDER_SIDE_BUY, order_type=order_pb2.ORDER_TYPE_MARKET,
                               time_in_force=order_pb2.TIME_IN_FORCE_DAY)
    spec.quantity.value = "1"
    return spec


# A valid request per method, naming the caller's account explicitly where the method has one.
REQUESTS: dict[str, Message] = {
    "/ibkr.edge.v1.TradingService/PlaceOrder": trading.PlaceOrderRequest(account_id=ACCOUNT, client_order_id="m",
                                                                         order=_spec()),
    "/ibkr.edge.v1.TradingService/PreviewOrder": trading.PreviewOrderRequest(account_id=ACCOUNT, order=_spec()),
    "/ibkr.edge.v1.TradingService/ReplaceOrder": trading.ReplaceOrderRequest(account_id=ACCOUNT, order_id="o",
                                                                             order=_spec()),
    "/ibkr.edge.v1.TradingService/CancelOrder": trading.CancelOrderRequest(account_id=ACCOUNT, order_id="o"),
    "/ibkr.edge.v1.TradingService/CancelAllOrders": trading.CancelAllOrdersRequest(account_id=ACCOUNT),
    "/ibkr.edge.v1.TradingService/ClosePosition": trading.ClosePositionRequest(account_id=ACCOUNT, instrument=AAPL),
    "/ibkr.edge.v1.TradingService/GetOrder": trading.GetOrderRequest(account_id=ACCOUNT, order_id="o"),
    "/ibkr.edge.v1.TradingService/ListOrders": trading.ListOrdersRequest(account_id=ACCOUNT),
    "/ibkr.edge.v1.TradingService/ListFills": trading.ListFillsRequest(account_id=ACCOUNT),
    "/ibkr.edge.v1.PortfolioService/GetAccount": portfolio.GetAccountRequest(account_id=ACCOUNT),
    "/ibkr.edge.v1.PortfolioService/ListPositions": portfolio.ListPositionsRequest(account_id=ACCOUNT),
    "/ibkr.edge.v1.PortfolioService/GetPnl": portfolio.GetPnlRequest(account_id=ACCOUNT),
    "/ibkr.edge.v1.MarketDataService/GetQuote": market.GetQuoteRequest(instrument=AAPL),
    "/ibkr.edge.v1.MarketDataService/StreamQuotes": market.StreamQuotesRequest(instruments=[AAPL]),
    "/ibkr.edge.v1.EventService/StreamEvents": events.StreamEventsRequest(account_id=ACCOUNT, skip_snapshot=True),
    "/ibkr.edge.v1.AdminService/GetTradingState": admin.GetTradingStateRequest(account_id=ACCOUNT),
    "/ibkr.edge.v1.AdminService/SetTradingState": admin.SetTradingStateRequest(
        account_id=ACCOUNT, state=risk_types_pb2.TRADING_STATE_HALTED, reason="test"),
    "/ibkr.edge.v1.AdminService/GetRiskPolicy": admin.GetRiskPolicyRequest(),
    "/ibkr.edge.v1.AdminService/UpdateRiskPolicy": admin.UpdateRiskPolicyRequest(
        policy=__import__("ibkr.trading.v1.risk_policy_pb2", fromlist=["x"]).RiskPolicy()),
    "/ibkr.edge.v1.AdminService/GetSystemStatus": admin.GetSystemStatusRequest(),
}
STREAMING = {"/ibkr.edge.v1.MarketDataService/StreamQuotes", "/ibkr.edge.v1.EventService/StreamEvents"}
ROLE_OF = {"viewer": Role.VIEWER, "trader": Role.TRADER, "admin": Role.ADMIN}
AUTH_CODES = {grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED}


def expected(method: str, who: str) -> grpc.StatusCode | None:
    """The auth outcome: a refusal code, or None when the call must get past auth."""
    rule = authz.RULES[method]
    if who == "":
        return grpc.StatusCode.UNAUTHENTICATED
    if who == "other":  # an admin key scoped to another account
        return None if rule.scope is authz.Scope.NONE else grpc.StatusCode.PERMISSION_DENIED
    return None if ROLE_OF[who] >= rule.role else grpc.StatusCode.PERMISSION_DENIED


def _response_type(method: str) -> type[Message]:
    request = REQUESTS[method]
    module = __import__(type(request).__module__, fromlist=["x"])
    return getattr(module, type(request).__name__.removesuffix("Request") + "Response")


async def call(harness, method: str, who: str) -> grpc.StatusCode:
    request = REQUESTS[method]
    response_type = _response_type(method)
    try:
        if method in STREAMING:
            stream = harness.channel.unary_stream(method, request_serializer=type(request).SerializeToString,
                                                  response_deserializer=response_type.FromString)
            handle = stream(request, metadata=harness.auth(who), timeout=10)
            await handle.read()
            handle.cancel()
        else:
            unary = harness.channel.unary_unary(method, request_serializer=type(request).SerializeToString,
                                                response_deserializer=response_type.FromString)
            await unary(request, metadata=harness.auth(who), timeout=10)
    except grpc.aio.AioRpcError as err:
        return err.code()
    return grpc.StatusCode.OK


def test_matrix_covers_every_public_method():
    assert sorted(REQUESTS) == sorted(ALL_METHODS)


@pytest.mark.parametrize("who", ["", "viewer", "trader", "admin", "other"])
async def test_every_rpc_answers_the_code_the_role_and_scope_call_for(harness, who):
    def reached() -> int:  # a previous stream's line release may land late; it is not this call's doing
        return sum(1 for name in harness.state.methods() if name != "bridge.UnsubscribeQuotes")

    for method in REQUESTS:
        before = reached()
        code = await call(harness, method, who)
        want = expected(method, who)
        if want is not None:
            assert code == want, (method, who, code)
            assert reached() == before, f"{method} reached downstream for {who!r}"
        else:
            assert code not in AUTH_CODES | {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}, (method, who, code)
