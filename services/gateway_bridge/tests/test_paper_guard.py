"""Paper only: a live port or a non-paper account is refused unless IBKR_ALLOW_LIVE_TRADING is set."""

from __future__ import annotations

import pytest
from grpc_health.v1 import health_pb2

from services.gateway_bridge.domain.guard import LiveTradingRefused
from services.ib_gateway_sim import SimConfig, Simulator

from .conftest import bridge_settings, start_bridge, until


async def test_session_with_a_non_paper_account_is_refused_and_never_serves(bridge_dsn, redis_url, unique_name):
    sim = Simulator(SimConfig.for_tests(sim_account_id="U7654321"))
    await sim.start()
    running = await start_bridge(bridge_settings(sim, bridge_dsn, redis_url, unique_name))
    try:
        await until(lambda: "non-paper" in running.app.supervisor.last_error or running.app.supervisor_failed())
        assert await running.health() != health_pb2.HealthCheckResponse.SERVING
        assert not running.app.orders.ready
    finally:
        await running.stop()
        await sim.stop()


async def test_live_port_is_refused_before_connecting(sim, bridge_dsn, redis_url, unique_name):
    running = await start_bridge(bridge_settings(sim, bridge_dsn, redis_url, unique_name, ib_port=4001))
    try:
        await until(running.app.supervisor_failed)
        with pytest.raises(LiveTradingRefused):
            running.app.raise_supervisor_failure()
        assert len(sim.gateway.ready_sessions()) == 0
    finally:
        await running.stop()
