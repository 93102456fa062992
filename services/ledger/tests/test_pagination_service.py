"""AIP-158 pages over gRPC: every row exactly once while rows are being inserted; tampered tokens refused."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from ibkr.ledger.v1 import ledger_pb2

from services.ledger import synthetic as syn
from services.ledger.store import LedgerStore
from services.ledger.tests.conftest import decoded
from services.ledger.tests.helpers import running_ledger, settings_for

ACCOUNT = "DU1234567"


async def _book(app, prefix: str, n: int, batch: int = 10) -> None:
    store = LedgerStore(app.pool, app.settings.ledger_db_schema)
    for start in range(0, n, batch):
        await store.book(decoded(*(syn.fill_event(f"{prefix}{i}", "BUY", "1", "10")
                                   for i in range(start, min(n, start + batch)))))


async def test_every_fill_appears_exactly_once_across_pages_under_concurrent_inserts(
        postgres_dsn, redis_url, unique_name):
    async with running_ledger(settings_for(postgres_dsn, redis_url, unique_name)) as (app, stub, _ch):
        await _book(app, "a", 200)
        writer = asyncio.create_task(_book(app, "b", 200, batch=5))
        seen: list[str] = []
        token = ""
        while True:
            page = await stub.ListFills(ledger_pb2.ListFillsRequest(account_id=ACCOUNT, page_size=17, page_token=token))
            seen += [f.execution_id for f in page.fills]
            await asyncio.sleep(0.01)  # let the writer commit between pages
            if not (token := page.next_page_token):
                break
        entries_seen: list[str] = []
        token = ""
        while True:
            page = await stub.ListJournalEntries(ledger_pb2.ListJournalEntriesRequest(
                account_id=ACCOUNT, page_size=13, page_token=token))
            entries_seen += [e.entry_id for e in page.entries]
            await asyncio.sleep(0.01)
            if not (token := page.next_page_token):
                break
        await writer
        assert len(seen) == len(set(seen)), "a fill was served twice"
        assert {f"a{i}" for i in range(200)} <= set(seen), "a fill present before paging began was skipped"
        assert len(entries_seen) == len(set(entries_seen)), "a journal entry was served twice"
        # Oldest first on a commit-ordered key: entries committed while paging are served at the end.
        assert [int(e) for e in entries_seen] == sorted(int(e) for e in entries_seen)


async def test_tampered_or_foreign_page_token_is_invalid_argument(postgres_dsn, redis_url, unique_name):
    async with running_ledger(settings_for(postgres_dsn, redis_url, unique_name)) as (app, stub, _ch):
        await _book(app, "t", 5)
        page = await stub.ListFills(ledger_pb2.ListFillsRequest(account_id=ACCOUNT, page_size=2))
        body, mac = page.next_page_token.split(".")
        for bad in (body + "x." + mac, body + "." + mac[::-1], "not-a-token"):
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.ListFills(ledger_pb2.ListFillsRequest(account_id=ACCOUNT, page_size=2, page_token=bad))
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.ListFills(ledger_pb2.ListFillsRequest(account_id=ACCOUNT, symbol="MSFT", page_size=2,
                                                             page_token=page.next_page_token))
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
