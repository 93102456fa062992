"""Booking a whole replay range in one transaction, in two passes: the rows as they arrive, the journal once the
whole range is in. `streaming.py` books most ranges chunk by chunk with these same pieces, and falls back to
`RangeBooker` for a range where a later event changes a fill of an earlier chunk.

Replay used to book 500 events per transaction through `LedgerStore.book`, each chunk waiting for the
positions the previous one committed: Python and Postgres took turns. Here, under the writer lock taken
first (so "not in the ledger yet" stays true until commit):
- each decoded chunk's new bus events and new fills are COPYed into their tables as it arrives, after one
  read of what the ledger held before the range (fills, commissions, corrections);
- once every chunk is in: positions and journal balances are read once, and every fill is booked in memory
  in stream order (positions and balances carried from fill to fill) in a worker thread, the rows going by
  text COPY straight into `commissions` and, for the journal, into `journal_entries` then
  `journal_postings` every JOURNAL_CHUNK entries, each sent as soon as it is encoded: Postgres inserts one
  while Python books the next.

Same rules as the store: duplicates skipped by event id and execution id, corrections supersede (an
original superseded within the range is never booked; one already booked is reversed exactly), the last
commission report of an execution wins, a commission for a fill booked earlier is expensed on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TypeVar

import asyncpg

from services.ledger import journal
from services.ledger.booking import add, position_delta, reversal_currency
from services.ledger.journal import AccountRef, EntryDraft, Posting
from services.ledger.positions import ZERO, FillEffect, PositionState, apply_fill
from services.ledger.records import CommissionRecord, FillRecord, IngestEvent
from services.ledger.settlement import Prior, Settler
from services.ledger.store import BatchResult, LedgerStore

T = TypeVar("T")

ENCODE_SLICE = 100
"""Rows encoded between two turns of the event loop."""
JOURNAL_CHUNK = 2000
"""Entries per journal statement: big enough that the per-statement checks and round trips are few, small
enough that Postgres starts on the journal while Python is still booking."""

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NULL = "\\N"


def _t(value: object) -> str:
    """One value in COPY text format."""
    if value is None:
        return _NULL
    if isinstance(value, str):
        return _s(value)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, bytes):
        return "\\\\x" + value.hex()
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)  # int, Decimal (Postgres reads exponent notation too)


def _s(text: str) -> str:
    """A string in COPY text format (translate is slow; most texts need no escape)."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(_ESCAPES)
    return text


def _copy_text(rows: list[str]) -> memoryview:
    # A buffer, not a file: asyncpg reads a file-like COPY source in the default executor, a thread hop (and a
    # wait for the GIL while Python books) per 512 KiB and one more for the end. Not bytes either: asyncpg
    # takes bytes for a path.
    return memoryview("".join(rows).encode())


async def breathe() -> None:
    """A turn of the event loop for the writer, between two slices of Python work: two turns in fact, since a
    reply Postgres sent meanwhile is read in the first and only wakes the writer's task for the second."""
    await asyncio.sleep(0)
    await asyncio.sleep(0)


