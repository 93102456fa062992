"""Replay: re-ingesting bus ranges never duplicates; balances and positions rebuild from the journal."""

from __future__ import annotations

import asyncio
import itertools
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from ibkr.ledger.v1 import ledger_pb2
from ibkr.trading.v1 import event_pb2

from services.ledger import synthetic as syn
from services.ledger.tests.helpers import eventually, publish, running_ledger, settings_for
from services.ledger.tests.test_positions import fills as position_fills

ACCOUNT = "DU1234567"


async def _count(app, sql):
    async with app.pool.acquire() as conn:
        return await conn.fetchval(sql)


async def test_replaying_a_consumed_range_applies_nothing_and_duplicates_nothing(
        postgres_dsn, redis_url, unique_name, monkeypatch):
    from services.ledger import replay

    monkeypatch.setattr(replay, "CHUNK", 7)  # several chunks, read ahead while the previous one books
    settings = settings_for(postgres_dsn, redis_url, unique_name)
    async with running_ledger(settings) as (app, stub, _ch):
        ids = await publish(redis_url, settings.bus_stream,
                            *(syn.fill_event(f"rp{i}", "BUY" if i % 3 else "SELL", "10", "10") for i in range(30)))
        await eventually(lambda: _fills_are(app, 30))
        for from_stored in (False, True):
            reply = await stub.ReplayEvents(ledger_pb2.ReplayEventsRequest(
                start_stream_id=ids[0], end_stream_id=ids[-1], from_stored_events=from_stored))
            assert (reply.events_read, reply.events_applied, reply.duplicates_skipped) == (30, 0, 30)
        assert await _count(app, "SELECT count(*) FROM fills") == 30
        assert await _count(app, "SELECT count(*) FROM journal_entries") == 30


async def test_replay_restores_events_the_ledger_missed_exactly_once(postgres_dsn, redis_url, unique_name):
    settings = settings_for(postgres_dsn, redis_url, unique_name)
    async with running_ledger(settings) as (app, stub, _ch):
        ids = await publish(redis_url, settings.bus_stream, *(syn.fill_event(f"m{i}", "BUY", "1", "10") for i in range(10)))
        await eventually(lambda: _fills_are(app, 10))
        # Simulate a ledger that lost some rows (restored from an old backup): the journal tables refuse
        # deletes, so drop to a fresh schema and replay everything from the bus instead.
        async with app.pool.acquire() as conn:
            await conn.execute("SET session_replication_role = replica")  # bypass the append-only triggers
            for table in ("journal_postings", "journal_entries", "fills", "bus_events", "positions",
                          "journal_accounts", "commissions", "daily_pnl"):
                await conn.execute(f"DELETE FROM {table}")
            await conn.execute("SET session_replication_role = origin")
        dry = await stub.ReplayEvents(ledger_pb2.ReplayEventsRequest(start_stream_id=ids[0], dry_run=True))
        assert (dry.events_applied, await _count(app, "SELECT count(*) FROM fills")) == (10, 0)
        reply = await stub.ReplayEvents(ledger_pb2.ReplayEventsRequest(start_stream_id=ids[0]))
        again = await stub.ReplayEvents(ledger_pb2.ReplayEventsRequest(start_stream_id=ids[0]))
        assert (reply.events_applied, again.events_applied, again.duplicates_skipped) == (10, 0, 10)
        assert await _count(app, "SELECT count(*) FROM fills") == 10
        positions = (await stub.ListPositions(ledger_pb2.ListPositionsRequest(account_id=ACCOUNT))).positions
        assert positions[0].quantity.value == "10"


async def test_rebuild_from_the_journal_reports_and_repairs_corrupted_balances(postgres_dsn, redis_url, unique_name):
    settings = settings_for(postgres_dsn, redis_url, unique_name)
    async with running_ledger(settings) as (app, stub, _ch):
        await publish(redis_url, settings.bus_stream, syn.fill_event("rb1", "BUY", "100", "10"),
                      syn.fill_event("rb2", "SELL", "30", "12"))
        await eventually(lambda: _fills_are(app, 2))
        clean = await stub.RebuildBalances(ledger_pb2.RebuildBalancesRequest(account_id=ACCOUNT, dry_run=True))
        assert clean.journal_balanced and not clean.differences and clean.entries_replayed == 2
        async with app.pool.acquire() as conn:
            await conn.execute("UPDATE positions SET quantity = 999")
            await conn.execute("UPDATE journal_accounts SET balance = 0 WHERE kind = 'cash'")
        dry = await stub.RebuildBalances(ledger_pb2.RebuildBalancesRequest(account_id=ACCOUNT, dry_run=True))
        (diff,) = dry.differences
        assert (diff.ledger_quantity.value, diff.broker_quantity.value) == ("999", "70")
        fixed = await stub.RebuildBalances(ledger_pb2.RebuildBalancesRequest(account_id=ACCOUNT))
        assert fixed.differences and fixed.positions[0].quantity.value == "70"
        after = await stub.RebuildBalances(ledger_pb2.RebuildBalancesRequest(account_id=ACCOUNT, dry_run=True))
        assert not after.differences
        assert await _count(app, "SELECT balance FROM journal_accounts WHERE kind = 'cash'") == -1001 + 359


