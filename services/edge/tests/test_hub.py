"""The hub's fan-out without Redis: filter groups, cuts, and the lazily re-armed heartbeat timer."""

from __future__ import annotations

import asyncio

from ibkr.trading.v1 import event_pb2
from prometheus_client import CollectorRegistry

from services.edge.filters import EventFilter
from services.edge.hub import HubMetrics, StreamHub, StreamItem, Subscriber
from services.edge.resume import StreamPosition


def _item(seq: int, payload: str = "order_update", account: str = "DU1") -> StreamItem:
    return StreamItem(StreamPosition(1, seq), payload, account, "AAPL", event_pb2.Event(account_id=account))


def _hub() -> StreamHub:
    return StreamHub(None, "s", metrics=HubMetrics(CollectorRegistry()))  # type: ignore[arg-type]


def test_dispatch_reaches_each_matching_subscriber_once_whatever_the_filter_grouping():
    hub = _hub()
    mine = [hub.subscribe(EventFilter.build("DU1"), 10, lambda: None)[0] for _ in range(3)]
    other = hub.subscribe(EventFilter.build("DU2"), 10, lambda: None)[0]
    everything = hub.subscribe(EventFilter.build(""), 10, lambda: None)[0]
    assert hub.subscriber_count == 5

    assert hub.dispatch(_item(1)) == 4
    assert [len(s.queue) for s in (*mine, other, everything)] == [1, 1, 1, 0, 1]
    # Connection events reach every subscriber whatever its filter (they drive the broker markers).
    assert hub.dispatch(_item(2, "connection_state_change", "")) == 5
    assert hub.position == StreamPosition(1, 2)

    hub.unsubscribe(mine[0])
    hub.unsubscribe(mine[0])  # idempotent
    assert hub.subscriber_count == 4


def test_a_full_subscriber_is_cut_and_detached_while_the_others_in_its_group_keep_receiving():
    hub = _hub()
    cuts: list[int] = []
    small = hub.subscribe(EventFilter.build("DU1"), 1, lambda: cuts.append(1))[0]
    big = hub.subscribe(EventFilter.build("DU1"), 10, lambda: None)[0]
    hub.dispatch(_item(1))
    hub.dispatch(_item(2))
    assert small.cut and cuts == [1] and not small.queue
    assert len(big.queue) == 2 and hub.subscriber_count == 1


async def test_an_idle_subscriber_gets_a_heartbeat_after_each_quiet_period_and_entries_at_once():
    sub = Subscriber(EventFilter.build(""), 10, lambda: None)
    assert await sub.next(0.05) is None  # quiet: time for a heartbeat
    asyncio.get_running_loop().call_later(0.01, sub.offer, _item(1))
    assert (await sub.next(30)).position == StreamPosition(1, 1)  # woken by the entry, not the timer
    for _ in range(3):  # the one timer keeps serving later waits
        assert await sub.next(0.02) is None
    sub.close()


async def test_with_nobody_subscribed_the_tail_only_advances_and_a_later_subscriber_gets_exactly_what_follows(
        redis_url, unique_name):
    import redis.asyncio as aioredis

    from services.common.bus import EventBus

    redis = aioredis.Redis.from_url(redis_url)
    stream = f"{unique_name}:events"
    bus = EventBus(redis, stream, maxlen=None)
    hub = StreamHub(redis, stream, metrics=HubMetrics(CollectorRegistry()), block_ms=50)
    await hub.start()
    try:
        event = event_pb2.Event(account_id="DU1")
        before = [await bus.publish(event.SerializeToString(), event_type="order_update", account="DU1")
                  for _ in range(3)]
        while hub.position != StreamPosition.parse(before[-1]):
            await asyncio.sleep(0.01)
        sub, joined = hub.subscribe(EventFilter.build("DU1"), 10, lambda: None)
        assert joined == StreamPosition.parse(before[-1])
        after = await bus.publish(event.SerializeToString(), event_type="order_update", account="DU1")
        got = await sub.next(30)
        assert got is not None and got.position == StreamPosition.parse(after) and not sub.queue
        hub.unsubscribe(sub)
    finally:
        await hub.close()
        await redis.delete(stream)
        await redis.aclose()