class _Writer:
    """Runs the transaction's statements one after another on its connection (one statement at a time is
    all a connection does) while the caller decodes and books on; `call` waits for a result."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[Callable[[], Awaitable[object]] | None] = asyncio.Queue()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while (job := await self._queue.get()) is not None:
            await job()

    def put(self, job: Callable[[], Awaitable[object]]) -> bool:
        """Queue a statement; False once one has failed (`finish` raises its error)."""
        if self._task.done():
            return False
        self._queue.put_nowait(job)
        return True

    async def call(self, job: Callable[[], Awaitable[T]]) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()

        async def run() -> None:
            try:
                future.set_result(await job())
            except BaseException as exc:
                future.set_exception(exc)
                raise
        if self.put(run):
            # A statement queued earlier may fail first: then this one never runs, and its error is the one.
            await asyncio.wait((future, self._task), return_when=asyncio.FIRST_COMPLETED)
            if future.done():
                return future.result()
        await self._task  # raises the statement's error
        raise RuntimeError("the writer stopped")  # unreachable: it stops early only on an error

    async def finish(self) -> None:
        self._queue.put_nowait(None)
        await self._task

    async def abort(self) -> None:
        self._task.cancel()
        with contextlib.suppress(BaseException):  # the error being handled is the caller's
            await self._task


class _Journal:
    """Entries with running balances, daily P&L and flows, as COPY text chunks, in one pass over postings."""

    def __init__(self, balances: dict[str, tuple[Decimal, int]], entry_ids: list[int]) -> None:
        # [balance, version, the balance's text, the account's COPY text, its currency; texts once known]: a posting's
        # balance before is the text of the previous posting's balance after (one Decimal to text fewer each).
        self.balances = {k: [v[0], v[1], None, None, None] for k, v in balances.items()}
        self.touched: set[str] = set()
        self.created: list[AccountRef] = []  # accounts first posted to since the last `take`
        self._ids = iter(entry_ids)
        self.entries: list[str] = []
        self.postings: list[str] = []
        self.count = 0
        self.daily: dict[tuple[str, date, str], list[Decimal]] = {}
        self.flows: dict[tuple[str, date, str], list[Decimal]] = {}

    def add(self, entry: EntryDraft, event_time: datetime, currency: str) -> None:
        """Any entry: its daily P&L and flows are summed from its postings by account kind."""
        realized = commissions = qty = cash = Decimal(0)
        for p in entry.postings:
            kind, amount = p.account.kind, p.amount
            if kind == journal.COMMISSION:
                realized -= amount
                commissions += amount
            elif kind == journal.REALIZED_PNL:
                realized -= amount
            elif kind == journal.POSITION_FEES:
                commissions += amount
            elif kind == journal.POSITION_QTY:
                qty += amount
            elif kind == journal.CASH:
                cash += amount
        self.add_lines(entry.entry_key, entry.account_id, entry.kind, entry.execution_id, entry.instrument_key,
                       entry.description, [(p.account, p.amount) for p in entry.postings], event_time, currency,
                       realized, commissions, qty, cash)

    def add_fill(self, f: FillRecord, effect: FillEffect) -> None:
        """A fill's entry straight from its effect (no posting objects; the sums are the effect's own)."""
        self.add_lines(f"fill:{f.execution_id}", f.account_id, "fill", f.execution_id, f.instrument_key,
                       f"{f.side} {f.quantity!s} {f.symbol} @ {f.price!s}",
                       journal.fill_lines(f.account_id, f.instrument_key, f.currency, effect), f.fill_time,
                       f.currency, effect.realized_pnl, effect.opening_commission + effect.closing_commission,
                       effect.signed_quantity, effect.cash_change)

    def add_lines(self, entry_key: str, account_id: str, kind: str, execution_id: str, instrument_key: str,
                  description: str, lines: list[tuple[AccountRef, Decimal]], event_time: datetime, currency: str,
                  realized: Decimal, commissions: Decimal, qty: Decimal, cash: Decimal) -> None:
        entry_id = next(self._ids)
        self.count += 1
        row = (f"{entry_id}\t{entry_key}\t{account_id}\t{kind}\t{execution_id}\t{instrument_key}\t{description}\t"
               f"{event_time.isoformat()}\n")
        self.entries.append(row if _plain(row, 7, 1, 0) else
                            f"{entry_id}\t{_s(entry_key)}\t{_s(account_id)}\t{kind}\t{_s(execution_id)}\t"
                            f"{_s(instrument_key)}\t{_s(description)}\t{event_time.isoformat()}\n")
        balances, append, text = self.balances, self.postings.append, str
        line = 0
        for account, amount in lines:
            if not amount:  # zero lines carry nothing and the schema refuses them (as journal._postings)
                continue
            line += 1
            state = balances.get(account.key)
            if state is None:
                state = balances[account.key] = [ZERO, 0, "0", None, None]
                self.created.append(account)
            if state[3] is None:  # first posted to by this booking
                self.touched.add(account.key)
            if state[4] != account.currency:  # the posting's currency: see postings_of_entries
                state[3] = f"{_s(account.key)}\t{_s(account.currency)}"
                state[4] = account.currency
            before = state[2] or text(state[0])
            after = state[0] = state[0] + amount
            version = state[1] = state[1] + 1
            after_text = state[2] = text(after)
            append(f"{entry_id}\t{line}\t{state[3]}\t{amount}\t{before}\t{after_text}\t{version}\n")
        day = event_time.date()
        key = (account_id, day, currency)
        d = self.daily.get(key)
        if d is None:
            d = self.daily[key] = [ZERO, ZERO]
        d[0] += realized
        d[1] += commissions
        if instrument_key:
            key = (account_id, day, instrument_key)
            f = self.flows.get(key)
            if f is None:
                f = self.flows[key] = [ZERO, ZERO]
            f[0] += qty
            f[1] += cash

    def take(self) -> tuple[list[AccountRef], list[str], list[str]]:
        """The accounts to create, entry rows and posting rows added since the last call."""
        out = self.created, self.entries, self.postings
        self.created, self.entries, self.postings = [], [], []
        return out


class RangeBooker:
    """One replay transaction: `add` the decoded chunks of a range in stream order, then `finish`.

    Each chunk is written as it arrives — its new bus events, and its new fills after one read of what the
    ledger held before the range — so Postgres works while the next chunk is read and decoded. A fill's
    flags that a later chunk may change (superseded, commission booked) are corrected at the end. At
    `finish` all fills are booked in one pass and the commissions and the journal written.
    """

    def __init__(self, store: LedgerStore, conn: asyncpg.Connection) -> None:
        self._store, self._conn, self._q = store, conn, store.q
        self._writer = _Writer()
        self._seen: set[str] = set()
        self._pending: list[asyncio.Future[None]] = []
        self._todo: list[IngestEvent] = []
        self._others: list[IngestEvent] = []
        self._plan = _Plan()
        self._expect_new = True
        self.read = 0

        async def begin() -> None:
            await conn.execute(self._q["begin_writer"])
            # Rows this transaction writes get `commit_seq` values from here on: the reads of later chunks
            # tell the ledger's earlier rows from the range's own by it.
            self._plan.start_seq = await conn.fetchval(self._q["bulk_start_seq"])
        self._writer.put(begin)

    async def add(self, events: Sequence[IngestEvent]) -> None:
        """The next chunk of the range (duplicates of earlier chunks' events are dropped here)."""
        chunk = []
        for e in events:
            if e.event_id not in self._seen:
                self._seen.add(e.event_id)
                chunk.append(e)
        self.read += len(events)
        if chunk:
            # While the previous chunk held new fills, this one's fill rows are encoded here, by the caller,
            # rather than in `_chunk`: the writer runs one statement at a time, and Postgres would wait meanwhile.
            # (A range already in the ledger would only waste the encoding.) A slice at a time, with a turn of
            # the event loop between, so the writer is not kept waiting either.
            fill_rows: dict[str, str] | None = None
            if self._expect_new:
                fill_rows = {}
                for i in range(0, len(chunk), ENCODE_SLICE):
                    for e in chunk[i:i + ENCODE_SLICE]:
                        if isinstance(e.record, FillRecord):
                            fill_rows[e.event_id] = _fill_row(e.record, e.event_id)
                    await breathe()
            self._pending.append(asyncio.ensure_future(self._writer.call(lambda: self._chunk(chunk, fill_rows))))

    async def _chunk(self, chunk: list[IngestEvent], fill_rows: dict[str, str] | None) -> None:
        conn, q, plan = self._conn, self._q, self._plan
        stored = [e for e in chunk if e.store]
        # What the ledger holds of the chunk's events and of the executions its new events name, and entry ids,
        # in one round trip.
        names: list[tuple[str, str, bool]] = []  # (execution id, event naming it, is it its fill seen first)
        first_seen: set[str] = set()
        for e in chunk:
            r = e.record
            if isinstance(r, FillRecord):
                x = r.execution_id
                names.append((x, e.event_id, x not in plan.fills and x not in first_seen))
                first_seen.add(x)
                if r.correction and r.supersedes:
                    names.append((r.supersedes, e.event_id, False))
            elif isinstance(r, CommissionRecord):
                names.append((r.execution_id, e.event_id, False))
        existing: set[str] = set()
        if stored or names:
            context, drawn = [], []
            for row in await conn.fetch(q["bulk_chunk_context"], [e.event_id for e in stored], [n[0] for n in names],
                                        plan.start_seq, [n[1] for n in names], [n[2] for n in names]):
                what = row["what"]
                if what == "event":
                    existing.add(row["execution_id"])
                elif what == "id":
                    drawn.append(row["id"])
                else:
                    context.append(row)
            plan.merge_context(context)
            plan.entry_ids.extend(sorted(drawn))
        new = [e for e in stored if e.event_id not in existing]
        if new:  # `seq` is drawn by the column default, row by row in stream order. Binary: no numbers to encode,
            # and the payload goes as it is rather than in hex (half the bytes, no decoding).
            await conn.copy_records_to_table("bus_events", columns=_BUS_EVENT_COLUMNS, records=[
                (e.event_id, e.stream, e.stream_id, e.event_type, e.account_id, e.event_time, e.payload,
                 e.traceparent, e.tracestate) for e in new])
        todo = [e for e in chunk if not e.store or e.event_id not in existing]
        self._todo.extend(todo)
        fills = []
        for e in todo:
            r = e.record
            if isinstance(r, FillRecord):
                if r.execution_id not in plan.fills:  # the first event of an execution id wins
                    plan.fills[r.execution_id] = (r, e.event_id)
                    fills.append((r, e.event_id))
                plan.settler.feed(r, e.event_id)  # its commission: settlement.py's rule, in stream order
            elif isinstance(r, CommissionRecord):
                plan.settler.feed(r, e.event_id)
            elif r is not None:
                self._others.append(e)
        rows = plan.new_fills([(f, ev) for f, ev in fills if f.execution_id not in plan.stored_fills], fill_rows)
        self._expect_new = bool(rows)
        if rows:
            await conn.copy_to_table("fills", source=_copy_text(rows), columns=_FILL_COLUMNS)

    async def finish(self, *, dry_run: bool) -> BatchResult:
        """Book what is new, then COMMIT (ROLLBACK with `dry_run`)."""
        store, conn, q, writer, plan = self._store, self._conn, self._q, self._writer, self._plan
        for p in self._pending:
            await p
        await writer.call(lambda: plan.read(q, conn))
        if self._others:
            others = self._others
            writer.put(lambda: store.book_non_fills(conn, others, orders=True))
        loop = asyncio.get_running_loop()
        # Python books in a thread, handing each COPY to the event loop as soon as it is encoded, so Postgres
        # writes chunk N while chunk N+1 is booked (the loop thread needs the GIL only to move bytes).
        await asyncio.to_thread(plan.produce, q, conn, lambda job: loop.call_soon_threadsafe(writer.put, job))
        writer.put(lambda: conn.execute("ROLLBACK" if dry_run else "COMMIT"))
        await writer.finish()  # raises the first refused statement's error
        new, todo = len(plan.new), len(self._todo)
        return BatchResult(todo, self.read - todo, new, len(plan.fills) - new, plan.entries)

    async def abort(self) -> None:
        await self._writer.abort()
        for p in self._pending:
            p.cancel()
        if not self._conn.is_closed():
            with contextlib.suppress(Exception):  # the original error is the one to raise
                await self._conn.execute("ROLLBACK")


class _Plan:
    """What the range holds, what the ledger already has of it, and what to do about each fill."""

    def __init__(self) -> None:
        self.start_seq = 0
        self.fills: dict[str, tuple[FillRecord, str]] = {}
        self.settler = Settler(self._prior)
        self.entries = 0
        self.new: list[tuple[FillRecord, str]] = []
        self.stored_fills: dict[str, asyncpg.Record] = {}
        self.stored_commissions: dict[str, tuple[Decimal, str]] = {}
        self.stored_corrections: dict[str, str] = {}
        self.corrected_in_range: dict[str, str] = {}
        self.written: dict[str, tuple[str | None, bool]] = {}  # flags the new fills were written with
        self.entry_ids: list[int] = []  # ascending: drawn under the writer lock, chunk after chunk
        self.positions: dict[tuple[str, str], PositionState] = {}
        self.balances: dict[str, tuple[Decimal, int]] = {}
        self.superseded_by: dict[str, str] = {}
        self.reverse_new: dict[str, str] = {}  # correction → the original of the range it reverses
        self.kept: dict[str, list[Posting]] = {}  # entries of those originals, by entry key
        self.reverse: list[tuple[FillRecord, asyncpg.Record]] = []
        self.late: list[tuple[CommissionRecord, asyncpg.Record]] = []
        self.originals: dict[str, list[Posting]] = {}
        self.commissions_written: set[str] = set()
        self.book = _Journal({}, [])

    def merge_context(self, rows: list[asyncpg.Record]) -> None:
        """What the ledger held before the range about some execution ids (`bulk_chunk_context`)."""
        for r in rows:
            what = r["what"]
            if what == "fill":
                self.stored_fills[r["execution_id"]] = r
            elif what == "commission":
                self.stored_commissions[r["execution_id"]] = (r["amount"], r["currency"])
            else:
                self.stored_corrections.setdefault(r["execution_id"], r["other"])

    def new_fills(self, fills: list[tuple[FillRecord, str]], fill_rows: dict[str, str] | None) -> list[str]:
        """COPY rows of a chunk's new fills (`fill_rows` by event id, encoded already but for the two flags),
        flagged as far as is known now; `read` corrects the rest."""
        self.new.extend(fills)
        for f, _ in fills:
            if f.correction and f.supersedes:
                self.corrected_in_range.setdefault(f.supersedes, f.execution_id)
        rows = []
        for f, ev in fills:
            superseded = self.corrected_in_range.get(f.execution_id) or self.stored_corrections.get(f.execution_id)
            has_commission = self.settled(f.execution_id)
            self.written[f.execution_id] = (superseded, has_commission)
            row = fill_rows[ev] if fill_rows is not None else _fill_row(f, ev)
            rows.append(f"{row}\t{_t(superseded)}\t{'t' if has_commission else 'f'}\n")
        return rows

    async def read(self, q, conn: asyncpg.Connection) -> None:  # type: ignore[no-untyped-def]
        """The rest of what the booking needs from the ledger, once every chunk is in."""
        stored_fills, stored_corrections, new = self.stored_fills, self.stored_corrections, self.new

        # Kept out of the books by a correction (stored, or in this range); stored originals to reverse.
        superseded_by = self.superseded_by
        position = {f.execution_id: i for i, (f, _) in enumerate(new)}
        for f, _ in new:
            if f.correction and f.supersedes:
                o = stored_fills.get(f.supersedes)
                x = f.supersedes
                if o is None and x in position and position[x] < position[f.execution_id] \
                        and x not in superseded_by and x not in stored_corrections:
                    # Corrected later in the range: booked, then reversed at its correction (as one by one).
                    self.reverse_new[f.execution_id] = x
                    superseded_by[x] = f.execution_id
                elif o is None:
                    superseded_by.setdefault(f.supersedes, f.execution_id)
                elif o["other"] is None and f.supersedes not in superseded_by:
                    self.reverse.append((f, o))
                    superseded_by[f.supersedes] = f.execution_id
        for f, _ in new:
            if f.execution_id in stored_corrections:
                superseded_by.setdefault(f.execution_id, stored_corrections[f.execution_id])
        # Commissions for fills booked earlier without one: expensed on their own.
        self.late = self.late_commissions()
        if self.reverse:
            keys = [f"{kind}:{o['execution_id']}" for _, o in self.reverse for kind in ("fill", "commission")]
            for r in await conn.fetch(q["postings_of_entries"], keys):
                ref = AccountRef.stored(r["account_id"], r["kind"], r["currency"], r["instrument_key"], r["account_key"])
                self.originals.setdefault(r["entry_key"], []).append(Posting(ref, r["amount"]))

        # Positions: created for every new fill's instrument, then read once.
        first: dict[tuple[str, str], FillRecord] = {}
        for f, _ in new:
            first.setdefault((f.account_id, f.instrument_key), f)
        self.position_keys = keys_ = sorted({*first, *((o["account_id"], o["instrument_key"]) for _, o in self.reverse),
                                             *((o["account_id"], o["instrument_key"]) for _, o in self.late)})
        if first:
            rows = sorted(first.items())
            await conn.execute(q["ensure_positions"], [k[0] for k, _ in rows], [k[1] for k, _ in rows],
                               [f.symbol for _, f in rows], [f.currency for _, f in rows],
                               [f.multiplier for _, f in rows], [f.instrument for _, f in rows])
        self.positions = {
            (r["account_id"], r["instrument_key"]):
                PositionState(r["quantity"], r["cost_basis"], r["cost_fees"], r["realized_pnl"])
            for r in (await conn.fetch(q["lock_positions"], [k[0] for k in keys_], [k[1] for k in keys_])
                      if keys_ else [])}

        # Journal accounts locked in key order, and an id for every entry that may be written (an unused one is
        # only a gap in `commit_seq`; entry ids need only be unique and in commit order).
        accounts: dict[str, AccountRef] = {}
        max_entries = 0
        booked_first = set(self.reverse_new.values())
        max_entries += 2 * len(booked_first)  # their reversals
        for f, _ in new:
            if f.execution_id in superseded_by and f.execution_id not in booked_first:
                continue
            for a in journal._fill_accounts(f.account_id, f.instrument_key, f.currency):
                accounts[a.key] = a
            max_entries += 1
            ccy = self._commission(f.execution_id)
            if ccy is not None and ccy[1] != f.currency:
                for a in journal.commission_accounts(f.account_id, f.instrument_key, ccy[1], f.currency):
                    accounts[a.key] = a
                max_entries += 1
        for _, o in self.reverse:
            for kind in ("fill", "commission"):
                for p in self.originals.get(f"{kind}:{o['execution_id']}", []):
                    accounts[p.account.key] = p.account
                max_entries += 1
        for c, o in self.late:
            for a in journal.commission_accounts(o["account_id"], o["instrument_key"], c.currency, o["currency"]):
                accounts[a.key] = a
            max_entries += 1
        # Accounts that exist are locked now; missing ones are created as the booking first posts to them.
        locked = await conn.fetch(q["lock_journal_accounts"], sorted(accounts)) if accounts else []
        self.balances = {r["account_key"]: (r["balance"], r["version"]) for r in locked}
        more = max_entries - len(self.entry_ids)  # drawn by the chunks: one per new fill
        if more > 0:
            self.entry_ids.extend(r[0] for r in await conn.fetch(q["bulk_draw_ids"], more))

    def _prior(self, execution_id: str) -> Prior:
        """What the ledger held of an execution before the range (asked at the range's first event naming it,
        once that event's chunk context is read)."""
        o = self.stored_fills.get(execution_id)
        if o is not None:
            return Prior(True, o["commission_booked"], None)
        return Prior(False, False, self.stored_commissions.get(execution_id))

    def _commission(self, execution_id: str) -> tuple[Decimal, str] | None:
        """The commission booked with a new fill of the range (settled at its first fill)."""
        s = self.settler.executions.get(execution_id)
        return s.with_fill if s is not None else None

    def settled(self, execution_id: str) -> bool:
        """Whether the execution's commission is settled (the `commission_booked` flag) so far."""
        s = self.settler.executions.get(execution_id)
        return s is not None and s.settled

    def late_commissions(self) -> list[tuple[CommissionRecord, Mapping]]:
        """Commissions settled after their fill (booked before the range, or in it without one), for fills
        not superseded: expensed on their own, after every fill of the range."""
        out: list[tuple[CommissionRecord, Mapping]] = []
        for x, s in self.settler.executions.items():
            if s.late is None or x in self.superseded_by:
                continue
            o = self.stored_fills.get(x)
            if o is not None:
                if o["other"] is not None:
                    continue
                ref: Mapping = o
            elif x in self.fills:
                f = self.fills[x][0]
                ref = {"execution_id": x, "account_id": f.account_id, "instrument_key": f.instrument_key,
                       "fill_time": f.fill_time, "currency": f.currency}
            else:
                continue
            out.append((CommissionRecord(x, ref["account_id"], s.late[0], s.late[1], None, None), ref))
        return out

    def produce(self, q, conn: asyncpg.Connection, emit: Callable[[Callable[[], Awaitable[object]]], None]) -> None:  # type: ignore[no-untyped-def]
        """The writes, encoded and handed to `emit` in order (runs in a worker thread: no I/O here)."""
        self.write_commissions(q, conn, emit)
        self.start_book()
        self.book_fills(self.new, q, conn, emit)
        self.book_late()
        self.finish_writes(q, conn, emit)

    def write_commissions(self, q, conn: asyncpg.Connection, emit, only: Sequence[str] | None = None) -> None:  # type: ignore[no-untyped-def]
        """The settled commission rows (settlement.py) of the executions `only` names (each written once), or
        all those not written yet: inserted for an execution without a stored commission, else replacing it."""
        executions = self.settler.executions
        todo = [(x, executions[x].write) for x in (only if only is not None else executions)
                if x in executions and executions[x].write is not None and x not in self.commissions_written]
        self.commissions_written.update(x for x, _ in todo)
        rows = [f"{_s(c.execution_id)}\t{_s(c.account_id)}\t{c.amount!s}\t{_s(c.currency)}\t{_t(c.realized_pnl)}\t"
                f"{_t(c.report_time)}\t{_s(ev)}\n"
                for x, (c, ev) in todo if x not in self.stored_commissions]
        if rows:
            data = _copy_text(rows)
            emit(lambda: conn.copy_to_table("commissions", source=data, columns=_COMMISSION_COLUMNS))
        again = [w for x, w in todo if x in self.stored_commissions]
        if again:
            args = ([c.execution_id for c, _ in again], [c.account_id for c, _ in again],
                    [c.amount for c, _ in again], [c.currency for c, _ in again], [c.realized_pnl for c, _ in again],
                    [c.report_time for c, _ in again], [ev for _, ev in again])
            emit(lambda: conn.execute(q["upsert_commissions"], *args))

    def start_book(self) -> None:
        """The journal the fills are booked into, over the balances read so far."""
        self.book = _Journal(self.balances, self.entry_ids)

    def flush(self, q, conn: asyncpg.Connection, emit) -> None:  # type: ignore[no-untyped-def]
        """The entries booked since the last flush and their postings, by COPY."""
        created, entries, postings = self.book.take()
        if not entries:
            return
        e_data, p_data = _copy_text(entries), _copy_text(postings)
        created.sort(key=lambda a: a.key)
        new_accounts = ([a.key for a in created], [a.account_id for a in created], [a.kind for a in created],
                        [a.currency for a in created], [a.instrument_key for a in created])

        async def job() -> None:
            if created:  # before the postings naming them (the statement's checks look them up)
                await conn.execute(q["ensure_journal_accounts"], *new_accounts)
            # Entries first: the postings' statement checks that the entries they name exist; that every
            # entry has postings is checked at COMMIT (migration 0009).
            await conn.copy_to_table("journal_entries", source=e_data, columns=_ENTRY_COLUMNS)
            await conn.copy_to_table("journal_postings", source=p_data, columns=_POSTING_COLUMNS)
        emit(job)

    def _post(self, key: tuple[str, str], entry: EntryDraft, event_time: datetime, currency: str) -> None:
        if entry.postings:
            self.positions[key] = add(self.positions.get(key, PositionState()), position_delta(entry.postings))
            self.book.add(entry, event_time, currency)

    def book_fills(self, fills: Sequence[tuple[FillRecord, str]], q, conn: asyncpg.Connection, emit) -> None:  # type: ignore[no-untyped-def]
        """New fills in stream order against positions carried in memory (a stored original a correction
        supersedes is reversed first); the journal goes to `emit` every JOURNAL_CHUNK entries."""
        book, positions, post = self.book, self.positions, self._post
        reversing = {f.execution_id: o for f, o in self.reverse} if self.reverse else {}
        reverse_new = self.reverse_new
        booked_first = set(reverse_new.values()) if reverse_new else ()
        for f, _ in fills:
            x = reverse_new.get(f.execution_id) if reverse_new else None
            if x is not None:
                o = self.fills[x][0]
                for kind in ("fill", "commission"):
                    original = f"{kind}:{x}"
                    kept = self.kept.get(original, [])
                    post((o.account_id, o.instrument_key),
                         journal.reversal_entry(original, kept, account_id=o.account_id,
                                                execution_id=x, instrument_key=o.instrument_key,
                                                reason=f"superseded by {f.execution_id}"),
                         o.fill_time, reversal_currency(kept, o.currency))
            o = reversing.get(f.execution_id) if reversing else None
            if o is not None:
                for kind in ("fill", "commission"):
                    original = f"{kind}:{o['execution_id']}"
                    postings = self.originals.get(original, [])
                    post((o["account_id"], o["instrument_key"]),
                         journal.reversal_entry(original, postings,
                                                account_id=o["account_id"], execution_id=o["execution_id"],
                                                instrument_key=o["instrument_key"],
                                                reason=f"superseded by {f.execution_id}"),
                         o["fill_time"], reversal_currency(postings, o["currency"]))
            if f.execution_id in self.superseded_by and f.execution_id not in booked_first:
                continue
            key = (f.account_id, f.instrument_key)
            commission = self._commission(f.execution_id)
            inline = commission[0] if commission and commission[1] == f.currency else ZERO
            effect = apply_fill(positions.get(key, PositionState()), f.side, f.quantity, f.price, f.multiplier,
                                inline)
            positions[key] = effect.after
            book.add_fill(f, effect)
            separate = None
            if commission is not None and commission[1] != f.currency and commission[0] != 0:
                separate = journal.commission_entry(account_id=f.account_id, execution_id=f.execution_id,
                                                    instrument_key=f.instrument_key, currency=commission[1],
                                                    amount=commission[0], trade_currency=f.currency)
                post(key, separate, f.fill_time, commission[1])
            if f.execution_id in booked_first:  # kept for its reversal
                self.kept[f"fill:{f.execution_id}"] = [
                    Posting(a, amount) for a, amount in journal.fill_lines(f.account_id, f.instrument_key,
                                                                           f.currency, effect) if amount]
                self.kept[f"commission:{f.execution_id}"] = list(separate.postings) if separate else []
            if len(book.entries) >= JOURNAL_CHUNK:
                self.flush(q, conn, emit)

    def book_late(self) -> None:
        """Commissions for fills booked before the range, expensed after every fill of it."""
        for c, o in self.late:
            if c.amount != 0:
                self._post((o["account_id"], o["instrument_key"]),
                           journal.commission_entry(account_id=o["account_id"], execution_id=c.execution_id,
                                                    instrument_key=o["instrument_key"], currency=c.currency,
                                                    amount=c.amount, trade_currency=o["currency"]), o["fill_time"], c.currency)

    def finish_writes(self, q, conn: asyncpg.Connection, emit) -> None:  # type: ignore[no-untyped-def]
        """The last journal statement, then balances, positions, daily P&L and flags in one statement."""
        book, positions = self.book, self.positions
        self.flush(q, conn, emit)
        self.entries = book.count

        balances = sorted((k, v) for k, v in book.balances.items() if k in book.touched)
        pos = sorted(positions.items())  # the positions read (position_keys) and any posted to
        daily = sorted(book.daily.items())
        flows = sorted(book.flows.items())
        # Flags the fills were written with that a later chunk changed, and commissions booked late.
        commission_flags = {x: True for x, s in self.settler.executions.items()
                            if s.settled and x in self.stored_fills and not self.stored_fills[x]["commission_booked"]}
        superseded = [(o["execution_id"], f.execution_id) for f, o in self.reverse]
        for f, _ in self.new:
            x = f.execution_id
            final = self.superseded_by.get(x)
            has_commission = self.settled(x)
            written_superseded, written_commission = self.written[x]
            if final != written_superseded:
                superseded.append((x, final))
            if has_commission != written_commission:
                commission_flags[x] = has_commission
        late_ids = sorted(commission_flags)
        args = (
            [k for k, _ in balances], [v[0] for _, v in balances], [v[1] for _, v in balances],
            [k[0] for k, _ in pos], [k[1] for k, _ in pos], [p.quantity for _, p in pos],
            [p.cost_basis for _, p in pos], [p.cost_fees for _, p in pos], [p.realized_pnl for _, p in pos],
            [k[0] for k, _ in daily], [k[1] for k, _ in daily], [k[2] for k, _ in daily], [v[0] for _, v in daily],
            [v[1] for _, v in daily],
            [k[0] for k, _ in flows], [k[1] for k, _ in flows], [k[2] for k, _ in flows], [v[0] for _, v in flows],
            [v[1] for _, v in flows],
            late_ids, [commission_flags[x] for x in late_ids], [], [], [], [], [], [], [])
        emit(lambda: conn.execute(q["finish_batch"], *args))
        if superseded:
            emit(lambda: conn.execute(q["mark_superseded"], [m[0] for m in superseded], [m[1] for m in superseded]))


def _plain(row: str, tabs: int, lines: int, backslashes: int) -> bool:
    """Whether a row built without escaping its texts is right as it is: when no field holds a tab, line break
    or backslash, the separators and markers are all there is of them. (Four scans of the row in C cost less
    than escaping each field in Python.)"""
    return row.count("\t") == tabs and row.count("\n") == lines and row.count("\\") == backslashes \
        and "\r" not in row


def _fill_row(f: FillRecord, event_id: str) -> str:
    """A `fills` COPY row (_FILL_COLUMNS) but for its last two columns, the flags known only once the ledger's
    context is read, and the line end."""
    row = (f"{f.execution_id}\t{f.account_id}\t{f.order_id}\t{f.client_order_id}\t{f.instrument_key}\t{f.symbol}\t"
           f"{f.currency}\t{f.multiplier!s}\t{_t(f.instrument)}\t{f.side}\t{f.quantity!s}\t{f.price!s}\t"
           f"{f.fill_time.isoformat()}\t{f.venue}\t{_t(f.correction)}\t{f.supersedes}\t{_t(f.broker_order_id)}\t"
           f"{_t(f.perm_id)}\t{f.origin}\t{event_id}")
    if _plain(row, 19, 0, 2 + (f.broker_order_id is None) + (f.perm_id is None)):
        return row
    return (f"{_s(f.execution_id)}\t{_s(f.account_id)}\t{_s(f.order_id)}\t{_s(f.client_order_id)}\t"
            f"{_s(f.instrument_key)}\t{_s(f.symbol)}\t{_s(f.currency)}\t{f.multiplier!s}\t{_t(f.instrument)}\t"
            f"{f.side}\t{f.quantity!s}\t{f.price!s}\t{f.fill_time.isoformat()}\t{_s(f.venue)}\t"
            f"{_t(f.correction)}\t{_s(f.supersedes)}\t{_t(f.broker_order_id)}\t{_t(f.perm_id)}\t{_s(f.origin)}\t"
            f"{_s(event_id)}")


_COMMISSION_COLUMNS = ["execution_id", "account_id", "amount", "currency", "realized_pnl", "report_time", "event_id"]
_BUS_EVENT_COLUMNS = ["event_id", "stream", "stream_id", "event_type", "account_id", "event_time", "payload",
                      "traceparent", "tracestate"]
_FILL_COLUMNS = ["execution_id", "account_id", "order_id", "client_order_id", "instrument_key", "symbol", "currency",
                 "multiplier", "instrument", "side", "quantity", "price", "fill_time", "venue", "correction",
                 "supersedes", "broker_order_id", "perm_id", "origin", "event_id", "superseded_by",
                 "commission_booked"]
_ENTRY_COLUMNS = ["entry_id", "entry_key", "account_id", "kind", "execution_id", "instrument_key", "description",
                  "event_time"]
_POSTING_COLUMNS = ["entry_id", "line", "account_key", "currency", "amount", "previous_balance",
                    "current_balance", "account_version"]