async def test_list_events_returns_stored_events_after_a_stream_id_in_order(postgres_dsn, redis_url, unique_name):
    settings = settings_for(postgres_dsn, redis_url, unique_name)
    async with running_ledger(settings) as (app, stub, _ch):
        ids = await publish(redis_url, settings.bus_stream, *(syn.fill_event(f"le{i}", "BUY", "1", "10") for i in range(5)))
        await eventually(lambda: _fills_are(app, 5))
        reply = await stub.ListEvents(ledger_pb2.ListEventsRequest(after_stream_id=ids[1], page_size=2))
        assert [e.stream_id for e in reply.events] == ids[2:4]
        rest = await stub.ListEvents(ledger_pb2.ListEventsRequest(after_stream_id=ids[1], page_size=2,
                                                                  page_token=reply.next_page_token))
        assert [e.stream_id for e in rest.events] == ids[4:]
        assert rest.events[0].event.fill.execution_id == "le4"
        typed = await stub.ListEvents(ledger_pb2.ListEventsRequest(event_types=[event_pb2.EVENT_TYPE_ORDER_UPDATE]))
        assert not typed.events


async def _fills_are(app, n):
    return await _count(app, "SELECT count(*) FROM fills") == n


# --- the replay path against the same exact reference as the pure property test ------------------------

_replay_examples = itertools.count(1)


@pytest.mark.parametrize("transaction_max", [7, 10_000], ids=["transactions", "one"])
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fills=position_fills)
def test_replayed_random_fill_sequences_match_the_reference_and_every_entry_balances(
        fills, transaction_max, postgres_dsn, redis_url, unique_name, monkeypatch):
    """Random buys, sells, shorts, flips and partial quantities published on the bus and replayed (bulk.py) in
    chunks of 3, in one transaction or in transactions of 7 events (so positions carry across commits): the
    booked position equals the exact reference."""
    from services.ledger import replay
    from services.ledger.tests.test_positions import Reference

    monkeypatch.setattr(replay, "CHUNK", 3)
    monkeypatch.setattr(replay, "TRANSACTION_MAX", transaction_max)
    n = next(_replay_examples)
    con_id, stream = 900_000 + n, f"{unique_name}:replay:{n}"
    events, ref = [], Reference(Fraction(1))
    for i, (side, qty, price, commission, fractional) in enumerate(fills):
        qty = qty / 8 if fractional else qty
        events.append(syn.fill_event(f"{unique_name}.{n}.{i}", side, qty, price, symbol=f"P{n}", con_id=con_id,
                                     commission=commission))
        ref.fill(Fraction(qty) if side == "BUY" else -Fraction(qty), Fraction(price), Fraction(commission))
    row, unbalanced = asyncio.run(_replay_into_ledger(postgres_dsn, redis_url, f"ledger_{unique_name}", stream,
                                                      events, con_id))
    assert unbalanced == 0
    assert row["quantity"] == ref.qty
    tolerance = Fraction(1, 10**6)
    assert abs(Fraction(row["realized_pnl"]) - ref.realized) <= tolerance
    assert abs(Fraction(row["cost_basis"] + row["cost_fees"]) - ref.avg * ref.qty) <= tolerance


async def _replay_into_ledger(dsn, redis_url, schema, stream, events, con_id):
    import redis.asyncio as aioredis

    from services.ledger.db import create_pool, migrate
    from services.ledger.replay import Replayer
    from services.ledger.store import LedgerStore

    pool = await create_pool(dsn, schema, max_size=2)
    redis = aioredis.from_url(redis_url)
    try:
        await migrate(pool, schema)  # the first example creates the schema; later ones find nothing to do
        await publish(redis_url, stream, *events)
        result = await Replayer(LedgerStore(pool, schema), redis, stream).from_bus("0", "")
        assert (result.applied, result.failed) == (len(events), 0)
        row = await pool.fetchrow("SELECT quantity, cost_basis, cost_fees, realized_pnl FROM positions"
                                  " WHERE instrument_key = $1", f"con:{con_id}")
        unbalanced = await pool.fetchval("SELECT count(*) FROM (SELECT entry_id FROM journal_postings"
                                         " GROUP BY entry_id, currency HAVING sum(amount) <> 0) x")
        return row, unbalanced
    finally:
        await redis.delete(stream)
        await redis.aclose()
        await pool.close()
