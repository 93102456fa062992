"""The bridge's Postgres store (schema `bridge`): order intents, their state, and executions seen.

SQL lives in `sql/queries.sql`; this module only binds parameters and maps rows to `OrderRecord`s.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

import asyncpg
from ibkr.trading.v1 import order_pb2

from services.common.errors import AlreadyExists
from services.common.migrations import apply_migrations
from services.gateway_bridge.domain.state_machine import OrderState
from services.gateway_bridge.domain.status import Status
from services.gateway_bridge.sqlfile import load_queries

SCHEMA = "bridge"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


@dataclasses.dataclass(frozen=True)
class OrderRecord:
    """One order as the bridge knows it."""

    order_id: str
    client_order_id: str | None
    account_id: str
    origin: str  # SUITE | EXTERNAL
    fingerprint: str
    spec: order_pb2.OrderSpec
    state: OrderState
    broker_order_id: int | None = None
    broker_client_id: int | None = None
    perm_id: int | None = None
    parent_order_id: str | None = None
    risk_decision_id: str = ""
    commission: Decimal | None = None
    commission_currency: str | None = None
    revision: int = 0
    create_time: dt.datetime | None = None
    update_time: dt.datetime | None = None
    submit_time: dt.datetime | None = None
    done_time: dt.datetime | None = None


def _record(row: asyncpg.Record) -> OrderRecord:
    spec = order_pb2.OrderSpec.FromString(bytes(row["spec"]))
    state = OrderState(
        status=Status[row["status"]], total_quantity=row["total_quantity"], filled=row["filled_quantity"],
        avg_fill_price=row["avg_fill_price"], last_fill_price=row["last_fill_price"],
        resting_status=Status[row["resting_status"]], reject_code=row["reject_code"],
        reject_reason=row["reject_reason"], broker_error_code=row["broker_error_code"], sequence=row["sequence"])
    return OrderRecord(
        order_id=row["order_id"], client_order_id=row["client_order_id"], account_id=row["account_id"],
        origin=row["origin"], fingerprint=row["fingerprint"], spec=spec, state=state,
        broker_order_id=row["broker_order_id"], broker_client_id=row["broker_client_id"], perm_id=row["perm_id"],
        parent_order_id=row["parent_order_id"], risk_decision_id=row["risk_decision_id"],
        commission=row["commission"], commission_currency=row["commission_currency"], revision=row["revision"],
        create_time=row["create_time"], update_time=row["update_time"], submit_time=row["submit_time"],
        done_time=row["done_time"])


async def _keep_session(conn: asyncpg.Connection) -> None:
    """The pools' reset on release. The default runs `RESET ALL; UNLISTEN *; ...` — one more round trip after
    every statement, which the intent INSERT on the order path waited for. Nothing here changes session
    state (settings are connection parameters; no SET, LISTEN, advisory lock or cursor), and asyncpg still
    rolls back an open transaction before calling this, so there is nothing to reset."""


class Store:
    """Async access to schema `bridge`. Create with `await Store.open(dsn)`; `close()` on shutdown."""

    def __init__(self, pool: asyncpg.Pool, state_pool: asyncpg.Pool) -> None:
        self._pool = pool  # intents and executions: synchronous commit (unless configured otherwise)
        self._state_pool = state_pool  # order state updates: asynchronous commit
        self._q = load_queries()

    @classmethod
    async def open(cls, dsn: str, *, min_size: int = 1, max_size: int = 5,
                   intent_synchronous_commit: bool = True) -> Store:
        """Apply pending migrations, then open the pool."""
        conn = await asyncpg.connect(dsn)
        try:
            await apply_migrations(conn, SCHEMA, MIGRATIONS_DIR)
        finally:
            await conn.close()
        # Server settings, not SETs in `init`: the pool's RESET ALL on release would undo a SET. Two pools,
        # so no statement pays a BEGIN/SET LOCAL/COMMIT round trip to choose its durability.
        settings = {"search_path": f"{SCHEMA},public"}
        pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, reset=_keep_session,
                                         server_settings={**settings, "synchronous_commit":
                                                          "on" if intent_synchronous_commit else "off"})
        state_pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2, reset=_keep_session,
                                               server_settings={**settings, "synchronous_commit": "off"})
        assert pool is not None and state_pool is not None
        return cls(pool, state_pool)

    async def close(self, timeout: float = 5.0) -> None:
        """Close both pools; connections still busy after `timeout` are terminated (shutdown must not hang)."""
        for pool in (self._pool, self._state_pool):
            try:
                await asyncio.wait_for(pool.close(), timeout)
            except TimeoutError:
                pool.terminate()

    async def insert_order(self, rec: OrderRecord) -> OrderRecord | None:
        """Persist a new order; None when its client_order_id (or id) already exists."""
        row = await self._pool.fetchrow(
            self._q["insert_order"], rec.order_id, rec.client_order_id, rec.account_id, rec.origin,
            rec.fingerprint, rec.spec.SerializeToString(deterministic=True), rec.state.status.name,
            rec.state.resting_status.name, rec.state.total_quantity, rec.broker_order_id,
            rec.broker_client_id, rec.perm_id, rec.parent_order_id, rec.risk_decision_id)
        return None if row is None else _record(row)

    async def insert_orders(self, records: list[OrderRecord]) -> list[OrderRecord] | None:
        """Persist orders in one transaction (a bracket's parent and legs); None when the first one's
        client_order_id already exists (nothing is inserted then)."""
        if len(records) == 1:  # one statement, no transaction round trips on the common path
            single = await self.insert_order(records[0])
            return None if single is None else [single]
        async with self._pool.acquire() as conn, conn.transaction():
            out = []
            for rec in records:
                row = await conn.fetchrow(
                    self._q["insert_order"], rec.order_id, rec.client_order_id, rec.account_id, rec.origin,
                    rec.fingerprint, rec.spec.SerializeToString(deterministic=True), rec.state.status.name,
                    rec.state.resting_status.name, rec.state.total_quantity, rec.broker_order_id,
                    rec.broker_client_id, rec.perm_id, rec.parent_order_id, rec.risk_decision_id)
                if row is None:
                    if out:  # a leg's key is taken by another order: refuse the whole bracket
                        raise AlreadyExists("CLIENT_ORDER_ID_REUSED",
                                            f"client_order_id {rec.client_order_id} is already used",
                                            metadata={"client_order_id": rec.client_order_id or ""})
                    return None
                out.append(_record(row))
            return out

    async def children(self, order_id: str) -> list[OrderRecord]:
        return [_record(r) for r in await self._pool.fetch(self._q["list_children"], order_id)]

    async def get_by_id(self, order_id: str) -> OrderRecord | None:
        row = await self._pool.fetchrow(self._q["get_order_by_id"], order_id)
        return None if row is None else _record(row)

    async def get_by_client_order_id(self, client_order_id: str) -> OrderRecord | None:
        row = await self._pool.fetchrow(self._q["get_order_by_client_order_id"], client_order_id)
        return None if row is None else _record(row)

    async def get_by_perm_id(self, perm_id: int) -> OrderRecord | None:
        row = await self._pool.fetchrow(self._q["get_order_by_perm_id"], perm_id)
        return None if row is None else _record(row)

    async def list_not_terminal(self) -> list[OrderRecord]:
        return [_record(r) for r in await self._pool.fetch(self._q["list_not_terminal_orders"])]

    async def update(self, rec: OrderRecord) -> None:
        """Write the record's mutable fields. Asynchronous commit: after the intent, an order's state is a copy
        of the broker's, rebuilt by reconciliation, so it need not wait for the WAL flush."""
        s = rec.state
        await self._state_pool.execute(
            self._q["update_order_state"], rec.order_id, s.status.name, s.resting_status.name, s.total_quantity,
            s.filled, s.avg_fill_price, s.last_fill_price, s.reject_code, s.reject_reason, s.broker_error_code,
            s.sequence, rec.broker_order_id, rec.broker_client_id, rec.perm_id, rec.commission,
            rec.commission_currency, rec.revision, rec.spec.SerializeToString(deterministic=True),
            rec.update_time, rec.submit_time, rec.done_time)

    async def insert_execution(self, execution_id: str, order_id: str | None, fill: bytes,
                               commission_known: bool) -> bool:
        """Record an execution; False when it was already recorded (then it must not be published again)."""
        return await self._pool.fetchval(self._q["insert_execution"], execution_id, order_id, fill,
                                         commission_known) is not None

    async def mark_execution_published(self, execution_id: str) -> None:
        await self._pool.execute(self._q["mark_execution_published"], execution_id)

    async def mark_executions_published(self, execution_ids: list[str]) -> None:
        if execution_ids:
            await self._pool.execute(self._q["mark_executions_published"], execution_ids)

    async def execution_ids(self) -> list[tuple[str, bool]]:
        return [(r["execution_id"], r["commission_known"]) for r in await self._pool.fetch(self._q["list_execution_ids"])]

    async def unpublished_executions(self) -> list[tuple[str, bytes]]:
        return [(r["execution_id"], bytes(r["fill"]))
                for r in await self._pool.fetch(self._q["list_unpublished_executions"])]

    async def executions(self) -> list[bytes]:
        return [bytes(r["fill"]) for r in await self._pool.fetch(self._q["list_executions"])]
