"""The migrations produce exactly the declared schema (schema.sql)."""

from __future__ import annotations

from pathlib import Path

import asyncpg

from services.common.migrations import apply_migrations, describe_schema
from services.risk.store import MIGRATIONS

SCHEMA_SQL = Path(__file__).resolve().parent.parent / "schema.sql"


async def test_migrated_schema_equals_the_declared_schema(postgres_dsn, unique_name):
    conn = await asyncpg.connect(postgres_dsn)
    migrated, declared = f"{unique_name}_m", f"{unique_name}_d"
    try:
        await apply_migrations(conn, migrated, MIGRATIONS)
        await conn.execute(f'CREATE SCHEMA "{declared}"')
        async with conn.transaction():
            await conn.execute(f'SET LOCAL search_path TO "{declared}", public')
            await conn.execute(SCHEMA_SQL.read_text())
        assert await describe_schema(conn, migrated) == await describe_schema(conn, declared)
    finally:
        for schema in (migrated, declared):
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()
