"""Every server answers health and reflection; every metrics endpoint exposes the gRPC metrics."""

from __future__ import annotations

import urllib.request

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from tools.suite import SERVICES

EXPECTED = {
    "edge": {"ibkr.edge.v1.TradingService", "ibkr.edge.v1.PortfolioService", "ibkr.edge.v1.MarketDataService",
             "ibkr.edge.v1.EventService", "ibkr.edge.v1.AdminService"},
    "risk": {"ibkr.risk.v1.RiskService", "ibkr.gateway.v1.GatewayService"},  # the latter: the read relay
    "bridge": {"ibkr.gateway.v1.GatewayService"},
    "ledger": {"ibkr.ledger.v1.LedgerService"},
    "sim": {"ibkr.sim.v1.SimulatorControlService"},
}


async def list_services(address: str) -> set[str]:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        call = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]),
                                         timeout=5)
        async for reply in call:
            return {s.name for s in reply.list_services_response.service}
    return set()


@pytest.mark.parametrize("name", list(SERVICES))
async def test_server_is_serving_and_lists_its_services_through_reflection(suite, name):
    async with grpc.aio.insecure_channel(suite.address(name)) as channel:
        health = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    listed = await list_services(suite.address(name))
    assert EXPECTED[name] <= listed
    assert "grpc.health.v1.Health" in listed


@pytest.mark.parametrize("name", [n for n in SERVICES if n != "sim"])
def test_metrics_endpoint_exposes_the_grpc_server_metrics(suite, name):
    url = f"http://127.0.0.1:{suite.settings.ports.metrics[name]}/metrics"
    body = urllib.request.urlopen(url, timeout=5).read().decode()
    assert "grpc_server_handled_total" in body
    assert "grpc_server_handling_seconds" in body
