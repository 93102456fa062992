"""Market-data lines shared between StreamQuotes subscribers, reference-counted per instrument.

IB gives an account ~100 lines, so two clients watching AAPL must share one. The edge subscribes at the
bridge (as one subscriber id per edge process) when an instrument's count goes 0 → 1 and unsubscribes when
it returns to 0; the bridge keeps its own count across edge processes. Quotes then arrive on the bus.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import grpc
from ibkr.gateway.v1 import gateway_pb2
from ibkr.trading.v1 import instrument_pb2

from services.edge.downstream import Downstream

_log = logging.getLogger("services.edge.quotelines")


def instrument_key(inst: instrument_pb2.Instrument) -> str:
    """A stable identity for an instrument (con_id when known, else its descriptive fields)."""
    if inst.con_id:
        return f"con:{inst.con_id}"
    return f"{inst.symbol.upper()}|{inst.security_type}|{inst.exchange.upper()}|{inst.currency.upper()}"


class QuoteLines:
    """Counts edge subscribers per instrument and keeps the bridge subscription in step."""

    def __init__(self, downstream: Downstream, subscriber_id: str) -> None:
        self._down = downstream
        self.subscriber_id = subscriber_id
        self._counts: dict[str, int] = {}
        self._lock = asyncio.Lock()

    def count(self, inst: instrument_pb2.Instrument) -> int:
        """How many edge streams watch `inst`."""
        return self._counts.get(instrument_key(inst), 0)

    async def acquire(self, instruments: Sequence[instrument_pb2.Instrument],
                      context: grpc.aio.ServicerContext | None) -> None:
        """Count a new watcher of each instrument; subscribe at the bridge to those not yet watched."""
        async with self._lock:
            fresh = [i for i in instruments if self._counts.get(instrument_key(i), 0) == 0]
            if fresh:
                # Fails as a whole (e.g. no free lines): counts stay untouched, the caller gets the error.
                await self._down.call(self._down.bridge.SubscribeQuotes, gateway_pb2.SubscribeQuotesRequest(
                    subscriber_id=self.subscriber_id, instruments=fresh), context)
            for inst in instruments:
                key = instrument_key(inst)
                self._counts[key] = self._counts.get(key, 0) + 1

    async def release(self, instruments: Sequence[instrument_pb2.Instrument]) -> None:
        """Drop one watcher of each; unsubscribe at the bridge from those nobody watches any more."""
        async with self._lock:
            idle = []
            for inst in instruments:
                key = instrument_key(inst)
                n = self._counts.get(key, 0) - 1
                if n <= 0:
                    self._counts.pop(key, None)
                    idle.append(inst)
                else:
                    self._counts[key] = n
            if idle:
                try:
                    await self._down.call(self._down.bridge.UnsubscribeQuotes, gateway_pb2.UnsubscribeQuotesRequest(
                        subscriber_id=self.subscriber_id, instruments=idle), None)
                except Exception:  # noqa: BLE001 - best effort: the bridge reaps lines of a vanished subscriber
                    _log.warning("could not release %d quote lines at the bridge", len(idle), exc_info=True)
