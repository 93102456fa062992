"""A small suite for the ledger's fault drills: the simulator, the bridge and the ledger as real processes
(started by `tools.suite`, like `make run`), a private redis-server the drill may stop, a fresh database.

Fills are produced at the broker without the bridge's pacing limit (≤ 45 requests/s to IB would make 1,000
fills take 25 s of orders): a few large limit orders are placed through the bridge, the simulator's book is
held at one share on each side, and every SetPrice on the control service re-evaluates the resting orders,
so each call is exactly one one-share execution per working order.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path

import asyncpg
import grpc
from google.type import decimal_pb2
from ibkr.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from ibkr.sim.v1 import sim_pb2, sim_pb2_grpc
from ibkr.trading.v1 import instrument_pb2, order_pb2

from tools import infra
from tools.suite import Ports, Suite, SuiteSettings

ACCOUNT = "DU1234567"
# Two working orders, one per side, so the books hold a long and a short position.
ORDERS = (("AAPL", order_pb2.ORDER_SIDE_BUY, "101.00"), ("MSFT", order_pb2.ORDER_SIDE_SELL, "99.00"))
PRICES = ("100.00", "100.02")  # alternated, so every step is a price change


def dec(value: str | int) -> decimal_pb2.Decimal:
    return decimal_pb2.Decimal(value=str(value))


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        await asyncio.sleep(0.2)


@dataclasses.dataclass
class Books:
    """What the ledger holds, read straight from its tables."""

    fills: int
    distinct_executions: set[str]
    fill_entries: int
    unbalanced_entries: int
    quantities: dict[str, Decimal]


class LedgerDrill:
    """Owns the processes and the private infrastructure of one drill."""

    def __init__(self, run_dir: Path, server_dsn: str, *, ledger_dsn: str | None = None) -> None:
        from conftest import with_database

        self.run_dir = run_dir
        self.server_dsn = server_dsn
        self.database = f"ibkr_fault_{uuid.uuid4().hex[:8]}"
        self.database_url = with_database(server_dsn, self.database)
        self.ledger_dsn = ledger_dsn or self.database_url
        self.redis_port = infra.free_port()
        self.redis = infra.start_embedded_redis(run_dir / "redis", self.redis_port)
        self.suite = Suite(SuiteSettings(
            run_dir=run_dir, database_url=self.database_url, redis_url=self.redis.url, ports=Ports.free(),
            account_id=ACCOUNT, bus_stream="fault:events",
            extra_env={"IBKR_SIM_TICK_INTERVAL_MS": "0", "IBKR_LEDGER_RECONCILE_INTERVAL_SECONDS": "0",
                       "IBKR_LOG_LEVEL": "WARNING"}))
        self.order_ids: list[str] = []

    # ------------------------------------------------------------------ processes and infrastructure

    async def start(self) -> None:
        conn = await asyncpg.connect(self.server_dsn)
        try:
            await conn.execute(f'CREATE DATABASE "{self.database}"')
        finally:
            await conn.close()
        for name in ("sim", "bridge"):
            self.suite.start_one(name)
            await asyncio.to_thread(self.suite.wait_serving, name, 90)
        await self.start_ledger()

    async def start_ledger(self, **env: str) -> None:
        self.suite.start_one("ledger", extra_env={"IBKR_DATABASE_URL": self.ledger_dsn, **env})
        await asyncio.to_thread(self.suite.wait_serving, "ledger", 90)

    async def ledger_exit_code(self, timeout: float) -> int | None:
        proc = self.suite.processes["ledger"].proc
        assert proc is not None
        deadline = time.monotonic() + timeout
        while proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return proc.poll()

    async def committed_but_pending(self) -> int:
        """Entries the ledger committed (they are in its `bus_events`) that its consumer group never acked."""
        import redis.asyncio as aioredis

        client = aioredis.from_url(self.redis.url)
        try:
            pending = await client.xpending_range(self.suite.settings.bus_stream, "ledger", "-", "+", 10_000)
        finally:
            await client.aclose()
        ids = [p["message_id"].decode() for p in pending]
        conn = await asyncpg.connect(self.ledger_dsn, server_settings={"search_path": "ledger"})
        try:
            return await conn.fetchval("SELECT count(*) FROM bus_events WHERE stream_id = any($1::text[])", ids)
        finally:
            await conn.close()

    def stop_redis(self) -> None:
        self.redis.stop()

    def start_redis(self) -> None:  # same port and directory: AOF brings the stream and the group back
        self.redis = infra.start_embedded_redis(self.run_dir / "redis", self.redis_port)

    async def close(self) -> None:
        self.suite.stop()
        self.redis.stop()
        with contextlib.suppress(Exception):
            conn = await asyncpg.connect(self.server_dsn)
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            finally:
                await conn.close()

    def logs(self) -> str:
        return "\n".join(f"--- {n}\n{p.tail(30)}" for n, p in self.suite.processes.items())

    # ------------------------------------------------------------------ the fill stream

    def _meta(self) -> tuple[tuple[str, str], ...]:
        return (("x-ibkr-internal-token", self.suite.settings.internal_token),)

    async def _set_prices(self, sim: sim_pb2_grpc.SimulatorControlServiceStub, price: str) -> None:
        for symbol, _, _ in ORDERS:
            await sim.SetPrice(sim_pb2.SetPriceRequest(symbol=symbol, last_price=dec(price), bid_size=dec(1),
                                                       ask_size=dec(1)), metadata=self._meta(), timeout=5)

    async def place_orders(self, shares_each: int) -> None:
        """One working limit order per entry of ORDERS, placed through the bridge (one share trades at once)."""
        async with grpc.aio.insecure_channel(self.suite.address("sim")) as sim_ch, \
                grpc.aio.insecure_channel(self.suite.address("bridge")) as bridge_ch:
            await self._set_prices(sim_pb2_grpc.SimulatorControlServiceStub(sim_ch), PRICES[0])
            bridge = gateway_pb2_grpc.GatewayServiceStub(bridge_ch)
            for symbol, side, limit in ORDERS:
                spec = order_pb2.OrderSpec(
                    instrument=instrument_pb2.Instrument(symbol=symbol,
                                                         security_type=instrument_pb2.SECURITY_TYPE_STOCK),
                    side=side, quantity=dec(shares_each), order_type=order_pb2.ORDER_TYPE_LIMIT,
                    limit_price=dec(limit), time_in_force=order_pb2.TIME_IN_FORCE_DAY)
                reply = await bridge.PlaceOrder(gateway_pb2.PlaceOrderRequest(
                    account_id=ACCOUNT, client_order_id=f"drill-{uuid.uuid4().hex[:12]}", order=spec),
                    metadata=self._meta(), timeout=10)
                self.order_ids.append(reply.order.order_id)

    async def step(self, steps: int, rate: float) -> None:
        """`steps` price changes, `rate` per second: each trades one share of every working order."""
        async with grpc.aio.insecure_channel(self.suite.address("sim")) as channel:
            sim = sim_pb2_grpc.SimulatorControlServiceStub(channel)
            start = time.monotonic()
            for i in range(steps):
                delay = start + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                await self._set_prices(sim, PRICES[(i + 1) % 2])

    # ------------------------------------------------------------------ the truth on both sides

    async def broker_executions(self) -> dict[str, tuple[str, Decimal]]:
        """execution id → (symbol, signed quantity), from the simulator's own log (the broker's truth)."""
        async with grpc.aio.insecure_channel(self.suite.address("sim")) as channel:
            log = await sim_pb2_grpc.SimulatorControlServiceStub(channel).GetBrokerLog(
                sim_pb2.GetBrokerLogRequest(account_id=ACCOUNT), metadata=self._meta(), timeout=10)
        out = {}
        for e in log.executions:
            sign = 1 if e.side == order_pb2.ORDER_SIDE_BUY else -1
            out[e.execution_id] = (e.symbol, sign * Decimal(e.quantity.value))
        return out

    @staticmethod
    def broker_positions(executions: dict[str, tuple[str, Decimal]]) -> dict[str, Decimal]:
        qty: dict[str, Decimal] = defaultdict(Decimal)
        for symbol, q in executions.values():
            qty[symbol] += q
        return {s: q for s, q in qty.items() if q != 0}

    async def books(self) -> Books | None:
        """None while the ledger's schema does not exist yet (or Postgres is restarting)."""
        try:
            conn = await asyncpg.connect(self.ledger_dsn, server_settings={"search_path": "ledger"}, timeout=5)
        except (OSError, asyncpg.PostgresError):
            return None
        try:
            ids = [r["execution_id"] for r in await conn.fetch("SELECT execution_id FROM fills")]
            return Books(
                fills=len(ids), distinct_executions=set(ids),
                fill_entries=await conn.fetchval("SELECT count(*) FROM journal_entries WHERE kind = 'fill'"),
                unbalanced_entries=await conn.fetchval(
                    "SELECT count(*) FROM (SELECT entry_id FROM journal_postings GROUP BY entry_id, currency"
                    " HAVING sum(amount) <> 0) x"),
                quantities={r["symbol"]: r["quantity"] for r in await conn.fetch(
                    "SELECT symbol, quantity FROM positions WHERE quantity <> 0")})
        except (asyncpg.UndefinedTableError, asyncpg.CannotConnectNowError, OSError):
            return None
        finally:
            with contextlib.suppress(Exception):
                await conn.close()

    async def fills_booked(self) -> int:
        books = await self.books()
        return books.fills if books else 0

    async def assert_exact(self, expected_fills: int, timeout: float = 120) -> None:
        """Every broker execution booked exactly once, every entry balanced, positions as the broker's."""
        async def settled() -> bool:
            broker = await self.broker_executions()
            return len(broker) == expected_fills and await self.fills_booked() >= expected_fills
        await eventually(settled, timeout, f"{expected_fills} executions at the broker and in the ledger\n"
                                           f"{self.logs()}")
        broker = await self.broker_executions()
        books = await self.books()
        assert books is not None
        assert books.fills == len(books.distinct_executions) == expected_fills
        assert books.distinct_executions == set(broker)
        assert books.fill_entries == expected_fills
        assert books.unbalanced_entries == 0
        assert books.quantities == self.broker_positions(broker)
