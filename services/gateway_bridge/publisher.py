"""Publishes broker facts to the bus as `ibkr.trading.v1.Event`s (the bridge is their only publisher)."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence

import redis.asyncio as aioredis
from google.protobuf.message import Message
from ibkr.trading.v1 import event_pb2
from opentelemetry import trace

from services.common.bus import FIELD_ACCOUNT, FIELD_EVENT, FIELD_TYPE, EventBus
from services.common.telemetry import extract_context, inject_context
from services.gateway_bridge.convert import now_timestamp

log = logging.getLogger("services.gateway_bridge.publisher")
SOURCE = "gateway_bridge"


@dataclasses.dataclass
class Publication:
    """One event to publish in a batch (`Publisher.publish_many`); `on_published` runs after its XADD."""

    payload_field: str
    payload: Message
    account_id: str = ""
    symbol: str = ""
    trace_carrier: Mapping[str, str] | None = None
    span_name: str = ""
    on_published: Callable[[], Awaitable[None]] | None = None
    execution_id: str = ""  # a fill's: the caller marks it published once the XADD succeeded


class Publisher:
    """Wraps one payload in an Event envelope (fresh UUID, time, account, symbol) and XADDs it."""

    def __init__(self, bus: EventBus, tracer: trace.Tracer | None = None, *, redis: aioredis.Redis | None = None,
                 maxlen: int | None = None) -> None:
        self._bus = bus
        self._tracer = tracer or trace.NoOpTracer()
        self._redis, self._maxlen = redis, maxlen  # the bus's own client and trimming, for pipelined batches

    def _event(self, payload_field: str, payload: object, account_id: str, symbol: str) -> event_pb2.Event:
        event = event_pb2.Event(event_id=str(uuid.uuid4()), event_time=now_timestamp(), account_id=account_id,
                                source=SOURCE, symbol=symbol)
        getattr(event, payload_field).CopyFrom(payload)
        return event

    async def publish_many(self, items: Sequence[Publication]) -> list[bool]:
        """XADD several events in one pipelined round trip, in order (the bus entries are exactly what
        `publish` writes, PRODUCER spans included); per item, whether it was published."""
        if not items:
            return []
        if self._redis is None:  # no client of our own to pipeline on: one XADD each
            return [await self._publish_one(item) for item in items]
        spans: list[trace.Span | None] = []
        pipe = self._redis.pipeline(transaction=False)
        for item in items:
            span = self._tracer.start_span(item.span_name or f"bridge.publish {item.payload_field}",
                                           context=extract_context(item.trace_carrier), kind=trace.SpanKind.PRODUCER,
                                           attributes={"ibkr.event_type": item.payload_field}) \
                if item.trace_carrier else None
            spans.append(span)
            fields = {FIELD_EVENT: self._event(item.payload_field, item.payload, item.account_id,
                                               item.symbol).SerializeToString(),
                      FIELD_TYPE: item.payload_field.encode(), FIELD_ACCOUNT: item.account_id.encode()}
            carrier = inject_context(trace.set_span_in_context(span)) if span is not None else inject_context()
            fields.update({key.encode(): value.encode() for key, value in carrier.items()})
            pipe.xadd(self._bus.stream, fields, maxlen=self._maxlen, approximate=self._maxlen is not None)
        try:
            replies = await pipe.execute(raise_on_error=False)
        except Exception:
            log.exception("cannot publish %d events", len(items))
            replies = [None] * len(items)
        results = [r is not None and not isinstance(r, Exception) for r in replies]
        for span, ok in zip(spans, results, strict=True):
            if span is not None:
                if not ok:
                    span.set_status(trace.StatusCode.ERROR)
                span.end()
        if not all(results):
            log.error("cannot publish %d of %d events", results.count(False), len(items))
        return results

    async def _publish_one(self, item: Publication) -> bool:
        return await self.publish(item.payload_field, item.payload, account_id=item.account_id, symbol=item.symbol,
                                  trace_carrier=item.trace_carrier, span_name=item.span_name)

    async def publish(self, payload_field: str, payload: object, *, account_id: str = "", symbol: str = "",
                      trace_carrier: Mapping[str, str] | None = None, span_name: str = "") -> bool:
        """Publish one event; False (logged) when the bus is unreachable — callers that must not lose the
        event (fills) keep their own durable record and retry.

        With `trace_carrier` (the trace of the order the event is about), the publish happens inside a
        PRODUCER span `span_name` continuing that trace, and the bus entry carries it on."""
        event = self._event(payload_field, payload, account_id, symbol)
        span = (self._tracer.start_as_current_span(span_name or f"bridge.publish {payload_field}",
                                                   context=extract_context(trace_carrier),
                                                   kind=trace.SpanKind.PRODUCER,
                                                   attributes={"ibkr.event_type": payload_field})
                if trace_carrier else contextlib.nullcontext())
        try:
            with span:
                await self._bus.publish(event.SerializeToString(), event_type=payload_field, account=account_id)
        except Exception:
            log.exception("cannot publish %s event", payload_field)
            return False
        return True
