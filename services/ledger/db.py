"""Connecting to the ledger's schema and migrating it."""

from __future__ import annotations

from pathlib import Path

import asyncpg

from services.common.migrations import apply_migrations

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


async def create_pool(dsn: str, schema: str, *, min_size: int = 1, max_size: int = 4) -> asyncpg.Pool:
    """A pool whose connections resolve unqualified names in `schema` (the queries never name it)."""
    return await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size,
                                     server_settings={"search_path": f'"{schema}"'})


async def migrate(pool: asyncpg.Pool, schema: str) -> list[str]:
    """Apply pending migrations; returns the files applied now."""
    async with pool.acquire() as conn:
        return await apply_migrations(conn, schema, MIGRATIONS_DIR)
