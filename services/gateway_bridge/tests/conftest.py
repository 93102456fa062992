"""Fixtures: the real simulator embedded in-process, a fresh Postgres database per bridge, real Redis, and the
bridge's real gRPC server on an ephemeral port."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import asyncpg
import grpc
import pytest
import redis.asyncio as aioredis
from grpc_health.v1 import health_pb2, health_pb2_grpc
from ibkr.gateway.v1 import gateway_pb2_grpc
from ibkr.trading.v1 import event_pb2
from opentelemetry.sdk.trace import TracerProvider

from conftest import with_database
from services.common.metrics import new_registry
from services.gateway_bridge.app import BridgeApp, build_server
from services.gateway_bridge.config import BridgeSettings
from services.ib_gateway_sim import SimConfig, Simulator

logging.getLogger("ib_async").setLevel(logging.CRITICAL)


async def until(predicate: Callable[[], object], timeout: float = 10.0) -> None:
    """Wait until `predicate()` is truthy (a correctness wait, never a timing assertion)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    simulator = Simulator(SimConfig.for_tests())
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


@pytest.fixture
async def bridge_dsn(postgres_server_dsn: str) -> AsyncIterator[str]:
    """A fresh database per test: the bridge's schema starts empty."""
    name = f"bridge_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(postgres_server_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    yield with_database(postgres_server_dsn, name)
    conn = await asyncpg.connect(postgres_server_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@dataclass
class Running:
    """A running bridge replica and what tests talk to it through."""

    app: BridgeApp
    server: grpc.aio.Server
    port: int
    channel: grpc.aio.Channel
    stub: gateway_pb2_grpc.GatewayServiceStub
    settings: BridgeSettings

    async def health(self) -> int:
        reply = await health_pb2_grpc.HealthStub(self.channel).Check(health_pb2.HealthCheckRequest(), timeout=2)
        return reply.status

    async def wait_serving(self, timeout: float = 15.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while await self.health() != health_pb2.HealthCheckResponse.SERVING:
            if loop.time() > deadline:
                raise AssertionError(f"bridge not SERVING: {self.app.supervisor.last_error}")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        await self.channel.close()
        await self.server.stop(0)
        await asyncio.wait_for(self.app.stop(), 30)  # a hang here fails loudly instead of eating the timeout


def bridge_settings(sim: Simulator, dsn: str, redis_url: str, prefix: str, **overrides: object) -> BridgeSettings:
    values: dict[str, object] = {
        "database_url": dsn, "redis_url": redis_url, "bus_stream": f"{prefix}:events", "ib_host": "127.0.0.1",
        "ib_port": sim.tws_port, "ib_client_id": 1, "bridge_grpc_port": 0, "bridge_metrics_port": 0,
        "bridge_lease_key": f"{prefix}:lease", "bridge_reconnect_initial_seconds": 0.05,
        "bridge_reconnect_max_seconds": 0.5, "bridge_commission_wait_seconds": 1.0, "internal_token": None}
    values.update(overrides)
    return BridgeSettings(**values)  # type: ignore[arg-type]


async def start_bridge(settings: BridgeSettings) -> Running:
    app = await BridgeApp.create(settings, TracerProvider(), new_registry())
    server, port = await build_server(app, 0)
    await app.start(server)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    return Running(app, server, port, channel, gateway_pb2_grpc.GatewayServiceStub(channel), settings)


@pytest.fixture
async def bridge(sim: Simulator, bridge_dsn: str, redis_url: str, unique_name: str) -> AsyncIterator[Running]:
    running = await start_bridge(bridge_settings(sim, bridge_dsn, redis_url, unique_name))
    try:
        await running.wait_serving()
        yield running
    finally:
        await running.stop()


class BusReader:
    """Reads the events a bridge published on its stream."""

    def __init__(self, redis_url: str, stream: str) -> None:
        self._redis = aioredis.from_url(redis_url, decode_responses=False)
        self._stream = stream

    async def events(self) -> list[event_pb2.Event]:
        entries = await self._redis.xrange(self._stream)
        return [event_pb2.Event.FromString(fields[b"event"]) for _, fields in entries]

    async def close(self) -> None:
        await self._redis.aclose()


@pytest.fixture
async def bus(bridge: Running, redis_url: str) -> AsyncIterator[BusReader]:
    reader = BusReader(redis_url, bridge.settings.bus_stream)
    yield reader
    await reader.close()
