"""Postgres persistence of the risk service (its own schema): policy versions, trading states, reservations,
its position view and decisions. SQL lives in `sql/queries.sql`; this module only binds parameters.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import asyncpg

from services.common.migrations import apply_migrations
from services.risk.core.book import OpenOrder, PositionState
from services.risk.core.model import OrderIntent, OrderType, Side, TradingState
from services.risk.journal import Journal

MIGRATIONS = Path(__file__).parent / "migrations"
QUERIES_FILE = Path(__file__).parent / "sql" / "queries.sql"
COMMAND_TIMEOUT = 5.0  # seconds, per statement
JOURNAL_LINGER_SECONDS = 0.01
# Writes to tables nothing else in the journal touches (see Journal's `independent`).
INDEPENDENT_WRITES = frozenset({"insert_activity", "prune_activity", "insert_decisions"})
_NAME = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)


def load_queries(path: Path = QUERIES_FILE) -> dict[str, str]:
    """`-- name: x` sections of a .sql file, by name."""
    parts = _NAME.split(path.read_text())
    return {name: sql.strip() for name, sql in zip(parts[1::2], parts[2::2], strict=True)}


@dataclass(frozen=True, slots=True)
class StoredState:
    """A persisted trading state of one scope ('' = global)."""

    scope: str
    state: TradingState
    reason: str
    changed_by: str
    automatic: bool
    change_time: datetime


@dataclass(frozen=True, slots=True)
class StoredPolicy:
    version: int
    policy: bytes
    seed_digest: str | None = None


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class RiskStore:
    """The risk schema through an asyncpg pool whose connections use it as search_path."""

    def __init__(self, pool: asyncpg.Pool, schema: str, journal: Journal) -> None:
        self._pool = pool  # reads, policy and trading-state writes (synchronous commit)
        self.schema = schema
        self._q = load_queries()
        # The book's changes (reservations, positions, cursor, activity) and the decisions are written behind
        # the order path, in order, on one connection with asynchronous commit (committed and visible at once,
        # durable against a crash of risk, not waiting for the WAL flush): see journal.py for why that is safe.
        self.journal = journal

    @classmethod
    async def open(cls, dsn: str, schema: str, *, min_size: int = 1, max_size: int = 4) -> RiskStore:
        """Migrate the schema, then open the pool and the journal."""
        conn = await asyncpg.connect(dsn)
        try:
            await apply_migrations(conn, schema, MIGRATIONS)
        finally:
            await conn.close()
        # Every statement has a deadline (no request hangs on a stuck database).
        pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, command_timeout=COMMAND_TIMEOUT,
                                         server_settings={"search_path": schema})
        settings = {"search_path": schema, "synchronous_commit": "off"}
        journal = Journal(lambda: asyncpg.connect(dsn, server_settings=settings, command_timeout=COMMAND_TIMEOUT),
                          load_queries(), linger=JOURNAL_LINGER_SECONDS, independent=INDEPENDENT_WRITES)
        return cls(pool, schema, journal)

    async def close(self) -> None:
        await self.journal.close()
        await self._pool.close()

    # -- policy ----------------------------------------------------------------------------------------

    async def latest_policy(self, slot: str) -> StoredPolicy | None:
        row = await self._pool.fetchrow(self._q["latest_policy"], slot)
        return StoredPolicy(row["version"], bytes(row["policy"]), row["seed_digest"]) if row else None

    async def policy_version(self, slot: str, version: int) -> bytes | None:
        row = await self._pool.fetchrow(self._q["policy_version"], slot, version)
        return bytes(row["policy"]) if row else None

    async def latest_seed_digest(self) -> str | None:
        return await self._pool.fetchval(self._q["latest_seed_digest"])

    async def list_policy_versions(self, slot: str, before: int, limit: int) -> list[tuple[int, bytes]]:
        rows = await self._pool.fetch(self._q["list_policy_versions"], slot, before, limit)
        return [(r["version"], bytes(r["policy"])) for r in rows]

    async def install_policy(self, slot: str, make: callable, *, expected_version: int = 0,
                             seed_digest: str | None = None, created_by: str, change_reason: str
                             ) -> tuple[int, bytes]:
        """Append the next version of a slot under a transaction-scoped lock, so concurrent updates get
        distinct versions. `make(version) -> (policy bytes, policy json)`. Raises `VersionConflict` when
        `expected_version` is set and is not the current one."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(self._q["lock_policy_slot"], slot)
            row = await conn.fetchrow(self._q["latest_policy"], slot)
            current = row["version"] if row else 0
            if expected_version and expected_version != current:
                raise VersionConflict(current)
            version = current + 1
            blob, as_json = make(version)
            await conn.execute(self._q["insert_policy_version"], slot, version, blob, as_json, seed_digest,
                               created_by, change_reason)
            return version, blob

    # -- idempotency -----------------------------------------------------------------------------------

    async def idempotent_answer(self, method: str, request_id: str) -> tuple[str, bytes] | None:
        row = await self._pool.fetchrow(self._q["idempotent_answer"], method, request_id)
        return (row["digest"], bytes(row["response"])) if row else None

    async def save_idempotent_answer(self, method: str, request_id: str, digest: str, response: bytes) -> None:
        await self._pool.execute(self._q["save_idempotent_answer"], method, request_id, digest, response)

    # -- trading state ---------------------------------------------------------------------------------

    async def trading_states(self) -> list[StoredState]:
        rows = await self._pool.fetch(self._q["trading_states"])
        return [StoredState(r["scope"], TradingState(r["state"]), r["reason"], r["changed_by"], r["automatic"],
                            r["change_time"]) for r in rows]

    async def set_trading_state(self, scope: str, previous: TradingState, state: TradingState, reason: str,
                                changed_by: str, automatic: bool, cancel_open_orders: bool) -> datetime:
        """Set a scope's state and append the change to its history, in one transaction."""
        async with self._pool.acquire() as conn, conn.transaction():
            when = await conn.fetchval(self._q["upsert_trading_state"], scope, int(state), reason, changed_by,
                                       automatic)
            await conn.execute(self._q["insert_trading_state_change"], scope, int(previous), int(state), reason,
                               changed_by, automatic, cancel_open_orders)
            return when

    # -- reservations and positions --------------------------------------------------------------------

    async def reservations(self) -> list[OpenOrder]:
        rows = await self._pool.fetch(self._q["reservations"])
        return [OpenOrder(r["key"], r["account_id"], r["symbol"], Side(r["side"]), r["remaining"], r["price"],
                          r["multiplier"], r["order_id"], r["quantity"], r["revision"]) for r in rows]

    # Writes of the book: appended to the journal (synchronous, never awaited on the order path).

    def save_reservation(self, order: OpenOrder, decision_id: str = "") -> None:
        self.journal.write("insert_reservation", order.key, order.account_id, order.symbol, int(order.side),
                           order.remaining, order.price, order.multiplier, order.order_id, decision_id, order.quantity,
                           order.revision)

    def update_reservation(self, key: str, remaining: Decimal, order_id: str = "") -> None:
        self.journal.write("update_reservation", key, remaining, order_id)

    def update_reservation_quantity(self, key: str, quantity: Decimal | None, revision: int) -> None:
        self.journal.write("update_reservation_quantity", key, quantity, revision)

    def delete_reservation(self, key: str) -> None:
        self.journal.write("delete_reservation", key)

    def save_activity(self, intent: OrderIntent, notional: Decimal, now: float) -> None:
        self.journal.write("insert_activity", intent.account_id, intent.client_order_id, now, notional,
                           intent.symbol, int(intent.side), intent.quantity, intent.order_type.value,
                           intent.limit_price, intent.stop_price)

    def prune_activity(self, before: float) -> None:
        self.journal.write("prune_activity", before)

    async def activity(self, since: float) -> list[tuple[float, Decimal, OrderIntent]]:
        """Accepted orders after `since` (epoch seconds), oldest first: (time, notional, the order)."""
        rows = await self._pool.fetch(self._q["activity"], since)
        return [(r["at"], r["notional"], OrderIntent(r["account_id"], r["symbol"], Side(r["side"]), r["quantity"],
                                                    OrderType(r["order_type"]), r["limit_price"], r["stop_price"],
                                                    r["client_order_id"])) for r in rows]

    async def positions(self) -> list[tuple[str, str, PositionState]]:
        rows = await self._pool.fetch(self._q["positions"])
        return [(r["account_id"], r["symbol"], PositionState(r["quantity"], r["mark"], r["average_cost"],
                                                             r["multiplier"])) for r in rows]

    def save_position(self, account_id: str, symbol: str, pos: PositionState) -> None:
        self.journal.write("upsert_position", account_id, symbol, pos.quantity, pos.mark, pos.average_cost,
                           pos.multiplier)

    def apply_fill(self, account_id: str, symbol: str, pos: PositionState, key: str,
                   remaining: Decimal | None, stream: str, stream_id: str) -> None:
        """A fill's effects and the bus cursor in one transaction: a fill is the one event that is not
        idempotent to re-apply, so it must never be both persisted and replayed after a restart."""
        ops = [("upsert_position", (account_id, symbol, pos.quantity, pos.mark, pos.average_cost, pos.multiplier)),
               ("delete_reservation", (key,)) if remaining is None else ("update_reservation", (key, remaining, ""))]
        if stream_id:
            ops.append(("save_bus_cursor", (stream, stream_id)))
        self.journal.write_group(ops)

    async def bus_cursor(self, stream: str) -> str | None:
        return await self._pool.fetchval(self._q["bus_cursor"], stream)

    def save_bus_cursor(self, stream: str, stream_id: str) -> None:
        self.journal.write("save_bus_cursor", stream, stream_id)

    # -- decisions -------------------------------------------------------------------------------------

    def insert_decisions(self, rows: Sequence[tuple]) -> None:
        """Rows of (decision_id, account_id, client_order_id, outcome, denied_rule_id, policy_version, shadow,
        decision bytes, decision_time), written (behind, by the journal, retried until Postgres takes them)
        in one statement."""
        if rows:
            self.journal.write("insert_decisions", *[list(c) for c in zip(*rows, strict=True)])

    async def list_decisions(self, account_id: str, client_order_id: str, outcome: int, denied_rule_id: str,
                             include_shadow: bool, before: datetime, limit: int) -> list[bytes]:
        rows = await self._pool.fetch(self._q["list_decisions"], account_id, client_order_id, outcome,
                                      denied_rule_id, include_shadow, before, limit)
        return [bytes(r["decision"]) for r in rows]


class VersionConflict(Exception):
    """The policy changed since the version the caller based its update on."""

    def __init__(self, current: int) -> None:
        super().__init__(f"current version is {current}")
        self.current = current
