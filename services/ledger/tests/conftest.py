"""Ledger test fixtures: a migrated private schema per test in the session's database."""

from __future__ import annotations

import itertools

import pytest

from services.common.bus import BusEntry
from services.ledger import events as ledger_events
from services.ledger.db import create_pool, migrate
from services.ledger.records import IngestEvent

_stream_ids = itertools.count(1)


@pytest.fixture
async def schema(unique_name: str) -> str:
    return f"ledger_{unique_name}"


@pytest.fixture
async def pool(postgres_dsn: str, schema: str):
    pool = await create_pool(postgres_dsn, schema)
    await migrate(pool, schema)
    yield pool
    async with pool.acquire() as conn:
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    await pool.close()


def decoded(*events, stream: str = "test:events") -> list[IngestEvent]:
    """Bus-decoded versions of protobuf Events, with increasing stream ids."""
    out = []
    for ev in events:
        entry = BusEntry(stream_id=f"{next(_stream_ids)}-0", payload=ev.SerializeToString(),
                         event_type=ev.WhichOneof("payload"), account=ev.account_id)
        out.append(ledger_events.decode(entry, stream))
    return out
