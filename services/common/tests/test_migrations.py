"""Forward-only migrations: applied once, in order, and refused when an applied file changes."""

import asyncio
from pathlib import Path

import asyncpg
import pytest

from services.common.migrations import MigrationError, apply_migrations, describe_schema, load_migrations


def write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, sql in files.items():
        (directory / name).write_text(sql)
    return directory


async def test_pending_migrations_apply_in_order_and_only_once(postgres_dsn, unique_name, tmp_path):
    folder = write(tmp_path / "m", {"0001_init.sql": "CREATE TABLE t (id int PRIMARY KEY);",
                                     "0002_more.sql": "ALTER TABLE t ADD COLUMN note text;"})
    conn = await asyncpg.connect(postgres_dsn)
    try:
        assert await apply_migrations(conn, unique_name, folder) == ["0001_init.sql", "0002_more.sql"]
        assert await apply_migrations(conn, unique_name, folder) == []
        described = await describe_schema(conn, unique_name)
        assert ("t", "note", "text", "YES", "None") in described["columns"]
    finally:
        await conn.close()


async def test_concurrent_starts_apply_each_file_once(postgres_dsn, unique_name, tmp_path):
    folder = write(tmp_path / "m", {"0001_init.sql": "CREATE TABLE t (id int PRIMARY KEY);"})
    conns = [await asyncpg.connect(postgres_dsn) for _ in range(3)]
    try:
        results = await asyncio.gather(*(apply_migrations(c, unique_name, folder) for c in conns))
        assert sorted(len(r) for r in results) == [0, 0, 1]
    finally:
        for c in conns:
            await c.close()


async def test_an_edited_applied_migration_is_refused(postgres_dsn, unique_name, tmp_path):
    folder = write(tmp_path / "m", {"0001_init.sql": "CREATE TABLE t (id int PRIMARY KEY);"})
    conn = await asyncpg.connect(postgres_dsn)
    try:
        await apply_migrations(conn, unique_name, folder)
        write(folder, {"0001_init.sql": "CREATE TABLE t (id bigint PRIMARY KEY);"})
        with pytest.raises(MigrationError, match="edited after it was applied"):
            await apply_migrations(conn, unique_name, folder)
    finally:
        await conn.close()


def test_a_gap_in_versions_is_refused(tmp_path):
    folder = write(tmp_path / "m", {"0001_a.sql": "select 1;", "0003_c.sql": "select 1;"})
    with pytest.raises(MigrationError, match="without gaps"):
        load_migrations(folder)


async def test_a_failing_migration_leaves_nothing_behind(postgres_dsn, unique_name, tmp_path):
    folder = write(tmp_path / "m", {"0001_bad.sql": "CREATE TABLE t (id int); SELECT no_such_function();"})
    conn = await asyncpg.connect(postgres_dsn)
    try:
        with pytest.raises(asyncpg.PostgresError):
            await apply_migrations(conn, unique_name, folder)
        tables = await conn.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = 't'",
            unique_name)
        assert tables == 0
    finally:
        await conn.close()
