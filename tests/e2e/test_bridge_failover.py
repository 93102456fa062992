"""The bridge's active/standby pair as `make run` runs it: both alive, only one holds the IB session; the
active one SIGKILLed, the standby takes over and orders flow again within 10 s, with no second clientId."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2
from ibkr.edge.v1 import trading_service_pb2, trading_service_pb2_grpc
from ibkr.sim.v1 import sim_pb2, sim_pb2_grpc

from tests.e2e.conftest import ACCOUNT_ID
from tests.e2e.helpers import internal, market
from tools.run_suite import create_dev_key
from tools.suite import STANDBY, Ports, Suite, SuiteSettings, health_status

SERVING = health_pb2.HealthCheckResponse.SERVING


@pytest.fixture(scope="module")
def paired_suite(tmp_path_factory, postgres_server_dsn, redis_url):
    from conftest import admin_execute, with_database

    database = f"ibkr_failover_{uuid.uuid4().hex[:8]}"
    admin_execute(postgres_server_dsn, f'CREATE DATABASE "{database}"')
    run_dir: Path = tmp_path_factory.mktemp("failover")
    suite = Suite(SuiteSettings(run_dir=run_dir, database_url=with_database(postgres_server_dsn, database),
                                redis_url=redis_url, ports=Ports.free(), account_id=ACCOUNT_ID,
                                bus_stream=f"failover:{uuid.uuid4().hex[:8]}:events", bridge_standby=True))
    suite.api_key = create_dev_key(run_dir, ACCOUNT_ID).read_text().strip()
    suite.start(timeout=90)
    yield suite
    suite.stop()
    admin_execute(postgres_server_dsn, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


async def place(suite, symbol: str = "AAPL"):
    async with grpc.aio.insecure_channel(suite.address("edge")) as channel:
        stub = trading_service_pb2_grpc.TradingServiceStub(channel)
        return await stub.PlaceOrder(trading_service_pb2.PlaceOrderRequest(
            client_order_id=f"fo-{uuid.uuid4().hex[:10]}", order=market(symbol, "1")),
            metadata=(("authorization", f"Bearer {suite.api_key}"),), timeout=10)


async def connected_client_ids(suite) -> list[int]:
    async with grpc.aio.insecure_channel(suite.address("sim")) as channel:
        status = await sim_pb2_grpc.SimulatorControlServiceStub(channel).GetSimulatorStatus(
            sim_pb2.GetSimulatorStatusRequest(), metadata=internal(suite), timeout=5)
    return [c.client_id for c in status.clients]


async def test_both_alive_only_one_holds_the_session_and_the_standby_takes_over_a_killed_active(paired_suite):
    suite = paired_suite
    serving = [n for n in ("bridge", STANDBY) if health_status(suite.address(n)) == SERVING]
    assert serving == ["bridge"]
    assert await connected_client_ids(suite) == [1]
    await place(suite)

    suite.processes["bridge"].kill()
    killed_at = time.monotonic()
    while True:
        try:
            await place(suite)
            break
        except grpc.aio.AioRpcError as err:
            assert err.code() == grpc.StatusCode.UNAVAILABLE, err
            assert time.monotonic() - killed_at < 10, "the standby did not take over within 10 s"
            await asyncio.sleep(0.2)
    assert health_status(suite.address(STANDBY)) == SERVING
    assert await connected_client_ids(suite) == [1]
