"""The average-cost calculator and the journal rules against hand-worked IB examples and an independent
exact (Fraction) reference."""

from __future__ import annotations

from decimal import Decimal as D
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from services.ledger import journal
from services.ledger.positions import PositionState, apply_fill, daily_pnl


def test_buy_with_commission_gives_ib_average_cost_including_commission():
    effect = apply_fill(PositionState(), "BUY", D(100), D("10.00"), commission=D("1.00"))
    assert effect.after.quantity == 100
    assert effect.after.average_cost() == D("10.01")
    assert effect.realized_pnl == 0
    assert effect.cash_change == D("-1001.00")


def test_short_sale_with_commission_gives_average_cost_net_of_commission():
    effect = apply_fill(PositionState(), "SELL", D(100), D("10.00"), commission=D("1.00"))
    assert effect.after.quantity == -100
    assert effect.after.average_cost() == D("9.99")


def test_closing_long_realizes_proceeds_less_cost_and_both_commissions():
    opened = apply_fill(PositionState(), "BUY", D(100), D("10.00"), commission=D("1.00")).after
    closed = apply_fill(opened, "SELL", D(100), D("11.00"), commission=D("1.00"))
    assert closed.realized_pnl == D("98.00")
    assert closed.after == PositionState(D(0), D(0), D(0), D("98.00"))
    assert closed.after.average_cost() is None


def test_partial_close_keeps_average_cost_and_realizes_on_the_closed_part():
    opened = apply_fill(PositionState(), "BUY", D(300), D("10.00")).after
    effect = apply_fill(opened, "SELL", D(100), D("12.00"))
    assert effect.realized_pnl == D("200.00")
    assert effect.after.quantity == 200
    assert effect.after.average_cost() == D("10.00")


def test_flip_through_zero_realizes_the_old_side_and_opens_the_new_at_the_fill_price():
    opened = apply_fill(PositionState(), "BUY", D(100), D("10.00")).after
    effect = apply_fill(opened, "SELL", D(150), D("12.00"), commission=D("1.50"))
    assert effect.closing_quantity == -100 and effect.opening_quantity == -50
    assert effect.realized_pnl == D("199.00")  # 200 less the closed part's share (100/150) of 1.50
    assert effect.after.quantity == -50
    assert effect.after.average_cost() == D("11.99")  # short opened at 12.00 net of 0.50 commission


def test_contract_multiplier_scales_value_and_pnl_not_average_cost():
    opened = apply_fill(PositionState(), "BUY", D(2), D("1.50"), multiplier=D(100)).after
    assert opened.average_cost(D(100)) == D("1.50")
    assert opened.cost_basis == D("300.00")
    assert apply_fill(opened, "SELL", D(2), D("2.00"), multiplier=D(100)).realized_pnl == D("100.00")


def test_unrealized_pnl_at_mark_includes_capitalized_commission():
    opened = apply_fill(PositionState(), "BUY", D(10), D(100), commission=D(1)).after
    assert opened.unrealized_pnl(D(101)) == D(9)


# --- property test against an independent exact reference ---------------------------------------------

class Reference:
    """Average cost the textbook way, in exact rationals: avg per unit including commissions."""

    def __init__(self, multiplier: Fraction) -> None:
        self.m = multiplier
        self.qty = Fraction(0)
        self.avg = Fraction(0)
        self.realized = Fraction(0)

    def fill(self, q: Fraction, price: Fraction, commission: Fraction) -> None:
        m = self.m
        if self.qty == 0 or (self.qty > 0) == (q > 0):
            self.avg = (self.qty * self.avg * m + q * price * m + commission) / ((self.qty + q) * m)
            self.qty += q
        elif abs(q) <= abs(self.qty):
            self.realized += -q * (price - self.avg) * m - commission
            self.qty += q
            if self.qty == 0:
                self.avg = Fraction(0)
        else:
            closed = -self.qty
            share = closed / q
            self.realized += -closed * (price - self.avg) * m - commission * share
            rest = q - closed
            self.qty = rest
            self.avg = (rest * price * m + commission * (1 - share)) / (rest * m)


fills = st.lists(
    st.tuples(
        st.sampled_from(["BUY", "SELL"]),
        st.integers(min_value=1, max_value=500).map(D),
        st.integers(min_value=1, max_value=50_000).map(lambda c: D(c) / 100),
        st.integers(min_value=0, max_value=500).map(lambda c: D(c) / 100),
        st.booleans(),  # fractional quantity
    ),
    min_size=1, max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(fills=fills, multiplier=st.sampled_from([D(1), D(100)]))
def test_random_fill_sequences_match_reference_and_every_entry_balances(fills, multiplier):
    state = PositionState()
    ref = Reference(Fraction(multiplier))
    entries = []
    for n, (side, qty, price, commission, fractional) in enumerate(fills):
        if fractional:
            qty = qty / 8  # partial shares: 0.125 steps
        effect = apply_fill(state, side, qty, price, multiplier, commission)
        entry = journal.fill_entry(account_id="DU1", execution_id=f"e{n}", instrument_key="con:1",
                                   currency="USD", effect=effect)
        assert entry.imbalances() == {}
        entries.append(entry)
        state = effect.after
        q = Fraction(qty) if side == "BUY" else -Fraction(qty)
        ref.fill(q, Fraction(price), Fraction(commission))

        assert state.quantity == ref.qty
        tolerance = Fraction(1, 10**6)
        assert abs(Fraction(state.realized_pnl) - ref.realized) <= tolerance
        if ref.qty:
            cost = Fraction(state.cost_basis + state.cost_fees)
            assert abs(cost - ref.avg * ref.qty * ref.m) <= tolerance
            assert abs(Fraction(state.average_cost(multiplier)) - ref.avg) <= tolerance
        else:
            assert state.cost_basis == 0 and state.cost_fees == 0

    # The journal alone rebuilds the position: quantity, cost and IB's realized P&L.
    _, balances = journal.run_balances(entries, {})
    bal = {k: v[0] for k, v in balances.items()}
    assert bal.get("DU1:position_qty:con:1", 0) == state.quantity
    assert bal.get("DU1:position_cost:con:1", 0) + bal.get("DU1:position_fees:con:1", 0) == (
        state.cost_basis + state.cost_fees)
    assert -(bal.get("DU1:realized_pnl:con:1", 0) + bal.get("DU1:commission:con:1", 0)) == state.realized_pnl
    assert sum(v for k, v in bal.items() if not k.split(":")[1].endswith("qty")) == 0


def test_daily_pnl_of_a_position_opened_and_partly_closed_today_is_realized_plus_unrealized():
    # buy 100 @ 10 (1.00), sell 50 @ 12 (1.00), mark 11: realized 98.50 + unrealized 49.50
    assert daily_pnl(D(50), D(1), D(11), None, D(50), D(-1001) + D(599)) == D(148)


def test_daily_pnl_needs_the_close_for_an_overnight_quantity_and_a_mark_for_an_open_one():
    assert daily_pnl(D(100), D(1), D(11), None, D(0), D(0)) is None
    assert daily_pnl(D(100), D(1), None, D(10), D(0), D(0)) is None
    assert daily_pnl(D(0), D(1), None, D(10), D(-100), D(1100)) == D(100)  # closed today at 11 from a 10 close
