"""Running an in-process ledger against a private stream and schema, and waiting on it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import redis.asyncio as aioredis
from grpc_health.v1 import health_pb2, health_pb2_grpc
from ibkr.ledger.v1 import ledger_pb2_grpc
from opentelemetry.sdk.trace import TracerProvider

from services.common.bus import EventBus
from services.common.metrics import new_registry
from services.ledger.app import LedgerApp
from services.ledger.config import LedgerSettings


def settings_for(postgres_dsn: str, redis_url: str, name: str, **overrides: Any) -> LedgerSettings:
    """Ledger settings for a test: port 0, its own schema, stream and consumer."""
    values: dict[str, Any] = {
        "database_url": postgres_dsn, "redis_url": redis_url, "bus_stream": f"{name}:events",
        "ledger_db_schema": f"ledger_{name}", "ledger_grpc_port": 0, "ledger_consumer_name": f"{name}-c1",
        "ledger_batch_wait_ms": 20, "ledger_claim_interval_seconds": 0.2, "ledger_claim_idle_ms": 300,
        "ledger_max_deliveries": 3, "ledger_lag_interval_seconds": 0.2, "ledger_reconcile_interval_seconds": 0,
        "ledger_page_token_secret": "test-secret-0123456789"}
    values.update(overrides)
    return LedgerSettings(**values)


@contextlib.asynccontextmanager
async def running_ledger(settings: LedgerSettings) -> AsyncIterator[tuple[LedgerApp, ledger_pb2_grpc.LedgerServiceStub, grpc.aio.Channel]]:
    """A started ledger and a stub to it; stopped and its schema dropped afterwards."""
    app = LedgerApp(settings, TracerProvider(), new_registry())
    _server, port = await app.build_server()
    await app.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield app, ledger_pb2_grpc.LedgerServiceStub(channel), channel
    finally:
        await channel.close()
        await app.server.stop(0)
        async with app.pool.acquire() as conn:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{settings.ledger_db_schema}" CASCADE')
        await app.close()
        r = aioredis.from_url(settings.redis_url)
        await r.delete(settings.bus_stream, settings.bus_stream + ":dead")
        await r.aclose()


async def publish(redis_url: str, stream: str, *events: Any) -> list[str]:
    """XADD events the way the bridge does."""
    r = aioredis.from_url(redis_url, decode_responses=False)
    bus = EventBus(r, stream, maxlen=None)
    try:
        return [await bus.publish(e.SerializeToString(), event_type=e.WhichOneof("payload"), account=e.account_id)
                for e in events]
    finally:
        await r.aclose()


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 20.0, interval: float = 0.05) -> Any:
    """Poll until `check` returns a truthy value (never a timing assertion: the timeout only bounds a hang)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value {value!r}")
        await asyncio.sleep(interval)


async def health(channel: grpc.aio.Channel) -> int:
    """The overall health status."""
    reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""))
    return reply.status
