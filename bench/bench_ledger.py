"""Ledger benchmark: sustained fill ingest (bus → committed, journal included), fill-to-committed latency at
100 fills/s, and a 10,000-execution replay; each printed beside a raw asyncpg `copy_records_to_table` of the
same fill rows in the same run (the floor: no journal, no idempotence, no positions).

    python -m bench.bench_ledger            (under 2 minutes; uses the local Postgres/Redis or embedded ones)
    python -m bench.bench_ledger replay     (the replay section alone; also `sustained`, `latency`)
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import asyncpg
import redis.asyncio as aioredis
from opentelemetry.sdk.trace import TracerProvider

from bench.stats import line, summary_ms
from services.common.bus import BusEntry, ConsumerGroup, EventBus
from services.common.metrics import new_registry
from services.ledger import synthetic as syn
from services.ledger.db import create_pool, migrate
from services.ledger.events import decode
from services.ledger.ingest import IngestOptions, Ingestor
from services.ledger.metrics import LedgerMetrics
from services.ledger.records import FillRecord
from services.ledger.replay import Replayer
from services.ledger.store import LedgerStore
from tools import infra

SYMBOLS = [(f"SYM{i}", 1000 + i) for i in range(20)]
INGEST_FILLS = 5000
LATENCY_RATE = 100
LATENCY_SECONDS = 10
REPLAY_FILLS = 10_000


def fill_events(prefix: str, n: int) -> list:
    """Fills over 20 symbols, buys and sells (so reducing fills and realized P&L are exercised)."""
    out = []
    for i in range(n):
        symbol, con_id = SYMBOLS[i % len(SYMBOLS)]
        side = "SELL" if (i // len(SYMBOLS)) % 3 == 2 else "BUY"
        out.append(syn.fill_event(f"{prefix}{i:06d}", side, "10", Decimal(100) + Decimal(i % 50) / 4,
                                  symbol=symbol, con_id=con_id, commission="1.00"))
    return out


async def publish_all(redis: aioredis.Redis, stream: str, events: list) -> None:
    """XADD in pipelines of 500 (setup, not measured)."""
    for i in range(0, len(events), 500):
        async with redis.pipeline(transaction=False) as pipe:
            for e in events[i:i + 500]:
                pipe.xadd(stream, {b"event": e.SerializeToString(), b"type": b"fill", b"account": e.account_id.encode()})
            await pipe.execute()


FILL_COLUMNS = ["execution_id", "seq", "account_id", "order_id", "client_order_id", "instrument_key", "symbol",
                "currency", "multiplier", "instrument", "side", "quantity", "price", "fill_time", "venue",
                "correction", "supersedes", "broker_order_id", "perm_id", "origin", "event_id"]


def fill_rows(events: list) -> list[tuple]:
    rows = []
    for n, e in enumerate(events):
        ev = decode(BusEntry(f"{n + 1}-0", e.SerializeToString(), "fill", e.account_id), "bench")
        f: FillRecord = ev.record  # type: ignore[assignment]
        rows.append((f.execution_id, n + 1, f.account_id, f.order_id, f.client_order_id, f.instrument_key, f.symbol,
                     f.currency, f.multiplier, f.instrument, f.side, f.quantity, f.price, f.fill_time, f.venue,
                     f.correction, f.supersedes, f.broker_order_id, f.perm_id, f.origin, ev.event_id))
    return rows


async def copy_baseline(pool: asyncpg.Pool, rows: list[tuple], chunk: int | None = None) -> float:
    """Seconds to COPY the rows into an unconstrained copy of the fills table."""
    async with pool.acquire() as conn:
        table = f"copy_{uuid.uuid4().hex[:8]}"
        await conn.execute(f"CREATE TABLE {table} (LIKE fills INCLUDING DEFAULTS)")
        t0 = time.perf_counter()
        step = chunk or len(rows)
        for i in range(0, len(rows), step):
            await conn.copy_records_to_table(table, records=rows[i:i + step], columns=FILL_COLUMNS)
        elapsed = time.perf_counter() - t0
        await conn.execute(f"DROP TABLE {table}")
        return elapsed


class TimedStore(LedgerStore):
    """The real store, noting each fill's publish → commit latency."""

    latencies: list[float]

    async def book(self, events, *, dry_run=False):  # type: ignore[no-untyped-def]
        result = await super().book(events, dry_run=dry_run)
        now = datetime.now(UTC)
        self.latencies.extend((now - e.event_time).total_seconds() for e in events if e.event_type == "fill")
        return result


