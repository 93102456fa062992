"""Consuming the bus into the ledger: micro-batches, ack after commit, claim, dead-letter, lag.

Delivery is at least once and booking is idempotent (bus event id, then execution id), so the only rule
that matters for exactness is the order: commit, then XACK. A crash between the two re-delivers entries
that are then skipped as duplicates. An entry that cannot be booked stays pending (so it is retried) until
it has been delivered `max_deliveries` times, then goes to the dead-letter stream; the rest keep flowing.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

import asyncpg
import redis.exceptions
from opentelemetry import trace

from services.common.bus import BusEntry, ConsumerGroup
from services.common.telemetry import extract_context
from services.ledger.events import PoisonEvent, decode
from services.ledger.metrics import LedgerMetrics
from services.ledger.records import FillRecord, IngestEvent
from services.ledger.store import LedgerStore

TRANSIENT_POSTGRES = (
    OSError, TimeoutError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError, asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
)
"""Failures of Postgres itself (down, restarting, conflict), not of an event: retry the batch later."""

TRANSIENT_REDIS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


@dataclasses.dataclass(frozen=True)
class IngestOptions:
    """Tuning of the consumer (see LedgerSettings)."""

    batch_size: int = 500
    block_ms: int = 100
    claim_idle_ms: int = 30_000
    claim_interval_seconds: float = 5.0
    max_deliveries: int = 5
    kill_after_commits: int = 0
    """Failpoint for the fault drills: SIGKILL this process after that many commits, before their ack."""


@dataclasses.dataclass
class IngestState:
    """What GetIngestStatus reports."""

    consuming: bool = False
    last_committed_stream_id: str = ""
    last_commit_time: datetime | None = None
    last_event_time: datetime | None = None
    dead_lettered: int = 0
    lag: int | None = None
    pending: int | None = None


@dataclasses.dataclass
class Decoded:
    """A batch read from the bus: its entries, the decoded events, and what could not be decoded."""

    entries: list[BusEntry]
    good: list[IngestEvent]
    entry_of: dict[str, BusEntry]
    failed: list[tuple[BusEntry, str]]


class Ingestor:
    """Runs the consumer group until stopped, surviving Redis and Postgres outages."""

    def __init__(self, group: ConsumerGroup, store: LedgerStore, metrics: LedgerMetrics, tracer: trace.Tracer,
                 options: IngestOptions, *, on_consuming: Callable[[bool], Awaitable[None]] | None = None,
                 logger: logging.Logger | None = None) -> None:
        self.group = group
        self.store = store
        self.metrics = metrics
        self.tracer = tracer
        self.options = options
        self.state = IngestState()
        self._commits = 0
        self._on_consuming = on_consuming
        self._log = logger or logging.getLogger("services.ledger.ingest")

    async def _set_consuming(self, value: bool) -> None:
        if self.state.consuming != value:
            self.state.consuming = value
            if self._on_consuming is not None:
                await self._on_consuming(value)

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set. Outages are retried with capped exponential backoff."""
        backoff = 0.1
        while not stop.is_set():
            try:
                await self._session(stop)
                backoff = 0.1
            except TRANSIENT_REDIS as exc:
                await self._outage("redis", exc)
            except TRANSIENT_POSTGRES as exc:
                await self._outage("postgres", exc)
            else:
                continue
            try:
                await asyncio.wait_for(stop.wait(), backoff)
            except TimeoutError:
                pass
            backoff = min(backoff * 2, 2.0)
        await self._set_consuming(False)

    async def _outage(self, dependency: str, exc: BaseException) -> None:
        self.metrics.ingest_errors.labels(dependency).inc()
        self._log.warning("ingest paused: %s unavailable", dependency, extra={"error": repr(exc)})
        await self._set_consuming(False)

    async def _session(self, stop: asyncio.Event) -> None:
        await self.group.ensure("0")
        await self.drain_own_pending()
        await self._set_consuming(True)
        next_claim = 0.0
        # The next batch is read and decoded while the current one is in Postgres, so client and server
        # work overlap. Safe for exactness: prefetched entries sit unacked in this consumer's pending list,
        # and a crash or outage before they are booked only re-delivers them (drain_own_pending).
        prefetch: asyncio.Task[Decoded] | None = None
        try:
            while not stop.is_set():
                if time.monotonic() >= next_claim:
                    if prefetch is not None:  # keep stream order: book what was prefetched first
                        await self.process_decoded(await prefetch)
                        prefetch = None
                    claimed = await self.group.autoclaim(self.options.claim_idle_ms, self.options.batch_size)
                    if claimed:
                        self.metrics.claimed.inc(len(claimed))
                        await self.process(claimed)
                    next_claim = time.monotonic() + self.options.claim_interval_seconds
                if prefetch is None:
                    batch = self.decode_all(await self.group.read(self.options.batch_size, self.options.block_ms))
                else:
                    batch, prefetch = await prefetch, None
                if batch.entries:
                    prefetch = asyncio.create_task(self._read_decoded())
                    await self.process_decoded(batch)
        finally:
            if prefetch is not None:
                prefetch.cancel()
                with contextlib.suppress(asyncio.CancelledError, *TRANSIENT_REDIS):
                    await prefetch

    async def _read_decoded(self) -> Decoded:
        return self.decode_all(await self.group.read(self.options.batch_size, self.options.block_ms))

    async def drain_own_pending(self) -> None:
        """Re-process what this consumer was given before a restart and never acked."""
        cursor = "0"
        while batch := await self.group.read(self.options.batch_size, pending_after=cursor):
            await self.process(batch)
            cursor = batch[-1].stream_id

    def decode_all(self, entries: Sequence[BusEntry]) -> Decoded:
        """Decode a batch; entries that cannot be decoded are set aside with the reason."""
        out = Decoded(list(entries), [], {}, [])
        for entry in entries:
            try:
                event = decode(entry, self.group.stream)
            except PoisonEvent as exc:
                out.failed.append((entry, str(exc)))
                continue
            out.good.append(event)
            out.entry_of[event.stream_id] = entry
        return out

    async def process(self, entries: Sequence[BusEntry]) -> None:
        """Decode, book (one transaction), then ack; set aside what cannot be booked."""
        await self.process_decoded(self.decode_all(entries))

    async def process_decoded(self, batch: Decoded) -> None:
        """Book a decoded batch (one transaction), then ack; set aside what cannot be booked."""
        started_ns = time.time_ns()
        good, entry_of, failed = batch.good, batch.entry_of, batch.failed
        booked = await self._book(good, failed, entry_of)
        if booked and self.options.kill_after_commits:
            self._commits += 1
            if self._commits >= self.options.kill_after_commits:
                os.kill(os.getpid(), signal.SIGKILL)  # committed, never acked: the crash the drill wants
        # Ack strictly after the commit above: a crash before this line means a harmless re-delivery.
        await self.group.ack([e.stream_id for e in booked])
        self._observe(booked, started_ns)
        if failed:
            await self._set_aside(failed)

    async def _book(self, events: list[IngestEvent], failed: list[tuple[BusEntry, str]],
                    entry_of: dict[str, BusEntry]) -> list[IngestEvent]:
        if not events:
            return []
        t0 = time.perf_counter()
        try:
            await self.store.book(events)
            self.metrics.batch_seconds.observe(time.perf_counter() - t0)
            self.metrics.batch_size.observe(len(events))
            return events
        except TRANSIENT_POSTGRES:
            raise
        except Exception:  # noqa: BLE001 - one bad event must not stall the batch: find it
            self._log.warning("batch failed; booking its events one by one", exc_info=True)
        booked = []
        for event in events:
            try:
                await self.store.book([event])
                booked.append(event)
            except TRANSIENT_POSTGRES:
                raise
            except Exception as exc:  # noqa: BLE001 - recorded with the dead letter
                failed.append((entry_of[event.stream_id], f"{type(exc).__name__}: {exc}"))
        return booked

    async def _set_aside(self, failed: list[tuple[BusEntry, str]]) -> None:
        counts = await self.group.delivery_counts([e.stream_id for e, _ in failed])
        for entry, reason in failed:
            if counts.get(entry.stream_id, self.options.max_deliveries) >= self.options.max_deliveries:
                await self.group.dead_letter(entry, reason)
                self.state.dead_lettered += 1
                self.metrics.dead_lettered.inc()
                self.metrics.events.labels(entry.event_type or "unknown", "dead_lettered").inc()
                self._log.error("dead-lettered a bus entry", extra={"stream_id": entry.stream_id, "reason": reason})
            else:
                self.metrics.events.labels(entry.event_type or "unknown", "failed").inc()
                self._log.warning("bus entry not booked; will retry",
                                  extra={"stream_id": entry.stream_id, "reason": reason})

    def _observe(self, booked: list[IngestEvent], started_ns: int) -> None:
        if not booked:
            return
        now = datetime.now(UTC)
        end_ns = time.time_ns()
        self.state.last_committed_stream_id = booked[-1].stream_id
        self.state.last_commit_time = now
        self.state.last_event_time = booked[-1].event_time
        for event in booked:
            self.metrics.events.labels(event.event_type, "booked").inc()
            if isinstance(event.record, FillRecord):
                self.metrics.fills.inc()
                self.metrics.commit_latency.observe(max(0.0, (now - event.event_time).total_seconds()))
            if event.traceparent:
                # The booking joins the publisher's trace (the order that caused the fill).
                ctx = extract_context({"traceparent": event.traceparent, "tracestate": event.tracestate})
                span = self.tracer.start_span("ledger.book_event", context=ctx, start_time=started_ns,
                                              kind=trace.SpanKind.CONSUMER,
                                              attributes={"messaging.system": "redis",
                                                          "messaging.destination.name": event.stream,
                                                          "messaging.message.id": event.stream_id,
                                                          "ibkr.event_type": event.event_type,
                                                          "ibkr.event_id": event.event_id})
                span.end(end_time=end_ns)


async def refresh_lag(group: ConsumerGroup, metrics: LedgerMetrics, stop: asyncio.Event, interval: float,
                      logger: logging.Logger | None = None, state: IngestState | None = None) -> None:
    """Keep the lag and pending gauges (and `state`, for GetIngestStatus) current until stopped."""
    log = logger or logging.getLogger("services.ledger.ingest")
    while not stop.is_set():
        try:
            lag = await group.lag()
            metrics.pending.set(lag.pending)
            if lag.lag is not None:
                metrics.lag.set(lag.lag)
            if state is not None:
                state.lag, state.pending = lag.lag, lag.pending
        except (LookupError, redis.exceptions.ResponseError, *TRANSIENT_REDIS) as exc:  # no stream/group yet
            log.debug("lag not available", extra={"error": repr(exc)})
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except TimeoutError:
            pass
