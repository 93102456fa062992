"""An edge on port 0 in front of recording fakes (real gRPC) and real Redis, with one key per role."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import pytest
import redis.asyncio as aioredis
from opentelemetry.sdk.trace import TracerProvider

from services.common.bus import EventBus
from services.common.metrics import new_registry
from services.edge.app import Edge, build_edge
from services.edge.config import EdgeSettings
from services.edge.keys import ApiKeyStore
from services.edge.tests.fakes import ACCOUNT, OTHER_ACCOUNT, FakeState, start_fakes


@dataclass
class EdgeHarness:
    """A running edge, its fakes' state, a bus to publish on, a channel, and a key per role."""

    edge: Edge
    state: FakeState
    bus: EventBus
    channel: grpc.aio.Channel
    keys: dict[str, str]
    settings: EdgeSettings
    fakes: grpc.aio.Server

    def auth(self, who: str) -> tuple[tuple[str, str], ...]:
        """Call metadata for a named key ('viewer', 'trader', 'admin', 'other', 'multi'); '' for none."""
        return (("authorization", f"Bearer {self.keys[who]}"),) if who else ()


def make_keys(path) -> dict[str, str]:
    store = ApiKeyStore(path)
    return {
        "viewer": store.create(name="viewer", role="viewer", accounts=[ACCOUNT]),
        "trader": store.create(name="trader", role="trader", accounts=[ACCOUNT]),
        "admin": store.create(name="admin", role="admin", accounts=[ACCOUNT]),
        "other": store.create(name="other", role="admin", accounts=[OTHER_ACCOUNT]),
        "multi": store.create(name="multi", role="trader", accounts=[ACCOUNT, OTHER_ACCOUNT]),
    }


@pytest.fixture
def edge_overrides() -> dict[str, object]:
    """Per-test settings overrides (override this fixture in a module)."""
    return {}


@pytest.fixture
async def harness(tmp_path, redis_url, unique_name, edge_overrides) -> AsyncIterator[EdgeHarness]:
    state = FakeState()
    fakes, fake_port = await start_fakes(state)
    keys = make_keys(tmp_path / "keys.json")
    fake = f"127.0.0.1:{fake_port}"
    values = {"edge_grpc_port": 0, "edge_metrics_port": 0, "redis_url": redis_url, "bus_stream": f"{unique_name}:events",
                  "risk_address": fake, "ledger_address": fake,
                  "edge_api_keys_file": tmp_path / "keys.json", "edge_heartbeat_seconds": 0.5,
                  "edge_bus_block_ms": 100, "edge_rate_limit_per_second": 0}
    values.update(edge_overrides)
    settings = EdgeSettings(**values)
    edge = await build_edge(settings, tracer_provider=TracerProvider(), registry=new_registry())
    await edge.start()
    redis = aioredis.Redis.from_url(redis_url)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{edge.port}")
    try:
        yield EdgeHarness(edge, state, EventBus(redis, settings.bus_stream, maxlen=None), channel, keys, settings,
                          fakes)
    finally:
        await channel.close()
        await edge.close(0)
        await redis.delete(settings.bus_stream)
        await redis.aclose()
        await fakes.stop(0)
