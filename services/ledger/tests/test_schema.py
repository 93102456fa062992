"""The SQL artefacts: migrations equal the declared schema; the database itself guards the journal."""

from __future__ import annotations

import asyncpg
import pytest

from services.common.migrations import describe_schema
from services.ledger.db import MIGRATIONS_DIR
from services.ledger.sqlfile import SQL_DIR, Queries


async def test_migrated_schema_equals_declared_schema(pool, schema):
    async with pool.acquire() as conn:
        migrated = await describe_schema(conn, schema)
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.execute(f'CREATE SCHEMA "{schema}"')
        async with conn.transaction():
            await conn.execute(f'SET LOCAL search_path TO "{schema}", public')
            await conn.execute((SQL_DIR / "schema.sql").read_text())
        declared = await describe_schema(conn, schema)
    assert migrated == declared
    assert migrated["triggers"], "the append-only and balance triggers are part of the schema"


async def test_migrations_applied_twice_apply_nothing_the_second_time(pool, schema):
    from services.ledger.db import migrate

    assert await migrate(pool, schema) == []
    assert min(p.name for p in MIGRATIONS_DIR.glob("*.sql")) == "0001_initial.sql"


async def test_every_named_query_parses_against_the_schema(pool):
    queries = Queries.load()
    async with pool.acquire() as conn:
        for name in queries.names():
            if name.startswith(("create_", "begin_")):  # scripts of several statements (DDL; BEGIN + lock)
                continue
            await conn.prepare(queries[name])  # raises on a syntax error or an unknown column


async def _account(conn, key: str) -> None:
    await conn.execute("INSERT INTO journal_accounts (account_key, account_id, kind, currency)"
                       " VALUES ($1, 'DU1', 'cash', 'USD')", key)


def _entry_with(postings: str) -> str:
    """Entry 1 and the given postings in one statement, as the ledger writes them."""
    return ("WITH e AS (INSERT INTO journal_entries (entry_id, entry_key, account_id, kind, event_time)"
            " VALUES (1, 'x', 'DU1', 'fill', now())) INSERT INTO journal_postings VALUES " + postings)


async def test_unbalanced_journal_entry_is_refused_by_the_database(pool):
    async with pool.acquire() as conn:
        await _account(conn, "a")
        await _account(conn, "b")
        with pytest.raises(asyncpg.exceptions.CheckViolationError, match="does not balance"):
            await conn.execute(_entry_with("(1, 1, 'a', 'USD', 10, 0, 10, 1), (1, 2, 'b', 'USD', -9, 0, -9, 1)"))
        assert await conn.fetchval("SELECT count(*) FROM journal_entries") == 0


async def test_balanced_entry_commits_and_then_cannot_be_updated_or_deleted(pool):
    async with pool.acquire() as conn:
        await _account(conn, "a")
        await _account(conn, "b")
        await conn.execute(_entry_with("(1, 1, 'a', 'USD', 10, 0, 10, 1), (1, 2, 'b', 'USD', -10, 0, -10, 1)"))
        with pytest.raises(asyncpg.exceptions.RestrictViolationError, match="append-only"):
            await conn.execute("UPDATE journal_postings SET amount = 11 WHERE line = 1")
        with pytest.raises(asyncpg.exceptions.RestrictViolationError, match="append-only"):
            await conn.execute("DELETE FROM journal_entries")


async def test_posting_added_later_to_a_committed_entry_is_refused(pool):
    async with pool.acquire() as conn:
        await _account(conn, "a")
        await _account(conn, "b")
        await conn.execute(_entry_with("(1, 1, 'a', 'USD', 10, 0, 10, 1), (1, 2, 'b', 'USD', -10, 0, -10, 1)"))
        with pytest.raises(asyncpg.exceptions.CheckViolationError):
            await conn.execute("INSERT INTO journal_postings VALUES (1, 3, 'a', 'USD', 5, 10, 15, 2)")


async def test_entry_without_postings_is_refused_at_commit(pool):
    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.exceptions.CheckViolationError, match="entry 1 has no postings"):
            async with conn.transaction():
                await conn.execute("INSERT INTO journal_entries (entry_id, entry_key, account_id, kind, event_time)"
                                   " VALUES (1, 'x', 'DU1', 'fill', now())")
        assert await conn.fetchval("SELECT count(*) FROM journal_entries") == 0


async def test_an_entry_and_then_its_postings_in_the_same_transaction_commit(pool):
    # What bulk replay does (two COPYs); the check of the entries' statement runs at COMMIT (migration 0009).
    async with pool.acquire() as conn:
        await _account(conn, "a")
        await _account(conn, "b")
        async with conn.transaction():
            await conn.execute("INSERT INTO journal_entries (entry_id, entry_key, account_id, kind, event_time)"
                               " VALUES (1, 'x', 'DU1', 'fill', now()), (2, 'y', 'DU1', 'fill', now())")
            await conn.execute("INSERT INTO journal_postings VALUES (1, 1, 'a', 'USD', 10, 0, 10, 1),"
                               " (1, 2, 'b', 'USD', -10, 0, -10, 1), (2, 1, 'a', 'USD', 1, 10, 11, 2),"
                               " (2, 2, 'b', 'USD', -1, -10, -11, 2)")
        assert await conn.fetchval("SELECT count(*) FROM journal_entries") == 2
        assert await conn.fetchval("SELECT count(*) FROM journal_entry_checks") == 0  # notes go with the check


