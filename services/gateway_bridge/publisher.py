"""Publishes broker facts to the bus as `ibkr.trading.v1.Event`s (the bridge is their only publisher)."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Mapping

from ibkr.trading.v1 import event_pb2
from opentelemetry import trace

from services.common.bus import EventBus
from services.common.telemetry import extract_context
from services.gateway_bridge.convert import now_timestamp

log = logging.getLogger("services.gateway_bridge.publisher")
SOURCE = "gateway_bridge"


class Publisher:
    """Wraps one payload in an Event envelope (fresh UUID, time, account, symbol) and XADDs it."""

    def __init__(self, bus: EventBus, tracer: trace.Tracer | None = None) -> None:
        self._bus = bus
        self._tracer = tracer or trace.NoOpTracer()

    async def publish(self, payload_field: str, payload: object, *, account_id: str = "", symbol: str = "",
                      trace_carrier: Mapping[str, str] | None = None, span_name: str = "") -> bool:
        """Publish one event; False (logged) when the bus is unreachable — callers that must not lose the
        event (fills) keep their own durable record and retry.

        With `trace_carrier` (the trace of the order the event is about), the publish happens inside a
        PRODUCER span `span_name` continuing that trace, and the bus entry carries it on."""
        event = event_pb2.Event(event_id=str(uuid.uuid4()), event_time=now_timestamp(), account_id=account_id,
                                source=SOURCE, symbol=symbol)
        getattr(event, payload_field).CopyFrom(payload)
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
