"""Only risk reaches the bridge: the edge's reads and its view of the bridge's health go through risk's relay,
and the relay refuses an order sent around risk's policy (nothing reaches the broker)."""

from __future__ import annotations

import grpc
import pytest
from ibkr.edge.v1 import (
    admin_service_pb2,
    admin_service_pb2_grpc,
    portfolio_service_pb2,
    portfolio_service_pb2_grpc,
)
from ibkr.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from ibkr.trading.v1 import system_pb2

from tests.e2e.conftest import ACCOUNT_ID
from tests.e2e.helpers import broker_orders, error_info, internal, market


async def test_the_edge_reports_the_bridge_serving_through_risk(suite, edge_channel, auth):
    reply = await admin_service_pb2_grpc.AdminServiceStub(edge_channel).GetSystemStatus(
        admin_service_pb2.GetSystemStatusRequest(), metadata=auth, timeout=10)
    [bridge] = [s for s in reply.services if s.service_name == "bridge"]
    assert bridge.status == system_pb2.SERVING_STATUS_SERVING, bridge.message
    assert bridge.address == f"via risk {suite.address('risk')}"
    assert reply.broker_connection.state == system_pb2.BROKER_CONNECTION_STATE_CONNECTED


async def test_the_edge_reads_the_brokers_account_through_risk(edge_channel, auth):
    reply = await portfolio_service_pb2_grpc.PortfolioServiceStub(edge_channel).GetAccount(
        portfolio_service_pb2.GetAccountRequest(account_id=ACCOUNT_ID), metadata=auth, timeout=10)
    assert reply.account.account_id == ACCOUNT_ID


async def test_an_order_sent_to_risks_relay_is_refused_and_never_reaches_the_broker(suite):
    ref = "around-risk-1"
    async with grpc.aio.insecure_channel(suite.address("risk")) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await gateway_pb2_grpc.GatewayServiceStub(channel).PlaceOrder(gateway_pb2.PlaceOrderRequest(
                account_id=ACCOUNT_ID, client_order_id=ref, order=market("AAPL", "1")),
                metadata=internal(suite), timeout=10)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    info, _ = error_info(caught.value)
    assert info is not None and info.reason == "ORDER_PATH_IS_RISK"
    assert await broker_orders(suite, ref) == []
