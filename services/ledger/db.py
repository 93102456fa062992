"""Connecting to the ledger's schema and migrating it."""

from __future__ import annotations

from pathlib import Path

import asyncpg

from services.common.migrations import apply_migrations
from services.ledger.sqlfile import Queries

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


async def _prepare_connection(conn: asyncpg.Connection) -> None:
    # Session staging tables for COPY (see `create_staging_tables` in queries.sql).
    await conn.execute(Queries.load()["create_staging_tables"])


async def _keep_session(conn: asyncpg.Connection) -> None:
    # Released connections are not reset (asyncpg's default sends RESET ALL and friends: one more round trip
    # per batch, in the fill → commit path). The ledger sets no session state beyond the connect-time
    # search_path; asyncpg still rolls back an open transaction before calling this.
    return None


async def create_pool(dsn: str, schema: str, *, min_size: int = 1, max_size: int = 4) -> asyncpg.Pool:
    """A pool whose connections resolve unqualified names in `schema` (the queries never name it) and have
    the ledger's session staging tables."""
    return await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, init=_prepare_connection,
                                     reset=_keep_session, server_settings={"search_path": f'"{schema}"'})


async def migrate(pool: asyncpg.Pool, schema: str) -> list[str]:
    """Apply pending migrations; returns the files applied now."""
    async with pool.acquire() as conn:
        return await apply_migrations(conn, schema, MIGRATIONS_DIR)
