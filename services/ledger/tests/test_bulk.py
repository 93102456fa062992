"""Bulk replay (`bulk.book_range`) books a range exactly as the store books the same range as one batch:
duplicates, corrections on either side of the range start, commissions in any order, other event kinds."""

from __future__ import annotations

import pytest
from ibkr.trading.v1 import order_pb2

from services.ledger import synthetic as syn
from services.ledger.db import create_pool, migrate
from services.ledger.store import LedgerStore
from services.ledger.streaming import book_range
from services.ledger.tests.conftest import decoded

MSFT = {"symbol": "MSFT", "con_id": 272093}

SNAPSHOT = {
    "positions": "SELECT account_id, instrument_key, quantity, cost_basis, cost_fees, realized_pnl, broker_quantity"
                 " FROM positions ORDER BY 1, 2",
    "accounts": "SELECT account_key, balance, version FROM journal_accounts ORDER BY 1",
    "fills": "SELECT execution_id, superseded_by, commission_booked, quantity, price, event_id FROM fills ORDER BY 1",
    "commissions": "SELECT execution_id, amount, currency, event_id FROM commissions ORDER BY 1",
    "postings": "SELECT e.entry_key, e.kind, p.line, p.account_key, p.amount, p.previous_balance, p.current_balance,"
                " p.account_version FROM journal_postings p JOIN journal_entries e USING (entry_id) ORDER BY 1, 3",
    "daily_pnl": "SELECT account_id, trade_date, currency, realized_pnl, commissions FROM daily_pnl ORDER BY 1, 2, 3",
    "daily_flows": "SELECT account_id, trade_date, instrument_key, quantity, cash_flow FROM daily_flows ORDER BY 1, 2, 3",
    "events": "SELECT event_id, event_type FROM bus_events ORDER BY 1",
    "orders": "SELECT order_id, status FROM orders ORDER BY 1",
}


def scenario():
    setup = decoded(
        syn.fill_event("s1", "BUY", "100", "10", commission="1.00"),
        syn.fill_event("s2", "BUY", "50", "11", commission=None, **MSFT),
        syn.fill_event("s3", "SELL", "30", "12", commission="1.00"),
    )
    ahead = syn.fill_event("r2", "BUY", "7", "21", commission="0.50")
    in_range = decoded(
        syn.fill_event("s3", "SELL", "30", "12", commission="1.00"),  # the same execution, published again
        syn.fill_event("c3", "SELL", "30", "12.5", correction_of="s3"),  # corrects a booked fill: reversed
        syn.commission_event("s2", "0.75"),  # late commission for a booked fill: expensed
        syn.fill_event("r1", "BUY", "10", "20"),
        syn.fill_event("r1c", "BUY", "10", "20.5", correction_of="r1"),  # original and correction in the range
        syn.fill_event("r2c", "BUY", "7", "21.5", correction_of="r2"),  # the correction first
        ahead,
        syn.commission_event("r3", "2.00"),  # the commission before its fill: capitalized with it
        syn.fill_event("r3", "BUY", "40", "12.25", commission=None),
        syn.order_event("o1", order_pb2.ORDER_STATUS_FILLED, filled="100"),
        syn.fill_event("r4", "SELL", "200", "13"),  # flips the position short
        syn.fill_event("r5", "BUY", "120", "12.75", commission="1.10"),  # and back through zero
        syn.fill_event("r6", "BUY", "5", "100", account_id="DU7654321"),
        syn.fill_event("r7", "BUY", "0.125", "33.333", commission="0.01", **MSFT),
        syn.position_event("41", "12.30"),
        syn.quote_event("12.9", close="12.5"),
    )
    return setup, in_range + [in_range[0], in_range[6]]  # and two events delivered twice


async def _snapshot(pool) -> dict:
    async with pool.acquire() as conn:
        out = {name: [tuple(r) for r in await conn.fetch(sql)] for name, sql in SNAPSHOT.items()}
        out["unbalanced"] = await conn.fetchval(
            "SELECT count(*) FROM (SELECT entry_id FROM journal_postings GROUP BY entry_id, currency"
            " HAVING sum(amount) <> 0) x")
    return out


async def _chunks(events, size):
    for i in range(0, len(events), size):
        yield events[i:i + size]


@pytest.mark.parametrize("chunk", [3, 100])
async def test_a_range_books_as_the_store_books_it_in_one_batch(pool, schema, postgres_dsn, chunk):
    setup, in_range = scenario()
    await _books_as_one_batch(pool, schema, postgres_dsn, setup, in_range, chunk)


