"""The rules: pure functions `(rule, ctx) -> RuleResult`. They read the order, the account book and a fresh
quote through `Ctx`, compare one observed value (counting the request) with the rule's threshold, and
never mutate anything. `RULES` maps each kind to its function.

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

from services.risk.core.book import AccountBook
from services.risk.core.model import (
    HUNDRED,
    MARKET_PRICED,
    ZERO,
    OrderIntent,
    Outcome,
    Quote,
    RuleResult,
    Side,
    plain,
)
from services.risk.core.policy import RuleSpec

PASSED = Outcome.PASSED
CENT = Decimal("0.01")
RATIO_STEP = Decimal("0.0001")


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
    # Computes (fresh marks, gross exposure before this order) on demand: only exposure rules need it.
    exposure_of: Callable[[], tuple[dict[str, Decimal], Decimal]]
    _exposure: tuple[dict[str, Decimal], Decimal] | None = None

    def exposure(self) -> tuple[dict[str, Decimal], Decimal]:
        if self._exposure is None:
            self._exposure = self.exposure_of()
        return self._exposure

    @property
    def mark(self) -> Decimal | None:
        """The order symbol's fresh market price (last, else midpoint), else the order's own price."""
        if self.quote is not None:
            mark = self.quote.last or self.quote.midpoint
            if mark:
                return mark
        return self.price


def _result(rule: RuleSpec, outcome: Outcome, threshold: Decimal | None = None, observed: Decimal | None = None,
            unit: str = "", message: str = "", *, threshold_text: str = "", observed_text: str = "") -> RuleResult:
    return RuleResult(rule.rule_id, outcome, rule.control, threshold, observed, unit, message,
                      rule.account_id, rule.symbol, threshold_text, observed_text)


def _limit(rule: RuleSpec, observed: Decimal, threshold: Decimal, unit: str,
           what: str | Callable[[], str]) -> RuleResult:
    """The common shape: pass at or under the threshold, deny over it with an explanation (`what` may be a
    function, so the text is only formatted for a denial: the passing path is the hot one)."""
    if observed > threshold:
        what = what() if callable(what) else what
        return _result(rule, Outcome.DENIED, threshold, observed, unit,
                       f"{rule.rule_id}: {what} {plain(observed)} {unit} exceeds {plain(threshold)} {unit}")
    # The hot path: built directly, without the keyword-taking helper.
    return RuleResult(rule.rule_id, PASSED, rule.control, threshold, observed, unit, "", rule.account_id,
                      rule.symbol, "", "")


def _no_price(rule: RuleSpec, ctx: Ctx) -> RuleResult:
    return _result(rule, Outcome.DENIED, unit="", observed_text="no price",
                   threshold_text="a fresh quote or reference price",
                   message=f"{rule.rule_id}: no fresh quote or reference price for {ctx.order.symbol}")


def restricted_list(rule: RuleSpec, ctx: Ctx) -> RuleResult:
    p = rule.params
    symbol = ctx.order.symbol
    if symbol in p.denied:
        return _result(rule, Outcome.DENIED, unit="symbol", threshold_text="denied list", observed_text=symbol,
                       message=f"{rule.rule_id}: {symbol} is on the denied list")
    if p.allowed and symbol not in p.allowed:
        return _result(rule, Outcome.DENIED, unit="symbol", threshold_text="allowed list", observed_text=symbol,
                       message=f"{rule.rule_id}: {symbol} is not on the allowed list")
    return _result(rule, Outcome.PASSED, unit="symbol", observed_text=symbol)


def max_order_quantity(rule: RuleSpec, ctx: Ctx) -> RuleResult:
    return _limit(rule, ctx.order.quantity, rule.params.max_quantity, "shares", "order quantity")


def max_order_notional(rule: RuleSpec, ctx: Ctx) -> RuleResult:
    if ctx.notional is None:
        return _no_price(rule, ctx)
    return _limit(rule, ctx.notional, rule.params.max_notional, "USD", "order notional")


def _collar_reference(reference: str, quote: Quote, side: Side) -> Decimal | None:
    if reference == "MIDPOINT":
        return quote.midpoint
    if reference == "NBBO_FAR_SIDE":
        return quote.ask if side is Side.BUY else quote.bid
    if reference == "CLOSE":
        return quote.close
    return quote.last or quote.midpoint  # LAST, falling back to the midpoint


def price_collar(rule: RuleSpec, ctx: Ctx) -> RuleResult:
    p, order = rule.params, ctx.order
    if order.order_type in MARKET_PRICED and order.stop_price is None:
        if ctx.quote is None and p.require_fresh_quote_for_market_orders:
            return _result(rule, Outcome.DENIED, unit="", threshold_text="a fresh quote", observed_text="no fresh quote",
                           message=f"{rule.rule_id}: market order refused, no fresh quote for {order.symbol}")
        return _result(rule, Outcome.PASSED if ctx.quote else Outcome.SKIPPED)
    ref = _collar_reference(p.reference, ctx.quote, order.side) if ctx.quote is not None else None
    if not ref or ref <= 0:
        # Without a fresh reference a priced order cannot be judged; the notional rules still bound it.
        return _result(rule, Outcome.SKIPPED, p.max_deviation_percent, unit="percent", observed_text="no reference")
    worst = ZERO
    for price in (order.limit_price, order.stop_price):
        if price is not None:
            worst = max(worst, abs(price - ref) * HUNDRED / ref)
    return _limit(rule, worst, p.max_deviation_percent, "percent", lambda: f"price deviation from {plain(ref)}:")


def duplicate_order(rule: RuleSpec, ctx: Ctx) -> RuleResult:
    window = rule.params.window_seconds
    seen = ctx.book.fingerprints.get(ctx.order.fingerprint())
    if seen is not None:
        age = Decimal(repr(round(ctx.now - seen[0], 3)))
        if age < window and seen[1] != ctx.order.client_order_id:
            return _result(rule, Outcome.DENIED, window, age, "seconds",
                           f"{rule.rule_id}: identical order {seen[1]} accepted {plain(age)} s ago "
                           f"(window {plain(window)} s)")
    return _result(rule, Outcome.PASSED, window, unit="seconds")


def order_rate(rule: RuleSpec, ctx: Ctx) -> RuleResult:
    p = rule.params
    count, notional = ctx.book.window(ctx.now, p.window_float)
    if p.max_orders is not None:
        res = _limit(rule, Decimal(count + 1), p.max_orders, "orders",
                     lambda: f"orders in {plain(p.window_seconds)} s")
        if res.denied or p.max_notional is None:
            return res
    if p.max_notional is not None:
        if ctx.notional is None:
            return _no_price(rule, ctx)
        return _limit(rule, notional + ctx.notional, p.max_notional, "USD",
                      lambda: f"notional in {plain(p.window_seconds)} s")
    return _result(rule, Outcome.SKIPPED)


def max_open_orders(rule: RuleSpec, ctx: Ctx) -> RuleResult:
    return _limit(rule, Decimal(ctx.book.open_order_count + 1), Decimal(rule.params.max_open_orders), "orders",
                  "open orders")


def max_working_orders_per_side(rule: RuleSpec, ctx: Ctx) -> RuleResult:
    order = ctx.order
    working = ctx.book.open_orders_on(order.symbol, order.side) + 1
    return _limit(rule, Decimal(working), Decimal(rule.params.max_working_orders), "orders",
                  lambda: f"working {order.side.name} orders in {order.symbol}")


def projected_position(ctx: Ctx) -> Decimal:
    """The position if every open order on the order's side and the order itself filled (worst case)."""
    order, book = ctx.order, ctx.book
    same_side = book.open_quantity(order.symbol, order.side)
    return book.position(order.symbol) + order.side * (same_side + order.quantity)


