"""Rebuilding balances and positions from the journal alone. Pure part: postings sums → positions."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from decimal import Decimal

from services.ledger import journal
from services.ledger.positions import PositionState

PositionKey = tuple[str, str]


@dataclasses.dataclass(frozen=True)
class AccountBalance:
    """A journal account's balance as stored and as the sum of its postings."""

    account_key: str
    account_id: str
    kind: str
    instrument_key: str
    stored: Decimal
    rebuilt: Decimal


def positions_from_balances(balances: Iterable[AccountBalance]) -> dict[PositionKey, PositionState]:
    """Positions as the journal says: quantity, cost, capitalized fees and IB realized P&L per instrument."""
    parts: dict[PositionKey, dict[str, Decimal]] = {}
    for b in balances:
        if not b.instrument_key:
            continue
        parts.setdefault((b.account_id, b.instrument_key), {})[b.kind] = b.rebuilt
    out = {}
    for key, p in parts.items():
        zero = Decimal(0)
        out[key] = PositionState(
            quantity=p.get(journal.POSITION_QTY, zero), cost_basis=p.get(journal.POSITION_COST, zero),
            cost_fees=p.get(journal.POSITION_FEES, zero),
            realized_pnl=-(p.get(journal.REALIZED_PNL, zero) + p.get(journal.COMMISSION, zero)))
    return out
