"""Booking a replay range chunk by chunk as it is read, in one transaction; the two-pass booking of `bulk.py`
when the range needs it.

`bulk.RangeBooker` writes each chunk's bus events and fills as they arrive but books the journal only once
the whole range is in: Postgres inserts the journal (most of its work) after Python has decoded everything,
so the two barely overlap. Here each chunk is booked as soon as its rows are in, against positions and
balances carried in memory, and its journal statement queued behind them: Postgres writes chunk N while
Python reads, decodes and books chunk N+1.

Booking a chunk before the rest of the range is known gives the two-pass result only when no later event
changes a fill already booked. So a range is streamed only while it holds no correction and no commission
report for a fill of an earlier chunk (the bridge joins commissions to their fills, and corrections are
rare); on the first one, the transaction is rolled back and the range booked again by `bulk.RangeBooker`
from the chunks already decoded, then the rest. A report for a fill of the same chunk, a later chunk or one
booked before the range, and a correction stored before the range, are booked as the two-pass booking does.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator, Sequence

import asyncpg

from services.ledger import journal
from services.ledger.bulk import RangeBooker, breathe
from services.ledger.positions import PositionState
from services.ledger.records import CommissionRecord, FillRecord, IngestEvent
from services.ledger.store import BatchResult, LedgerStore

BOOK_SLICE = 50
"""Fills booked between two turns of the event loop: the writer sends the next statement when it gets one, so
Postgres never waits long on Python's booking."""


JOURNAL_STATEMENT = 1000
"""Entries per journal COPY: the last one, written after the last booking, is the tail of a replay."""


class GaveUp(Exception):
    """The range holds an event that changes a fill already booked: book it in two passes instead."""


