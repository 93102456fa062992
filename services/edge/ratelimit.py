"""Per-key token buckets. Pure (the clock is injected), so the arithmetic is unit-tested without sleeping."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """`rate` requests per second sustained, `burst` at once, independently per key.

    A rate of 0 disables limiting. Buckets are kept per key id (a bounded set: keys come from the keys file).
    """

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def try_acquire(self, key_id: str) -> float:
        """0.0 when the call may proceed (a token is taken); otherwise seconds until a token is available."""
        if self.rate <= 0:
            return 0.0
        now = self._clock()
        bucket = self._buckets.get(key_id)
        if bucket is None:
            bucket = self._buckets[key_id] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate


class StreamSlots:
    """Counts concurrent streams per key against a cap."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._open: dict[str, int] = {}

    def acquire(self, key_id: str) -> bool:
        """Take a slot; False when the key already has `cap` streams open."""
        n = self._open.get(key_id, 0)
        if n >= self.cap:
            return False
        self._open[key_id] = n + 1
        return True

    def release(self, key_id: str) -> None:
        """Give a slot back."""
        n = self._open.get(key_id, 0) - 1
        if n <= 0:
            self._open.pop(key_id, None)
        else:
            self._open[key_id] = n

    def open_streams(self, key_id: str) -> int:
        """How many streams the key has open."""
        return self._open.get(key_id, 0)
