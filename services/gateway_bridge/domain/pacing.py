"""One token bucket in front of every IB request (IB allows 50 msg/s; we stay at ≤ 45).

Requests that cannot get a token at once wait in a *bounded* queue, cancels ahead of everything else; when
the queue is full the request is refused at once (the caller answers RESOURCE_EXHAUSTED). The clock is
injected, so the bucket is tested without sleeping.
"""

from __future__ import annotations

import asyncio
import collections
import enum
import time
from collections.abc import Callable


class Priority(enum.IntEnum):
    """Lower goes first."""

    CANCEL = 0
    ORDER = 1
    DATA = 2


class PacingRejected(Exception):
    """The pacing queue is full; nothing was sent."""


class TokenBucket:
    """A bucket of `rate` tokens per second holding at most `burst`, refilled continuously.

    Any one-second window sees at most `burst + rate` takes (the tokens held at its start plus one second of
    refill), so `rate=38, burst=4` sends at most 42 in every second, not just on average (the bridge default,
    leaving a margin for network jitter bunching messages on arrival at the gateway).
    """

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate, self.burst, self._clock = rate, burst, clock
        self._tokens = burst
        self._stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def try_take(self) -> bool:
        """Take one token if available now."""
        self._refill()
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    def wait_time(self) -> float:
        """Seconds until one token is available (0 when one is)."""
        self._refill()
        return 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate


class Pacer:
    """Async gate: `await pacer.acquire(priority)` before each IB message.

    A waiter that is cancelled (its deadline expired) leaves the queue without consuming a token.
    """

    def __init__(self, bucket: TokenBucket, max_queue: int) -> None:
        self._bucket = bucket
        self._max_queue = max_queue
        self._queues: dict[Priority, collections.deque[asyncio.Future[None]]] = {
            p: collections.deque() for p in Priority}
        self._pump: asyncio.Task[None] | None = None

    @property
    def depth(self) -> int:
        """Requests waiting for a token."""
        return sum(1 for q in self._queues.values() for f in q if not f.done())

    def full(self, priority: Priority = Priority.ORDER) -> bool:
        """Whether `acquire(priority)` would be refused right now (checked before doing any other work)."""
        return priority != Priority.CANCEL and self.depth >= self._max_queue and self._bucket.wait_time() > 0

    async def acquire(self, priority: Priority = Priority.ORDER) -> None:
        """Wait for a token; raises PacingRejected at once when the queue is full."""
        if self.depth == 0 and self._bucket.try_take():
            return
        if self.depth >= self._max_queue and priority != Priority.CANCEL:
            raise PacingRejected(f"pacing queue full ({self._max_queue} waiting)")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queues[priority].append(future)
        if self._pump is None or self._pump.done():
            self._pump = asyncio.ensure_future(self._run())
        await future

    def _next(self) -> asyncio.Future[None] | None:
        for priority in Priority:
            queue = self._queues[priority]
            while queue and queue[0].done():
                queue.popleft()  # cancelled waiters give their place up
            if queue:
                return queue.popleft()
        return None

    async def _run(self) -> None:
        while True:
            waiter = self._next()
            if waiter is None:
                return
            while not self._bucket.try_take():
                await asyncio.sleep(self._bucket.wait_time())
            if waiter.done():
                self._bucket._tokens += 1
            else:
                waiter.set_result(None)

    def close(self) -> None:
        """Stop the pump and fail the waiters (shutdown)."""
        if self._pump is not None:
            self._pump.cancel()
        for queue in self._queues.values():
            for future in queue:
                if not future.done():
                    future.set_exception(PacingRejected("shutting down"))
            queue.clear()