async def test_an_entry_whose_postings_cover_only_part_of_its_statement_is_refused(pool):
    async with pool.acquire() as conn:
        await _account(conn, "a")
        await _account(conn, "b")
        with pytest.raises(asyncpg.exceptions.CheckViolationError, match="entry 2 has no postings"):
            async with conn.transaction():
                await conn.execute("INSERT INTO journal_entries (entry_id, entry_key, account_id, kind, event_time)"
                                   " VALUES (1, 'x', 'DU1', 'fill', now()), (2, 'y', 'DU1', 'fill', now())")
                await conn.execute("INSERT INTO journal_postings VALUES (1, 1, 'a', 'USD', 10, 0, 10, 1),"
                                   " (1, 2, 'b', 'USD', -10, 0, -10, 1)")
        assert await conn.fetchval("SELECT count(*) FROM journal_entries") == 0


@pytest.mark.parametrize(("entry_id", "account", "names"), [(2, "a", "entry 2"), (1, "nope", "account nope")])
async def test_posting_naming_a_missing_entry_or_account_is_refused(pool, entry_id, account, names):
    # Set-based replacement of the foreign keys (one anti-join per INSERT statement, not a lookup per row).
    async with pool.acquire() as conn:
        await _account(conn, "a")
        await _account(conn, "b")
        with pytest.raises(asyncpg.exceptions.ForeignKeyViolationError, match=names):
            await conn.execute(_entry_with(f"(1, 1, 'a', 'USD', 10, 0, 10, 1), (1, 2, 'b', 'USD', -10, 0, -10, 1),"
                                           f" ({entry_id}, 3, '{account}', 'USD', 1, 10, 11, 2),"
                                           f" ({entry_id}, 4, 'b', 'USD', -1, -10, -11, 2)"))


async def test_journal_accounts_cannot_be_deleted(pool):
    async with pool.acquire() as conn:
        await _account(conn, "a")
        with pytest.raises(asyncpg.exceptions.RestrictViolationError):
            await conn.execute("DELETE FROM journal_accounts")
        with pytest.raises(asyncpg.exceptions.RestrictViolationError):
            await conn.execute("TRUNCATE journal_accounts CASCADE")


async def test_posting_in_another_currency_than_its_account_is_refused(pool):
    async with pool.acquire() as conn:
        await _account(conn, "a")
        await _account(conn, "b")
        with pytest.raises(asyncpg.exceptions.CheckViolationError, match="posting in EUR to account [ab], which holds USD"):
            await conn.execute(_entry_with("(1, 1, 'a', 'EUR', 10, 0, 10, 1), (1, 2, 'b', 'USD', -10, 0, -10, 1),"
                                           " (1, 3, 'b', 'EUR', -10, -10, -20, 2), (1, 4, 'a', 'USD', 10, 10, 20, 2)"))
        assert await conn.fetchval("SELECT count(*) FROM journal_entries") == 0


async def test_an_account_that_held_two_currencies_before_migration_0010_still_takes_both(postgres_dsn, schema,
                                                                                          tmp_path):
    # An existing database: its commission account got a EUR commission on a USD trade before every account
    # had one currency. The migration lists EUR as that account's, so the reversal of that posting (a later
    # correction of the execution) can still be written; a third currency cannot.
    from services.common.migrations import apply_migrations
    from services.ledger.db import create_pool, migrate

    for f in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if f.name < "0010":
            (tmp_path / f.name).write_text(f.read_text())
    pool = await create_pool(postgres_dsn, schema)
    try:
        async with pool.acquire() as conn:
            await apply_migrations(conn, schema, tmp_path)
            await conn.execute(f'SET search_path TO "{schema}", public')
            await conn.execute("INSERT INTO journal_accounts (account_key, account_id, kind, currency, instrument_key)"
                               " VALUES ('DU1:commission:con:1', 'DU1', 'commission', 'USD', 'con:1'),"
                               " ('DU1:cash:USD', 'DU1', 'cash', 'USD', ''), ('DU1:cash:EUR', 'DU1', 'cash', 'EUR', '')")
            await conn.execute(_entry_with("(1, 1, 'DU1:cash:EUR', 'EUR', -2, 0, -2, 1),"
                                           " (1, 2, 'DU1:commission:con:1', 'EUR', 2, 0, 2, 1)"))
        await migrate(pool, schema)
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT legacy_other_currencies FROM journal_accounts"
                                       " WHERE account_key = 'DU1:commission:con:1'") == ["EUR"]
            async with conn.transaction():
                await conn.execute("INSERT INTO journal_entries (entry_id, entry_key, account_id, kind, event_time)"
                                   " VALUES (2, 'r', 'DU1', 'reversal', now())")
                await conn.execute("INSERT INTO journal_postings VALUES (2, 1, 'DU1:cash:EUR', 'EUR', 2, -2, 0, 2),"
                                   " (2, 2, 'DU1:commission:con:1', 'EUR', -2, 2, 0, 2)")
            with pytest.raises(asyncpg.exceptions.CheckViolationError, match="posting in CHF"):
                await conn.execute(_entry_with("(3, 1, 'DU1:commission:con:1', 'CHF', 1, 0, 1, 3),"
                                               " (3, 2, 'DU1:commission:con:1', 'CHF', -1, 1, 0, 4)")
                                   .replace("VALUES (1, 'x'", "VALUES (3, 'y'"))
    finally:
        async with pool.acquire() as conn:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await pool.close()
