"""MarketDataService: GetQuote from the bridge; StreamQuotes from the bus over shared, ref-counted lines,
conflated per instrument for slow readers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from ibkr.edge.v1 import market_data_service_pb2 as pb
from ibkr.edge.v1 import market_data_service_pb2_grpc
from ibkr.gateway.v1 import gateway_pb2
from ibkr.trading.v1 import event_pb2

from services.common.errors import DomainError
from services.edge import validation as val
from services.edge.conflation import Conflator
from services.edge.downstream import Downstream
from services.edge.filters import EventFilter
from services.edge.hub import StreamHub, StreamItem
from services.edge.quotelines import QuoteLines

MAX_INSTRUMENTS = 100


@dataclass(eq=False)
class QuoteSubscriber:
    """A hub subscriber that conflates: latest quote per symbol, never cut."""

    filter: EventFilter
    pending: Conflator[str, StreamItem] = field(default_factory=Conflator)
    cut: bool = False
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, item: StreamItem) -> None:
        """Replace the pending quote of the item's symbol."""
        if item.payload == "quote_update":
            self.pending.put(item.symbol.upper(), item)
            self._wake.set()

    async def wait(self, timeout: float) -> None:
        """Until a quote is pending or `timeout` passes."""
        if len(self.pending):
            return
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._wake.wait()


class MarketDataServicer(market_data_service_pb2_grpc.MarketDataServiceServicer):
    """GetQuote and StreamQuotes."""

    def __init__(self, downstream: Downstream, hub: StreamHub, lines: QuoteLines, *, heartbeat_seconds: float,
                 min_interval_ms: int = 0) -> None:
        self._down = downstream
        self._hub = hub
        self._lines = lines
        self._heartbeat = heartbeat_seconds
        self._min_interval = min_interval_ms / 1000

    async def GetQuote(self, request: pb.GetQuoteRequest, context: grpc.aio.ServicerContext) -> pb.GetQuoteResponse:
        v = val.Violations()
        val.check_instrument(v, request, "instrument", "instrument")
        v.raise_if_any()
        reply = await self._down.call(self._down.bridge.GetQuote,
                                      gateway_pb2.GetQuoteRequest(instrument=request.instrument), context)
        return pb.GetQuoteResponse(quote=reply.quote)

    async def StreamQuotes(self, request: pb.StreamQuotesRequest,
                           context: grpc.aio.ServicerContext) -> AsyncIterator[pb.StreamQuotesResponse]:
        v = val.Violations()
        if not request.instruments:
            v.add("instruments", "at least one instrument is required", "REQUIRED")
        if len(request.instruments) > MAX_INSTRUMENTS:
            v.add("instruments", f"at most {MAX_INSTRUMENTS} instruments per stream")
        for i in range(min(len(request.instruments), MAX_INSTRUMENTS)):
            _check_listed_instrument(v, request.instruments[i], f"instruments[{i}]")
        if request.min_interval.seconds < 0 or request.min_interval.nanos < 0:
            v.add("min_interval", "must not be negative")
        v.raise_if_any()
        interval = max(self._min_interval, request.min_interval.ToTimedelta().total_seconds())
        instruments = list(request.instruments)
        symbols = {i.symbol.upper() for i in instruments}
        sub = QuoteSubscriber(EventFilter.build("", ["quote_update"], symbols))
        await self._lines.acquire(instruments, context)
        self._hub.attach(sub)  # a conflating subscriber shares the hub's one reader
        try:
            for quote in await self._initial_quotes(instruments, context):
                yield pb.StreamQuotesResponse(quote=quote)
            while True:
                await sub.wait(self._heartbeat)
                if not len(sub.pending):
                    yield pb.StreamQuotesResponse(heartbeat=_heartbeat())
                    continue
                while (item := sub.pending.pop()) is not None:
                    yield pb.StreamQuotesResponse(quote=item.event.quote_update.quote)
                if interval > 0:
                    # At most one quote per instrument per interval; newer ones conflate meanwhile.
                    await asyncio.sleep(interval)
        finally:
            self._hub.unsubscribe(sub)
            await asyncio.shield(self._lines.release(instruments))

    async def _initial_quotes(self, instruments: list, context: grpc.aio.ServicerContext) -> list:
        async def one(inst: object) -> object | None:
            try:
                reply = await self._down.call(self._down.bridge.GetQuote,
                                              gateway_pb2.GetQuoteRequest(instrument=inst), context)
            except DomainError:
                return None  # no quote yet: the stream delivers the first one when it comes
            return reply.quote if reply.HasField("quote") else None

        quotes = await asyncio.gather(*(one(i) for i in instruments))
        return [q for q in quotes if q is not None]


def _check_listed_instrument(v: val.Violations, inst: object, path: str) -> None:
    holder = pb.GetQuoteRequest(instrument=inst)  # reuse the single-instrument check with the list's path
    sub = val.Violations()
    val.check_instrument(sub, holder, "instrument", path)
    v.items.extend(sub.items)


def _heartbeat() -> event_pb2.Heartbeat:
    now = Timestamp()
    now.GetCurrentTime()
    return event_pb2.Heartbeat(server_time=now)
