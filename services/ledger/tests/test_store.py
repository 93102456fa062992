"""Booking batches of bus events into Postgres: idempotence, the journal, corrections and commissions."""

from __future__ import annotations

from decimal import Decimal as D

from ibkr.trading.v1 import order_pb2

from services.ledger import synthetic as syn
from services.ledger.store import LedgerStore
from services.ledger.tests.conftest import decoded


async def _position(pool, symbol="AAPL"):
    async with pool.acquire() as conn:
        return await conn.fetchrow("SELECT * FROM positions WHERE symbol = $1", symbol)


async def _unbalanced_entries(pool) -> int:
    async with pool.acquire() as conn:
        return await conn.fetchval(
            "SELECT count(*) FROM (SELECT entry_id, currency FROM journal_postings GROUP BY 1, 2"
            " HAVING sum(amount) <> 0) x")


async def test_fill_redelivered_in_later_batches_is_booked_once(pool, schema):
    store = LedgerStore(pool, schema)
    ev = syn.fill_event("e1.01", "BUY", "100", "10.00")
    first = await store.book(decoded(ev))
    again = await store.book(decoded(ev))
    assert (first.fills_booked, again.fills_booked, again.events_duplicate) == (1, 0, 1)
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM fills") == 1
        assert await conn.fetchval("SELECT count(*) FROM journal_entries") == 1


async def test_same_execution_republished_under_a_new_event_id_is_not_duplicated(pool, schema):
    store = LedgerStore(pool, schema)
    await store.book(decoded(syn.fill_event("e1.01", "BUY", "100", "10.00")))
    result = await store.book(decoded(syn.fill_event("e1.01", "BUY", "100", "10.00"),
                                      syn.fill_event("e1.01", "BUY", "100", "10.00")))
    assert result.fills_booked == 0
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM fills") == 1


async def test_round_trip_books_ib_average_cost_and_realized_pnl_and_balances(pool, schema):
    store = LedgerStore(pool, schema)
    await store.book(decoded(syn.fill_event("e1", "BUY", "100", "10.00"),
                             syn.fill_event("e2", "SELL", "40", "11.00")))
    pos = await _position(pool)
    assert pos["quantity"] == 60
    assert (pos["cost_basis"] + pos["cost_fees"]) / pos["quantity"] == D("10.01")
    assert pos["realized_pnl"] == D("38.60")  # 40 × (11 − 10.01) − 1
    assert await _unbalanced_entries(pool) == 0
    async with pool.acquire() as conn:
        cash = await conn.fetchval("SELECT balance FROM journal_accounts WHERE kind = 'cash'")
        assert cash == D("-1001.00") + D("439.00")


async def test_correction_supersedes_the_original_and_positions_reflect_only_the_correction(pool, schema):
    store = LedgerStore(pool, schema)
    await store.book(decoded(syn.fill_event("0001.01", "BUY", "100", "10.00")))
    await store.book(decoded(syn.fill_event("0001.02", "BUY", "100", "10.50", correction_of="0001.01")))
    pos = await _position(pool)
    assert pos["quantity"] == 100
    assert (pos["cost_basis"] + pos["cost_fees"]) / pos["quantity"] == D("10.51")
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT superseded_by FROM fills WHERE execution_id = '0001.01'") == "0001.02"
        assert await conn.fetchval("SELECT count(*) FROM journal_entries WHERE kind = 'reversal'") == 1
    assert await _unbalanced_entries(pool) == 0


async def test_correction_arriving_before_its_original_keeps_the_original_out_of_the_books(pool, schema):
    store = LedgerStore(pool, schema)
    await store.book(decoded(syn.fill_event("0002.02", "BUY", "100", "10.50", correction_of="0002.01")))
    await store.book(decoded(syn.fill_event("0002.01", "BUY", "100", "10.00")))
    pos = await _position(pool)
    assert pos["quantity"] == 100
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT superseded_by FROM fills WHERE execution_id = '0002.01'") == "0002.02"
        assert await conn.fetchval("SELECT count(*) FROM journal_entries") == 1


async def test_commission_reported_after_its_fill_is_booked_once_as_an_expense(pool, schema):
    store = LedgerStore(pool, schema)
    await store.book(decoded(syn.fill_event("e9", "BUY", "10", "100", commission=None)))
    await store.book(decoded(syn.commission_event("e9", "1.25")))
    await store.book(decoded(syn.commission_event("e9", "1.25")))
    pos = await _position(pool)
    assert pos["realized_pnl"] == D("-1.25")
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM journal_entries WHERE kind = 'commission'") == 1
        assert await conn.fetchval("SELECT balance FROM journal_accounts WHERE kind = 'cash'") == D("-1001.25")


async def test_commission_reported_before_its_fill_is_capitalized_with_the_fill(pool, schema):
    store = LedgerStore(pool, schema)
    await store.book(decoded(syn.commission_event("e7", "2.00")))
    await store.book(decoded(syn.fill_event("e7", "BUY", "10", "100", commission=None)))
    pos = await _position(pool)
    assert pos["cost_fees"] == D("2.00")
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM journal_entries") == 1


async def test_order_updates_are_kept_as_history_and_status_never_leaves_a_terminal_state(pool, schema):
    store = LedgerStore(pool, schema)
    s = order_pb2
    await store.book(decoded(
        syn.order_event("o1", s.ORDER_STATUS_SUBMITTED, client_order_id="c1"),
        syn.order_event("o1", s.ORDER_STATUS_FILLED, client_order_id="c1", filled="100",
                        previous=s.ORDER_STATUS_SUBMITTED)))
    await store.book(decoded(syn.order_event("o1", s.ORDER_STATUS_SUBMITTED, client_order_id="c1")))
    async with pool.acquire() as conn:
        row = await conn.fetchrow("SELECT status, filled_quantity, client_order_id FROM orders")
        assert tuple(row) == ("FILLED", 100, "c1")
        assert await conn.fetchval("SELECT count(*) FROM order_events WHERE order_id = 'o1'") == 3


async def test_marks_and_broker_positions_update_the_position_row(pool, schema):
    store = LedgerStore(pool, schema)
    await store.book(decoded(syn.fill_event("e1", "BUY", "100", "10.00"),
                             syn.quote_event("10.50"), syn.position_event("100", "10.01", market_price="10.40")))
    pos = await _position(pool)
    assert (pos["broker_quantity"], pos["broker_average_cost"], pos["mark_price"]) == (100, D("10.01"), D("10.50"))


async def test_original_and_its_correction_in_one_batch_book_only_the_correction(pool, schema):
    store = LedgerStore(pool, schema)
    for order in ((0, 1), (1, 0)):
        exec_base = f"00{order[0]}3"
        pair = [syn.fill_event(f"{exec_base}.01", "BUY", "100", "10.00", symbol=f"S{order[0]}", con_id=9 + order[0]),
                syn.fill_event(f"{exec_base}.02", "BUY", "100", "10.50", symbol=f"S{order[0]}", con_id=9 + order[0],
                               correction_of=f"{exec_base}.01")]
        await store.book(decoded(*(pair[i] for i in order)))
        pos = await _position(pool, f"S{order[0]}")
        assert pos["quantity"] == 100 and pos["cost_basis"] == D("1050.00")
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT superseded_by FROM fills WHERE execution_id = $1",
                                       f"{exec_base}.01") == f"{exec_base}.02"
    assert await _unbalanced_entries(pool) == 0
