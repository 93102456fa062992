"""Which bus events a stream subscriber receives. Pure: decided on the entry's payload kind, account, symbol.

Semantics (documented for clients):
- account: events for that account, plus suite-wide events (empty `account_id`: broker connection state,
  global trading state), which concern every account.
- event types: only those payload kinds; empty means all.
- symbols: events about an instrument pass only for those symbols; events about no instrument (account
  values, connection state) still pass, so a symbol-filtered stream keeps its context. Empty means all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

EVENT_TYPE_PREFIX = "EVENT_TYPE_"


def payload_for_event_type(enum_name: str) -> str:
    """`EVENT_TYPE_ORDER_UPDATE` → `order_update` (the `Event.payload` field and the bus `type` field)."""
    return enum_name.removeprefix(EVENT_TYPE_PREFIX).lower()


def event_type_for_payload(payload: str) -> str:
    """`order_update` → `EVENT_TYPE_ORDER_UPDATE`."""
    return EVENT_TYPE_PREFIX + payload.upper()


@dataclass(frozen=True)
class EventFilter:
    """What one subscriber wants. `None`/empty sets mean "no restriction"."""

    account_id: str = ""
    payloads: frozenset[str] = frozenset()
    symbols: frozenset[str] = frozenset()

    @classmethod
    def build(cls, account_id: str, payloads: Iterable[str] = (), symbols: Iterable[str] = ()) -> EventFilter:
        """A filter with symbols normalised to upper case (tickers are case-insensitive at IB)."""
        return cls(account_id, frozenset(payloads), frozenset(s.strip().upper() for s in symbols if s.strip()))

    def matches(self, payload: str, account_id: str, symbol: str) -> bool:
        """Whether an event with these attributes goes to the subscriber."""
        if self.account_id and account_id and account_id != self.account_id:
            return False
        if self.payloads and payload not in self.payloads:
            return False
        return not (self.symbols and symbol and symbol.upper() not in self.symbols)
