"""The paper account: cash, positions with average cost, P&L, commissions and margin. Pure Decimal logic.

Conventions (IB's, as far as a paper simulation can follow them):

* Average cost includes commissions: buying 100 @ 10.00 with 1.00 commission gives an average cost of 10.01.
* Realized P&L is booked on the closing part of a fill, net of the closing commission and of the opening
  commission already in the average cost. Opening fills have no realized P&L (IB sends UNSET there).
* Daily P&L of an instrument = quantity x mark - value at the start of the day + today's cash flows
  (proceeds minus costs, commissions included); summed over instruments it equals the change in net
  liquidation since the start of the day.
* Margin: initial margin = gross position value / multiplier, maintenance = initial; available funds =
  equity with loan - initial margin; buying power = available funds x multiplier.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .instruments import Instrument

ZERO = Decimal(0)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class CommissionSchedule:
    """IB fixed pricing: per share with a per-order minimum and a maximum in percent of trade value."""

    per_share: Decimal = Decimal("0.005")
    minimum: Decimal = Decimal("1.00")
    max_pct: Decimal = Decimal("1.0")
    fx_bps: Decimal = Decimal("0.2")

    def for_order(self, inst: Instrument, quantity: Decimal, value: Decimal) -> Decimal:
        """Total commission of an order that has traded `quantity` for `value` so far."""
        if quantity <= 0:
            return ZERO
        if inst.is_fx:
            raw = value * self.fx_bps / Decimal(10000)
            return max(raw, self.minimum).quantize(CENT)
        raw = quantity * self.per_share
        cap = value * self.max_pct / Decimal(100)
        return min(max(raw, self.minimum), max(cap, self.minimum)).quantize(CENT)


@dataclass
class Position:
    instrument: Instrument
    quantity: Decimal = ZERO
    cost_basis: Decimal = ZERO  # signed: avg_cost x quantity
    realized_today: Decimal = ZERO
    start_value: Decimal = ZERO  # quantity x mark when the day started
    cash_flow_today: Decimal = ZERO

    @property
    def average_cost(self) -> Decimal:
        return self.cost_basis / self.quantity if self.quantity else ZERO

    def unrealized(self, mark: Decimal) -> Decimal:
        return self.quantity * mark - self.cost_basis if self.quantity else ZERO

    def daily(self, mark: Decimal) -> Decimal:
        return self.quantity * mark - self.start_value + self.cash_flow_today


@dataclass(frozen=True)
class FillResult:
    realized: Decimal | None  # None when the fill only opened or added
    position: Decimal


@dataclass
class Account:
    account_id: str
    cash: Decimal
    currency: str = "USD"
    margin_multiplier: Decimal = Decimal(4)
    positions: dict[int, Position] = field(default_factory=dict)
    realized_today: Decimal = ZERO
    commissions_today: Decimal = ZERO
    start_cash: Decimal = ZERO

    def __post_init__(self) -> None:
        self.start_cash = self.cash

    # ---- changes

    def apply_fill(self, inst: Instrument, side: str, quantity: Decimal, price: Decimal,
                   commission: Decimal) -> FillResult:
        """Book one execution (side BUY/SELL) and return its realized P&L (None for opening fills)."""
        signed = quantity if side == "BUY" else -quantity
        pos = self.positions.get(inst.con_id)
        if pos is None:
            pos = self.positions[inst.con_id] = Position(inst)
        flow = -signed * price - commission
        self.cash += flow
        pos.cash_flow_today += flow
        self.commissions_today += commission

        old = pos.quantity
        closing = ZERO
        if old and (old > 0) != (signed > 0):
            closing = min(abs(old), quantity)
        opening = quantity - closing
        realized: Decimal | None = None
        if closing:
            share = commission * closing / quantity
            avg = pos.average_cost
            direction = Decimal(1) if old > 0 else Decimal(-1)
            realized = (price - avg) * closing * direction - share
            pos.cost_basis -= avg * closing * direction
            pos.quantity -= closing * direction
            pos.realized_today += realized
            self.realized_today += realized
        if opening:
            share = commission * opening / quantity
            direction = Decimal(1) if signed > 0 else Decimal(-1)
            pos.cost_basis += direction * opening * price + share
            pos.quantity += direction * opening
        if not pos.quantity:
            pos.cost_basis = ZERO
        return FillResult(realized, pos.quantity)

    def start_day(self, marks: dict[int, Decimal]) -> None:
        """Roll the day: daily P&L restarts from the current marks."""
        self.realized_today = ZERO
        self.commissions_today = ZERO
        self.start_cash = self.cash
        for con_id, pos in list(self.positions.items()):
            pos.realized_today = ZERO
            pos.cash_flow_today = ZERO
            pos.start_value = pos.quantity * marks.get(con_id, ZERO)
            if not pos.quantity:
                del self.positions[con_id]

    # ---- views

    def position(self, con_id: int) -> Position | None:
        return self.positions.get(con_id)

    def gross_position_value(self, marks: dict[int, Decimal]) -> Decimal:
        return sum((abs(p.quantity * marks[c]) for c, p in self.positions.items()), ZERO)

    def stock_market_value(self, marks: dict[int, Decimal]) -> Decimal:
        return sum((p.quantity * marks[c] for c, p in self.positions.items()), ZERO)

    def net_liquidation(self, marks: dict[int, Decimal]) -> Decimal:
        return self.cash + self.stock_market_value(marks)

    def unrealized(self, marks: dict[int, Decimal]) -> Decimal:
        return sum((p.unrealized(marks[c]) for c, p in self.positions.items()), ZERO)

    def daily(self, marks: dict[int, Decimal]) -> Decimal:
        return sum((p.daily(marks[c]) for c, p in self.positions.items()), ZERO)

    def init_margin(self, gross: Decimal) -> Decimal:
        return gross / self.margin_multiplier

    def margin_snapshot(self, marks: dict[int, Decimal], extra_gross: Decimal = ZERO) -> dict[str, Decimal]:
        gross = self.gross_position_value(marks) + extra_gross
        nlv = self.net_liquidation(marks)
        init = self.init_margin(gross)
        maint = init
        return {
            "gross": gross,
            "equity_with_loan": nlv,
            "init_margin": init,
            "maint_margin": maint,
            "available_funds": nlv - init,
            "excess_liquidity": nlv - maint,
            "buying_power": (nlv - init) * self.margin_multiplier,
        }

    def exposure_increase(self, con_id: int, side: str, quantity: Decimal, price: Decimal) -> Decimal:
        """Gross value an order would add if it filled completely at `price`."""
        pos = self.positions.get(con_id)
        held = pos.quantity if pos else ZERO
        signed = quantity if side == "BUY" else -quantity
        return (abs(held + signed) - abs(held)) * price if abs(held + signed) > abs(held) else ZERO

    def values(self, marks: dict[int, Decimal]) -> dict[str, Decimal]:
        """Numbers behind the IB account tags (see `messages.account_value_rows`)."""
        m = self.margin_snapshot(marks)
        nlv = m["equity_with_loan"]
        return {
            **m,
            "net_liquidation": nlv,
            "cash": self.cash,
            "stock_market_value": self.stock_market_value(marks),
            "unrealized": self.unrealized(marks),
            "realized": self.realized_today,
            "daily": self.daily(marks),
            "cushion": (m["excess_liquidity"] / nlv) if nlv else ZERO,
            "leverage": (m["gross"] / nlv) if nlv else ZERO,
        }
