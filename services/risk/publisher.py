"""Outbound records off the order path: decisions to the bus (RiskDecisionEvent, which the ledger records)
and to Postgres (ListDecisions), trading-state changes to the bus.

The order path only enqueues (no await on Redis or Postgres for a decision); one background task drains
the queue in batches. The queue is bounded: when full, an *accepting* decision is dropped and counted
(`ibkr_risk_decision_publish_dropped_total`) rather than slowing or failing orders; the order itself still
reaches the ledger through the bridge's events.

A live *denial* (and a trading-state change) is never dropped that way: it is the only trace of a refused
order the ledger gets. When the queue is full it waits in an overflow list, and when Redis refuses it, it is
kept and retried with backoff until it is written, so it appears on the bus (and in the ledger) once Redis
is back. (Rows for risk's own decisions table go through the store's journal, which retries on its own.)

A batch goes out as one pipelined round trip of XADDs (`redis_batch_publisher`). A batch retried after a
failure may repeat entries that had landed; consumers dedupe on the decision id, as on every bus event. Only a backlog beyond `must_capacity` such records (a long outage under a flood
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

import redis.asyncio as aioredis
from google.protobuf import timestamp_pb2
from ibkr.trading.v1 import event_pb2, risk_types_pb2
from opentelemetry import context as otel_context

from services.common.bus import FIELD_ACCOUNT, FIELD_EVENT, FIELD_TYPE
from services.common.tasks import raise_if_cancelling
from services.common.telemetry import inject_context
from services.risk.decision_codec import DecisionRecord, decision_bytes, risk_decision_event_bytes
from services.risk.metrics import RiskMetrics

SOURCE = "risk"
ACCEPTED, DENIED = risk_types_pb2.RISK_DECISION_OUTCOME_ACCEPTED, risk_types_pb2.RISK_DECISION_OUTCOME_DENIED
Publish = Callable[[bytes, str, str], Awaitable[object]]  # (payload, event type, account) → stream id
PublishMany = Callable[[list[tuple]], Awaitable[None]]  # [(payload, event type, account, otel context)]
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
                 *, capacity: int = 10_000, batch: int = 200, linger: float = 0.02,
                 must_capacity: int = 100_000, publish_many: PublishMany | None = None) -> None:
        self._publish = publish
        self._publish_many = publish_many
        self._record = record
        self._metrics = metrics
        self._queue: asyncio.Queue = asyncio.Queue(capacity)
        self._batch = batch
        self._linger = linger
        self._task: asyncio.Task | None = None
        self._must_capacity = must_capacity
        self._overflow: deque = deque()  # must-deliver items that found the queue full
        self._retry_sends: deque = deque()  # must-deliver entries whose XADD failed, retried first
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
                raise_if_cancelling()
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
        sends: list[tuple] = []  # (payload, event type, account, trace context, must)
        for item in items:
            kind, value, ctx = item
            if kind == "decision":
                # Serialized once, as bytes (see decision_codec): the row and the bus event share them.
                d = value.decision
                blob = decision_bytes(value)
                rows.append((value.decision_id, value.account_id, value.client_order_id,
                             ACCEPTED if d.accepted else DENIED, d.denied_by.rule_id if d.denied_by else "",
                             d.policy_version, d.shadow, blob, value.time))
                head = envelope(value.account_id, value.spec.instrument.symbol).SerializeToString()
                sends.append((risk_decision_event_bytes(value, head), "risk_decision", value.account_id, ctx,
                              _must(item)))
            else:
                event, event_type = value
                sends.append((event.SerializeToString(), event_type, event.account_id, ctx, _must(item)))
        if rows and self._record is not None:
            self._record(rows)
        if self._publish is None and self._publish_many is None:
            return
        if not ok:  # earlier records are still waiting: keep the order, do not try past them
            self._set_aside(sends)
            return
        try:
            await self._deliver([entry[:4] for entry in sends])
        except Exception:
            raise_if_cancelling()
            log.warning("bus publish failed", exc_info=True)
            self._set_aside(sends)
            self._failed()

    def _set_aside(self, sends: list[tuple]) -> None:
        """Keep the must-deliver entries for a retry; the others are shed and counted."""
        for entry in sends:
            if entry[4]:
                self._hold(self._retry_sends, entry[:4])
            else:
                self._metrics.publish_dropped.inc()

    async def _deliver(self, entries: list[tuple]) -> None:
        """XADD the entries: one pipelined round trip when a batch publisher is given, else one by one, each
        under the trace context it was recorded in."""
        if self._publish_many is not None:
            await self._publish_many(entries)
            return
        for payload, event_type, account, ctx in entries:
            token = otel_context.attach(ctx)
            try:
                await self._publish(payload, event_type, account)
            finally:
                otel_context.detach(token)

    async def _retry(self) -> bool:
        """Send what failed before (oldest first); True when nothing is left waiting."""
        if self._retry_sends:
            try:
                await self._deliver(list(self._retry_sends))
            except Exception:
                raise_if_cancelling()
                log.warning("bus publish retry failed; denials kept", exc_info=True,
                            extra={"held": len(self._retry_sends)})
                self._failed()
                return False
            self._retry_sends.clear()
        self._backoff = 0.0
        return True

    def _failed(self) -> None:
        self._backoff = min(max(self._backoff * 2, 0.1), 5.0)


def redis_batch_publisher(redis: aioredis.Redis, stream: str, maxlen: int | None) -> PublishMany:
    """A batch publisher for `Publisher`: the entries as bus entries (the fields `EventBus.publish` writes,
    trace context included) in one non-transactional pipeline, i.e. one round trip per batch."""

    async def publish_many(entries: list[tuple]) -> None:
        pipe = redis.pipeline(transaction=False)
        for payload, event_type, account, ctx in entries:
            fields: dict[bytes, bytes] = {FIELD_EVENT: payload, FIELD_TYPE: event_type.encode(),
                                          FIELD_ACCOUNT: account.encode()}
            for key, value in inject_context(ctx).items():
                fields[key.encode()] = value.encode()
            pipe.xadd(stream, fields, maxlen=maxlen, approximate=maxlen is not None)
        await pipe.execute()

    return publish_many


def _must(item: tuple) -> bool:
    """Records that are never dropped: live denials and trading-state changes."""
    kind, value = item[0], item[1]
    if kind == "decision":
        return not value.decision.accepted and not value.decision.shadow
    return True


def now_utc() -> datetime:
    return datetime.now(UTC)
