"""The rules: pure functions `(rule, ctx) -> result`. They read the order, the account book and a fresh
quote through `Ctx`, compare one observed value (counting the request) with the rule's threshold, and
never mutate anything. `RULES` maps each kind to its function.

A rule that passes returns the compact tuple `(rule, threshold, observed, unit)` (see `model.Compact`);
any other outcome a full `RuleResult` with its explanation. The passing path is the hot one: it builds no
object beyond that tuple and formats no text.

Semantics worth knowing:
- "At the limit passes": every comparison is `observed > threshold` → denied.
- Reducing orders (they shrink an existing position) skip the exposure rules (position, gross exposure,
  buying power, daily loss): they lower exposure by definition, and REDUCING must let them through.
- Margin accounts are checked like any other (NautilusTrader skips notional/balance checks for them):
  buying power uses the broker's `BuyingPower`, which already reflects margin, minus our reservations.
- A rule that needs a figure it does not have (no price, no net liquidation) denies: fail closed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from services.risk.core.book import AccountBook, MarketBook, PositionState
from services.risk.core.exposure import exposure_before, larger
from services.risk.core.model import (
    BUY,
    DENIED,
    HUNDRED,
    MARKET_PRICED,
    ONE,
    PASSED,
    SELL,
    SKIPPED,
    ZERO,
    OrderIntent,
    Outcome,
    Quote,
    RuleResult,
    Side,
    plain,
)
from services.risk.core.policy import RuleSpec

CENT = Decimal("0.01")
RATIO_STEP = Decimal("0.0001")
# Counts as Decimals without constructing one per order (Decimal(int) costs more than a comparison).
_COUNTS = tuple(Decimal(i) for i in range(1025))


def count(n: int) -> Decimal:
    return _COUNTS[n] if n < 1025 else Decimal(n)


@dataclass(slots=True)
class Ctx:
    """What a rule may look at. Built once per evaluation by `evaluate`."""

    order: OrderIntent
    book: AccountBook
    quote: Quote | None  # fresh, or None
    price: Decimal | None  # the price the order's notional is computed at
    price_source: str
    notional: Decimal | None
    reducing: bool
    now: float
    market: MarketBook
    max_age: float
    # The order symbol's position (None when flat and never held) and the quantity of the working orders on
    # the order's side: read once by `evaluate`, used by the reducing test and both position rules.
    position: PositionState | None
    same_side: Decimal
    # The order symbol's mark from the fresh quote (last, else midpoint); None (or zero) without one.
    fresh_mark: Decimal | None


def _result(rule: RuleSpec, outcome: Outcome, threshold: Decimal | None = None, observed: Decimal | None = None,
            unit: str = "", message: str = "", *, threshold_text: str = "", observed_text: str = "") -> RuleResult:
    return RuleResult(rule.rule_id, outcome, rule.control, threshold, observed, unit, message,
                      rule.account_id, rule.symbol, threshold_text, observed_text)


def _deny(rule: RuleSpec, observed: Decimal, threshold: Decimal, unit: str, what: str) -> RuleResult:
    return _result(rule, DENIED, threshold, observed, unit,
                   f"{rule.rule_id}: {what} {plain(observed)} {unit} exceeds {plain(threshold)} {unit}")


def _no_price(rule: RuleSpec, ctx: Ctx) -> RuleResult:
    return _result(rule, DENIED, unit="", observed_text="no price",
                   threshold_text="a fresh quote or reference price",
                   message=f"{rule.rule_id}: no fresh quote or reference price for {ctx.order.symbol}")


def _skip(rule: RuleSpec, message: str = "") -> RuleResult:
    return RuleResult(rule.rule_id, SKIPPED, rule.control, None, None, "", message, rule.account_id,
                      rule.symbol, "", "")


def restricted_list(rule: RuleSpec, ctx: Ctx):
    p = rule.params
    symbol = ctx.order.symbol
    if symbol in p.denied:
        return _result(rule, DENIED, unit="symbol", threshold_text="denied list", observed_text=symbol,
                       message=f"{rule.rule_id}: {symbol} is on the denied list")
    if p.allowed and symbol not in p.allowed:
        return _result(rule, DENIED, unit="symbol", threshold_text="allowed list", observed_text=symbol,
                       message=f"{rule.rule_id}: {symbol} is not on the allowed list")
    return _result(rule, PASSED, unit="symbol", observed_text=symbol)


def max_order_quantity(rule: RuleSpec, ctx: Ctx):
    quantity, limit = ctx.order.quantity, rule.params.max_quantity
    if quantity > limit:
        return _deny(rule, quantity, limit, "shares", "order quantity")
    return (rule, limit, quantity, "shares")


def max_order_notional(rule: RuleSpec, ctx: Ctx):
    notional, limit = ctx.notional, rule.params.max_notional
    if notional is None:
        return _no_price(rule, ctx)
    if notional > limit:
        return _deny(rule, notional, limit, "USD", "order notional")
    return (rule, limit, notional, "USD")


def _collar_reference(reference: str, quote: Quote, side: Side) -> Decimal | None:
    if reference == "MIDPOINT":
        return quote.midpoint
    if reference == "NBBO_FAR_SIDE":
        return quote.ask if side is BUY else quote.bid
    if reference == "CLOSE":
        return quote.close
    return quote.last or quote.midpoint  # LAST, falling back to the midpoint


def price_collar(rule: RuleSpec, ctx: Ctx):
    p, order, quote = rule.params, ctx.order, ctx.quote
    if order.order_type in MARKET_PRICED and order.stop_price is None:
        if quote is None and p.require_fresh_quote_for_market_orders:
            return _result(rule, DENIED, unit="", threshold_text="a fresh quote", observed_text="no fresh quote",
                           message=f"{rule.rule_id}: market order refused, no fresh quote for {order.symbol}")
        return _result(rule, PASSED if quote else SKIPPED)
    ref = _collar_reference(p.reference, quote, order.side) if quote is not None else None
    if not ref or ref <= ZERO:
        # Without a fresh reference a priced order cannot be judged; the notional rules still bound it.
        return _result(rule, SKIPPED, p.max_deviation_percent, unit="percent", observed_text="no reference")
    limit, stop = order.limit_price, order.stop_price
    worst = abs(limit - ref) if limit is not None else ZERO
    if stop is not None:
        worst = larger(worst, abs(stop - ref))
    worst = worst * HUNDRED / ref
    if worst > p.max_deviation_percent:
        return _deny(rule, worst, p.max_deviation_percent, "percent", f"price deviation from {plain(ref)}:")
    return (rule, p.max_deviation_percent, worst, "percent")


def duplicate_order(rule: RuleSpec, ctx: Ctx):
    window = rule.params.window_seconds
    fingerprints = ctx.book.fingerprints
    if fingerprints:
        seen = fingerprints.get(ctx.order.fingerprint())
        if seen is not None:
            age = Decimal(repr(round(ctx.now - seen[0], 3)))
            if age < window and seen[1] != ctx.order.client_order_id:
                return _result(rule, DENIED, window, age, "seconds",
                               f"{rule.rule_id}: identical order {seen[1]} accepted {plain(age)} s ago "
                               f"(window {plain(window)} s)")
    return (rule, window, None, "seconds")


def order_rate(rule: RuleSpec, ctx: Ctx):
    p = rule.params
    orders, notional = ctx.book.window(ctx.now, p.window_float)
    passed = None
    if p.max_orders is not None:
        observed = count(orders + 1)
        if observed > p.max_orders:
            return _deny(rule, observed, p.max_orders, "orders", f"orders in {plain(p.window_seconds)} s")
        passed = (rule, p.max_orders, observed, "orders")
    if p.max_notional is not None:
        if ctx.notional is None:
            return _no_price(rule, ctx)
        observed = notional + ctx.notional
        if observed > p.max_notional:
            return _deny(rule, observed, p.max_notional, "USD", f"notional in {plain(p.window_seconds)} s")
        return (rule, p.max_notional, observed, "USD")  # with both limits, the notional is reported
    return passed or _result(rule, SKIPPED)


def max_open_orders(rule: RuleSpec, ctx: Ctx):
    observed, limit = count(len(ctx.book.open_orders) + 1), rule.params.threshold
    if observed > limit:
        return _deny(rule, observed, limit, "orders", "open orders")
    return (rule, limit, observed, "orders")


def max_working_orders_per_side(rule: RuleSpec, ctx: Ctx):
    order = ctx.order
    observed, limit = count(ctx.book.open_count.get((order.symbol, order.side), 0) + 1), rule.params.threshold
    if observed > limit:
        return _deny(rule, observed, limit, "orders", f"working {order.side.name} orders in {order.symbol}")
    return (rule, limit, observed, "orders")


def projected_position(ctx: Ctx) -> Decimal:
    """The position if every open order on the order's side and the order itself filled (worst case)."""
    pos = ctx.position
    held = pos.quantity if pos is not None else ZERO
    added = ctx.same_side + ctx.order.quantity
    # Added or subtracted rather than multiplied by the side: `int * Decimal` converts the int first.
    return held + added if ctx.order.side is BUY else held - added