async def fresh_ledger(dsn: str, schema: str) -> tuple[asyncpg.Pool, TimedStore]:
    pool = await create_pool(dsn, schema, max_size=4)
    await migrate(pool, schema)
    # Flush what earlier sections wrote, so their background I/O does not land in this one's figures
    # (needs a superuser; skipped otherwise).
    try:
        await pool.execute("CHECKPOINT")
    except asyncpg.InsufficientPrivilegeError:
        pass
    store = TimedStore(pool, schema)
    store.latencies = []
    return pool, store


def as_started() -> None:
    """What `python -m services.ledger` does once started: what exists so far is moved out of the collector's
    reach (the collector stays enabled)."""
    gc.collect()
    gc.freeze()


async def count_fills(pool: asyncpg.Pool) -> int:
    return await pool.fetchval("SELECT count(*) FROM fills")


def ingestor(redis: aioredis.Redis, stream: str, store: LedgerStore) -> Ingestor:
    group = ConsumerGroup(redis, stream, "ledger", "bench")
    return Ingestor(group, store, LedgerMetrics(new_registry()), TracerProvider().get_tracer("bench"),
                    IngestOptions(batch_size=500, block_ms=100))


async def bench_sustained(dsn: str, redis: aioredis.Redis) -> None:
    stream = f"bench:{uuid.uuid4().hex[:8]}"
    pool, store = await fresh_ledger(dsn, f"bench_{uuid.uuid4().hex[:8]}")
    events = fill_events("s", INGEST_FILLS)
    await publish_all(redis, stream, events)
    stop = asyncio.Event()
    as_started()
    t0 = time.perf_counter()
    task = asyncio.create_task(ingestor(redis, stream, store).run(stop))
    while await count_fills(pool) < INGEST_FILLS:
        await asyncio.sleep(0.02)
    elapsed = time.perf_counter() - t0
    stop.set()
    await task
    unbalanced = await pool.fetchval("SELECT count(*) FROM (SELECT entry_id FROM journal_postings GROUP BY entry_id,"
                                     " currency HAVING sum(amount) <> 0) x")
    copy_s = await copy_baseline(pool, fill_rows(events))
    print(f"{'sustained ingest, bus → committed (journal incl.)':48} {INGEST_FILLS / elapsed:10.0f} fills/s"
          f"   ({INGEST_FILLS} fills in {elapsed:.2f} s, unbalanced entries: {unbalanced}; goal ≥ 1000/s)")
    print(f"{'  baseline: copy_records_to_table, same rows':48} {INGEST_FILLS / copy_s:10.0f} rows/s"
          f"   ({copy_s:.3f} s)")
    await redis.delete(stream)
    await pool.close()


