"""The e2e tier: the real processes (simulator, ledger, bridge, risk, edge) on free loopback ports, against
real Postgres and Redis, started once per session by the same supervisor `make run` uses."""

from __future__ import annotations

import uuid
from pathlib import Path

import grpc
import pytest

from tests.e2e.otlp_receiver import ThreadedOtlpTraceReceiver
from tools.run_suite import create_dev_key
from tools.suite import Ports, Suite, SuiteSettings

ACCOUNT_ID = "DU1234567"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def otlp():
    """Where every suite process exports its spans (a real OTLP/gRPC receiver)."""
    with ThreadedOtlpTraceReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="session")
def suite(tmp_path_factory, postgres_dsn, redis_url, otlp):
    run_dir: Path = tmp_path_factory.mktemp("suite")
    telemetry = {"IBKR_OTEL_EXPORTER_OTLP_ENDPOINT": otlp.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "200",
                 # reconcile soon after start so drift metrics exist for the dashboard check
                 "IBKR_LEDGER_RECONCILE_INTERVAL_SECONDS": "5"}
    settings = SuiteSettings(run_dir=run_dir, database_url=postgres_dsn, redis_url=redis_url,
                             ports=Ports.free(), bus_stream=f"e2e:{uuid.uuid4().hex[:8]}:events",
                             account_id=ACCOUNT_ID, extra_env=telemetry)
    running = Suite(settings)
    running.api_key_file = create_dev_key(run_dir, ACCOUNT_ID)
    running.start(timeout=90)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def api_key(suite) -> str:
    return suite.api_key_file.read_text().strip()


@pytest.fixture
async def edge_channel(suite):
    async with grpc.aio.insecure_channel(suite.address("edge")) as channel:
        yield channel


@pytest.fixture
def auth(api_key):
    """Call metadata carrying the dev key."""
    return (("authorization", f"Bearer {api_key}"),)
