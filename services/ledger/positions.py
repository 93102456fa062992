"""Positions, average cost and realized P&L the way IB computes them. Pure; Decimal only.

IB's average cost includes commissions: a buy of 100 @ 10.00 with 1.00 commission has an average cost of
10.01, a short sale of 100 @ 10.00 with 1.00 commission 9.99. Realized P&L is booked on the reducing part
of a fill: proceeds of the closed quantity, less the cost released from the position, less commissions.

The state keeps the open position's cost as two exact money amounts, `cost_basis` (signed trade value) and
`cost_fees` (capitalized opening commissions), instead of an average price, so that no division ever loses
money: a partial close releases a rounded share of each, and the remainder stays exactly on the books.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import NamedTuple

MONEY_QUANTUM = Decimal("1e-9")
"""Money amounts are kept to nanos, the resolution of google.type.Money."""

PRICE_QUANTUM = Decimal("1e-10")
"""Derived per-unit figures (average cost) are shown to this precision."""

ZERO = Decimal(0)

# Products of prices, quantities and multipliers must be exact before we round them ourselves; the
# default 28 digits could round silently.
_CONTEXT = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_EVEN, traps=[decimal.InvalidOperation])


def money(value: Decimal) -> Decimal:
    """Round a money amount to nanos, half to even."""
    return value.quantize(MONEY_QUANTUM, context=_CONTEXT)


class PositionState(NamedTuple):
    """An open position in one instrument of one account.

    `quantity` is signed (short < 0). `cost_basis` is the signed trade value of the open quantity
    (negative for a short); `cost_fees` the commissions capitalized into it. `realized_pnl` accumulates.
    A NamedTuple, like `FillEffect`: two are built per fill booked, several times cheaper than frozen
    dataclasses.
    """

    quantity: Decimal = ZERO
    cost_basis: Decimal = ZERO
    cost_fees: Decimal = ZERO
    realized_pnl: Decimal = ZERO

    def average_cost(self, multiplier: Decimal = Decimal(1)) -> Decimal | None:
        """Per-unit cost including capitalized commissions (IB's avgCost); None when flat."""
        if self.quantity == 0:
            return None
        with decimal.localcontext(_CONTEXT):
            return ((self.cost_basis + self.cost_fees) / (self.quantity * multiplier)).quantize(PRICE_QUANTUM)

    def unrealized_pnl(self, mark: Decimal, multiplier: Decimal = Decimal(1)) -> Decimal:
        """Market value at `mark` less the position's cost (commissions included)."""
        with decimal.localcontext(_CONTEXT):
            return money(self.quantity * mark * multiplier - self.cost_basis - self.cost_fees)


class FillEffect(NamedTuple):
    """What one fill does to a position. Quantities and values are signed like the fill (buy > 0).

    `opening_*` is the part that opens or increases the position, `closing_*` the part that reduces it;
    a fill that flips the position through zero has both.
    """

    before: PositionState
    after: PositionState
    signed_quantity: Decimal
    trade_value: Decimal
    opening_quantity: Decimal
    closing_quantity: Decimal
    opening_value: Decimal
    closing_value: Decimal
    opening_commission: Decimal
    closing_commission: Decimal
    released_basis: Decimal
    released_fees: Decimal

    @property
    def gross_realized(self) -> Decimal:
        """Trade P&L of the closed quantity before any commission."""
        return -self.closing_value - self.released_basis

    @property
    def realized_pnl(self) -> Decimal:
        """IB's realized P&L of the fill: gross, less this fill's closing commission and the opening
        commissions released with the closed quantity."""
        return self.gross_realized - self.closing_commission - self.released_fees

    @property
    def cash_change(self) -> Decimal:
        """Cash moved by the fill: a buy pays value and commission, a sell receives value less commission."""
        return -self.trade_value - self.opening_commission - self.closing_commission


def signed(side: str, quantity: Decimal) -> Decimal:
    """+quantity for BUY, -quantity for SELL."""
    if quantity <= 0:
        raise ValueError(f"fill quantity must be positive, got {quantity}")
    if side == "BUY":
        return quantity
    if side == "SELL":
        return -quantity
    raise ValueError(f"fill side must be BUY or SELL, got {side!r}")


def apply_fill(
    state: PositionState,
    side: str,
    quantity: Decimal,
    price: Decimal,
    multiplier: Decimal = Decimal(1),
    commission: Decimal = ZERO,
) -> FillEffect:
    """Apply one execution to a position and say how (see `FillEffect`)."""
    if price < 0:
        raise ValueError(f"fill price must not be negative, got {price}")
    if commission < 0:
        raise ValueError(f"commission must not be negative, got {commission}")
    with decimal.localcontext(_CONTEXT):
        q = signed(side, quantity)
        pos = state.quantity
        reducing = pos != 0 and (pos > 0) != (q > 0)
        closing_q = (q if abs(q) <= abs(pos) else -pos) if reducing else ZERO
        opening_q = q - closing_q

        # Round the whole once and derive the parts by difference, so the parts always add up exactly.
        trade_value = money(q * price * multiplier)
        opening_value = money(opening_q * price * multiplier)
        closing_value = trade_value - opening_value
        opening_commission = money(commission * opening_q / q)
        closing_commission = commission - opening_commission

        if closing_q == 0:
            released_basis = released_fees = ZERO
        elif closing_q == -pos:  # fully closed: release everything, nothing is left behind by rounding
            released_basis, released_fees = state.cost_basis, state.cost_fees
        else:
            share = abs(closing_q) / abs(pos)
            released_basis = money(state.cost_basis * share)
            released_fees = money(state.cost_fees * share)

        realized = -closing_value - released_basis - closing_commission - released_fees
        after = PositionState(pos + q, state.cost_basis - released_basis + opening_value,
                              state.cost_fees - released_fees + opening_commission, state.realized_pnl + realized)
        return FillEffect(state, after, q, trade_value, opening_q, closing_q, opening_value, closing_value,
                          opening_commission, closing_commission, released_basis, released_fees)


def daily_pnl(quantity: Decimal, multiplier: Decimal, mark: Decimal | None, close: Decimal | None,
              traded_today: Decimal, cash_today: Decimal) -> Decimal | None:
    """IB-style daily P&L of one position: its value now less the value of the overnight quantity at the
    previous close, plus the cash the day's fills moved (commissions included). None when a price it needs
    is unknown."""
    overnight = quantity - traded_today
    if (quantity != 0 and mark is None) or (overnight != 0 and close is None):
        return None
    with decimal.localcontext(_CONTEXT):
        now = quantity * mark * multiplier if quantity != 0 else ZERO  # type: ignore[operator]
        before = overnight * close * multiplier if overnight != 0 else ZERO  # type: ignore[operator]
        return money(now - before + cash_today)
