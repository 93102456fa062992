"""Publishes broker facts to the bus as `ibkr.trading.v1.Event`s (the bridge is their only publisher)."""

from __future__ import annotations

import logging
import uuid

from ibkr.trading.v1 import event_pb2

from services.common.bus import EventBus
from services.gateway_bridge.convert import now_timestamp

log = logging.getLogger("services.gateway_bridge.publisher")
SOURCE = "gateway_bridge"


class Publisher:
    """Wraps one payload in an Event envelope (fresh UUID, time, account, symbol) and XADDs it."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus

    async def publish(self, payload_field: str, payload: object, *, account_id: str = "", symbol: str = "") -> bool:
        """Publish one event; False (logged) when the bus is unreachable — callers that must not lose the
        event (fills) keep their own durable record and retry."""
        event = event_pb2.Event(event_id=str(uuid.uuid4()), event_time=now_timestamp(), account_id=account_id,
                                source=SOURCE, symbol=symbol)
        getattr(event, payload_field).CopyFrom(payload)
        try:
            await self._bus.publish(event.SerializeToString(), event_type=payload_field, account=account_id)
        except Exception:
            log.exception("cannot publish %s event", payload_field)
            return False
        return True