def times(value: Decimal, multiplier: Decimal) -> Decimal:
    """`value * multiplier` for a `value` that is already an arithmetic result (so rounded to the context):
    the usual multiplier, the shared ONE, leaves it unchanged and costs no Decimal operation."""
    return value if multiplier is ONE else value * multiplier


def max_position(rule: RuleSpec, ctx: Ctx):
    if ctx.reducing:
        return rule.skipped_reducing
    p = rule.params
    projected = abs(projected_position(ctx))
    passed = None
    if p.max_quantity is not None:
        if projected > p.max_quantity:
            return _deny(rule, projected, p.max_quantity, "shares", "projected position")
        passed = (rule, p.max_quantity, projected, "shares")
    if p.max_notional is not None:
        mark = ctx.fresh_mark or ctx.price
        if mark is None:
            return _no_price(rule, ctx)
        observed = times(projected * mark, ctx.order.multiplier)
        if observed > p.max_notional:
            return _deny(rule, observed, p.max_notional, "USD", "projected position notional")
        return (rule, p.max_notional, observed, "USD")
    return passed or _skip(rule)


def max_gross_exposure(rule: RuleSpec, ctx: Ctx):
    if ctx.reducing:
        return rule.skipped_reducing
    if ctx.notional is None:
        return _no_price(rule, ctx)
    p, order, book = rule.params, ctx.order, ctx.book
    _, before, parts = exposure_before(book, ctx.market, ctx.now, ctx.max_age)
    # The order's symbol with the order added (the rest of the account is memoized in `before`).
    symbol = order.symbol
    pos = ctx.position
    held = pos.quantity if pos is not None else ZERO
    if order.side is BUY:
        buys, sells = ctx.same_side + order.quantity, book.open_qty.get((symbol, SELL), ZERO)
    else:
        buys, sells = book.open_qty.get((symbol, BUY), ZERO), ctx.same_side + order.quantity
    worst = larger(abs(held + buys), abs(held - sells))
    # The mark as exposure.py defines it, a fresh quote first: the memo's marks cover only the symbols that
    # had exposure before the order, not one whose position went flat (a stale mark or average cost left).
    mark = (ctx.fresh_mark or (pos is not None and (pos.mark or pos.average_cost)) or book.order_price(symbol)
            or ctx.price or ZERO)
    gross = before + times(worst * mark, pos.multiplier if pos is not None else ONE) - parts.get(symbol, ZERO)
    passed = None
    if p.max_gross_exposure is not None:
        if gross > p.max_gross_exposure:
            return _deny(rule, gross, p.max_gross_exposure, "USD", "gross exposure")
        passed = (rule, p.max_gross_exposure, gross, "USD")
    if p.max_leverage is not None:
        net_liq = book.net_liquidation
        if net_liq is None or net_liq <= ZERO:
            return _result(rule, DENIED, p.max_leverage, unit="ratio", observed_text="net liquidation unknown",
                           message=f"{rule.rule_id}: leverage cannot be checked, net liquidation unknown")
        leverage = (gross / net_liq).quantize(RATIO_STEP)
        if leverage > p.max_leverage:
            return _deny(rule, leverage, p.max_leverage, "ratio", "leverage")
        return (rule, p.max_leverage, leverage, "ratio")  # with both limits, leverage is reported
    return passed or _skip(rule)


