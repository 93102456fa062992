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

from services.risk.core.book import AccountBook, MarketBook, PositionState
from services.risk.core.model import (
    BUY,
    DENIED,
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
from services.risk.core.rules import RULES, Ctx, restricted_list, times

TRADING_STATE_RULE_ID = "trading-state"
_LIMIT_PRICED = frozenset({OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.LIMIT_ON_CLOSE,
                           OrderType.TRAILING_STOP_LIMIT})


def market_price(quote: Quote, side: Side) -> Decimal | None:
    """What a market order is expected to pay: far side, else last, else midpoint."""
    far = quote.ask if side is BUY else quote.bid
    if far is not None and far > ZERO:
        return far
    if quote.last is not None and quote.last > ZERO:
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


def is_reducing(intent: OrderIntent, pos: PositionState | None, same_side: Decimal) -> bool:
    """True when the order can only shrink the position `pos`: opposite side, and together with the working
    orders on the same side (`same_side`, their quantity) it does not exceed the position (so it can never
    flip it)."""
    if pos is None or not pos.quantity or (pos.quantity > ZERO) == (intent.side is BUY):
        return False
    return same_side + intent.quantity <= abs(pos.quantity)


_STATE_PASSED = {state: RuleResult(TRADING_STATE_RULE_ID, Outcome.PASSED, Control.KILL_SWITCH, unit="state",
                                    observed_text=state.name) for state in TradingState}
ACTIVE = TradingState.ACTIVE
_ACTIVE_PASSED = _STATE_PASSED[ACTIVE]  # the usual state's result, without a call


def _state_result(state: TradingState, reducing: bool) -> RuleResult:
    if state is TradingState.HALTED:
        return RuleResult(TRADING_STATE_RULE_ID, Outcome.DENIED, Control.KILL_SWITCH,
                          threshold_text="ACTIVE", observed_text="HALTED", unit="state",
                          message="trading-state: trading is HALTED; only cancels pass")
    if state is TradingState.REDUCING and not reducing:
        return RuleResult(TRADING_STATE_RULE_ID, Outcome.DENIED, Control.KILL_SWITCH,
                          threshold_text="reducing orders only", observed_text="REDUCING", unit="state",
                          message="trading-state: account is REDUCING; only orders that shrink a position pass")
    return _STATE_PASSED[state]  # shared: results are never mutated


def _plan(policy: Policy, account_id: str, symbol: str) -> tuple:
    """The rules that apply to (account, symbol) paired with their functions: resolved once per policy
    version (the plan lives on the policy object an update replaces, in `policy.plans`), not once per order.
    `evaluate` reads the cache itself and calls this on a miss."""
    steps = []
    for rule in policy.rules_for(account_id, symbol):
        check = RULES[rule.kind]
        if check is restricted_list:
            # Decided by the symbol alone: its (immutable) result is computed here, once.
            fixed = restricted_list(rule, _SymbolOnly(symbol))
            check = lambda _rule, _ctx, _fixed=fixed: _fixed
        steps.append((check, rule))
    plan = policy.plans[(account_id, symbol)] = tuple(steps)
    return plan


class _SymbolOnly:
    """The part of a context a symbol-only rule reads."""

    def __init__(self, symbol: str) -> None:
        self.order = self
        self.symbol = symbol


def evaluate(intent: OrderIntent, book: AccountBook, market: MarketBook, policy: Policy, state: TradingState,
             now: float, reference_prices: Mapping[str, Decimal], *, shadow: bool = False) -> Decision:
    """The policy's decision on one order. Pure: reads the books and changes nothing in them (it only
    memoizes the account's exposure on the book, see exposure.py)."""
    max_age = policy.quote_max_age
    quote = market.fresh(intent.symbol, now, max_age)
    price, source = order_price(intent, quote, reference_prices)
    notional = times(price * intent.quantity, intent.multiplier) if price is not None else None
    pos = book.positions.get(intent.symbol)
    same_side = book.open_qty.get((intent.symbol, intent.side), ZERO)
    reducing = is_reducing(intent, pos, same_side)
    fresh_mark = (quote.last or quote.midpoint) if quote is not None else None
    ctx = Ctx(intent, book, quote, price, source, notional, reducing, now, market, max_age, pos, same_side, fresh_mark)

    first = _ACTIVE_PASSED if state is ACTIVE else _state_result(state, reducing)
    results = [first]
    denied_by = first if first.outcome is DENIED else None
    trip = None
    plan = policy.plans.get((intent.account_id, intent.symbol))
    if plan is None:
        plan = _plan(policy, intent.account_id, intent.symbol)
    for check, rule in plan:
        res = check(rule, ctx)
        results.append(res)
        if res.__class__ is not tuple and res.outcome is DENIED:
            if denied_by is None:
                denied_by = res
            if isinstance(rule.params, DailyLossLimit) and state < rule.params.trip_state:
                trip = rule.params.trip_state
    return Decision(denied_by is None, tuple(results), policy.version, state, notional, reducing, denied_by,
                    trip, shadow, source, price)


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
