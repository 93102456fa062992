"""The query API over gRPC: orders with their history, filters, P&L and the journal."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
import pytest
from google.type import date_pb2
from ibkr.ledger.v1 import ledger_pb2
from ibkr.trading.v1 import order_pb2

from services.ledger import synthetic as syn
from services.ledger.store import LedgerStore
from services.ledger.tests.conftest import decoded
from services.ledger.tests.helpers import running_ledger, settings_for

ACCOUNT = "DU1234567"
S = order_pb2


async def _book(app, *events):
    await LedgerStore(app.pool, app.settings.ledger_db_schema).book(decoded(*events))


async def test_get_order_by_client_order_id_returns_its_history_and_fills(postgres_dsn, redis_url, unique_name):
    async with running_ledger(settings_for(postgres_dsn, redis_url, unique_name)) as (app, stub, _ch):
        await _book(app, syn.risk_decision_event("rd-o1", "c-1"))
        await _book(app, syn.order_event("o1", S.ORDER_STATUS_SUBMITTED, client_order_id="c-1", limit_price="10"),
                    syn.fill_event("f1", "BUY", "100", "10", order_id="o1"),
                    syn.order_event("o1", S.ORDER_STATUS_FILLED, client_order_id="c-1", filled="100",
                                    previous=S.ORDER_STATUS_SUBMITTED, limit_price="10"))
        reply = await stub.GetOrder(ledger_pb2.GetOrderRequest(account_id=ACCOUNT, client_order_id="c-1"))
        assert reply.order.order_id == "o1" and reply.order.status == S.ORDER_STATUS_FILLED
        assert reply.order.spec.limit_price.value == "10"
        assert [e.status for e in reply.events] == [
            S.ORDER_STATUS_PENDING_SUBMIT, S.ORDER_STATUS_SUBMITTED, S.ORDER_STATUS_FILLED]
        assert reply.events[0].description.startswith("risk accepted new order")
        assert {e.risk_decision_id for e in reply.events} == {"rd-o1"}
        assert [f.execution_id for f in reply.fills] == ["f1"]


async def test_get_unknown_order_is_not_found_and_missing_key_is_invalid(postgres_dsn, redis_url, unique_name):
    async with running_ledger(settings_for(postgres_dsn, redis_url, unique_name)) as (_app, stub, _ch):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.GetOrder(ledger_pb2.GetOrderRequest(account_id=ACCOUNT, order_id="nope"))
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.GetOrder(ledger_pb2.GetOrderRequest(account_id=ACCOUNT))
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_list_orders_filters_by_status_symbol_and_time(postgres_dsn, redis_url, unique_name):
    async with running_ledger(settings_for(postgres_dsn, redis_url, unique_name)) as (app, stub, _ch):
        await _book(app, syn.order_event("a", S.ORDER_STATUS_SUBMITTED),
                    syn.order_event("b", S.ORDER_STATUS_CANCELLED, symbol="MSFT", con_id=272093),
                    syn.order_event("c", S.ORDER_STATUS_FILLED, filled="100"))

        async def ids(**kw):
            reply = await stub.ListOrders(ledger_pb2.ListOrdersRequest(account_id=ACCOUNT, **kw))
            return [o.order_id for o in reply.orders]

        assert await ids() == ["c", "b", "a"]
        assert await ids(statuses=[S.ORDER_STATUS_FILLED, S.ORDER_STATUS_SUBMITTED]) == ["c", "a"]
        assert await ids(symbol="MSFT") == ["b"]
        future = ledger_pb2.ListOrdersRequest(account_id=ACCOUNT)
        future.start_time.FromDatetime(datetime(2100, 1, 1, tzinfo=UTC))
        assert not (await stub.ListOrders(future)).orders
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.ListOrders(ledger_pb2.ListOrdersRequest(account_id=ACCOUNT, statuses=[0]))
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_get_pnl_reports_realized_today_and_unrealized_at_the_latest_mark(postgres_dsn, redis_url, unique_name):
    async with running_ledger(settings_for(postgres_dsn, redis_url, unique_name)) as (app, stub, _ch):
        await _book(app, syn.fill_event("p1", "BUY", "100", "10.00"), syn.fill_event("p2", "SELL", "50", "12.00"),
                    syn.quote_event("11.00"))
        reply = await stub.GetPnl(ledger_pb2.GetPnlRequest(account_id=ACCOUNT))
        # realized: 50 × (12 − 10.01) − 1 = 98.50; unrealized: 50 × 11 − 50 × 10.01 = 49.50
        assert (reply.pnl.realized_pnl.units, reply.pnl.realized_pnl.nanos) == (98, 500_000_000)
        assert (reply.pnl.unrealized_pnl.units, reply.pnl.unrealized_pnl.nanos) == (49, 500_000_000)
        assert reply.position_pnls[0].position_quantity.value == "50"
        yesterday = await stub.GetPnl(ledger_pb2.GetPnlRequest(
            account_id=ACCOUNT, trade_date=date_pb2.Date(year=2000, month=1, day=3)))
        assert yesterday.pnl.realized_pnl.units == 0


async def test_list_journal_entries_shows_balanced_postings_filterable_by_ledger_account(
        postgres_dsn, redis_url, unique_name):
    async with running_ledger(settings_for(postgres_dsn, redis_url, unique_name)) as (app, stub, _ch):
        await _book(app, syn.fill_event("j1", "BUY", "10", "100"), syn.fill_event("j2", "SELL", "10", "101"))
        reply = await stub.ListJournalEntries(ledger_pb2.ListJournalEntriesRequest(account_id=ACCOUNT))
        assert [e.execution_id for e in reply.entries] == ["j1", "j2"]
        for entry in reply.entries:
            money = [p.amount for p in entry.postings if p.HasField("amount")]
            assert sum(m.units * 10**9 + m.nanos for m in money) == 0
        realized = await stub.ListJournalEntries(ledger_pb2.ListJournalEntriesRequest(
            account_id=ACCOUNT, ledger_account="realized_pnl:con:265598"))
        assert [e.execution_id for e in realized.entries] == ["j2"]
        assert realized.entries[0].event_id  # the bus event the entry came from


async def test_daily_pnl_is_value_change_since_the_close_plus_the_days_cash_flows(postgres_dsn, redis_url, unique_name):
    from datetime import timedelta

    yesterday = datetime.now(UTC) - timedelta(days=1)
    async with running_ledger(settings_for(postgres_dsn, redis_url, unique_name)) as (app, stub, _ch):
        await _book(app, syn.fill_event("y1", "BUY", "100", "10.00", when=yesterday),
                    syn.fill_event("t1", "BUY", "50", "11.20"), syn.quote_event("11.00", close="10.50"))
        reply = await stub.GetPnl(ledger_pb2.GetPnlRequest(account_id=ACCOUNT, symbol="AAPL"))
        # overnight 100 × (11.00 − 10.50) = 50; today's 50 × (11.00 − 11.20) − 1 commission = −11
        assert (reply.pnl.daily_pnl.units, reply.pnl.daily_pnl.nanos) == (39, 0)
        assert reply.position_pnls[0].daily_pnl.units == 39
