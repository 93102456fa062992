"""Which commission an execution is booked with: one rule for every booking path. Pure.

The books must be a function of the bus history alone, whichever path books it (live ingest in batches of
any size, a replay streamed chunk by chunk, the two-pass replay). So the rule is the one live ingest follows
when events come one at a time, in stream order:

- before the execution's first fill, each report replaces the stored commission (the latest wins);
- the first fill settles it: with its own commission if it carries one, else with the stored one; settled,
  it is capitalized with the fill;
- a fill booked without one is settled by the next report (or re-published fill) that carries one, expensed
  on its own then;
- once settled, later reports and re-published fills change nothing, neither the journal nor the stored
  commission: a re-publication is a duplicate by execution id (the journal is append-only and the amount
  already booked is the one on record).

Settling does not depend on corrections: a superseded fill's commission is settled the same way (its entries
are reversed, or never written), so the stored row and the `commission_booked` flag do not depend on whether
the original and its correction came in one batch or two.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import NamedTuple

from services.ledger.records import CommissionRecord, FillRecord

Amount = tuple[Decimal, str]
"""A commission: amount and currency."""


class Prior(NamedTuple):
    """What the ledger held of an execution before the events being settled: its fill, whether its commission
    is settled, and the stored commission."""

    fill_stored: bool
    settled: bool
    commission: Amount | None


NO_PRIOR = Prior(False, False, None)


class Settlement:
    """The running state of one execution's commission."""

    __slots__ = ("current", "fill_seen", "late", "settled", "with_fill", "write")

    def __init__(self, prior: Prior) -> None:
        self.fill_seen = prior.fill_stored
        self.settled = prior.settled
        self.current = prior.commission
        self.with_fill: Amount | None = None
        """Booked with the fill, when its first fill is among the events fed and a commission was known."""
        self.late: Amount | None = None
        """Expensed on its own: the report that settled a fill booked without one."""
        self.write: tuple[CommissionRecord, str] | None = None
        """The commission row to store, and the event it came from (None: the stored row stays)."""


class Settler:
    """Feeds events in stream order; `prior` is asked once per execution, at its first event."""

    def __init__(self, prior: Callable[[str], Prior]) -> None:
        self._prior = prior
        self.executions: dict[str, Settlement] = {}

    def state(self, execution_id: str) -> Settlement:
        """The execution's settlement so far (from its prior state if no event named it yet)."""
        s = self.executions.get(execution_id)
        if s is None:
            s = self.executions[execution_id] = Settlement(self._prior(execution_id))
        return s

    def feed(self, record: FillRecord | CommissionRecord, event_id: str) -> None:
        """One fill or commission report, the next in stream order."""
        s = self.state(record.execution_id)
        if isinstance(record, FillRecord):
            report = None if record.commission is None else CommissionRecord(
                record.execution_id, record.account_id, record.commission, record.commission_currency,
                record.realized_pnl, None)
            if not s.fill_seen:  # its first fill settles it if a commission is known by then
                s.fill_seen = True
                if s.settled:
                    return
                if report is not None:
                    s.write = (report, event_id)
                    s.current = (report.amount, report.currency)
                s.with_fill = s.current
                s.settled = s.current is not None
                return
        else:
            report = record
        if report is None or s.settled:
            return
        s.write = (report, event_id)
        s.current = (report.amount, report.currency)
        if s.fill_seen:
            s.settled = True
            s.late = s.current
