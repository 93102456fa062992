"""The active/standby lease in Redis: only its holder connects to IB and reports SERVING.

`SET key owner NX PX ttl` takes it; the holder renews every ttl/3 with a compare-and-extend script. A holder
that cannot renew (Redis unreachable, or the key taken over) stops considering itself active once
2/3 of the TTL has passed since its last renewal — before any standby can take the key — so two replicas
never act at once while the holder is alive. A dead holder's key expires and a standby takes over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import redis.asyncio as aioredis

log = logging.getLogger("services.gateway_bridge.lease")

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class Lease:
    """One replica's view of the lease. `await acquire()` blocks until held; `held` turns False when lost."""

    def __init__(self, redis: aioredis.Redis, key: str, owner: str, ttl: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._redis, self.key, self.owner, self.ttl, self._clock = redis, key, owner, ttl, clock
        self._renewed_at: float | None = None
        self._renewer: asyncio.Task[None] | None = None
        self.lost = asyncio.Event()

    @property
    def held(self) -> bool:
        return self._renewed_at is not None and self._clock() - self._renewed_at < self.ttl * 2 / 3

    async def _try_take(self) -> bool:
        started = self._clock()
        taken = await self._redis.set(self.key, self.owner.encode(), nx=True, px=int(self.ttl * 1000))
        if taken:
            self._renewed_at = started
        return bool(taken)

    async def acquire(self) -> None:
        """Wait until this replica holds the lease, then keep renewing it in the background."""
        self.lost.clear()
        while True:
            try:
                if await self._try_take():
                    break
            except Exception as exc:  # noqa: BLE001 - Redis down: stay standby and keep trying
                log.warning("lease: cannot reach Redis: %s", exc)
            await asyncio.sleep(self.ttl / 3)
        log.info("lease acquired", extra={"lease_key": self.key, "owner": self.owner})
        self._renewer = asyncio.create_task(self._renew_loop(), name="bridge-lease")

    async def _renew_loop(self) -> None:
        while True:
            await asyncio.sleep(self.ttl / 3)
            started = self._clock()
            try:
                ok = await asyncio.wait_for(
                    self._redis.eval(_RENEW, 1, self.key, self.owner.encode(), int(self.ttl * 1000)), self.ttl / 3)
                if not ok:
                    break  # someone else holds it: we are no longer active
                self._renewed_at = started
            except Exception as exc:  # noqa: BLE001 - keep trying until the lease is no longer ours for sure
                log.warning("lease: renewal failed: %s", exc)
                if not self.held:
                    break
        self._renewed_at = None
        self.lost.set()
        log.warning("lease lost", extra={"lease_key": self.key, "owner": self.owner})

    async def release(self) -> None:
        """Give the lease up (graceful shutdown), so a standby takes over at once."""
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        if self._renewed_at is not None:
            with contextlib.suppress(Exception):  # bounded: shutdown must not hang on an unreachable Redis
                await asyncio.wait_for(self._redis.eval(_RELEASE, 1, self.key, self.owner.encode()), self.ttl / 3)
        self._renewed_at = None

    def abandon(self) -> None:
        """Stop renewing without releasing (tests: behave like a process that died)."""
        if self._renewer is not None:
            self._renewer.cancel()
        self._renewed_at = None
