"""The stream hub: one bus reader per edge process, fanning out to bounded per-subscriber queues.

The reader tails the Redis stream with XREAD from the last id it dispatched, parses each entry once, and
offers it to every subscriber whose filter matches. Offering never awaits: a subscriber whose queue is full
is cut at once (its `on_cut` callback fires) instead of slowing the reader or growing memory, so one slow
reader can never delay the others.

Gap-free joins: `subscribe` returns the position the hub had dispatched up to at that instant; the live
queue receives exactly the entries after it, so a resuming stream replays `(token, position]` with XRANGE
and then drains the queue, with no gap and no duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from ibkr.trading.v1 import event_pb2
from opentelemetry import trace
from prometheus_client import CollectorRegistry, Counter, Gauge

from services.common.bus import BusEntry, EventBus
from services.edge.filters import EventFilter
from services.edge.resume import ORIGIN, StreamPosition

MARKER_PAYLOADS = frozenset({"connection_state_change"})
"""Payloads every subscriber receives whatever its filter: they drive the broker markers."""

_log = logging.getLogger("services.edge.hub")


@dataclass(frozen=True)
class StreamItem:
    """One bus entry, parsed once and shared by every subscriber."""

    position: StreamPosition
    payload: str
    account_id: str
    symbol: str
    event: event_pb2.Event
    cache: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)
    """Encoded frames of this event, shared by every subscriber (fan-out serializes once, not N times)."""


class HubMetrics:
    """`ibkr_edge_subscribers`, `ibkr_edge_stream_cut_total`, `ibkr_edge_bus_events_total`,
    `ibkr_edge_bus_read_errors_total`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.subscribers = Gauge("ibkr_edge_subscribers", "Open event-stream subscribers on this edge.",
                                 registry=registry)
        self.cut = Counter("ibkr_edge_stream_cut_total",
                           "Stream subscribers cut with RESOURCE_EXHAUSTED because their queue overflowed.",
                           registry=registry)
        self.events = Counter("ibkr_edge_bus_events_total", "Bus entries read by the edge's one bus reader.",
                              registry=registry)
        self.read_errors = Counter("ibkr_edge_bus_read_errors_total",
                                   "Failed bus reads (the reader retries with backoff).", registry=registry)


