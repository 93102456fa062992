"""Connecting to the ledger's schema and migrating it."""

from __future__ import annotations

import contextlib
from pathlib import Path

import asyncpg

from services.common.migrations import apply_migrations
from services.ledger.sqlfile import Queries

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


# The queries of a batch, prepared when a connection opens rather than on first use: the first batches after
# a start otherwise pay a Parse round trip per statement (the fill → commit tail of a fresh process).
WARM_QUERIES = ("insert_bus_events_direct", "upsert_commissions", "insert_fills_direct", "fill_context",
                "upsert_lock_positions", "upsert_lock_journal_accounts", "insert_journal_postings_direct",
                "finish_batch", "lock_fills_for_update")


async def warm_up(conn: asyncpg.Connection) -> None:
    """Run each batch query once with empty arrays (it writes nothing; rolled back anyway), so asyncpg's
    statement cache holds it prepared. Skipped before the schema exists (the migration warms up then)."""
    q = Queries.load()
    if await conn.fetchval("SELECT to_regclass('journal_postings') IS NULL"):
        return
    tx = conn.transaction()
    await tx.start()
    try:
        for name in WARM_QUERIES:
            params = (await conn.prepare(q[name])).get_parameters()
            await conn.fetch(q[name], *([] if p.kind == "array" else 0 for p in params))
    finally:
        await tx.rollback()


async def _prepare_connection(conn: asyncpg.Connection) -> None:
    # Session staging tables for COPY (see `create_staging_tables` in queries.sql).
    await conn.execute(Queries.load()["create_staging_tables"])
    await warm_up(conn)


async def _keep_session(conn: asyncpg.Connection) -> None:
    # Released connections are not reset (asyncpg's default sends RESET ALL and friends: one more round trip
    # per batch, in the fill → commit path). The ledger sets no session state beyond the connect-time
    # search_path; asyncpg still rolls back an open transaction before calling this.
    return None


async def create_pool(dsn: str, schema: str, *, min_size: int = 2, max_size: int = 4) -> asyncpg.Pool:
    """A pool whose connections resolve unqualified names in `schema` (the queries never name it) and have
    the ledger's session staging tables and batch queries prepared. Two connections at least: one for ingest,
    one for the queries, so a batch never waits for a connection to open."""
    return await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, init=_prepare_connection,
                                     reset=_keep_session, server_settings={"search_path": f'"{schema}"'})


async def migrate(pool: asyncpg.Pool, schema: str) -> list[str]:
    """Apply pending migrations; returns the files applied now."""
    async with pool.acquire() as conn:
        applied = await apply_migrations(conn, schema, MIGRATIONS_DIR)
    # Connections opened before the schema existed could not prepare the batch queries: hold them all at
    # once (so each is a different one) and warm each.
    async with contextlib.AsyncExitStack() as stack:
        for conn in [await stack.enter_async_context(pool.acquire()) for _ in range(pool.get_size())]:
            await warm_up(conn)
    return applied
