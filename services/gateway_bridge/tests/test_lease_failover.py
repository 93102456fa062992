"""Active/standby: only the lease holder connects to IB and serves; the standby takes over when it dies."""

from __future__ import annotations

from grpc_health.v1 import health_pb2
from ibkr.trading.v1 import system_pb2

from .conftest import bridge_settings, start_bridge, until

SERVING = health_pb2.HealthCheckResponse.SERVING


async def test_standby_waits_while_the_active_lives_and_serves_after_it_dies(sim, bridge_dsn, redis_url, unique_name):
    common = {"bridge_lease_ttl_seconds": 1.0}
    active = await start_bridge(bridge_settings(sim, bridge_dsn, redis_url, unique_name,
                                                bridge_instance_id="active", **common))
    standby = None
    try:
        await active.wait_serving()
        standby = await start_bridge(bridge_settings(sim, bridge_dsn, redis_url, unique_name,
                                                     bridge_instance_id="standby", **common))
        await until(lambda: standby.app.supervisor.state == system_pb2.BROKER_CONNECTION_STATE_STANDBY)
        # Both alive, several lease periods: only one is connected to IB, only one serves.
        for _ in range(3):
            await until(lambda: True)
            assert len(sim.gateway.ready_sessions()) == 1
            assert await standby.health() != SERVING and await active.health() == SERVING
            await __import__("asyncio").sleep(0.5)
        # The active dies without releasing the lease (like SIGKILL): its IB socket closes, the key expires.
        active.app.lease.abandon()
        await active.stop()
        active = None
        await standby.wait_serving(timeout=10)
        assert standby.app.supervisor.state == system_pb2.BROKER_CONNECTION_STATE_CONNECTED
        assert len(sim.gateway.ready_sessions()) == 1
    finally:
        for running in (active, standby):
            if running is not None:
                await running.stop()
