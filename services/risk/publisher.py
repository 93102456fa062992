"""Outbound records off the order path: decisions to the bus (RiskDecisionEvent, which the ledger records)
and to Postgres (ListDecisions), trading-state changes to the bus.

The order path only enqueues (no await on Redis or Postgres for a decision); one background task drains
the queue in batches. The queue is bounded: when full, an *accepting* decision is dropped and counted
(`ibkr_risk_decision_publish_dropped_total`) rather than slowing or failing orders; the order itself still
reaches the ledger through the bridge's events.

A live *denial* (and a trading-state change) is never dropped that way: it is the only trace of a refused
order the ledger gets. When the queue is full it waits in an overflow list, and when Redis refuses it, it is
kept and retried with backoff until it is written, so it appears on the bus (and in the ledger) once Redis
is back. (Rows for risk's own decisions table go through the store's journal, which retries on its own.) Only a backlog beyond `must_capacity` such records (a long outage under a flood
of denied orders) is dropped and counted, to keep memory bounded; records still held at shutdown are
logged.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from google.protobuf import timestamp_pb2
from ibkr.trading.v1 import event_pb2, risk_types_pb2
from opentelemetry import context as otel_context

from services.risk.decision_codec import DecisionRecord, decision_bytes, risk_decision_event_bytes
from services.risk.metrics import RiskMetrics

SOURCE = "risk"
ACCEPTED, DENIED = risk_types_pb2.RISK_DECISION_OUTCOME_ACCEPTED, risk_types_pb2.RISK_DECISION_OUTCOME_DENIED
Publish = Callable[[bytes, str, str], Awaitable[object]]  # (payload, event type, account) → stream id
RecordDecisions = Callable[[list[tuple]], None]  # appends rows to a write-behind journal that retries

log = logging.getLogger("services.risk.publisher")


def envelope(account_id: str, symbol: str, **payload) -> event_pb2.Event:
    """A bus `Event` from risk with a fresh id and time, and one payload field set."""
    ts = timestamp_pb2.Timestamp()
    ts.GetCurrentTime()
    return event_pb2.Event(event_id=str(uuid.uuid4()), event_time=ts, account_id=account_id, source=SOURCE,
                           symbol=symbol, **payload)


class Publisher:
    """A bounded queue of outbound records and the task that drains it."""

    def __init__(self, publish: Publish | None, record: RecordDecisions | None, metrics: RiskMetrics,
                 *, capacity: int = 10_000, batch: int = 200, linger: float = 0.005,
                 must_capacity: int = 100_000) -> None:
        self._publish = publish
        self._record = record
        self._metrics = metrics
        self._queue: asyncio.Queue = asyncio.Queue(capacity)
        self._batch = batch
        self._linger = linger
        self._task: asyncio.Task | None = None
        self._must_capacity = must_capacity
        self._overflow: deque = deque()  # must-deliver items that found the queue full
        self._retry_sends: deque = deque()  # must-deliver bus sends (event, type) that failed, retried first
        self._backoff = 0.0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="risk-publisher")

    async def close(self) -> None:
        """Drain what is queued (best effort), then stop."""
        if self._task is None:
            return
        await self._queue.put(None)
        try:
            await asyncio.wait_for(self._task, timeout=5)
        except (TimeoutError, asyncio.CancelledError):
            self._task.cancel()
        self._task = None
        held = len(self._overflow) + len(self._retry_sends)
        if held:
            log.error("risk records not delivered before shutdown (denials among them)", extra={"held": held})

    def decision(self, rec: DecisionRecord) -> None:
        self._offer(("decision", rec))

    def event(self, event: event_pb2.Event, event_type: str) -> None:
        self._offer(("event", (event, event_type)))

    def _offer(self, item: tuple) -> None:
        # The caller's trace context travels with the record, so the bus entry joins the order's trace.
        entry = (*item, otel_context.get_current())
        try:
            self._queue.put_nowait(entry)
        except asyncio.QueueFull:
            if _must(entry):
                self._hold(self._overflow, entry)
            else:
                self._metrics.publish_dropped.inc()

    def _hold(self, store: deque, item) -> None:
        if len(self._overflow) + len(self._retry_sends) >= self._must_capacity:
            self._metrics.publish_dropped.inc()
            log.error("must-deliver risk record dropped: backlog full", extra={"capacity": self._must_capacity})
            return
        store.append(item)

    async def flush(self) -> None:
        """Wait until everything queued so far has been handled (tests, shutdown)."""
        await self._queue.join()

    async def _run(self) -> None:
        while True:
            if self._retry_sends:
                items = [await self._queue.get()] if self._queue.qsize() else []
                if not items:
                    await asyncio.sleep(self._backoff)
            else:
                items = [await self._queue.get()]
            if self._linger and items and items[0] is not None:
                # Let a burst accumulate: one Postgres insert and fewer wake-ups per batch, off the order path.
                await asyncio.sleep(self._linger)
            while len(items) < self._batch and not self._queue.empty():
                items.append(self._queue.get_nowait())
            stop = any(i is None for i in items)
            try:
                await self._handle([i for i in items if i is not None])
            except Exception:
                log.exception("publishing risk records failed")
                self._metrics.publish_dropped.inc(len(items))
            finally:
                for _ in items:
                    self._queue.task_done()
            while self._overflow and not self._queue.full():
                self._queue.put_nowait(self._overflow.popleft())
            if stop:
                return

    async def _handle(self, items: list[tuple]) -> None:
        ok = await self._retry()
        rows: list[tuple] = []
        for item in items:
            kind, value, ctx = item
            token = otel_context.attach(ctx)
            try:
                await self._handle_one(kind, value, rows, _must(item), ok)
            finally:
                otel_context.detach(token)
        if rows and self._record is not None:
            self._record(rows)

    async def _handle_one(self, kind: str, value, rows: list, must: bool, bus_ok: bool) -> None:
        if kind != "decision":
            await self._send(*value, must=must, bus_ok=bus_ok)
            return
        # Serialized once, as bytes (see decision_codec): the row and the bus event share them.
        d = value.decision
        blob = decision_bytes(value)
        rows.append((value.decision_id, value.account_id, value.client_order_id,
                     ACCEPTED if d.accepted else DENIED, d.denied_by.rule_id if d.denied_by else "",
                     d.policy_version, d.shadow, blob, value.time))
        head = envelope(value.account_id, value.spec.instrument.symbol).SerializeToString()
        await self._send(risk_decision_event_bytes(value, head), "risk_decision", value.account_id, must=must,
                         bus_ok=bus_ok)

    async def _send(self, event: event_pb2.Event | bytes, event_type: str, account: str | None = None, *,
                    must: bool = False, bus_ok: bool = True) -> bool:
        if self._publish is None:
            return True
        if not isinstance(event, bytes):
            event, account = event.SerializeToString(), event.account_id
        if not bus_ok:  # earlier records are still waiting: keep the order, do not try past them
            if must:
                self._hold(self._retry_sends, (event, event_type, account))
            else:
                self._metrics.publish_dropped.inc()
            return False
        try:
            await self._publish(event, event_type, account)
            return True
        except Exception:
            log.warning("bus publish failed", exc_info=True)
            if must:
                self._hold(self._retry_sends, (event, event_type, account))
            else:
                self._metrics.publish_dropped.inc()
            self._failed()
            return False

    async def _retry(self) -> bool:
        """Send and record what failed before (oldest first); True when nothing is left waiting."""
        while self._retry_sends:
            payload, event_type, account = self._retry_sends[0]
            try:
                await self._publish(payload, event_type, account)
            except Exception:
                log.warning("bus publish retry failed; denials kept", exc_info=True,
                            extra={"held": len(self._retry_sends)})
                self._failed()
                return False
            self._retry_sends.popleft()
        self._backoff = 0.0
        return True

    def _failed(self) -> None:
        self._backoff = min(max(self._backoff * 2, 0.1), 5.0)


def _must(item: tuple) -> bool:
    """Records that are never dropped: live denials and trading-state changes."""
    kind, value = item[0], item[1]
    if kind == "decision":
        return not value.decision.accepted and not value.decision.shadow
    return True


def now_utc() -> datetime:
    return datetime.now(UTC)
