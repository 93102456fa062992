"""Risk relays the bridge's reads (so only risk needs to reach the bridge) and refuses every order-changing
method without reaching the bridge."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import grpc
import pytest
from google.protobuf import duration_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from ibkr.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from ibkr.trading.v1 import instrument_pb2, market_data_pb2

from services.common.errors import NotFound, domain_error_from_rpc_error
from services.common.money import decimal_to_proto
from services.risk.gateway_relay import GATEWAY_SERVICE, GATEWAY_SERVICE_NAME, REFUSED, RELAYED
from services.risk.tests.conftest import ACCOUNT, make_settings, spec, start_risk

AAPL = instrument_pb2.Instrument(symbol="AAPL", security_type=instrument_pb2.SECURITY_TYPE_STOCK)


def test_every_gateway_method_is_either_relayed_or_refused():
    names = {m.name for m in GATEWAY_SERVICE.methods}
    assert RELAYED | REFUSED == names
    assert not RELAYED & REFUSED


def _gateway_stub(risk) -> gateway_pb2_grpc.GatewayServiceStub:
    return gateway_pb2_grpc.GatewayServiceStub(risk.channel)


async def test_a_read_is_relayed_unchanged(risk, gateway):
    servicer, _ = gateway
    servicer.quote = market_data_pb2.Quote(instrument=AAPL, bid_price=decimal_to_proto(Decimal("189.5")))
    reply = await _gateway_stub(risk).GetQuote(gateway_pb2.GetQuoteRequest(instrument=AAPL), timeout=5)
    assert reply.quote.bid_price.value == "189.5"
    assert reply.quote.instrument.symbol == "AAPL"


async def test_the_bridges_error_is_relayed_with_its_code_and_reason(risk, gateway):
    servicer, _ = gateway
    servicer.quote_error = NotFound("UNKNOWN_SYMBOL", "no such instrument: ZZZZ", metadata={"symbol": "ZZZZ"})
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _gateway_stub(risk).GetQuote(gateway_pb2.GetQuoteRequest(instrument=AAPL), timeout=5)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    relayed = domain_error_from_rpc_error(caught.value)
    assert relayed.reason == "UNKNOWN_SYMBOL"
    assert relayed.metadata["symbol"] == "ZZZZ"


class SlowGateway(gateway_pb2_grpc.GatewayServiceServicer):
    """Answers GetOrder only after the caller's deadline has passed, recording whether it was cancelled."""

    def __init__(self) -> None:
        self.cancelled = asyncio.Event()

    async def GetOrder(self, request, context):
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return gateway_pb2.GetOrderResponse()


async def _stand_in_bridge(add_to_server, servicer) -> tuple[grpc.aio.Server, str]:
    """A started server on port 0 serving `servicer` (a stand-in for the bridge); returns it and its address."""
    server = grpc.aio.server()
    add_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, f"127.0.0.1:{port}"


async def test_the_callers_shorter_deadline_reaches_the_bridge(postgres_dsn, redis_url, unique_name):
    slow = SlowGateway()
    server, address = await _stand_in_bridge(gateway_pb2_grpc.add_GatewayServiceServicer_to_server, slow)
    risk = await start_risk(make_settings(postgres_dsn, redis_url, unique_name, address))
    try:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await _gateway_stub(risk).GetOrder(gateway_pb2.GetOrderRequest(client_order_id="slow"), timeout=0.3)
        assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        await asyncio.wait_for(slow.cancelled.wait(), 3)  # the bridge saw the deadline too, not 5 s later
    finally:
        await risk.stop()
        await server.stop(0)


@pytest.mark.parametrize("method, request_type", [
    ("PlaceOrder", gateway_pb2.PlaceOrderRequest),
    ("ReplaceOrder", gateway_pb2.ReplaceOrderRequest),
    ("CancelOrder", gateway_pb2.CancelOrderRequest),
    ("CancelAllOrders", gateway_pb2.CancelAllOrdersRequest),
    ("ClosePosition", gateway_pb2.ClosePositionRequest),
    ("Reconcile", gateway_pb2.ReconcileRequest),
])
async def test_order_changing_methods_are_refused_and_never_reach_the_bridge(risk, gateway, method, request_type):
    servicer, _ = gateway
    request = request_type()
    if method == "PlaceOrder":
        request = gateway_pb2.PlaceOrderRequest(account_id=ACCOUNT, client_order_id="around-risk", order=spec())
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await getattr(_gateway_stub(risk), method)(request, timeout=5)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert domain_error_from_rpc_error(caught.value).reason == "ORDER_PATH_IS_RISK"
    assert servicer.placed == servicer.cancelled == servicer.replaced == servicer.closed == []
    assert servicer.cancel_alls == []


async def test_the_relay_requires_the_internal_token(risk_factory, gateway):
    risk = await risk_factory(internal_token="relay-secret")
    gateway[0].quote = market_data_pb2.Quote(instrument=AAPL)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _gateway_stub(risk).GetQuote(gateway_pb2.GetQuoteRequest(instrument=AAPL), timeout=5)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    reply = await _gateway_stub(risk).GetQuote(
        gateway_pb2.GetQuoteRequest(instrument=AAPL, timeout=duration_pb2.Duration(seconds=1)), timeout=5,
        metadata=(("x-ibkr-internal-token", "relay-secret"),))
    assert reply.quote.instrument.symbol == "AAPL"


async def _eventually_status(stub: health_pb2_grpc.HealthStub, want: int) -> None:
    status = None
    for _ in range(100):
        status = (await stub.Check(health_pb2.HealthCheckRequest(service=GATEWAY_SERVICE_NAME), timeout=2)).status
        if status == want:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"risk reports {status} for the bridge, expected {want}")


async def test_risk_mirrors_the_bridges_health(postgres_dsn, redis_url, unique_name):
    bridge_health = HealthServicer()
    server, address = await _stand_in_bridge(health_pb2_grpc.add_HealthServicer_to_server, bridge_health)
    await bridge_health.set(GATEWAY_SERVICE_NAME, health_pb2.HealthCheckResponse.NOT_SERVING)
    risk = await start_risk(make_settings(postgres_dsn, redis_url, unique_name, address))
    try:
        mirror = health_pb2_grpc.HealthStub(risk.channel)
        await _eventually_status(mirror, health_pb2.HealthCheckResponse.NOT_SERVING)
        await bridge_health.set(GATEWAY_SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)
        await _eventually_status(mirror, health_pb2.HealthCheckResponse.SERVING)
        await server.stop(0)
        await _eventually_status(mirror, health_pb2.HealthCheckResponse.NOT_SERVING)
    finally:
        await server.stop(0)
        await risk.stop()
