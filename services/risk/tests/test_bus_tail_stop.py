"""Stopping the bus tail ends it even when the Redis client, interrupted in the middle of a read, turns the
cancellation into an error of its own (a redis-py behaviour seen around blocking reads): the tail must not
take it for a failed read and retry, or shutdown waits for ever."""

from __future__ import annotations

import asyncio

from services.risk.feed import BusTail


class _ReadThatSwallowsCancellation:
    """A bus whose blocking read, the first time it is cancelled, raises a connection error instead (as a client
    library might); later cancellations pass, so a failing test ends instead of hanging."""

    stream = "test:events"

    def __init__(self) -> None:
        self.reading = asyncio.Event()
        self.swallowed = False

    async def read_after(self, last_id: str, count: int = 100, block_ms: int | None = None) -> list:
        self.reading.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            if self.swallowed:
                raise
            self.swallowed = True
            raise ConnectionError("connection closed while reading") from None
        return []


def test_a_cancellation_turned_into_an_error_mid_read_still_stops_the_tail() -> None:
    async def scenario() -> None:
        bus = _ReadThatSwallowsCancellation()
        tail = BusTail(bus, feed=None, start_id="0")  # the feed is never reached: nothing is read
        tail.start()
        await asyncio.wait_for(bus.reading.wait(), 5)
        await asyncio.wait_for(tail.stop(), 5)

    asyncio.run(scenario())
