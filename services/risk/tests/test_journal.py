"""The write-behind journal against real Postgres: statements land in order, a refused statement is skipped
without blocking the ones after it, and a flush waits until everything appended is written."""

from __future__ import annotations

import asyncpg

from services.risk.journal import Journal

QUERIES = {
    "put": "INSERT INTO j (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v",
    "drop": "DELETE FROM j WHERE k = $1",
}


async def test_writes_land_in_order_and_a_refused_statement_does_not_block_the_rest(postgres_dsn, unique_name):
    admin = await asyncpg.connect(postgres_dsn)
    await admin.execute(f'CREATE SCHEMA "{unique_name}"')
    await admin.execute(f'CREATE TABLE "{unique_name}".j (k text PRIMARY KEY, v int NOT NULL CHECK (v >= 0))')
    journal = Journal(lambda: asyncpg.connect(postgres_dsn, server_settings={"search_path": unique_name}), QUERIES)
    try:
        journal.write("put", "a", 1)
        journal.write("put", "a", 2)  # a later write of the same key wins: order is kept
        journal.write_group([("put", ("b", 1)), ("drop", ("b",))])
        journal.write("put", "bad", -1)  # refused by the CHECK: skipped and logged
        journal.write("put", "c", 3)
        await journal.flush()
        rows = await admin.fetch(f'SELECT k, v FROM "{unique_name}".j ORDER BY k')
        assert [(r["k"], r["v"]) for r in rows] == [("a", 2), ("c", 3)]
        assert journal.backlog == 0
    finally:
        await journal.close()
        await admin.execute(f'DROP SCHEMA "{unique_name}" CASCADE')
        await admin.close()


async def test_a_lost_connection_keeps_the_batch_and_writes_it_on_a_new_one(postgres_dsn, unique_name):
    admin = await asyncpg.connect(postgres_dsn)
    await admin.execute(f'CREATE SCHEMA "{unique_name}"')
    await admin.execute(f'CREATE TABLE "{unique_name}".j (k text PRIMARY KEY, v int NOT NULL CHECK (v >= 0))')
    settings = {"search_path": unique_name, "application_name": f"journal-{unique_name}"}
    journal = Journal(lambda: asyncpg.connect(postgres_dsn, server_settings=settings), QUERIES)
    try:
        journal.write("put", "before", 1)
        await journal.flush()
        await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                            f"journal-{unique_name}")
        journal.write("put", "after", 2)
        await journal.flush()
        rows = await admin.fetch(f'SELECT k, v FROM "{unique_name}".j ORDER BY k')
        assert [(r["k"], r["v"]) for r in rows] == [("after", 2), ("before", 1)]
    finally:
        await journal.close()
        await admin.execute(f'DROP SCHEMA "{unique_name}" CASCADE')
        await admin.close()
