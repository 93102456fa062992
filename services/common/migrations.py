"""Forward-only SQL migrations, one Postgres schema per service.

Each service keeps `migrations/NNNN_description.sql` files; `apply_migrations` runs the ones not yet applied,
in order, each in its own transaction, under an advisory lock so replicas starting together apply each file
once. Applied files are recorded with their checksum; an edited, already-applied file is refused rather than
silently diverging from what the database holds.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import zlib
from pathlib import Path

import asyncpg

_FILE_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclasses.dataclass(frozen=True)
class Migration:
    """One migration file."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


class MigrationError(RuntimeError):
    """The migration files and the database disagree."""


def load_migrations(directory: Path) -> list[Migration]:
    """The migration files of a directory, ordered by version; gaps and bad names are errors."""
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path}: migration files are named NNNN_lower_snake.sql")
        found.append(Migration(int(match.group(1)), path.name, path.read_text()))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise MigrationError(f"{directory}: migration versions must run 1..N without gaps, got {versions}")
    return found


async def apply_migrations(conn: asyncpg.Connection, schema: str, directory: Path) -> list[str]:
    """Apply the pending migrations of `directory` to `schema`; returns the names applied now."""
    migrations = load_migrations(directory)
    lock_key = zlib.crc32(f"ibkr-migrations:{schema}".encode())
    await conn.execute("SELECT pg_advisory_lock($1)", lock_key)
    try:
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        await conn.execute(
            f'CREATE TABLE IF NOT EXISTS "{schema}".schema_migrations ('
            " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        rows = await conn.fetch(f'SELECT version, name, checksum FROM "{schema}".schema_migrations')
        applied = {r["version"]: r for r in rows}
        done = []
        for migration in migrations:
            previous = applied.get(migration.version)
            if previous is not None:
                if previous["checksum"] != migration.checksum:
                    raise MigrationError(
                        f"{schema}: {migration.name} was edited after it was applied; add a new migration instead")
                continue
            async with conn.transaction():
                await conn.execute(f'SET LOCAL search_path TO "{schema}", public')
                await conn.execute(migration.sql)
                await conn.execute(
                    f'INSERT INTO "{schema}".schema_migrations (version, name, checksum) VALUES ($1, $2, $3)',
                    migration.version, migration.name, migration.checksum)
            done.append(migration.name)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", lock_key)


async def describe_schema(conn: asyncpg.Connection, schema: str) -> dict[str, list[tuple]]:
    """A comparable description of a schema (tables, columns, constraints, indexes, functions, triggers),
    used by the tests that check the migrated schema equals the declared one."""
    columns = await conn.fetch(
        "SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns"
        " WHERE table_schema = $1 AND table_name <> 'schema_migrations' ORDER BY 1, 2", schema)
    constraints = await conn.fetch(
        "SELECT c.conrelid::regclass::text AS tbl, c.conname, pg_get_constraintdef(c.oid) AS def"
        " FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace"
        " WHERE n.nspname = $1 AND c.conrelid::regclass::text NOT LIKE '%schema_migrations' ORDER BY 1, 2", schema)
    indexes = await conn.fetch(
        "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = $1"
        " AND tablename <> 'schema_migrations' ORDER BY 1, 2", schema)
    functions = await conn.fetch(
        "SELECT p.proname, pg_get_functiondef(p.oid) AS def FROM pg_proc p JOIN pg_namespace n"
        " ON n.oid = p.pronamespace WHERE n.nspname = $1 ORDER BY 1", schema)
    triggers = await conn.fetch(
        "SELECT event_object_table, trigger_name, action_timing, event_manipulation, action_statement"
        " FROM information_schema.triggers WHERE trigger_schema = $1 ORDER BY 1, 2, 4", schema)

    def rows(records: list[asyncpg.Record]) -> list[tuple]:
        return [tuple(str(v).replace(f'"{schema}".', "").replace(f"{schema}.", "") for v in r.values())
                for r in records]

    return {"columns": rows(columns), "constraints": rows(constraints), "indexes": rows(indexes),
            "functions": rows(functions), "triggers": rows(triggers)}
