"""gateway_channel sends calls only to the replica whose health is SERVING."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from ibkr.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from opentelemetry.sdk.trace import TracerProvider

from services.common.config import CommonSettings
from services.gateway_bridge.client import HEALTH_SERVICE_NAME, gateway_channel, gateway_target


class Named(gateway_pb2_grpc.GatewayServiceServicer):
    def __init__(self, name: str) -> None:
        self.name = name

    async def GetConnectionStatus(self, request, context):
        reply = gateway_pb2.GetConnectionStatusResponse()
        reply.status.bridge_instance_id = self.name
        return reply


async def replica(name: str, serving: bool) -> tuple[grpc.aio.Server, int, HealthServicer]:
    server = grpc.aio.server()
    gateway_pb2_grpc.add_GatewayServiceServicer_to_server(Named(name), server)
    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
    await health.set(HEALTH_SERVICE_NAME, status)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port, health


def test_target_lists_every_replica_as_ipv4_literals():
    assert gateway_target("127.0.0.1:1, localhost:2") == "ipv4:127.0.0.1:1,127.0.0.1:2"
    with pytest.raises(ValueError):
        gateway_target("nonsense")


async def test_calls_go_only_to_the_serving_replica_and_follow_a_failover():
    active, active_port, active_health = await replica("active", True)
    standby, standby_port, standby_health = await replica("standby", False)
    channel = gateway_channel(f"127.0.0.1:{standby_port},127.0.0.1:{active_port}", TracerProvider(),
                              CommonSettings())
    stub = gateway_pb2_grpc.GatewayServiceStub(channel)
    try:
        names = set()
        for _ in range(10):
            reply = await stub.GetConnectionStatus(gateway_pb2.GetConnectionStatusRequest(), timeout=5,
                                                   wait_for_ready=True)
            names.add(reply.status.bridge_instance_id)
        assert names == {"active"}
        await active_health.set(HEALTH_SERVICE_NAME, health_pb2.HealthCheckResponse.NOT_SERVING)
        await standby_health.set(HEALTH_SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)
        seen = None
        for _ in range(200):
            try:
                reply = await stub.GetConnectionStatus(gateway_pb2.GetConnectionStatusRequest(), timeout=2)
                seen = reply.status.bridge_instance_id
                if seen == "standby":
                    break
            except grpc.aio.AioRpcError:
                pass
            await asyncio.sleep(0.02)
        assert seen == "standby"
    finally:
        await channel.close()
        await active.stop(0)
        await standby.stop(0)