_last_usable: list = [None, None, ZERO]  # (power, usage, limit) of the last call: power changes rarely


def _usable(power: Decimal, usage: Decimal) -> Decimal:
    """The buying power the orders may use, to the cent (memoized for the last (power, usage) pair)."""
    last = _last_usable
    if last[0] is not power or last[1] is not usage:
        last[:] = [power, usage, (power if usage == HUNDRED else power * usage / HUNDRED).quantize(CENT)]
    return last[2]


def buying_power(rule: RuleSpec, ctx: Ctx):
    if ctx.reducing:
        return rule.skipped_reducing
    if ctx.notional is None:
        return _no_price(rule, ctx)
    book = ctx.book
    power = book.buying_power
    if power is None:
        return _result(rule, DENIED, unit="USD", threshold_text="known buying power",
                       observed_text="buying power unknown",
                       message=f"{rule.rule_id}: buying power unknown for {ctx.order.account_id}")
    limit = _usable(power, rule.params.max_usage_percent)
    observed = book.reserved_notional + ctx.notional
    if observed > limit:
        return _deny(rule, observed, limit, "USD", "open orders plus this order use")
    return (rule, limit, observed, "USD")


def daily_loss_limit(rule: RuleSpec, ctx: Ctx):
    pnl = ctx.book.daily_pnl
    threshold = rule.params.max_daily_loss
    if pnl is None:
        return _result(rule, SKIPPED, threshold, unit="USD", observed_text="no P&L yet")
    loss = -pnl if pnl < ZERO else ZERO
    if ctx.reducing:
        return _result(rule, SKIPPED, threshold, loss, "USD", "reducing order")
    if loss > threshold:
        return _deny(rule, loss, threshold, "USD", "daily loss")
    return (rule, threshold, loss, "USD")


Rule = Callable[[RuleSpec, Ctx], object]
RULES: dict[str, Rule] = {
    "restricted_list": restricted_list,
    "max_order_quantity": max_order_quantity,
    "max_order_notional": max_order_notional,
    "price_collar": price_collar,
    "duplicate_order": duplicate_order,
    "order_rate": order_rate,
    "max_open_orders": max_open_orders,
    "max_working_orders_per_side": max_working_orders_per_side,
    "max_position": max_position,
    "max_gross_exposure": max_gross_exposure,
    "buying_power": buying_power,
    "daily_loss_limit": daily_loss_limit,
}
