"""Evaluating a policy against one order: price it, decide whether it reduces a position, apply the
trading state, then run every applicable rule (all of them, so a decision explains itself fully).

Pricing an order's notional (the documented choice):
- LIMIT, STOP_LIMIT, LIMIT_ON_CLOSE, TRAILING_STOP_LIMIT: the limit price (the worst it can pay);
- STOP (and a trailing stop given an initial stop price): the stop price, where it becomes a market order;
- MARKET, MARKET_ON_CLOSE, TRAILING_STOP: the latest *fresh* quote from the bus — the far side (ask for a
  buy, bid for a sell), else the last trade, else the midpoint; without a fresh quote, the configured
  reference price of the symbol (`IBKR_RISK_REFERENCE_PRICES`); without either, no notional, and every
  rule needing one denies (fail closed). (The gate first asks the bridge's GetQuote when the bus has no
  fresh quote, outside this pure function.)
A quote older than the policy's `quote_max_age_seconds` is never used.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from services.risk.core.book import AccountBook, MarketBook
from services.risk.core.model import (
    ZERO,
    Control,
    Decision,
    OrderIntent,
    OrderType,
    Outcome,
    Quote,
    RuleResult,
    Side,
    TradingState,
)
from services.risk.core.policy import DailyLossLimit, Policy
from services.risk.core.rules import RULES, Ctx

TRADING_STATE_RULE_ID = "trading-state"
DENIED = Outcome.DENIED
_LIMIT_PRICED = frozenset({OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.LIMIT_ON_CLOSE,
                           OrderType.TRAILING_STOP_LIMIT})


def market_price(quote: Quote, side: Side) -> Decimal | None:
    """What a market order is expected to pay: far side, else last, else midpoint."""
    far = quote.ask if side is Side.BUY else quote.bid
    if far is not None and far > 0:
        return far
    if quote.last is not None and quote.last > 0:
        return quote.last
    return quote.midpoint


def order_price(intent: OrderIntent, quote: Quote | None,
                reference_prices: Mapping[str, Decimal]) -> tuple[Decimal | None, str]:
    """The price the order's notional is computed at, and where it came from."""
    if intent.order_type in _LIMIT_PRICED and intent.limit_price is not None:
        return intent.limit_price, "limit"
    if intent.stop_price is not None:
        return intent.stop_price, "stop"
    if quote is not None:
        price = market_price(quote, intent.side)
        if price is not None:
            return price, "quote"
    ref = reference_prices.get(intent.symbol)
    if ref is not None:
        return ref, "reference"
    return None, "none"


def is_reducing(intent: OrderIntent, book: AccountBook) -> bool:
    """True when the order can only shrink the position: opposite side, and together with the working
    orders on the same side it does not exceed the position (so it can never flip it)."""
    position = book.position(intent.symbol)
    if position == 0 or (position > 0) == (intent.side is Side.BUY):
        return False
    return book.open_quantity(intent.symbol, intent.side) + intent.quantity <= abs(position)


def exposure_before(book: AccountBook, market: MarketBook, now: float, max_age: float
                    ) -> tuple[dict[str, Decimal], Decimal]:
    """(fresh marks, gross exposure) of the account, cached on the book until the book or a quote changes
    or the oldest quote used goes stale, so a burst of orders does not re-walk every position."""
    cache = book.exposure_cache
    if (cache is not None and cache[0] == book.version and cache[1] == market.version and now <= cache[2]
            and cache[3] == max_age):
        return cache[4], cache[5]
    marks: dict[str, Decimal] = {}
    expiry = float("inf")
    for symbol in book.exposure_symbols():
        quote = market.fresh(symbol, now, max_age)
        if quote is not None:
            mark = quote.last or quote.midpoint
            if mark:
                marks[symbol] = mark
                expiry = min(expiry, quote.received_at + max_age)
    total = book.gross_exposure(marks)
    book.exposure_cache = (book.version, market.version, expiry, max_age, marks, total)
    return marks, total


def _state_result(state: TradingState, reducing: bool) -> RuleResult:
    if state is TradingState.HALTED:
        return RuleResult(TRADING_STATE_RULE_ID, Outcome.DENIED, Control.KILL_SWITCH,
                          threshold_text="ACTIVE", observed_text="HALTED", unit="state",
                          message="trading-state: trading is HALTED; only cancels pass")
    if state is TradingState.REDUCING and not reducing:
        return RuleResult(TRADING_STATE_RULE_ID, Outcome.DENIED, Control.KILL_SWITCH,
                          threshold_text="reducing orders only", observed_text="REDUCING", unit="state",
                          message="trading-state: account is REDUCING; only orders that shrink a position pass")
    return RuleResult(TRADING_STATE_RULE_ID, Outcome.PASSED, Control.KILL_SWITCH, unit="state",
                      observed_text=state.name)


def evaluate(intent: OrderIntent, book: AccountBook, market: MarketBook, policy: Policy, state: TradingState,
             now: float, reference_prices: Mapping[str, Decimal], *, shadow: bool = False) -> Decision:
    """The policy's decision on one order. Pure: reads the books and changes nothing in them (it only
    memoizes the account's exposure in `book.exposure_cache`, keyed by the book and market versions)."""
    max_age = float(policy.quote_max_age_seconds)
    quote = market.fresh(intent.symbol, now, max_age)
    price, source = order_price(intent, quote, reference_prices)
    notional = price * intent.quantity * intent.multiplier if price is not None else None
    reducing = is_reducing(intent, book)
    ctx = Ctx(intent, book, quote, price, source, notional, reducing, now,
              lambda: exposure_before(book, market, now, max_age))

    first = _state_result(state, reducing)
    results = [first]
    denied_by = first if first.outcome is DENIED else None
    trip = None
    rules = RULES
    for rule in policy.rules_for(intent.account_id, intent.symbol):
        res = rules[rule.kind](rule, ctx)
        results.append(res)
        if res.outcome is DENIED:
            if denied_by is None:
                denied_by = res
            if isinstance(rule.params, DailyLossLimit) and state < rule.params.trip_state:
                trip = rule.params.trip_state
    return Decision(accepted=denied_by is None, results=tuple(results), policy_version=policy.version,
                    trading_state=state, notional=notional, reducing=reducing, denied_by=denied_by,
                    trip_state=trip, shadow=shadow, details={"price_source": source})


def loss_trip(book: AccountBook, policy: Policy, state: TradingState) -> tuple[str, TradingState] | None:
    """Whether the account's daily P&L crosses a loss limit that should trip it to a stricter state now
    (called when P&L arrives, not only when an order is checked). Returns (rule id, state) or None."""
    if book.daily_pnl is None or book.daily_pnl >= ZERO:
        return None
    loss = -book.daily_pnl
    for rule in policy.rules:
        p = rule.params
        if (isinstance(p, DailyLossLimit) and not rule.disabled and not rule.symbol
                and rule.account_id in ("", book.account_id) and loss > p.max_daily_loss and state < p.trip_state):
            return rule.rule_id, p.trip_state
    return None