def max_position(rule: RuleSpec, ctx: Ctx) -> RuleResult:
    if ctx.reducing:
        return _result(rule, Outcome.SKIPPED, message="reducing order")
    p = rule.params
    projected = abs(projected_position(ctx))
    res = None
    if p.max_quantity is not None:
        res = _limit(rule, projected, p.max_quantity, "shares", "projected position")
        if res.denied or p.max_notional is None:
            return res
    if p.max_notional is not None:
        mark = ctx.mark
        if mark is None:
            return _no_price(rule, ctx)
        return _limit(rule, projected * mark * ctx.order.multiplier, p.max_notional, "USD",
                      "projected position notional")
    return res or _result(rule, Outcome.SKIPPED)


def max_gross_exposure(rule: RuleSpec, ctx: Ctx) -> RuleResult:
    if ctx.reducing:
        return _result(rule, Outcome.SKIPPED, message="reducing order")
    if ctx.notional is None:
        return _no_price(rule, ctx)
    p, order, book = rule.params, ctx.order, ctx.book
    marks, before = ctx.exposure()
    gross = (before + book.symbol_exposure(order.symbol, marks, order.quantity, order.side, ctx.mark)
             - book.symbol_exposure(order.symbol, marks))
    res = None
    if p.max_gross_exposure is not None:
        res = _limit(rule, gross, p.max_gross_exposure, "USD", "gross exposure")
        if res.denied or p.max_leverage is None:
            return res
    if p.max_leverage is not None:
        net_liq = ctx.book.net_liquidation
        if net_liq is None or net_liq <= 0:
            return _result(rule, Outcome.DENIED, p.max_leverage, unit="ratio", observed_text="net liquidation unknown",
                           message=f"{rule.rule_id}: leverage cannot be checked, net liquidation unknown")
        return _limit(rule, (gross / net_liq).quantize(RATIO_STEP), p.max_leverage, "ratio", "leverage")
    return res or _result(rule, Outcome.SKIPPED)


def buying_power(rule: RuleSpec, ctx: Ctx) -> RuleResult:
    if ctx.reducing:
        return _result(rule, Outcome.SKIPPED, message="reducing order")
    if ctx.notional is None:
        return _no_price(rule, ctx)
    power = ctx.book.buying_power
    if power is None:
        return _result(rule, Outcome.DENIED, unit="USD", threshold_text="known buying power",
                       observed_text="buying power unknown",
                       message=f"{rule.rule_id}: buying power unknown for {ctx.order.account_id}")
    limit = (power * rule.params.max_usage_percent / HUNDRED).quantize(CENT)
    return _limit(rule, ctx.book.reserved_notional + ctx.notional, limit, "USD",
                  "open orders plus this order use")


def daily_loss_limit(rule: RuleSpec, ctx: Ctx) -> RuleResult:
    pnl = ctx.book.daily_pnl
    threshold = rule.params.max_daily_loss
    if pnl is None:
        return _result(rule, Outcome.SKIPPED, threshold, unit="USD", observed_text="no P&L yet")
    loss = -pnl if pnl < 0 else ZERO
    if ctx.reducing:
        return _result(rule, Outcome.SKIPPED, threshold, loss, "USD", "reducing order")
    return _limit(rule, loss, threshold, "USD", "daily loss")


Rule = Callable[[RuleSpec, Ctx], RuleResult]
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
