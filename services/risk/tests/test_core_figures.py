"""Property: the figures `evaluate` reports (what each passing rule observed) equal the same figures computed
the plain way from the book, whatever the book holds and however it changed between orders. The evaluation
takes shortcuts for speed (memoized per-symbol exposure, figures shared between rules, window ends tested
before bisecting, no multiplication by the shared ONE); this holds them to the definitions (gross exposure to
the last digits of the 28-digit context: the plain sum adds its terms in another order)."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.risk.core import policy as p
from services.risk.core.book import AccountBook, Books, OpenOrder, PositionState
from services.risk.core.evaluate import evaluate
from services.risk.core.model import ONE, OrderIntent, OrderType, Quote, Side, TradingState, expand

ACCOUNT = "DU1"
SYMBOLS = ("AAPL", "MSFT", "IBM")
NOW = 10_000.0
MAX_AGE = 10
HUGE = D(10) ** 20
POLICY = p.Policy(1, (
    p.RuleSpec("position", p.MaxPosition(HUGE, HUGE)),  # both limits: the notional is reported
    p.RuleSpec("gross", p.MaxGrossExposure(HUGE, None)),
    p.RuleSpec("rate-1s", p.OrderRate(D(1), HUGE, None)),
    p.RuleSpec("rate-5s", p.OrderRate(D(5), HUGE, None)),
    p.RuleSpec("rate-60s", p.OrderRate(D(60), None, HUGE)),
), quote_max_age_seconds=D(MAX_AGE))

prices = st.integers(1, 30_000).map(lambda cents: D(cents) / 100)
quantities = st.integers(1, 500).map(D)
sides = st.sampled_from([Side.BUY, Side.SELL])
multipliers = st.sampled_from([ONE, D(1), D(100)])  # the shared ONE and an equal but distinct Decimal
quote = st.tuples(st.sampled_from(SYMBOLS), st.sampled_from([0, 3, 9, 11, 60]),  # age (10 s is fresh)
                  st.none() | prices, st.none() | prices)
position = st.tuples(st.sampled_from(SYMBOLS), st.integers(-400, 400).map(D), st.none() | prices,
                     st.none() | prices, multipliers)
reservation = st.tuples(st.sampled_from(SYMBOLS), sides, quantities, prices)
change = st.one_of(quote.map(lambda q: ("quote", q)), reservation.map(lambda r: ("reserve", r)),
                   st.just(("release", None)), st.floats(0, 3).map(lambda dt: ("time", dt)))
order = st.tuples(st.sampled_from(SYMBOLS), sides, quantities, prices, multipliers)


def plain_mark(books: Books, symbol: str, now: float) -> D | None:
    q = books.market.quotes.get(symbol)
    if q is None or now - q.received_at > MAX_AGE:
        return None
    return q.last or q.midpoint


def observed(decision, rule_id: str) -> D:
    result = next(expand(r) for r in decision.raw[1:] if expand(r).rule_id == rule_id)
    return result.observed


def check(books: Books, book: AccountBook, activity: list[tuple[float, D]], now: float,
          symbol: str, side: Side, qty: D, price: D, multiplier: D) -> None:
    intent = OrderIntent(ACCOUNT, symbol, side, qty, OrderType.LIMIT, price, None, "c", multiplier)
    decision = evaluate(intent, book, books.market, POLICY, TradingState.ACTIVE, now, {})
    notional = price * qty * multiplier
    assert decision.notional == notional

    held = book.position(symbol)
    same_side = book.open_quantity(symbol, side)
    opposite = held != 0 and (held > 0) != (side is Side.BUY)
    reducing = opposite and same_side + qty <= abs(held)
    assert decision.reducing == reducing

    for window, rule_id in ((1, "rate-1s"), (5, "rate-5s")):
        assert observed(decision, rule_id) == sum(1 for t, _ in activity if t > now - window) + 1
    assert observed(decision, "rate-60s") == sum((n for t, n in activity if t > now - 60), D(0)) + notional

    if reducing:
        return  # the exposure rules skip reducing orders
    mark = plain_mark(books, symbol, now) or price
    projected = abs(held + int(side) * (same_side + qty))
    assert observed(decision, "position") == projected * mark * multiplier
    fresh = {s: m for s in SYMBOLS if (m := plain_mark(books, s, now))}
    gross, plain = observed(decision, "gross"), book.gross_exposure(fresh, (symbol, side, qty, price))
    # Summed in another order: a mark averaged from working orders can carry 28 digits, rounded differently.
    assert abs(gross - plain) <= abs(plain).scaleb(-25) + D("1e-20")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(quote, max_size=4), st.lists(position, max_size=3), st.lists(reservation, max_size=6),
       st.lists(st.tuples(st.floats(0, 70), prices), max_size=12),
       st.lists(st.tuples(st.lists(change, max_size=3), order), min_size=1, max_size=6))
def test_reported_figures_match_the_plain_computation(quotes, positions, reservations, past, steps):
    books = Books()
    book = books.account(ACCOUNT)
    for symbol, age, bid, last in quotes:
        books.market.update(symbol, Quote(NOW - age, bid, bid + 1 if bid else None, last))
    for symbol, qty, mark, cost, multiplier in positions:
        book.positions[symbol] = PositionState(qty, mark, cost, multiplier)
    for i, (symbol, side, qty, price) in enumerate(reservations):
        book.reserve(OpenOrder(f"r{i}", ACCOUNT, symbol, side, qty, price))
    activity = sorted((NOW - 70 + age, notional) for age, notional in past)
    for t, notional in activity:
        book.add_activity(t, notional)
    now = NOW
    for k, (changes, (symbol, side, qty, price, multiplier)) in enumerate(steps):
        for kind, arg in changes:
            if kind == "quote":
                q_symbol, age, bid, last = arg
                books.market.update(q_symbol, Quote(now - age, bid, bid + 1 if bid else None, last))
            elif kind == "reserve":
                r_symbol, r_side, r_qty, r_price = arg
                book.reserve(OpenOrder(f"n{k}", ACCOUNT, r_symbol, r_side, r_qty, r_price))
            elif kind == "release" and book.open_orders:
                book.release(min(book.open_orders))
            elif kind == "time":
                now += arg
        check(books, book, activity, now, symbol, side, qty, price, multiplier)


def test_a_flat_position_is_marked_at_its_fresh_quote_not_its_old_cost():
    books = Books()
    book = books.account(ACCOUNT)
    book.positions["AAPL"] = PositionState(D(0), None, D(100))  # closed earlier: only its average cost is left
    books.market.update("AAPL", Quote(NOW, D(149), D(151), D(150)))
    intent = OrderIntent(ACCOUNT, "AAPL", Side.BUY, D(10), OrderType.LIMIT, D(152), None, "c")
    decision = evaluate(intent, book, books.market, POLICY, TradingState.ACTIVE, NOW, {})
    assert observed(decision, "gross") == D(1500)
