"""Reconnect delays: exponential with full jitter, capped (field notes §1.1: never a reconnect storm)."""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    """`next()` gives the delay before the next attempt; `reset()` after a success."""

    def __init__(self, initial: float, maximum: float, factor: float = 2.0,
                 rand: Callable[[], float] = random.random) -> None:
        self.initial, self.maximum, self.factor, self._rand = initial, maximum, factor, rand
        self._attempt = 0

    def next(self) -> float:
        """The delay before the next attempt: uniform in [ceiling/2, ceiling] ("equal jitter")."""
        ceiling = min(self.maximum, self.initial * self.factor ** self._attempt)
        self._attempt += 1
        return ceiling / 2 + self._rand() * ceiling / 2

    def reset(self) -> None:
        self._attempt = 0

    @property
    def attempts(self) -> int:
        return self._attempt
