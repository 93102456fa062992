"""Reference-counted market-data lines within a budget (pure bookkeeping; no IB calls)."""

from __future__ import annotations

import dataclasses


class LineBudgetExceeded(Exception):
    """Opening the requested lines would exceed the budget; nothing was changed."""


@dataclasses.dataclass
class LineBook:
    """Which subscribers hold which lines (keyed by IB conId)."""

    budget: int
    holders: dict[int, set[str]] = dataclasses.field(default_factory=dict)

    @property
    def in_use(self) -> int:
        return len(self.holders)

    def add(self, subscriber: str, keys: list[int]) -> list[int]:
        """Add interest; returns the keys whose line must be opened now. All or nothing."""
        new = [k for k in dict.fromkeys(keys) if k not in self.holders]
        if self.in_use + len(new) > self.budget:
            raise LineBudgetExceeded(f"{self.in_use + len(new)} lines needed, budget {self.budget}")
        for key in keys:
            self.holders.setdefault(key, set()).add(subscriber)
        return new

    def remove(self, subscriber: str, keys: list[int] | None = None) -> list[int]:
        """Drop interest (all of the subscriber's when `keys` is None); returns the keys to close now."""
        targets = [k for k, who in self.holders.items() if subscriber in who] if keys is None else keys
        closed = []
        for key in targets:
            who = self.holders.get(key)
            if who is None:
                continue
            who.discard(subscriber)
            if not who:
                del self.holders[key]
                closed.append(key)
        return closed

    def count(self, key: int) -> int:
        return len(self.holders.get(key, ()))
