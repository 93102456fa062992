"""Outbound records off the order path: decisions to the bus (RiskDecisionEvent, which the ledger records)
and to Postgres (ListDecisions), trading-state changes to the bus.

The order path only enqueues (no await on Redis or Postgres for a decision); one background task drains
the queue in batches. The queue is bounded: when full, a record is dropped and counted
(`ibkr_risk_decision_publish_dropped_total`) rather than slowing or failing orders.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from google.protobuf import timestamp_pb2
from ibkr.trading.v1 import event_pb2
from opentelemetry import context as otel_context

from services.risk.decision_codec import DecisionRecord, decision_to_proto
from services.risk.metrics import RiskMetrics

SOURCE = "risk"
Publish = Callable[[bytes, str, str], Awaitable[object]]  # (payload, event type, account) → stream id
RecordDecisions = Callable[[list[tuple]], Awaitable[None]]

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
                 *, capacity: int = 10_000, batch: int = 200, linger: float = 0.005) -> None:
        self._publish = publish
        self._record = record
        self._metrics = metrics
        self._queue: asyncio.Queue = asyncio.Queue(capacity)
        self._batch = batch
        self._linger = linger
        self._task: asyncio.Task | None = None

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

    def decision(self, rec: DecisionRecord) -> None:
        self._offer(("decision", rec))

    def event(self, event: event_pb2.Event, event_type: str) -> None:
        self._offer(("event", (event, event_type)))

    def _offer(self, item: tuple) -> None:
        # The caller's trace context travels with the record, so the bus entry joins the order's trace.
        try:
            self._queue.put_nowait((*item, otel_context.get_current()))
        except asyncio.QueueFull:
            self._metrics.publish_dropped.inc()

    async def flush(self) -> None:
        """Wait until everything queued so far has been handled (tests, shutdown)."""
        await self._queue.join()

    async def _run(self) -> None:
        while True:
            items = [await self._queue.get()]
            if self._linger and items[0] is not None:
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
            if stop:
                return

    async def _handle(self, items: list[tuple]) -> None:
        rows = []
        for kind, value, ctx in items:
            token = otel_context.attach(ctx)
            try:
                await self._handle_one(kind, value, rows)
            finally:
                otel_context.detach(token)
        if rows and self._record is not None:
            await self._record(rows)

    async def _handle_one(self, kind: str, value, rows: list) -> None:
        if kind != "decision":
            await self._send(*value)
            return
        pb = decision_to_proto(value)
        rows.append((value.decision_id, value.account_id, value.client_order_id, pb.outcome, pb.denied_rule_id,
                     pb.policy_version, pb.shadow, pb.SerializeToString(), value.time))
        event = envelope(value.account_id, pb.order.instrument.symbol,
                         risk_decision=event_pb2.RiskDecisionEvent(decision=pb))
        await self._send(event, "risk_decision")

    async def _send(self, event: event_pb2.Event, event_type: str) -> None:
        if self._publish is None:
            return
        try:
            await self._publish(event.SerializeToString(), event_type, event.account_id)
        except Exception:
            self._metrics.publish_dropped.inc()
            log.warning("bus publish failed", exc_info=True)


def now_utc() -> datetime:
    return datetime.now(UTC)
