"""Latest-wins conflation for quotes. Pure: keyed slots, served in the order keys first became pending.

A slow quote reader never builds a backlog: while it is busy, a newer quote for the same instrument
replaces the pending one, so memory per subscriber is bounded by the number of instruments it watches and
what it reads next is always the freshest price.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Conflator(Generic[K, V]):
    """At most one pending value per key."""

    def __init__(self) -> None:
        self._pending: OrderedDict[K, V] = OrderedDict()
        self.conflated = 0
        """How many values were replaced before being read (for metrics)."""

    def put(self, key: K, value: V) -> None:
        """Make `value` the pending one for `key` (keeping `key`'s place in line)."""
        if key in self._pending:
            self.conflated += 1
        self._pending[key] = value

    def pop(self) -> V | None:
        """The oldest pending key's latest value, or None."""
        if not self._pending:
            return None
        _, value = self._pending.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._pending)
