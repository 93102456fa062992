"""The edge's overall health follows its bus reader: NOT_SERVING while Redis is unreachable, SERVING again
once it answers. Uses a private redis-server (never the shared one) that the test stops and restarts."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry.sdk.trace import TracerProvider

from services.common.metrics import new_registry
from services.edge.app import build_edge, public_service_names
from services.edge.config import EdgeSettings
from services.edge.tests.conftest import make_keys
from services.edge.tests.fakes import FakeState, start_fakes
from tools import infra

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
TRADING, EVENTS = public_service_names()[0], public_service_names()[3]


async def _status(stub: health_pb2_grpc.HealthStub, service: str = "") -> int:
    return (await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=2)).status


async def _until(stub: health_pb2_grpc.HealthStub, wanted: int, service: str = "", within: float = 30.0) -> None:
    # A bounded wait for a state, not a timing assertion: the reader notices on its next read or retry.
    async with asyncio.timeout(within):
        while await _status(stub, service) != wanted:
            await asyncio.sleep(0.05)


@pytest.fixture
async def private_redis(tmp_path):
    port = infra.free_port()
    endpoint = infra.start_embedded_redis(tmp_path / "redis", port)
    holder = {"endpoint": endpoint, "port": port}
    try:
        yield holder
    finally:
        holder["endpoint"].stop()


async def test_edge_is_not_serving_while_redis_is_down_and_serving_again_once_it_is_back(
        tmp_path, private_redis, unique_name):
    fakes, fake_port = await start_fakes(FakeState())
    make_keys(tmp_path / "keys.json")
    settings = EdgeSettings(edge_grpc_port=0, edge_metrics_port=0, redis_url=private_redis["endpoint"].url,
                            bus_stream=f"{unique_name}:events", risk_address=f"127.0.0.1:{fake_port}",
                            ledger_address=f"127.0.0.1:{fake_port}", edge_api_keys_file=tmp_path / "keys.json",
                            edge_bus_block_ms=100)
    edge = await build_edge(settings, tracer_provider=TracerProvider(), registry=new_registry())
    await edge.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{edge.port}")
    stub = health_pb2_grpc.HealthStub(channel)
    try:
        assert await _status(stub) == SERVING

        private_redis["endpoint"].stop()
        await _until(stub, NOT_SERVING)
        assert await _status(stub, EVENTS) == NOT_SERVING
        assert await _status(stub, TRADING) == SERVING  # orders do not need the bus

        private_redis["endpoint"] = infra.start_embedded_redis(tmp_path / "redis", private_redis["port"])
        await _until(stub, SERVING)
        assert await _status(stub, EVENTS) == SERVING
    finally:
        await channel.close()
        await edge.close(0)
        await fakes.stop(0)
