"""The ledger's writes: one batch of bus events booked in one Postgres transaction.

Order inside the transaction: writer lock → bus events (the new ones decide what is booked) → orders and
order events → commissions → fills (idempotent by execution id) → position rows locked in key order →
journal accounts locked in key order → entries, postings, balances → positions, daily P&L → broker
positions, marks, snapshots. The caller acks the bus entries only after this commits.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

import asyncpg

from services.ledger import journal
from services.ledger.booking import Booked, Booking, FillRef, position_keys, reversal_currency
from services.ledger.journal import AccountRef, Posting
from services.ledger.positions import PositionState
from services.ledger.rebuild import AccountBalance, positions_from_balances
from services.ledger.reconcile import Drift
from services.ledger.records import (
    BrokerPositionRecord,
    CommissionRecord,
    FillRecord,
    IngestEvent,
    MarkRecord,
    OrderRecord,
    RiskDecisionRecord,
    SnapshotRecord,
)
from services.ledger.settlement import NO_PRIOR, Prior, Settler
from services.ledger.sqlfile import Queries

BUS_EVENT_COLUMNS = ["n", "event_id", "stream", "stream_id", "event_type", "account_id", "event_time", "payload",
                     "traceparent", "tracestate"]
FILL_COLUMNS = ["n", "execution_id", "account_id", "order_id", "client_order_id", "instrument_key", "symbol",
                "currency", "multiplier", "instrument", "side", "quantity", "price", "fill_time", "venue",
                "correction", "supersedes", "broker_order_id", "perm_id", "origin", "event_id", "commission_booked"]
ENTRY_COLUMNS = ["entry_id", "entry_key", "account_id", "kind", "execution_id", "instrument_key", "description",
                 "event_time"]
DIRECT_MAX_ROWS = 64
"""Up to this many rows a write goes as array parameters (one round trip); beyond, by binary COPY."""
POSTING_COLUMNS = ["entry_id", "line", "account_key", "currency", "amount", "previous_balance", "current_balance",
                   "account_version"]


@dataclasses.dataclass(frozen=True)
class BatchResult:
    """What a batch did: events new to the ledger, fills booked, duplicates skipped."""

    events_new: int
    events_duplicate: int
    fills_booked: int
    fills_duplicate: int
    entries_posted: int


@dataclasses.dataclass(frozen=True)
class RebuildResult:
    """Entries replayed, whether all balance, positions as rebuilt, and (stored, rebuilt) pairs that differ."""

    entries: int
    balanced: bool
    positions: list[dict]
    differences: list[tuple[dict, dict]]


class LedgerStore:
    """Writes batches of decoded bus events. One instance per schema; safe to share between tasks."""

    def __init__(self, pool: asyncpg.Pool, schema: str, queries: Queries | None = None) -> None:
        self.pool = pool
        self.schema = schema
        self.q = queries or Queries.load()

    async def book(self, events: Sequence[IngestEvent], *, dry_run: bool = False) -> BatchResult:
        """Book a batch atomically (all or nothing); re-booking the same events changes nothing.

        With `dry_run` the work is done and rolled back: the result says what booking would do.
        """
        async with self.pool.acquire() as conn:
            await conn.execute(self.q["begin_writer"])
            try:
                result = await self._book(conn, events)
            except BaseException:
                if not conn.is_closed():
                    with contextlib.suppress(Exception):  # the original error is the one to raise
                        await conn.execute("ROLLBACK")
                raise
            await conn.execute("ROLLBACK" if dry_run else "COMMIT")
            return result

    async def rebuild(self, account_id: str, *, dry_run: bool) -> RebuildResult:
        """Recompute journal balances and positions from the postings; replace the stored ones unless
        `dry_run`. Runs under the writer lock, so ingest waits rather than interleaves."""
        q = self.q
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(q["lock_writer"])
            rows = await conn.fetch(q["rebuilt_balances"], account_id)
            balances = [AccountBalance(r["account_key"], r["account_id"], r["kind"], r["instrument_key"],
                                       r["stored"], r["rebuilt"]) for r in rows]
            rebuilt = positions_from_balances(balances)
            stored = await conn.fetch(q["positions_for_rebuild"], account_id)
            positions = []
            differences = []
            for row in stored:
                key = (row["account_id"], row["instrument_key"])
                state = rebuilt.get(key, PositionState())
                before = PositionState(row["quantity"], row["cost_basis"], row["cost_fees"], row["realized_pnl"])
                rebuilt_row = {**dict(row), "quantity": state.quantity, "cost_basis": state.cost_basis,
                               "cost_fees": state.cost_fees, "realized_pnl": state.realized_pnl}
                positions.append(rebuilt_row)
                if before != state:
                    differences.append((dict(row), rebuilt_row))
            unbalanced = await conn.fetchval(q["count_unbalanced_entries"], account_id)
            entries = await conn.fetchval(q["count_entries"], account_id)
            if not dry_run:
                changed = [(r["account_key"], r["rebuilt"], r["version"]) for r in rows if r["stored"] != r["rebuilt"]]
                if changed:
                    await conn.execute(q["update_journal_balances"], *map(list, zip(*changed, strict=True)))
                if differences:
                    new = [d[1] for d in differences]
                    await conn.execute(q["update_positions"], [r["account_id"] for r in new],
                                       [r["instrument_key"] for r in new], [r["quantity"] for r in new],
                                       [r["cost_basis"] for r in new], [r["cost_fees"] for r in new],
                                       [r["realized_pnl"] for r in new])
            return RebuildResult(entries, unbalanced == 0, positions, differences)

    async def _book(self, conn: asyncpg.Connection, events: Sequence[IngestEvent]) -> BatchResult:
        # the writer lock is already held (begin_writer)
        unique: dict[str, IngestEvent] = {}
        for e in events:
            unique.setdefault(e.event_id, e)
        stored = [e for e in unique.values() if e.store]
        new_ids: set[str] = set()
        if stored:
            rows = await self._staged_insert(
                conn, "insert_bus_events", "staging_bus_events", BUS_EVENT_COLUMNS, (),
                [(n, e.event_id, e.stream, e.stream_id, e.event_type, e.account_id, e.event_time, e.payload,
                  e.traceparent, e.tracestate) for n, e in enumerate(stored)])
            new_ids = {r["event_id"] for r in rows}
        todo = [e for e in unique.values() if not e.store or e.event_id in new_ids]

        for e in todo:
            if isinstance(e.record, OrderRecord):
                await self._order(conn, e)
        money = [e for e in todo if isinstance(e.record, (FillRecord, CommissionRecord))]
        booked, dup, entries = await self._fills(conn, money)
        await self.book_non_fills(conn, todo)
        return BatchResult(len(todo), len(events) - len(todo), booked, dup, entries)

    async def book_non_fills(self, conn: asyncpg.Connection, todo: Sequence[IngestEvent],
                             *, orders: bool = False) -> None:
        """Everything but fills and commissions (orders too with `orders`): none of it depends on them."""
        q = self.q
        for e in todo:
            if orders and isinstance(e.record, OrderRecord):
                await self._order(conn, e)
            elif isinstance(e.record, BrokerPositionRecord):
                await self._broker_position(conn, e)
            elif isinstance(e.record, SnapshotRecord):
                await self._snapshot(conn, e)
            elif isinstance(e.record, RiskDecisionRecord):
                d = e.record
                await conn.execute(q["insert_risk_decision"], d.decision_id, d.account_id, d.client_order_id,
                                   d.order_id, d.request_type, d.outcome, d.denied_rule_id, d.policy_version,
                                   d.shadow, d.decision_time, e.trace_id, d.decision)
        marks: dict[str, tuple[Decimal, object, Decimal | None]] = {}
        for e in todo:
            if isinstance(e.record, MarkRecord):  # the latest wins
                marks[e.record.instrument_key] = (e.record.price, e.event_time, e.record.close)
        if marks:
            await conn.execute(q["update_marks"], list(marks), [m[0] for m in marks.values()],
                               [m[1] for m in marks.values()], [m[2] for m in marks.values()])

    async def _order(self, conn: asyncpg.Connection, e: IngestEvent) -> None:
        o: OrderRecord = e.record  # type: ignore[assignment]
        await conn.execute(
            self.q["upsert_order"], o.order_id, o.client_order_id, o.account_id, o.instrument_key,
            o.symbol, o.side, o.quantity, o.order_type, o.limit_price, o.stop_price, o.time_in_force,
            o.outside_rth, o.spec, o.status, o.filled_quantity, o.average_fill_price, o.broker_order_id,
            o.perm_id, o.origin, o.risk_decision_id, o.reject_code, o.reject_reason, o.order_message,
            e.event_time)
        await conn.execute(
            self.q["insert_order_event"], e.event_id, o.order_id, o.account_id, e.event_time,
            o.status, o.previous_status, o.filled_quantity, o.description, o.broker_error_code,
            o.risk_decision_id, e.trace_id, o.spec)

    async def _fills(self, conn: asyncpg.Connection, events: list[IngestEvent]) -> tuple[int, int, int]:
        """Fills and commission reports, in stream order; commissions settled by `settlement`'s rule."""
        q = self.q
        by_exec: dict[str, FillRecord] = {}
        event_ids: dict[str, str] = {}
        for e in events:
            r = e.record
            if isinstance(r, FillRecord) and r.execution_id not in by_exec:
                by_exec[r.execution_id] = r
                event_ids[r.execution_id] = e.event_id
        fills = list(by_exec.values())
        new: set[str] = set()
        if fills:  # no commissions with them: they are written once settled (with finish_batch)
            rows = await self._staged_insert(
                conn, "insert_fills", "staging_fills", FILL_COLUMNS, ([], [], [], [], [], [], []),
                [(n, f.execution_id, f.account_id, f.order_id, f.client_order_id, f.instrument_key, f.symbol,
                  f.currency, str(f.multiplier), f.instrument, f.side, str(f.quantity), str(f.price),
                  f.fill_time, f.venue, f.correction, f.supersedes, f.broker_order_id, f.perm_id, f.origin,
                  event_ids[f.execution_id], f.commission is not None) for n, f in enumerate(fills)])
            new = {r["execution_id"] for r in rows}
        to_book = [f for f in fills if f.execution_id in new]
        reported = {e.record.execution_id for e in events  # type: ignore[union-attr]
                    if isinstance(e.record, CommissionRecord) or e.record.commission is not None}  # type: ignore[union-attr]
        if not to_book and not reported:
            return 0, len(fills), 0

        # Everything the batch touches beyond its new fills: originals being superseded, fills whose
        # commission may be settled now, and new fills a correction already superseded.
        superseded_targets = [f.supersedes for f in to_book if f.correction and f.supersedes]
        related_ids = sorted({*superseded_targets, *(x for x in reported if x not in new)})
        related = await conn.fetch(q["lock_fills_for_update"], related_ids) if related_ids else []
        related_by_id = {r["execution_id"]: r for r in related}
        context = await conn.fetch(q["fill_context"], [f.execution_id for f in to_book]) if to_book else []
        # Kept out of the books: new fills a correction came before (stored, or earlier in this batch). One
        # corrected later in the batch is booked, then reversed at its correction, as one by one.
        position = {f.execution_id: i for i, f in enumerate(fills)}
        already_corrected = {r["execution_id"]: r["other"] for r in context if r["what"] == "corrected"
                             and not (r["other"] in new and position[r["other"]] > position[r["execution_id"]])}
        stored_commissions = {r["execution_id"]: (r["amount"], r["currency"])
                              for r in context if r["what"] == "commission"}

        def prior(x: str) -> Prior:
            if x in new:
                return Prior(False, False, stored_commissions.get(x))
            ref = related_by_id.get(x)
            return Prior(True, ref["commission_booked"], None) if ref is not None else NO_PRIOR
        settler = Settler(prior)
        for e in events:
            settler.feed(e.record, e.event_id)  # type: ignore[arg-type]
        settled = settler.executions
        writes = sorted(s.write for s in settled.values() if s.write is not None)
        commission_args = ([c.execution_id for c, _ in writes], [c.account_id for c, _ in writes],
                           [c.amount for c, _ in writes], [c.currency for c, _ in writes],
                           [c.realized_pnl for c, _ in writes], [c.report_time for c, _ in writes],
                           [ev for _, ev in writes])
        superseded_now = set(superseded_targets)
        late = [(x, s.late) for x, s in settled.items() if s.late is not None and x not in superseded_now
                and (x not in already_corrected if x in new else
                     x in related_by_id and related_by_id[x]["superseded_by"] is None)]
        flags = {x: s.settled for x, s in settled.items()
                 if (x in new and s.settled != (by_exec[x].commission is not None))
                 or (x in related_by_id and s.settled and not related_by_id[x]["commission_booked"])}
        if not to_book and not late:
            if writes:
                await conn.execute(q["upsert_commissions"], *commission_args)
            if flags:
                await conn.execute(q["mark_commission_booked"], sorted(x for x, v in flags.items() if v))
            return 0, len(fills), 0

        extra_keys = {(r["account_id"], r["instrument_key"]): None for r in related}
        keys = position_keys(to_book, extra_keys)
        positions = await self._lock_positions(conn, to_book, keys)
        booking = Booking(positions=positions)
        superseded: list[tuple[str, str]] = []

        originals_to_reverse = [t for t in superseded_targets
                                if t in related_by_id and related_by_id[t]["superseded_by"] is None]
        original_postings = await self._postings_of(conn, originals_to_reverse)
        for f in to_book:
            if f.correction and f.supersedes in originals_to_reverse:
                orig = related_by_id[f.supersedes]
                for key in (f"fill:{f.supersedes}", f"commission:{f.supersedes}"):
                    postings = original_postings.get(key, []) if f.supersedes not in new else \
                        [p for b in booking.booked if b.entry.entry_key == key for p in b.entry.postings]
                    booking.reverse(key, postings, account_id=orig["account_id"],
                                    execution_id=f.supersedes, instrument_key=orig["instrument_key"],
                                    event_time=orig["fill_time"],
                                    currency=reversal_currency(postings, orig["currency"]),
                                    reason=f"superseded by {f.execution_id}")
                superseded.append((f.supersedes, f.execution_id))
            if f.execution_id in already_corrected:  # its correction came first: keep it, book nothing
                superseded.append((f.execution_id, already_corrected[f.execution_id]))
                continue
            booking.book_fill(f, settled[f.execution_id].with_fill if f.execution_id in settled else None)
        for x, (amount, currency) in late:
            ref = related_by_id.get(x)
            fill = by_exec[x] if x in new else FillRef(x, ref["account_id"], ref["instrument_key"], ref["fill_time"],
                                                                 ref["currency"])
            booking.book_commission(fill, amount, currency)

        entries, balances = await self._post(conn, booking)
        positions_ = sorted(booking.positions.items())
        daily = sorted(booking.daily_pnl().items())
        flows = sorted(booking.daily_flows().items())
        await conn.execute(
            q["finish_batch"],
            [k for k, _ in balances], [v[0] for _, v in balances], [v[1] for _, v in balances],
            [k[0] for k, _ in positions_], [k[1] for k, _ in positions_], [p.quantity for _, p in positions_],
            [p.cost_basis for _, p in positions_], [p.cost_fees for _, p in positions_],
            [p.realized_pnl for _, p in positions_],
            [k[0] for k, _ in daily], [k[1] for k, _ in daily], [k[2] for k, _ in daily], [v[0] for _, v in daily],
            [v[1] for _, v in daily],
            [k[0] for k, _ in flows], [k[1] for k, _ in flows], [k[2] for k, _ in flows], [v[0] for _, v in flows],
            [v[1] for _, v in flows],
            sorted(flags), [flags[x] for x in sorted(flags)], *commission_args)
        if superseded:  # apart from finish_batch, which also updates fills (one row may not change twice)
            await conn.execute(q["mark_superseded"], [s[0] for s in superseded], [s[1] for s in superseded])
        return len(to_book), len(fills) - len(to_book), entries

    async def _lock_positions(self, conn: asyncpg.Connection, fills: list[FillRecord],
                              keys: list[tuple[str, str]]) -> dict[tuple[str, str], PositionState]:
        first: dict[tuple[str, str], FillRecord] = {}
        for f in fills:
            first.setdefault((f.account_id, f.instrument_key), f)
        rows = sorted(first.items())
        args = ([k[0] for k, _ in rows], [k[1] for k, _ in rows], [f.symbol for _, f in rows],
                [f.currency for _, f in rows], [f.multiplier for _, f in rows], [f.instrument for _, f in rows])
        if set(keys) == set(first):  # the usual case: create and lock in one statement, in key order
            locked = await conn.fetch(self.q["upsert_lock_positions"], *args)
        else:  # positions of corrected fills or late commissions too: create, then lock all in key order
            if rows:
                await conn.execute(self.q["ensure_positions"], *args)
            locked = await conn.fetch(self.q["lock_positions"], [k[0] for k in keys], [k[1] for k in keys])
        return {(r["account_id"], r["instrument_key"]):
                PositionState(r["quantity"], r["cost_basis"], r["cost_fees"], r["realized_pnl"]) for r in locked}

    async def _postings_of(self, conn: asyncpg.Connection, execution_ids: list[str]) -> dict[str, list[Posting]]:
        if not execution_ids:
            return {}
        keys = [f"{kind}:{x}" for x in execution_ids for kind in ("fill", "commission")]
        out: dict[str, list[Posting]] = {}
        for r in await conn.fetch(self.q["postings_of_entries"], keys):
            ref = AccountRef.stored(r["account_id"], r["kind"], r["currency"], r["instrument_key"], r["account_key"])
            out.setdefault(r["entry_key"], []).append(Posting(ref, r["amount"]))
        return out

    async def _post(self, conn: asyncpg.Connection, booking: Booking,
                    ) -> tuple[int, list[tuple[str, tuple[Decimal, int]]]]:
        """Write the entries with running balances; accounts are created and locked in key order.

        Returns the entry count and the accounts' new (balance, version), sorted, for `finish_batch`.
        """
        q = self.q
        entries = [b.entry for b in booking.booked]
        if not entries:
            return 0, []
        accounts = sorted({p.account.key: p.account for e in entries for p in e.postings}.values(),
                          key=lambda a: a.key)
        locked = await conn.fetch(
            q["upsert_lock_journal_accounts"], [a.key for a in accounts], [a.account_id for a in accounts],
            [a.kind for a in accounts], [a.currency for a in accounts], [a.instrument_key for a in accounts],
            len(entries))
        balances = {r["account_key"]: (r["balance"], r["version"]) for r in locked if r["account_key"] is not None}
        ids = sorted(r["seq"] for r in locked if r["account_key"] is None)
        rows, final = journal.run_balances(entries, balances)
        entry_rows = [(ids[i], e.entry_key, e.account_id, e.kind, e.execution_id, e.instrument_key, e.description,
                       b.event_time) for i, (e, b) in enumerate(zip(entries, booking.booked, strict=True))]
        posting_rows = [(ids[r.entry_index], r.line, r.account.key, r.account.currency, str(r.amount),
                         str(r.previous_balance), str(r.current_balance), r.account_version) for r in rows]
        # Entries and postings are inserted by one statement: the statement-level checks see both.
        if len(posting_rows) <= DIRECT_MAX_ROWS:
            await conn.execute(q["insert_journal_postings_direct"], *_columns(entry_rows, len(ENTRY_COLUMNS)),
                               *_columns(posting_rows, len(POSTING_COLUMNS)))
        else:
            await conn.copy_records_to_table("staging_entries", columns=ENTRY_COLUMNS, records=entry_rows)
            await conn.copy_records_to_table("staging_postings", columns=POSTING_COLUMNS, records=posting_rows)
            await conn.execute(q["insert_journal_postings"])
        return len(entries), sorted(final.items())

    async def _staged_insert(self, conn: asyncpg.Connection, query: str, staging: str, columns: list[str],
                             args: tuple, records: list[tuple]) -> list[asyncpg.Record]:
        """Run `query` (with parameters `args`) over `records`: as array parameters in one round trip when they
        are few, else by a binary COPY into the staging table first (faster to encode for hundreds of rows)."""
        if len(records) <= DIRECT_MAX_ROWS:
            return await conn.fetch(self.q[f"{query}_direct"], *args, *_columns(records, len(columns)))
        await conn.copy_records_to_table(staging, columns=columns, records=records)
        return await conn.fetch(self.q[query], *args)

    async def book_opening_balances(self, account_id: str, balances: dict[str, Decimal], as_of: datetime) -> bool:
        """Book the broker cash that predates the ledger, once per account; False if already booked."""
        drafts = [journal.opening_entry(account_id=account_id, currency=ccy, amount=amt, as_of=as_of.isoformat())
                  for ccy, amt in sorted(balances.items()) if amt != 0]
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(self.q["lock_writer"])
            if await conn.fetchval(self.q["has_opening_entry"], account_id):
                return False
            if drafts:
                booking = Booking(positions={})
                booking.booked.extend(Booked(d, as_of, d.postings[0].account.currency) for d in drafts)
                _, balances = await self._post(conn, booking)
                await conn.execute(self.q["update_journal_balances"], [k for k, _ in balances],
                                   [v[0] for _, v in balances], [v[1] for _, v in balances])
            return True

    async def record_reconciliation(self, account_id: str, when: datetime, drifts: Sequence[Drift], *,
                                    error: str = "") -> None:
        """Keep the drifts (first-seen time preserved), drop resolved ones, and log the run."""
        async with self.pool.acquire() as conn, conn.transaction():
            if not error:
                for d in sorted(drifts, key=lambda d: d.item_key):
                    await conn.execute(self.q["upsert_drift"], account_id, d.item_key, d.kind, d.instrument,
                                       d.currency, d.ledger_value, d.broker_value, d.ledger_average_cost,
                                       d.broker_average_cost, when)
                await conn.execute(self.q["delete_resolved_drifts"], account_id, [d.item_key for d in drifts])
            await conn.execute(self.q["insert_reconciliation_run"], account_id, when, not error and not drifts,
                               len(drifts), error)

    async def reconciliation_state(self, account_id: str) -> tuple[list[asyncpg.Record], asyncpg.Record | None]:
        """The unresolved drifts and the times of the last run and the last in-sync run."""
        async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            return (await conn.fetch(self.q["drifts_of"], account_id),
                    await conn.fetchrow(self.q["last_reconciliation"], account_id))

    async def _broker_position(self, conn: asyncpg.Connection, e: IngestEvent) -> None:
        p: BrokerPositionRecord = e.record  # type: ignore[assignment]
        await conn.execute(self.q["upsert_broker_position"], p.account_id, p.instrument_key, p.symbol, p.currency,
                           p.multiplier, p.instrument, p.quantity, p.average_cost, e.event_time, p.market_price)

    async def _snapshot(self, conn: asyncpg.Connection, e: IngestEvent) -> None:
        s: SnapshotRecord = e.record  # type: ignore[assignment]
        await conn.execute(self.q["insert_account_snapshot"], s.account_id, "broker", e.event_time,
                           s.base_currency, s.net_liquidation, s.total_cash, s.realized_pnl, s.unrealized_pnl,
                           s.summary, e.event_id)


def _columns(records: list[tuple], width: int) -> list[list]:
    """Rows → one list per column (the array parameters of the `*_direct` queries)."""
    return [list(c) for c in zip(*records, strict=True)] if records else [[] for _ in range(width)]
