"""Comparing the ledger's books with the broker's. Pure; Decimal only.

Positions drift when quantities differ (average costs are reported beside them, not compared: IB rounds
them in floating point). Cash drifts when a currency's balance differs after the opening baseline.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal

ZERO = Decimal(0)


@dataclasses.dataclass(frozen=True)
class Holding:
    """One side's position in an instrument."""

    quantity: Decimal
    average_cost: Decimal | None
    instrument: bytes
    symbol: str


@dataclasses.dataclass(frozen=True)
class Drift:
    """One item where the books differ. `item_key` is `position:<instrument>` or `cash:<currency>`."""

    item_key: str
    kind: str
    ledger_value: Decimal
    broker_value: Decimal
    instrument: bytes | None = None
    currency: str = ""
    ledger_average_cost: Decimal | None = None
    broker_average_cost: Decimal | None = None

    @property
    def difference(self) -> Decimal:
        """broker − ledger."""
        return self.broker_value - self.ledger_value


def position_drifts(ledger: Mapping[str, Holding], broker: Mapping[str, Holding]) -> list[Drift]:
    """Instruments whose quantities differ (a position missing on one side counts as zero there)."""
    out = []
    for key in sorted(set(ledger) | set(broker)):
        mine, theirs = ledger.get(key), broker.get(key)
        mine_q = mine.quantity if mine else ZERO
        theirs_q = theirs.quantity if theirs else ZERO
        if mine_q != theirs_q:
            inst = (theirs or mine).instrument  # type: ignore[union-attr]
            out.append(Drift(f"position:{key}", "position", mine_q, theirs_q, instrument=inst,
                             ledger_average_cost=mine.average_cost if mine else None,
                             broker_average_cost=theirs.average_cost if theirs else None))
    return out


def cash_drifts(ledger: Mapping[str, Decimal], broker: Mapping[str, Decimal]) -> list[Drift]:
    """Currencies whose balances differ. Only currencies the broker reports are compared: a broker that
    reports none (not connected, no summary yet) says nothing about cash."""
    out = []
    for ccy in sorted(broker):
        mine = ledger.get(ccy, ZERO)
        if mine != broker[ccy]:
            out.append(Drift(f"cash:{ccy}", "cash", mine, broker[ccy], currency=ccy))
    return out


def opening_balances(ledger: Mapping[str, Decimal], broker: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """At the first reconciliation: per currency, the broker cash the ledger has not seen (to book as an
    opening entry against equity)."""
    return {ccy: broker[ccy] - ledger.get(ccy, ZERO) for ccy in sorted(broker) if broker[ccy] != ledger.get(ccy, ZERO)}
