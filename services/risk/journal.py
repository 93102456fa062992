"""Write-behind of risk's state changes (reservations, positions, bus cursor, order activity) to Postgres.

The order path never waits on the database: the book in memory is the state the gate decides on, and each
change is appended here and written by one background task, in order, in batches (one transaction per
batch, consecutive statements of one kind sent as one pipelined `executemany`).

Why order is kept and a group is never split across transactions: the tables are then always a consistent
*earlier* state of the book, with the bus cursor that state belongs to. After a crash, risk starts from that
state and replays the bus after the cursor; what the journal had not yet written is recovered from the
bus (the bridge's OrderUpdate of every order it placed is adopted as a reservation) and from the ledger's
working orders at start. A graceful stop flushes the journal first, so a restart finds the exact book.

A statement Postgres refuses (a constraint) is logged and skipped rather than blocking every later write;
a lost connection keeps the batch and retries with backoff. The backlog is bounded: beyond `capacity`
statements the oldest are dropped and logged (the next start rebuilds from the bus and ledger).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence

import asyncpg

from services.common.tasks import cancel_and_wait, raise_if_cancelling

log = logging.getLogger("services.risk.journal")
Op = tuple[str, tuple]  # (query name, parameters)
# Failures of the connection, not of a statement: the batch is kept and retried on a new connection (every
# statement is an upsert, delete or insert-if-absent, so writing a group twice is harmless).
CONNECTION_ERRORS = (OSError, ConnectionError, TimeoutError, asyncpg.InterfaceError,
                     asyncpg.exceptions.PostgresConnectionError, asyncpg.exceptions.OperatorInterventionError)


class Journal:
    """An ordered queue of statements and the task that writes them."""

    def __init__(self, connect: Callable[[], Awaitable[asyncpg.Connection]], queries: dict[str, str], *,
                 batch: int = 500, capacity: int = 200_000, linger: float = 0.0,
                 independent: frozenset[str] = frozenset()) -> None:
        self._connect = connect
        self._q = queries
        self._batch = batch
        self._capacity = capacity
        # Waiting a few ms after the first write lets a burst share one transaction: every round trip to
        # Postgres costs this process a context switch on a busy machine, so fewer, larger batches matter.
        self._linger = linger
        # Statements on tables no other statement touches: written first in a batch (one pipelined run
        # each), since their order relative to the rest cannot change the committed result.
        self._independent = independent
        self._groups: deque[Sequence[Op]] = deque()
        self._size = 0
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._conn: asyncpg.Connection | None = None
        self._task: asyncio.Task | None = None
        self.dropped = 0

    def write(self, name: str, *args) -> None:
        """Append one statement (synchronous: safe inside the gate's atomic stretch)."""
        self.write_group(((name, args),))

    def write_group(self, ops: Sequence[Op]) -> None:
        """Append statements that must land in the same transaction."""
        self._groups.append(ops)
        self._size += len(ops)
        while self._size > self._capacity and len(self._groups) > 1:
            dropped = self._groups.popleft()
            self._size -= len(dropped)
            self.dropped += len(dropped)
            log.warning("risk state journal over capacity: oldest writes dropped (rebuilt from bus/ledger at start)",
                        extra={"dropped": len(dropped)})
        self._idle.clear()
        self._wake.set()
        if self._task is None:
            self.start()

    def start(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # written at once by the first flush or start from a running loop
        self._task = loop.create_task(self._run(), name="risk-journal")

    @property
    def backlog(self) -> int:
        return self._size

    async def flush(self) -> None:
        """Wait until everything appended so far is written (or skipped)."""
        if self._task is None and self._groups:
            self.start()
        await self._idle.wait()

    async def close(self, timeout: float = 5.0) -> None:
        """Write what is queued (bounded by `timeout`), then stop and close the connection."""
        try:
            await asyncio.wait_for(self.flush(), timeout)
        except TimeoutError:
            log.warning("risk state journal not flushed before shutdown", extra={"backlog": self._size})
        await cancel_and_wait(self._task)
        self._task = None
        if self._conn is not None:
            await self._conn.close(timeout=2)
            self._conn = None

    def _take(self) -> list[Sequence[Op]]:
        groups, count = [], 0
        for group in self._groups:
            if groups and count + len(group) > self._batch:
                break
            groups.append(group)
            count += len(group)
        return groups

    def _done(self, groups: list[Sequence[Op]]) -> None:
        for _ in groups:
            self._size -= len(self._groups.popleft())

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            if not self._groups:
                self._idle.set()
                await self._wake.wait()
                self._wake.clear()
                continue
            if self._linger and self._size < self._batch:
                # Also between batches, not only after idling: orders arriving while a batch is written would
                # otherwise each start a transaction of their own (about one per order under steady flow).
                await asyncio.sleep(self._linger)
            groups = self._take()
            try:
                if self._conn is None or self._conn.is_closed():
                    self._conn = await self._connect()
                try:
                    await self._write(groups)
                except CONNECTION_ERRORS:
                    raise
                except Exception:  # noqa: BLE001 - logged per statement below
                    raise_if_cancelling()
                    # A statement refused (a constraint, a bad value): write the batch group by group, skipping
                    # the bad ones, so one bad write never blocks every later one.
                    await self._write_each(groups)
                backoff = 0.1
            except CONNECTION_ERRORS:
                raise_if_cancelling()
                log.warning("risk state journal: database unreachable, retrying", exc_info=True)
                if self._conn is not None:
                    self._conn.terminate()
                self._conn = None
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            self._done(groups)

    async def _write(self, groups: list[Sequence[Op]]) -> None:
        conn = self._conn
        assert conn is not None
        first = [op for group in groups for op in group if op[0] in self._independent]
        rest = [op for group in groups for op in group if op[0] not in self._independent]
        async with conn.transaction():
            for ops in (first, rest):
                run: list[tuple] = []
                name = None
                for op_name, args in ops:
                    if op_name != name and run:
                        await conn.executemany(self._q[name], run)
                        run = []
                    name = op_name
                    run.append(args)
                if run:
                    await conn.executemany(self._q[name], run)

    async def _write_each(self, groups: list[Sequence[Op]]) -> None:
        for group in groups:
            try:
                await self._write([group])
            except CONNECTION_ERRORS:
                raise
            except Exception:
                log.exception("risk state journal: statement refused, skipped", extra={"ops": [n for n, _ in group]})
