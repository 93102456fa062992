"""Decisions leave risk without ever being awaited on the order path, and a live denial is never lost: not
when the outbound queue is full, not while the bus refuses writes (real Redis behind a switch that makes
publishing fail, as an outage would)."""

from __future__ import annotations

import asyncio
import uuid

import redis.asyncio as aioredis
from ibkr.trading.v1 import event_pb2, order_pb2, risk_types_pb2
from prometheus_client import CollectorRegistry

from services.common.bus import EventBus
from services.risk.core.model import Control, Decision, Outcome, RuleResult, TradingState
from services.risk.decision_codec import DecisionRecord
from services.risk.metrics import RiskMetrics
from services.risk.publisher import Publisher, now_utc


def record(accepted: bool) -> DecisionRecord:
    denied = None if accepted else RuleResult("max-qty", Outcome.DENIED, Control.ERRONEOUS_ORDER)
    decision = Decision(accepted, (denied,) if denied else (), 1, TradingState.ACTIVE, None, False, denied)
    return DecisionRecord(f"rd_{uuid.uuid4().hex}", "DU1", "c", risk_types_pb2.RISK_REQUEST_TYPE_NEW_ORDER,
                          decision, order_pb2.OrderSpec(), now_utc())


async def published(bus: EventBus) -> list[str]:
    ids = []
    for entry in await bus.read_after("0", count=1000):
        event = event_pb2.Event.FromString(entry.payload)
        ids.append(event.risk_decision.decision.decision_id)
    return ids


async def test_denials_survive_a_bus_outage_and_a_full_queue_while_acceptances_are_shed(redis_url, unique_name):
    client = aioredis.from_url(redis_url, decode_responses=False)
    bus = EventBus(client, f"{unique_name}:events", None)
    down = [True]

    async def publish(payload: bytes, kind: str, account: str):
        if down[0]:
            raise ConnectionError("bus down")
        return await bus.publish(payload, event_type=kind, account=account)

    metrics = RiskMetrics(CollectorRegistry())
    publisher = Publisher(publish, None, metrics, capacity=2, linger=0)
    try:
        denials = [record(False) for _ in range(4)]
        accepted = record(True)
        publisher.decision(accepted)
        for d in denials:  # the queue holds 2: the rest wait in the overflow, not dropped
            publisher.decision(d)
        publisher.start()
        await asyncio.sleep(0.3)  # several failed attempts while the bus is down
        assert await published(bus) == []
        down[0] = False

        async def all_out():
            return len(await published(bus)) == 4
        for _ in range(200):
            if await all_out():
                break
            await asyncio.sleep(0.05)
        assert sorted(await published(bus)) == sorted(d.decision_id for d in denials)
        assert metrics.publish_dropped._value.get() >= 1  # the accepting decision was shed and counted
    finally:
        await publisher.close()
        await client.delete(f"{unique_name}:events")
        await client.aclose()
