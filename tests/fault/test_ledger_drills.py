"""Issue 5's fault drills through the real bridge and simulator: during a stream of 1,000 executions at the
broker, (1) the ledger SIGKILLed between a commit and its ack, (2) the ledger's Postgres restarted mid-batch,
(3) Redis unavailable for 30 s while the broker keeps filling. Afterwards the ledger holds exactly the
broker's executions (one row each), every entry balances, and its positions equal the simulator's.

The ledger-level versions with synthetic fills (exact placement of the kill, no bridge) are in
`services/ledger/tests/test_faults.py`.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

import pytest
from grpc_health.v1 import health_pb2

from tests.fault.drill import ORDERS, LedgerDrill, eventually
from tools.suite import health_status

pytestmark = pytest.mark.slow

N = 1000
SHARES = N // len(ORDERS)  # one-share executions per working order
SERVING, NOT_SERVING = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING
RATE = 25  # price steps per second: 50 executions/s at the broker, about what the bridge publishes


@pytest.fixture
async def drill(tmp_path, postgres_server_dsn):
    d = LedgerDrill(tmp_path, postgres_server_dsn)
    try:
        await d.start()
        yield d
    finally:
        await d.close()


async def test_ledger_sigkilled_between_commit_and_ack_books_every_broker_execution_once(drill):
    # Replace the ledger by one that SIGKILLs itself right after its 150th commit, before that batch's ack.
    drill.suite.processes["ledger"].stop()
    await drill.start_ledger(IBKR_LEDGER_FAILPOINT_KILL_AFTER_COMMITS="150")
    await drill.place_orders(SHARES)
    stream = asyncio.create_task(drill.step(SHARES + 5, RATE))
    try:
        assert await drill.ledger_exit_code(timeout=60) == -9, drill.logs()
        booked_at_kill = await drill.fills_booked()
        assert await drill.committed_but_pending() > 0  # the last batch was committed, never acked
        await drill.start_ledger()
        await stream
    finally:
        stream.cancel()
    assert 0 < booked_at_kill < N
    await drill.assert_exact(N)


async def test_ledger_postgres_restarted_mid_batch_books_every_broker_execution_once(tmp_path, postgres_server_dsn):
    import pgserver
    from pgserver._commands import pg_ctl

    from tools import infra

    # Directly under /tmp: as root, pgserver runs Postgres as its own user, who cannot enter pytest's 0700
    # temporary directories.
    pgdata = Path(tempfile.mkdtemp(prefix="ledger-drill-pg-"))
    pgdata.chmod(0o755)
    endpoint = infra.start_embedded_postgres(pgdata)
    server = pgserver.get_server(pgdata)
    drill = LedgerDrill(tmp_path, postgres_server_dsn, ledger_dsn=endpoint.url)
    try:
        await drill.start()
        await drill.place_orders(SHARES)
        stream = asyncio.create_task(drill.step(SHARES + 5, RATE))
        try:
            await eventually(lambda: _at_least(drill, 200), 60, "200 fills booked before the restart")
            booked_before = await drill.fills_booked()
            # Immediate mode: a crash for the database (no clean shutdown), recovered on start.
            await asyncio.to_thread(pg_ctl, ["-w", "-m", "immediate", "restart"], pgdata=server.pgdata,
                                    user=server.system_user, timeout=60)
            await stream
        finally:
            stream.cancel()
        assert booked_before < N  # the restart landed while fills were still being booked
        await drill.assert_exact(N)
    finally:
        await drill.close()
        endpoint.stop()
        shutil.rmtree(pgdata, ignore_errors=True)


async def test_redis_down_30_seconds_while_the_broker_fills_then_every_execution_lands_once(drill):
    await drill.place_orders(SHARES)
    stream = asyncio.create_task(drill.step(SHARES + 5, RATE))
    try:
        await eventually(lambda: _at_least(drill, 200), 60, "200 fills booked before the outage")
        drill.stop_redis()
        await eventually(lambda: _ledger_health_is(drill, NOT_SERVING), 30, "the ledger NOT_SERVING without Redis")
        await asyncio.sleep(30)  # the simulator keeps trading meanwhile (the stream lasts ~20 s)
        assert stream.done() and (await drill.fills_booked()) < N
        drill.start_redis()
        await stream
    finally:
        stream.cancel()
    await drill.assert_exact(N, timeout=180)
    # Health follows the consumer's next successful read, which can land just after the last booking.
    await eventually(lambda: _ledger_health_is(drill, SERVING), 30, "the ledger SERVING again with Redis back")


async def _ledger_health_is(drill: LedgerDrill, status: int) -> bool:
    return await asyncio.to_thread(health_status, drill.suite.address("ledger")) == status


async def _at_least(drill: LedgerDrill, n: int) -> bool:
    return await drill.fills_booked() >= n