class StreamingRangeBooker(RangeBooker):
    """A `RangeBooker` that books each chunk once its rows are in (`step`), without waiting for the range."""

    def __init__(self, store: LedgerStore, conn: asyncpg.Connection) -> None:
        super().__init__(store, conn)
        self.gave_up = False
        self._plan.start_book()
        self._booking: collections.deque[asyncio.Future[list]] = collections.deque()
        self._fill_ids: set[str] = set()  # execution ids of the fills of the chunks added so far
        self._positions_read: set[tuple[str, str]] = set()
        self._accounts_read: set[str] = set()
        self._ids_needed = 0

    async def add(self, events: Sequence[IngestEvent]) -> None:  # type: ignore[override]
        """The next chunk; a correction, or a report for a fill of an earlier chunk, gives up streaming (the
        fills of the range's earlier chunks may be booked already)."""
        earlier, seen = self._fill_ids, self._seen
        for e in events:
            r = e.record
            if e.event_id in seen:  # the same event again: dropped by `RangeBooker.add`
                continue
            if isinstance(r, FillRecord):
                if r.correction or (r.commission is not None and r.execution_id in earlier):
                    self.gave_up = True
            elif isinstance(r, CommissionRecord) and r.execution_id in earlier:
                self.gave_up = True
        if self.gave_up:
            return
        earlier.update(e.record.execution_id for e in events if isinstance(e.record, FillRecord))
        pending = len(self._pending)
        await super().add(events)
        if len(self._pending) > pending:
            self._booking.append(self._pending[-1])

    async def _chunk(self, chunk: list[IngestEvent], fill_rows: dict[str, str] | None) -> list:  # type: ignore[override]
        """Writes the chunk (`RangeBooker._chunk`), then reads what booking its new fills needs that is not in
        memory yet: their positions (created if missing, locked), journal accounts (locked) and entry ids."""
        plan, conn, q = self._plan, self._conn, self._q
        start = len(plan.new)
        await super()._chunk(chunk, fill_rows)
        new = plan.new[start:]
        if not new:
            return new
        positions: dict[tuple[str, str], FillRecord] = {}
        accounts: set[str] = set()
        entries = 0
        for f, _ in new:
            key = (f.account_id, f.instrument_key)
            if key not in self._positions_read:
                positions.setdefault(key, f)
            x = f.execution_id
            if x in plan.stored_corrections:  # corrected before the range: kept out of the books
                plan.superseded_by.setdefault(x, plan.stored_corrections[x])
                continue
            entries += 1
            accounts.update(a.key for a in journal._fill_accounts(f.account_id, f.instrument_key, f.currency))
            commission = plan._commission(x)
            if commission is not None and commission[1] != f.currency:
                accounts.update(a.key for a in journal.commission_accounts(f.account_id, f.instrument_key, commission[1],
                                                                           f.currency))
                entries += 1
        if positions:
            rows = sorted(positions.items())
            self._positions_read.update(positions)
            for r in await conn.fetch(q["upsert_lock_positions"], [k[0] for k, _ in rows], [k[1] for k, _ in rows],
                                      [f.symbol for _, f in rows], [f.currency for _, f in rows],
                                      [f.multiplier for _, f in rows], [f.instrument for _, f in rows]):
                plan.positions[(r["account_id"], r["instrument_key"])] = PositionState(
                    r["quantity"], r["cost_basis"], r["cost_fees"], r["realized_pnl"])
        await self._lock_accounts(accounts)
        await self._draw_ids(entries)
        return new

    async def _lock_accounts(self, keys: set[str]) -> None:
        """Locks the journal accounts not read yet; missing ones are created when first posted to."""
        keys -= self._accounts_read
        if keys:
            self._accounts_read.update(keys)
            balances = self._plan.book.balances
            for r in await self._conn.fetch(self._q["lock_journal_accounts"], sorted(keys)):
                balances.setdefault(r["account_key"], [r["balance"], r["version"], None, None, None])

    async def _draw_ids(self, entries: int) -> None:
        """Ids for `entries` more entries (the chunks draw one per new fill as they write them)."""
        plan = self._plan
        self._ids_needed += entries
        more = self._ids_needed - len(plan.entry_ids)
        if more > 0:
            plan.entry_ids.extend(r[0] for r in await self._conn.fetch(self._q["bulk_draw_ids"], more))

    async def step(self, *, final: bool = False) -> None:
        """Book every chunk whose rows are in (every chunk with `final`), in stream order, queueing its journal
        statement behind them."""
        plan, q, conn, put = self._plan, self._q, self._conn, self._writer.put
        while self._booking and (final or self._booking[0].done()):
            new = await self._booking.popleft()
            for i in range(0, len(new), BOOK_SLICE):
                plan.book_fills(new[i:i + BOOK_SLICE], q, conn, put)
                if len(plan.book.entries) >= JOURNAL_STATEMENT:
                    plan.flush(q, conn, put)
                await breathe()
            plan.flush(q, conn, put)
            await breathe()
            # Their commissions too, now rather than all at the end: no later report can change them (that
            # would have given up streaming).
            plan.write_commissions(q, conn, put, only=[f.execution_id for f, _ in new])

    async def finish(self, *, dry_run: bool) -> BatchResult:
        """Book what is left (late commissions, other events, commissions, balances), then COMMIT (ROLLBACK
        with `dry_run`). Raises `GaveUp` before committing anything if streaming was given up."""
        if self.gave_up:
            raise GaveUp
        await self.step(final=True)
        store, conn, q, writer, plan = self._store, self._conn, self._q, self._writer, self._plan
        for p in self._pending:
            await p
        await writer.call(self._read_late)
        if self._others:
            others = self._others
            writer.put(lambda: store.book_non_fills(conn, others, orders=True))
        plan.write_commissions(q, conn, writer.put)
        plan.book_late()
        plan.finish_writes(q, conn, writer.put)
        writer.put(lambda: conn.execute("ROLLBACK" if dry_run else "COMMIT"))
        await writer.finish()  # raises the first refused statement's error
        new, todo = len(plan.new), len(self._todo)
        return BatchResult(todo, self.read - todo, new, len(plan.fills) - new, plan.entries)

    async def _read_late(self) -> None:
        """Commissions settled after their fill (see `settlement.py`): their positions and accounts."""
        plan, conn, q = self._plan, self._conn, self._q
        plan.late = plan.late_commissions()
        if not plan.late:
            return
        keys = sorted({(o["account_id"], o["instrument_key"]) for _, o in plan.late} - self._positions_read)
        if keys:
            self._positions_read.update(keys)
            for r in await conn.fetch(q["lock_positions"], [k[0] for k in keys], [k[1] for k in keys]):
                plan.positions[(r["account_id"], r["instrument_key"])] = PositionState(
                    r["quantity"], r["cost_basis"], r["cost_fees"], r["realized_pnl"])
        await self._lock_accounts({a.key for c, o in plan.late
                                   for a in journal.commission_accounts(o["account_id"], o["instrument_key"], c.currency,
                                                                       o["currency"])})
        await self._draw_ids(len(plan.late))


async def book_range(store: LedgerStore, chunks: AsyncIterator[Sequence[IngestEvent]], *,
                     dry_run: bool = False) -> BatchResult:
    """Book a replay range, given as decoded chunks in stream order, in one transaction; idempotent like
    `LedgerStore.book`. Streamed while it can be; otherwise in two passes (`bulk.RangeBooker`)."""
    taken: list[Sequence[IngestEvent]] = []
    async with store.pool.acquire() as conn:
        booker: RangeBooker = StreamingRangeBooker(store, conn)
        try:
            async for chunk in chunks:
                taken.append(chunk)
                await booker.add(chunk)
                if booker.gave_up:
                    break
                await booker.step()
            return await booker.finish(dry_run=dry_run)
        except GaveUp:
            await booker.abort()
        except BaseException:
            await booker.abort()
            raise
        booker = RangeBooker(store, conn)
        try:
            for chunk in taken:
                await booker.add(chunk)
            async for chunk in chunks:
                await booker.add(chunk)
            return await booker.finish(dry_run=dry_run)
        except BaseException:
            await booker.abort()
            raise
