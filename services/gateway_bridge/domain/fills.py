"""Joins IB executions with their commission reports, whatever the arrival order, and spots corrections.

IB sends execDetails and commissionReport separately, joined by execId; the commission can arrive first
(rust-ibapi #788). A correction reuses the execId up to its last period (`...01.01` → `...01.02`) and
supersedes the original. Pure: the caller feeds it and publishes what it returns.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Generic, TypeVar

E = TypeVar("E")


@dataclasses.dataclass(frozen=True)
class CommissionInfo:
    """A commission report, normalized."""

    execution_id: str
    amount: Decimal | None
    currency: str
    realized_pnl: Decimal | None


@dataclasses.dataclass(frozen=True)
class JoinedFill(Generic[E]):
    """An execution ready to publish: with its commission when known, and its correction link."""

    execution_id: str
    execution: E
    commission: CommissionInfo | None
    superseded_execution_id: str = ""


def execution_base(execution_id: str) -> str:
    """The part of an execId a correction keeps (everything before the last period)."""
    head, sep, _ = execution_id.rpartition(".")
    return head if sep else execution_id


class FillJoiner(Generic[E]):
    """Holds executions until their commission arrives (or until `flush_without_commission`).

    Idempotent: an execution id seen before is ignored, so replayed execDetails (after a reconnect or
    `reqExecutions`) never produce a second fill.
    """

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._latest_by_base: dict[str, str] = {}
        self._waiting: dict[str, E] = {}
        self._commissions: dict[str, CommissionInfo] = {}
        self._published_without_commission: set[str] = set()

    def mark_seen(self, execution_id: str, *, commission_known: bool = True) -> None:
        """Record an execution already published (e.g. loaded from the store at start)."""
        self._seen.add(execution_id)
        self._latest_by_base.setdefault(execution_base(execution_id), execution_id)
        if not commission_known:
            self._published_without_commission.add(execution_id)

    def on_execution(self, execution_id: str, execution: E) -> JoinedFill[E] | None:
        """An execution arrived; returns the fill when its commission is already here, else holds it."""
        if execution_id in self._seen or execution_id in self._waiting:
            return None
        commission = self._commissions.pop(execution_id, None)
        if commission is None:
            self._waiting[execution_id] = execution
            return None
        return self._release(execution_id, execution, commission)

    def on_commission(self, info: CommissionInfo) -> JoinedFill[E] | CommissionInfo | None:
        """A commission arrived: the joined fill if its execution waits, the commission alone if the fill
        already went out without it, else None (held until the execution comes)."""
        execution = self._waiting.pop(info.execution_id, None)
        if execution is not None:
            return self._release(info.execution_id, execution, info)
        if info.execution_id in self._published_without_commission:
            self._published_without_commission.discard(info.execution_id)
            return info
        if info.execution_id not in self._seen:
            self._commissions[info.execution_id] = info
        return None

    def flush_without_commission(self, execution_id: str) -> JoinedFill[E] | None:
        """Give up waiting for a commission (its report may never come): release the fill without it."""
        execution = self._waiting.pop(execution_id, None)
        if execution is None:
            return None
        self._published_without_commission.add(execution_id)
        return self._release(execution_id, execution, None)

    def waiting(self) -> list[str]:
        """Execution ids held for their commission."""
        return list(self._waiting)

    def _release(self, execution_id: str, execution: E, commission: CommissionInfo | None) -> JoinedFill[E]:
        self._seen.add(execution_id)
        base = execution_base(execution_id)
        previous = self._latest_by_base.get(base)
        self._latest_by_base[base] = execution_id
        superseded = previous if previous is not None and previous != execution_id else ""
        return JoinedFill(execution_id, execution, commission, superseded)