async def bench_latency(dsn: str, redis: aioredis.Redis) -> None:
    stream = f"bench:{uuid.uuid4().hex[:8]}"
    pool, store = await fresh_ledger(dsn, f"bench_{uuid.uuid4().hex[:8]}")
    await ConsumerGroup(redis, stream, "ledger", "bench").ensure("0")
    stop = asyncio.Event()
    task = asyncio.create_task(ingestor(redis, stream, store).run(stop))
    bus = EventBus(redis, stream, maxlen=None)
    total = LATENCY_RATE * LATENCY_SECONDS
    events = fill_events("l", total)
    as_started()
    start = time.perf_counter()
    for i in range(total):
        # Pace by schedule, not by sleep length, so the rate holds whatever each publish costs.
        delay = start + i / LATENCY_RATE - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        ev = events[i]
        ev.event_time.FromDatetime(datetime.now(UTC))
        await bus.publish(ev.SerializeToString(), event_type="fill", account=ev.account_id)
    while await count_fills(pool) < total:
        await asyncio.sleep(0.02)
    stop.set()
    await task
    print(line(f"fill → committed at {LATENCY_RATE} fills/s", summary_ms(store.latencies)) + "   goal p99 ≤ 50 ms")
    rows = fill_rows(events)
    per_row = []
    async with pool.acquire() as conn:
        await conn.execute("CREATE TABLE copy_latency (LIKE fills INCLUDING DEFAULTS)")
        for row in rows[:total]:
            t0 = time.perf_counter()
            await conn.copy_records_to_table("copy_latency", records=[row], columns=FILL_COLUMNS)
            per_row.append(time.perf_counter() - t0)
        await conn.execute("DROP TABLE copy_latency")
    print(line("  baseline: copy_records_to_table, one row", summary_ms(per_row)))
    await redis.delete(stream)
    await pool.close()


async def bench_replay(dsn: str, redis: aioredis.Redis) -> None:
    stream = f"bench:{uuid.uuid4().hex[:8]}"
    pool, store = await fresh_ledger(dsn, f"bench_{uuid.uuid4().hex[:8]}")
    events = fill_events("r", REPLAY_FILLS)
    await publish_all(redis, stream, events)
    replayer = Replayer(store, redis, stream)
    as_started()
    t0, cpu0 = time.perf_counter(), time.process_time()
    result = await replayer.from_bus("0", "")
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    t1 = time.perf_counter()
    again = await replayer.from_bus("0", "")
    again_s = time.perf_counter() - t1
    copy_s = await copy_baseline(pool, fill_rows(events), chunk=10_000)
    print(f"{'replay 10,000 executions from the bus':48} {elapsed:10.2f} s"
          f"   (applied {result.applied}, {REPLAY_FILLS / elapsed:.0f} fills/s, this process's CPU {cpu:.2f} s;"
          f" goal ≤ 1 s)")
    print(f"{'  replay again (all duplicates)':48} {again_s:10.2f} s   (applied {again.applied},"
          f" duplicates {again.duplicates})")
    print(f"{'  baseline: copy_records_to_table, same rows':48} {copy_s:10.2f} s")
    await redis.delete(stream)
    await pool.close()


SECTIONS = {"sustained": bench_sustained, "latency": bench_latency, "replay": bench_replay}


async def main(sections: list[str]) -> None:
    logging.basicConfig(level=logging.WARNING)
    run_dir = Path(tempfile.mkdtemp(prefix="bench-ledger-"))
    pg = infra.resolve_postgres(run_dir, prefer_local=True)
    rd = infra.resolve_redis(run_dir, prefer_local=True)
    database = f"bench_ledger_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(pg.url)
    await admin.execute(f'CREATE DATABASE "{database}"')
    await admin.close()
    dsn = pg.url.rsplit("/", 1)[0] + f"/{database}" if "?" not in pg.url else pg.url
    redis = aioredis.from_url(rd.url, decode_responses=False)
    try:
        print(f"ledger benchmark — Postgres {pg.url.split('@')[-1]}, Redis {rd.url}, load average "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        for name in sections:
            await SECTIONS[name](dsn, redis)
    finally:
        await redis.aclose()
        admin = await asyncpg.connect(pg.url)
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()
        pg.stop()
        rd.stop()


if __name__ == "__main__":
    chosen = sys.argv[1:] or list(SECTIONS)
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        sys.exit(f"unknown section(s) {unknown}; choose from {list(SECTIONS)}")
    asyncio.run(main(chosen))
