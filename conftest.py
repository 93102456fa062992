"""Fixtures every test tier shares: real Postgres and real Redis (the machine's own or embedded ones)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from tools import infra

REPO_ROOT = Path(__file__).resolve().parent


def with_database(dsn: str, database: str) -> str:
    """The same server address with another database name."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{database}"))


def admin_execute(server_dsn: str, sql: str) -> None:
    """Run one statement (CREATE/DROP DATABASE) on its own connection, from synchronous fixture code."""

    async def execute() -> None:
        conn = await asyncpg.connect(server_dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(execute())


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("run")


@pytest.fixture(scope="session")
def postgres_server_dsn(run_dir: Path):
    endpoint = infra.resolve_postgres(run_dir, prefer_local=True)
    yield endpoint.url
    endpoint.stop()


@pytest.fixture(scope="session")
def postgres_dsn(postgres_server_dsn: str):
    """A fresh, empty database for this test session, dropped afterwards."""
    name = f"ibkr_test_{uuid.uuid4().hex[:12]}"
    admin_execute(postgres_server_dsn, f'CREATE DATABASE "{name}"')
    yield with_database(postgres_server_dsn, name)
    admin_execute(postgres_server_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def redis_url(run_dir: Path):
    endpoint = infra.resolve_redis(run_dir, prefer_local=True)
    yield endpoint.url
    endpoint.stop()


@pytest.fixture
def unique_name() -> str:
    """A short unique prefix for stream names, keys and accounts, so parallel runs never collide."""
    return f"t{uuid.uuid4().hex[:10]}"
