"""Fault drills from issue 5, each during a stream of 1,000 fills: the ledger SIGKILLed between commit and
ack; Postgres restarted mid-batch. Afterwards every execution is in the ledger exactly once, the journal
balances and positions equal the broker's.

They drive the ledger with synthetic Fill events (see `faults.py`), not through the bridge: the kill lands
exactly after the third commit. The same drills through the real bridge and simulator, and the Redis outage
(which only means something with a broker that keeps filling), are in `tests/fault/`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from services.ledger.tests.faults import assert_exact, books, fill_stream, publish_pipelined
from services.ledger.tests.helpers import eventually, health, running_ledger, settings_for
from tools.suite import REPO_ROOT

pytestmark = pytest.mark.slow

N = 1000


def _ledger_process(env: dict[str, str]) -> subprocess.Popen:
    base = {k: v for k, v in os.environ.items() if not k.startswith("IBKR_")}
    return subprocess.Popen([sys.executable, "-m", "services.ledger"], env={**base, **env}, cwd=REPO_ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


async def _wait_exit(proc: subprocess.Popen, timeout: float = 60) -> int:
    async def gone():
        return proc.poll() is not None
    await eventually(gone, timeout=timeout)
    return proc.returncode


async def test_ledger_sigkilled_between_commit_and_ack_books_every_fill_exactly_once(
        postgres_dsn, redis_url, unique_name):
    stream, schema = f"{unique_name}:events", f"ledger_{unique_name}"
    env = {"IBKR_DATABASE_URL": postgres_dsn, "IBKR_REDIS_URL": redis_url, "IBKR_BUS_STREAM": stream,
           "IBKR_LEDGER_DB_SCHEMA": schema, "IBKR_LEDGER_GRPC_PORT": "0", "IBKR_LEDGER_METRICS_PORT": "0",
           "IBKR_LEDGER_CONSUMER_NAME": "ledger-1", "IBKR_LEDGER_BATCH_SIZE": "100",
           "IBKR_LEDGER_RECONCILE_INTERVAL_SECONDS": "0", "IBKR_LOG_LEVEL": "WARNING"}
    redis = aioredis.from_url(redis_url, decode_responses=False)
    events = fill_stream(N, unique_name)
    try:
        ids = await publish_pipelined(redis, stream, events)
        proc = _ledger_process({**env, "IBKR_LEDGER_FAILPOINT_KILL_AFTER_COMMITS": "3"})
        assert await _wait_exit(proc) == -9, proc.stderr.read().decode()[-2000:]

        # The third batch is committed but was never acked: it is still pending on the bus (and so may be
        # the prefetched fourth, read but not yet booked).
        mid = await books(postgres_dsn, schema)
        pending = {e["message_id"].decode() for e in await redis.xpending_range(stream, "ledger", "-", "+", 1000)}
        assert mid["fills"] == 300 and set(ids[200:300]) <= pending and not pending & set(ids[:200])

        proc = _ledger_process(env)
        try:
            await eventually(lambda: _booked(postgres_dsn, schema, N), timeout=120)
            await eventually(lambda: _all_acked(redis, stream), timeout=30)
        finally:
            proc.terminate()
            await _wait_exit(proc)
        assert_exact(await books(postgres_dsn, schema), events)
    finally:
        await redis.delete(stream)
        await redis.aclose()


async def test_postgres_restarted_mid_batch_loses_and_duplicates_nothing(redis_url, unique_name):
    import pgserver
    from pgserver._commands import pg_ctl

    from tools import infra

    # Directly under /tmp: as root, pgserver runs Postgres as its own user, who cannot enter pytest's 0700
    # temporary directories.
    pgdata = Path(tempfile.gettempdir()) / f"ledger-pg-{unique_name}"
    endpoint = infra.start_embedded_postgres(pgdata)
    server = pgserver.get_server(pgdata)
    settings = settings_for(endpoint.url, redis_url, unique_name, ledger_batch_size=50)
    events = fill_stream(N, unique_name)
    redis = aioredis.from_url(redis_url, decode_responses=False)
    try:
        async with running_ledger(settings) as (app, _stub, _channel):
            publisher = asyncio.create_task(_publish_slowly(redis, settings.bus_stream, events))
            await eventually(lambda: _booked_at_least(endpoint.url, settings.ledger_db_schema, 200), timeout=60)
            # Immediate mode: a crash for the database (no clean shutdown), recovered on start.
            await asyncio.to_thread(pg_ctl, ["-w", "-m", "immediate", "restart"], pgdata=server.pgdata,
                                    user=server.system_user, timeout=60)
            await publisher
            await eventually(lambda: _booked(endpoint.url, settings.ledger_db_schema, N), timeout=120)
            assert app.registry.get_sample_value("ibkr_ledger_ingest_errors_total", {"dependency": "postgres"}) >= 1
            assert_exact(await books(endpoint.url, settings.ledger_db_schema), events)
            assert await _all_acked(redis, settings.bus_stream)
    finally:
        await redis.aclose()
        endpoint.stop()
        shutil.rmtree(pgdata, ignore_errors=True)


async def _publish_slowly(redis, stream, events):
    for i in range(0, len(events), 20):  # a steady stream, so the restart lands mid-batch
        await publish_pipelined(redis, stream, events[i:i + 20])
        await asyncio.sleep(0.02)


async def _booked(dsn, schema, n):
    return (await books(dsn, schema))["fills"] == n


async def _booked_at_least(dsn, schema, n):
    return (await books(dsn, schema))["fills"] >= n


async def _all_acked(redis, stream):
    return (await redis.xpending(stream, "ledger"))["pending"] == 0


async def _serving(channel):
    from grpc_health.v1 import health_pb2
    return await health(channel) == health_pb2.HealthCheckResponse.SERVING


async def _not_serving(channel):
    return not await _serving(channel)
