"""EventBus and ConsumerGroup against a real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.common.bus import BusEntry, ConsumerGroup, EventBus, stream_id_key


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
async def redis(redis_url: str, request: pytest.FixtureRequest) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url, decode_responses=False, protocol=request.param)
    yield client
    await client.aclose()


@pytest.fixture
async def stream(redis: aioredis.Redis, unique_name: str) -> AsyncIterator[str]:
    name = f"{unique_name}:events"
    yield name
    await redis.delete(name, name + ":dead")


async def test_publish_then_read_after_returns_the_fields_in_order(redis, stream) -> None:
    bus = EventBus(redis, stream, maxlen=1000)
    first = await bus.publish(b"\x01\x02", event_type="fill", account="DU1")
    second = await bus.publish(b"\x03", event_type="order_update", account="DU2")

    entries = await bus.read_after("0", count=10)

    assert [e.stream_id for e in entries] == [first, second]
    assert entries[0].payload == b"\x01\x02"
    assert (entries[0].event_type, entries[0].account) == ("fill", "DU1")
    assert entries[0].trace_context == {}  # no active span: nothing to carry
    assert [e.stream_id for e in await bus.read_after(first)] == [second]
    assert await bus.read_after(second, block_ms=10) == []


async def test_publish_trims_approximately_to_maxlen(redis, stream) -> None:
    bus = EventBus(redis, stream, maxlen=10)
    for i in range(500):
        await bus.publish(str(i).encode(), event_type="fill", account="DU1")
    # MAXLEN ~ trims whole macro nodes (100 entries by default), never below maxlen.
    assert 10 <= await redis.xlen(stream) < 500


async def test_trace_context_travels_with_the_event_and_parents_the_consumer_span(redis, stream) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    bus = EventBus(redis, stream, maxlen=None)

    with tracer.start_as_current_span("place order") as publisher:
        await bus.publish(b"x", event_type="fill", account="DU1")
    [entry] = await bus.read_after("0")
    with tracer.start_as_current_span("ledger consume", context=entry.extract_context()):
        pass

    assert "traceparent" in entry.trace_context
    consume = next(s for s in exporter.get_finished_spans() if s.name == "ledger consume")
    assert consume.context.trace_id == publisher.get_span_context().trace_id
    assert consume.parent.span_id == publisher.get_span_context().span_id


async def test_read_after_blocks_until_a_publish(redis, stream) -> None:
    bus = EventBus(redis, stream, maxlen=None)
    last = await bus.publish(b"a", event_type="fill", account="DU1")
    waiter = asyncio.create_task(bus.read_after(last, block_ms=5000))
    await asyncio.sleep(0.05)
    await bus.publish(b"b", event_type="fill", account="DU1")
    [entry] = await asyncio.wait_for(waiter, 5)
    assert entry.payload == b"b"


async def test_ensure_creates_group_once_and_reads_existing_entries(redis, stream) -> None:
    bus = EventBus(redis, stream, maxlen=None)
    await bus.publish(b"before", event_type="fill", account="DU1")
    group = ConsumerGroup(redis, stream, "ledger", "ledger-1")

    assert await group.ensure() is True
    assert await group.ensure() is False

    [entry] = await group.read(10)
    assert entry.payload == b"before"
    assert await group.read(10, block_ms=10) == []


async def test_ensure_makes_the_stream_when_missing(redis, stream) -> None:
    group = ConsumerGroup(redis, stream, "ledger", "ledger-1")
    await group.ensure()
    assert await redis.exists(stream) == 1
    assert await group.lag() == (await group.lag())  # readable on an empty stream


async def test_unacked_entries_are_reread_as_pending_after_restart_and_ack_clears_them(redis, stream) -> None:
    bus = EventBus(redis, stream, maxlen=None)
    ids = [await bus.publish(str(i).encode(), event_type="fill", account="DU1") for i in range(3)]
    group = ConsumerGroup(redis, stream, "ledger", "ledger-1")
    await group.ensure()
    assert [e.stream_id for e in await group.read(10)] == ids  # delivered, then "crash" before ack

    restarted = ConsumerGroup(redis, stream, "ledger", "ledger-1")
    assert await restarted.read(10, block_ms=10) == []  # nothing new
    pending = await restarted.read(2, pending_after="0")
    assert [e.stream_id for e in pending] == ids[:2]
    rest = await restarted.read(10, pending_after=pending[-1].stream_id)
    assert [e.stream_id for e in rest] == ids[2:]

    assert await restarted.ack(ids) == 3
    assert await restarted.read(10, pending_after="0") == []
    assert await restarted.ack([]) == 0


async def test_autoclaim_takes_over_idle_entries_and_counts_deliveries(redis, stream) -> None:
    bus = EventBus(redis, stream, maxlen=None)
    ids = [await bus.publish(str(i).encode(), event_type="fill", account="DU1") for i in range(3)]
    crashed = ConsumerGroup(redis, stream, "ledger", "ledger-1")
    await crashed.ensure()
    await crashed.read(10)
    survivor = ConsumerGroup(redis, stream, "ledger", "ledger-2")

    assert await survivor.autoclaim(min_idle_ms=60_000) == []  # not idle long enough
    await asyncio.sleep(0.02)
    claimed = await survivor.autoclaim(min_idle_ms=10, count=2)

    assert [e.stream_id for e in claimed] == ids[:2]
    assert await survivor.delivery_counts(ids) == {ids[0]: 2, ids[1]: 2, ids[2]: 1}
    assert await survivor.delivery_counts([]) == {}


async def test_dead_letter_moves_the_entry_with_its_reason_and_acks_it(redis, stream) -> None:
    bus = EventBus(redis, stream, maxlen=None)
    await bus.publish(b"poison", event_type="fill", account="DU1")
    group = ConsumerGroup(redis, stream, "ledger", "ledger-1")
    await group.ensure()
    [entry] = await group.read(10)

    await group.dead_letter(entry, "undecodable payload")

    assert await group.read(10, pending_after="0") == []
    [(dead_id, fields)] = await redis.xrange(stream + ":dead")
    dead = BusEntry.from_redis(dead_id, fields)
    assert (dead.payload, dead.event_type, dead.account) == (b"poison", "fill", "DU1")
    assert fields[b"dead_reason"] == b"undecodable payload"
    assert fields[b"source_id"].decode() == entry.stream_id
    assert fields[b"group"] == b"ledger"


async def test_lag_reports_pending_and_undelivered(redis, stream) -> None:
    bus = EventBus(redis, stream, maxlen=None)
    group = ConsumerGroup(redis, stream, "ledger", "ledger-1")
    await group.ensure()
    for i in range(5):
        await bus.publish(str(i).encode(), event_type="fill", account="DU1")
    read = await group.read(2)

    lag = await group.lag()
    assert (lag.pending, lag.lag) == (2, 3)
    await group.ack([e.stream_id for e in read])
    assert (await group.lag()).pending == 0


async def test_lag_of_a_missing_group_is_an_error(redis, stream) -> None:
    await ConsumerGroup(redis, stream, "ledger", "ledger-1").ensure()
    with pytest.raises(LookupError):
        await ConsumerGroup(redis, stream, "other", "x").lag()


async def test_pending_entries_trimmed_from_the_stream_are_acked_and_skipped(redis, stream) -> None:
    bus = EventBus(redis, stream, maxlen=None)
    gone = await bus.publish(b"old", event_type="fill", account="DU1")
    kept = await bus.publish(b"new", event_type="fill", account="DU1")
    group = ConsumerGroup(redis, stream, "ledger", "ledger-1")
    await group.ensure()
    await group.read(10)
    await redis.xdel(stream, gone)

    assert [e.stream_id for e in await group.read(10, pending_after="0")] == [kept]
    assert (await group.lag()).pending == 1


def test_stream_ids_sort_numerically() -> None:
    assert sorted(["10-0", "9-5", "9-10"], key=stream_id_key) == ["9-5", "9-10", "10-0"]
