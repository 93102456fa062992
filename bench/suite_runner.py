"""Starts the whole suite as real processes for a benchmark (free ports, a fresh database, a dev key)."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import uuid
from pathlib import Path

import asyncpg

from tools import infra
from tools.run_suite import create_dev_key
from tools.suite import Ports, Suite, SuiteSettings


async def _admin(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextlib.contextmanager
def running_suite(extra_env: dict[str, str] | None = None):
    """Yield (suite, api_key) for the duration of a benchmark; everything is stopped and dropped after."""
    run_dir = Path(tempfile.mkdtemp(prefix="ibkr-bench-"))
    postgres = infra.resolve_postgres(run_dir, prefer_local=True)
    redis = infra.resolve_redis(run_dir, prefer_local=True)
    database = f"ibkr_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(postgres.url, f'CREATE DATABASE "{database}"'))
    from conftest import with_database  # the same DSN rewrite the tests use

    suite = Suite(SuiteSettings(run_dir=run_dir, database_url=with_database(postgres.url, database),
                                redis_url=redis.url, ports=Ports.free(),
                                bus_stream=f"bench:{uuid.uuid4().hex[:8]}:events",
                                extra_env={"IBKR_LOG_LEVEL": "WARNING", **(extra_env or {})}))
    try:
        key = create_dev_key(run_dir, suite.settings.account_id).read_text().strip()
        suite.start(timeout=120)
        yield suite, key
    finally:
        suite.stop()
        asyncio.run(_admin(postgres.url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        redis.stop()
        postgres.stop()