def streamable_scenario():
    """No correction in the range and no commission report after its fill's chunk: booked chunk by chunk."""
    setup = decoded(
        syn.fill_event("s1", "BUY", "100", "10", commission="1.00"),
        syn.fill_event("s2", "BUY", "50", "11", commission=None, **MSFT),
        syn.fill_event("x9c", "BUY", "5", "9.5", correction_of="x9"),  # a correction stored before its original
    )
    in_range = decoded(
        syn.fill_event("s1", "BUY", "100", "10", commission="1.00"),  # a booked execution, published again
        syn.commission_event("s2", "0.75"),  # late commission for a fill booked earlier: expensed at the end
        syn.commission_event("r3", "2.00"),  # the commission before its fill: capitalized with it
        syn.fill_event("r1", "BUY", "10", "20"),
        syn.fill_event("x9", "BUY", "5", "9"),  # superseded before the range: never booked
        syn.order_event("o1", order_pb2.ORDER_STATUS_FILLED, filled="100"),
        syn.fill_event("r3", "BUY", "40", "12.25", commission=None),
        syn.fill_event("r4", "SELL", "200", "13"),  # flips the position short
        syn.fill_event("r5", "BUY", "120", "12.75", commission="1.10"),  # and back through zero
        syn.fill_event("r1", "BUY", "10", "20", commission=None),  # a fill again, without a report
        syn.fill_event("r6", "BUY", "5", "100", account_id="DU7654321"),
        syn.fill_event("r7", "BUY", "0.125", "33.333", commission="0.01", **MSFT),
        syn.fill_event("r8", "SELL", "0.125", "34", commission="0.02", **MSFT),
        syn.position_event("41", "12.30"),
        syn.quote_event("12.9", close="12.5"),
    )
    return setup, in_range + [in_range[3], in_range[7]]


@pytest.mark.parametrize("chunk", [1, 2, 5, 100])
async def test_a_streamable_range_is_booked_chunk_by_chunk_as_in_one_batch(pool, schema, postgres_dsn, chunk,
                                                                           monkeypatch):
    from services.ledger import streaming

    class NoFallback(streaming.RangeBooker):
        def __init__(self, *args):  # type: ignore[no-untyped-def]
            raise AssertionError("streaming gave up")
    monkeypatch.setattr(streaming, "RangeBooker", NoFallback)
    setup, in_range = streamable_scenario()
    await _books_as_one_batch(pool, schema, postgres_dsn, setup, in_range, chunk)


@pytest.mark.parametrize("late", [
    syn.commission_event("r1", "0.50"),  # a report for a fill of an earlier chunk
    syn.fill_event("r2", "SELL", "10", "21", correction_of="r1"),  # a correction
])
async def test_a_range_that_changes_a_fill_of_an_earlier_chunk_is_booked_in_two_passes(pool, schema, postgres_dsn,
                                                                                      late):
    setup = decoded(syn.fill_event("s1", "BUY", "100", "10"))
    in_range = decoded(syn.fill_event("r1", "BUY", "10", "20", commission=None), syn.fill_event("r0", "BUY", "1", "9"),
                       syn.fill_event("r3", "SELL", "5", "22"), late, syn.fill_event("r4", "BUY", "1", "21"))
    await _books_as_one_batch(pool, schema, postgres_dsn, setup, in_range, 2)


async def _books_as_one_batch(pool, schema, postgres_dsn, setup, in_range, chunk) -> None:
    other = await create_pool(postgres_dsn, f"{schema}_b")
    try:
        await migrate(other, f"{schema}_b")
        batch, bulk = LedgerStore(pool, schema), LedgerStore(other, f"{schema}_b")
        for store in (batch, bulk):
            for e in setup:
                await store.book([e])
        expected = await batch.book(in_range)
        result = await book_range(bulk, _chunks(in_range, chunk))
        assert result == expected
        want, got = await _snapshot(pool), await _snapshot(other)
        assert got["unbalanced"] == 0
        for name in want:
            assert got[name] == want[name], name
        # Booked again: all duplicates (but quotes, which are never stored), nothing written.
        again = await book_range(bulk, _chunks(in_range, chunk))
        assert again == await batch.book(in_range)
        quotes = sum(e.event_type == "quote_update" for e in in_range)
        assert (again.events_new, again.fills_booked, again.entries_posted) == (quotes, 0, 0)
        assert await _snapshot(other) == got
    finally:
        async with other.acquire() as conn:
            await conn.execute(f'DROP SCHEMA "{schema}_b" CASCADE')
        await other.close()


async def test_dry_run_writes_nothing(pool, schema):
    store = LedgerStore(pool, schema)
    before = await _snapshot(pool)
    result = await book_range(store, _chunks(decoded(syn.fill_event("d1", "BUY", "1", "10")), 10), dry_run=True)
    assert (result.events_new, result.fills_booked) == (1, 1)
    assert await _snapshot(pool) == before


async def test_a_refused_write_rolls_back_the_whole_range(pool, schema, monkeypatch):
    from services.ledger import bulk

    store = LedgerStore(pool, schema)
    # The postings are refused (their COPY names a column that does not exist): nothing of the range stays.
    monkeypatch.setattr(bulk, "_POSTING_COLUMNS", [*bulk._POSTING_COLUMNS[:-1], "no_such_column"])
    with pytest.raises(Exception, match="no_such_column"):
        await book_range(store, _chunks(decoded(syn.fill_event("f1", "BUY", "1", "10")), 10))
    assert await pool.fetchval("SELECT count(*) FROM fills") == 0
    assert await pool.fetchval("SELECT count(*) FROM bus_events") == 0


async def test_texts_with_tabs_backslashes_and_line_breaks_are_stored_as_they_are(pool, schema):
    store = LedgerStore(pool, schema)
    odd = "x\ty\\z\nw\r"
    events = decoded(syn.fill_event(odd, "BUY", "1", "10", order_id=odd), syn.fill_event("plain", "BUY", "1", "10"))
    await book_range(store, _chunks(events, 10))
    assert await pool.fetchval("SELECT order_id FROM fills WHERE execution_id = $1", odd) == odd
    assert await pool.fetchval("SELECT count(*) FROM journal_entries WHERE execution_id = $1", odd) == 1
    assert await pool.fetchval("SELECT count(*) FROM fills") == 2