@dataclass(eq=False)
class Subscriber:
    """A bounded queue of entries for one stream. Consumed by exactly one task.

    The hot path (one entry offered, one handed out) costs one future and no timer: the heartbeat timer is
    one per subscriber and re-armed lazily, instead of every wait scheduling and cancelling its own timeout.
    """

    filter: EventFilter
    capacity: int
    on_cut: Callable[[], None]
    queue: deque[StreamItem] = field(default_factory=deque)
    cut: bool = False
    _waiter: asyncio.Future[None] | None = field(default=None, repr=False)
    _quiet_until: float = 0.0
    _timer: asyncio.TimerHandle | None = field(default=None, repr=False)

    def offer(self, entry: StreamItem) -> None:
        """Enqueue without waiting; on overflow the subscriber is cut and its queue dropped."""
        if self.cut:
            return
        if len(self.queue) >= self.capacity:
            self.cut = True
            self.queue.clear()
            self._wake()
            self.on_cut()
            return
        self.queue.append(entry)
        if self._waiter is not None:
            self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def next(self, timeout: float) -> StreamItem | None:
        """The next entry, or None when `timeout` passes with nothing (time for a heartbeat) or when cut."""
        if not self.queue and not self.cut:
            loop = asyncio.get_running_loop()
            self._quiet_until = loop.time() + timeout
            if self._timer is None or self._timer.when() > self._quiet_until:  # (a shorter timeout than before)
                if self._timer is not None:
                    self._timer.cancel()
                self._timer = loop.call_at(self._quiet_until, self._on_timer, loop)
            self._waiter = loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if self.cut or not self.queue:
            return None
        return self.queue.popleft()

    def _on_timer(self, loop: asyncio.AbstractEventLoop) -> None:
        # Fires at the deadline of the wait that armed it; a later wait has pushed the deadline on, so re-arm
        # for that. Not waiting at all: stay unarmed until the next wait.
        self._timer = None
        if self._waiter is None or self._waiter.done():
            return
        if loop.time() + 0.001 >= self._quiet_until:
            self._waiter.set_result(None)
        else:
            self._timer = loop.call_at(self._quiet_until, self._on_timer, loop)

    def close(self) -> None:
        """Drop the heartbeat timer (the stream is over)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def parse_entry(entry: BusEntry) -> StreamItem | None:
    """A `StreamItem` from a bus entry, or None for an entry that is not a well-formed event."""
    if not entry.payload:
        return None
    event = event_pb2.Event()
    try:
        event.ParseFromString(entry.payload)
    except Exception:  # noqa: BLE001 - a corrupt entry must not stop the reader
        return None
    payload = event.WhichOneof("payload") or entry.event_type
    return StreamItem(StreamPosition.parse(entry.stream_id), payload, event.account_id or entry.account,
                      event.symbol or payload_symbol(event, payload), event)


# Where each payload keeps its instrument, for events whose producer left `Event.symbol` empty.
_INSTRUMENT_PATHS: dict[str, tuple[str, ...]] = {
    "order_update": ("order", "spec", "instrument"),
    "fill": ("instrument",),
    "position_update": ("position", "instrument"),
    "quote_update": ("quote", "instrument"),
    "pnl_update": ("pnl", "instrument"),
}


def payload_symbol(event: event_pb2.Event, payload: str) -> str:
    """The symbol of the instrument a payload concerns (by `_INSTRUMENT_PATHS`), or empty."""
    path = _INSTRUMENT_PATHS.get(payload)
    if path is None:
        return ""
    node = getattr(event, payload)
    for name in path:
        node = getattr(node, name, None)
        if node is None:
            return ""
    return getattr(node, "symbol", "")


class StreamHub:
    """Owns the bus reader and the subscriber set. `start()` once, `close()` on shutdown."""

    def __init__(self, redis: aioredis.Redis, stream: str, *, metrics: HubMetrics, read_count: int = 500,
                 block_ms: int = 1000, tracer: trace.Tracer | None = None,
                 on_health: Callable[[bool], Awaitable[None]] | None = None) -> None:
        self.redis = redis
        self._tracer = tracer or trace.NoOpTracer()
        self.stream = stream
        self._bus = EventBus(redis, stream, maxlen=None)
        self._metrics = metrics
        self._read_count = read_count
        self._block_ms = block_ms
        # Subscribers grouped by filter: an entry is matched once per distinct filter, not once per subscriber
        # (hundreds of streams usually share a handful of filters).
        self._groups: dict[Any, set[Any]] = {}
        self._count = 0
        self.position: StreamPosition = ORIGIN
        self._task: asyncio.Task[None] | None = None
        self.healthy = False
        self._closing = False
        self.on_health = on_health
        """Awaited with the new state when the bus becomes unreachable or reachable again."""

    async def _set_healthy(self, healthy: bool) -> None:
        # Only transitions reach `on_health` (the edge's health status), never every read.
        if healthy == self.healthy:
            return
        self.healthy = healthy
        if healthy:
            _log.info("bus reachable again; event streams are live")
        if self.on_health is not None:
            await self.on_health(healthy)

    async def start(self) -> None:
        """Start tailing after the newest entry (history is served by replay, not by the tail)."""
        self.position = await self.last_position()
        self.healthy = True  # Redis just answered
        self._task = asyncio.create_task(self._run(), name="edge-bus-reader")

    async def close(self) -> None:
        """Stop the reader."""
        # The flag as well as the cancel: a cancellation that lands inside a Redis read can be swallowed by
        # the client (it surfaces as a timeout it retries), and the loop must still end after that read.
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def subscriber_count(self) -> int:
        """How many subscribers are attached."""
        return self._count

    def subscribe(self, flt: EventFilter, capacity: int, on_cut: Callable[[], None]) -> tuple[Subscriber,
                                                                                                StreamPosition]:
        """Attach a subscriber; it receives every matching entry after the returned position."""
        sub = Subscriber(flt, capacity, on_cut)
        return sub, self.attach(sub)

    def attach(self, sub: Any) -> StreamPosition:
        """Attach any subscriber (anything with a hashable `filter`, `offer`, `cut`); returns the join position."""
        group = self._groups.setdefault(sub.filter, set())
        if sub not in group:
            group.add(sub)
            self._count += 1
            self._metrics.subscribers.set(self._count)
        return self.position

    def unsubscribe(self, sub: Any) -> None:
        """Detach a subscriber (idempotent)."""
        group = self._groups.get(sub.filter)
        if group is not None and sub in group:
            group.discard(sub)
            if not group:
                del self._groups[sub.filter]
            self._count -= 1
            self._metrics.subscribers.set(self._count)
        close = getattr(sub, "close", None)
        if close is not None:
            close()

    def dispatch(self, entry: StreamItem) -> int:
        """Offer one entry to every interested subscriber; synchronous, so fan-out is atomic per entry.
        Returns how many subscribers it was offered to."""
        offered = 0
        everyone = entry.payload in MARKER_PAYLOADS
        cut: list[Any] = []
        for flt, group in self._groups.items():
            if everyone or flt.matches(entry.payload, entry.account_id, entry.symbol):
                offered += len(group)
                for sub in group:
                    sub.offer(entry)
                    if sub.cut:
                        cut.append(sub)
        for sub in cut:  # detached after the loop: the groups must not change while iterated
            self._metrics.cut.inc()
            self.unsubscribe(sub)
        self.position = entry.position
        return offered

    def _dispatch_traced(self, raw: BusEntry, item: StreamItem) -> None:
        """Fan out inside a span that continues the publisher's trace, so an order's trace reaches the stream.
        Entries published outside any trace (quotes, ticks) get no span: no cost on the hot path."""
        if not raw.trace_context:
            self.dispatch(item)
            return
        with self._tracer.start_as_current_span("edge.stream_fanout", context=raw.extract_context(),
                                                kind=trace.SpanKind.CONSUMER) as span:
            span.set_attribute("ibkr.event.type", raw.event_type)
            span.set_attribute("ibkr.edge.subscribers_offered", self.dispatch(item))

    async def _run(self) -> None:
        backoff = 0.1
        while not self._closing:
            try:
                entries = await self._bus.read_after(str(self.position), self._read_count, self._block_ms)
                backoff = 0.1
                await self._set_healthy(True)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - Redis down: keep subscribers, retry with backoff
                await self._set_healthy(False)
                self._metrics.read_errors.inc()
                _log.warning("bus read failed; retrying in %.1fs", backoff, exc_info=True)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            for raw in entries:
                self._metrics.events.inc()
                if not self._count:
                    # Nobody to offer it to: only the position matters (a subscriber joining later starts after
                    # it), so the event is not decoded. No await in this loop, so nobody joins mid-batch.
                    self.position = StreamPosition.parse(raw.stream_id)
                    continue
                item = parse_entry(raw)
                if item is None:
                    self.position = StreamPosition.parse(raw.stream_id)
                else:
                    self._dispatch_traced(raw, item)

    async def last_position(self) -> StreamPosition:
        """The id of the newest entry on the stream (ORIGIN when empty or missing)."""
        newest = await self.redis.xrevrange(self.stream, count=1)
        return StreamPosition.parse(newest[0][0]) if newest else ORIGIN

    async def is_retained(self, after: StreamPosition) -> bool:
        """Whether every entry after `after` is still on the stream, so a replay would leave no gap.

        Trimming removes the oldest entries first, so entries after `after` are all there when the stream
        still holds `after` itself (first entry <= after) or never lost any entry. Otherwise some may be
        gone and the answer is False: conservative by design, a spurious "expired" costs the client a fresh
        snapshot, a wrong "retained" would cost it events. A position beyond the newest id ever generated
        comes from another incarnation of the stream and is not retained either.
        """
        try:
            info = await self.redis.xinfo_stream(self.stream)
        except aioredis.ResponseError:  # no such stream: nothing was ever published, or it was deleted
            return after == ORIGIN
        info = {(k.decode() if isinstance(k, bytes) else k): v for k, v in info.items()}
        if after > StreamPosition.parse(info["last-generated-id"]):
            return False
        if int(info.get("entries-added", 0)) == int(info["length"]):
            return True
        first = info.get("first-entry")
        return first is not None and StreamPosition.parse(first[0]) <= after

    async def replay(self, after: StreamPosition, upto: StreamPosition, page: int = 500) -> AsyncIterator[StreamItem]:
        """Every entry in `(after, upto]`, oldest first, read in pages with XRANGE."""
        cursor = after
        while cursor < upto:
            rows = await self.redis.xrange(self.stream, min=f"({cursor}", max=str(upto), count=page)
            if not rows:
                return
            for entry_id, fields in rows:
                cursor = StreamPosition.parse(entry_id)
                item = parse_entry(BusEntry.from_redis(entry_id, fields)) if fields else None
                if item is not None:
                    yield item
