"""The broker's own record of every order event and execution: the "broker truth".

Append-only and in memory. Reliability tests compare the suite's ledger against it, so every state change
the simulator makes to an order or position is written here first, whether or not a client heard of it
(a fill that happens while the owning client is disconnected is still in the log).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(slots=True)
class LogEntry:
    seq: int
    time: datetime
    kind: str  # STAGED, SUBMITTED, MODIFIED, STATUS, EXECUTION, CORRECTION, REJECTED, CANCELLED
    client_id: int
    order_id: int
    perm_id: int
    order_ref: str
    con_id: int
    symbol: str
    side: str
    quantity: Decimal
    price: Decimal | None
    status: str
    exec_id: str = ""
    commission: Decimal | None = None
    realized_pnl: Decimal | None = None
    code: int = 0
    message: str = ""


class BrokerLog:
    def __init__(self) -> None:
        self._entries: list[LogEntry] = []

    def append(self, **fields: object) -> LogEntry:
        entry = LogEntry(len(self._entries) + 1, **fields)  # type: ignore[arg-type]
        self._entries.append(entry)
        return entry

    def entries(self, after_seq: int = 0, kinds: set[str] | None = None) -> list[LogEntry]:
        out = self._entries[after_seq:] if after_seq >= 0 else self._entries
        return [e for e in out if not kinds or e.kind in kinds]

    def __len__(self) -> int:
        return len(self._entries)
