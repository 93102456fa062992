"""The risk policy as the core sees it: versioned, immutable, a list of scoped rules with typed parameters.

Scoping: a rule may name an account, a symbol, both or neither. For each rule *kind* (order-rate rules:
kind and window) the most specific matching rule wins: account+symbol, then symbol, then account, then
global. The resolution per (account, symbol) is computed once per policy instance and cached on it, so the
hot path is a dict lookup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from services.risk.core.model import Control, Outcome, RuleResult, TradingState


@dataclass(frozen=True, slots=True)
class RestrictedList:
    """(c)(2). `allowed` empty means every symbol; `denied` always wins."""

    allowed: frozenset[str] = frozenset()
    denied: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class MaxOrderQuantity:
    """(c)(1)(ii) size."""

    max_quantity: Decimal


@dataclass(frozen=True, slots=True)
class MaxOrderNotional:
    """(c)(1)(ii) size, in the policy currency."""

    max_notional: Decimal


@dataclass(frozen=True, slots=True)
class PriceCollar:
    """(c)(1)(ii) price. `reference` is LAST (falling back to MIDPOINT), MIDPOINT, NBBO_FAR_SIDE or CLOSE."""

    max_deviation_percent: Decimal
    reference: str = "LAST"
    require_fresh_quote_for_market_orders: bool = True


@dataclass(frozen=True, slots=True)
class MaxPosition:
    """(c)(1)(i) per symbol, open orders counted as if filled. None means no limit on that measure."""

    max_quantity: Decimal | None = None
    max_notional: Decimal | None = None


@dataclass(frozen=True, slots=True)
class MaxGrossExposure:
    """(c)(1)(i) across the account. Leverage = gross exposure / net liquidation."""

    max_gross_exposure: Decimal | None = None
    max_leverage: Decimal | None = None


@dataclass(frozen=True, slots=True)
class BuyingPower:
    """(c)(1)(i): open orders plus this one may use at most this share of the broker's buying power."""

    max_usage_percent: Decimal = Decimal(100)


@dataclass(frozen=True, slots=True)
class DailyLossLimit:
    """(c)(1)(i): daily loss (a positive amount) beyond which the account trips to `trip_state`."""

    max_daily_loss: Decimal
    trip_state: TradingState = TradingState.REDUCING


@dataclass(frozen=True, slots=True)
class OrderRate:
    """(c)(1)(ii) over a short period: accepted orders and notional in a rolling window."""

    window_seconds: Decimal
    max_orders: Decimal | None = None
    max_notional: Decimal | None = None
    window_float: float = field(init=False, compare=False)  # the hot path compares float clock times

    def __post_init__(self) -> None:
        object.__setattr__(self, "window_float", float(self.window_seconds))


@dataclass(frozen=True, slots=True)
class DuplicateOrder:
    """(c)(1)(ii) duplicative: the same symbol, side, quantity, type and prices within the window."""

    window_seconds: Decimal


@dataclass(frozen=True, slots=True)
class MaxOpenOrders:
    """Working orders of the account."""

    max_open_orders: int
    threshold: Decimal = field(init=False, compare=False)  # as a Decimal once, not per order

    def __post_init__(self) -> None:
        object.__setattr__(self, "threshold", Decimal(self.max_open_orders))


@dataclass(frozen=True, slots=True)
class MaxWorkingOrdersPerSide:
    """IB's broker cap: working orders per contract and side (20 at IB)."""

    max_working_orders: int = 20
    threshold: Decimal = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "threshold", Decimal(self.max_working_orders))


Params = (RestrictedList | MaxOrderQuantity | MaxOrderNotional | PriceCollar | MaxPosition | MaxGrossExposure
          | BuyingPower | DailyLossLimit | OrderRate | DuplicateOrder | MaxOpenOrders | MaxWorkingOrdersPerSide)

# kind name (the proto oneof field) → (params class, 15c3-5 control). Order = evaluation order: cheap,
# order-only checks first, then the ones that read account state.
KINDS: dict[str, tuple[type, Control]] = {
    "restricted_list": (RestrictedList, Control.RESTRICTED_SECURITY),
    "max_order_quantity": (MaxOrderQuantity, Control.ERRONEOUS_ORDER),
    "max_order_notional": (MaxOrderNotional, Control.ERRONEOUS_ORDER),
    "price_collar": (PriceCollar, Control.ERRONEOUS_ORDER),
    "duplicate_order": (DuplicateOrder, Control.DUPLICATIVE_ORDER),
    "order_rate": (OrderRate, Control.ERRONEOUS_ORDER),
    "max_open_orders": (MaxOpenOrders, Control.VENUE_LIMIT),
    "max_working_orders_per_side": (MaxWorkingOrdersPerSide, Control.VENUE_LIMIT),
    "max_position": (MaxPosition, Control.CREDIT_THRESHOLD),
    "max_gross_exposure": (MaxGrossExposure, Control.CREDIT_THRESHOLD),
    "buying_power": (BuyingPower, Control.CREDIT_THRESHOLD),
    "daily_loss_limit": (DailyLossLimit, Control.CREDIT_THRESHOLD),
}
KIND_OF: dict[type, str] = {cls: kind for kind, (cls, _) in KINDS.items()}
_ORDER = {kind: i for i, kind in enumerate(KINDS)}


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One rule: a stable id, a scope (empty = every), typed parameters."""

    rule_id: str
    params: Params
    account_id: str = ""
    symbol: str = ""
    description: str = ""
    disabled: bool = False
    # Derived from the params' type once, not on every evaluation.
    kind: str = field(init=False, compare=False)
    control: Control = field(init=False, compare=False)
    # What an exposure rule answers a reducing order, which it skips: one shared result per rule, not one
    # per order (results are never mutated).
    skipped_reducing: RuleResult = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        kind = KIND_OF[type(self.params)]
        control = KINDS[kind][1]
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "control", control)
        object.__setattr__(self, "skipped_reducing", RuleResult(
            self.rule_id, Outcome.SKIPPED, control, message="reducing order", scope_account_id=self.account_id,
            scope_symbol=self.symbol))

    @property
    def specificity(self) -> int:
        return (2 if self.symbol else 0) + (1 if self.account_id else 0) + (1 if self.symbol and self.account_id else 0)

    def group(self) -> tuple:
        """Rules in the same group compete by specificity; order-rate rules of different windows coexist."""
        if isinstance(self.params, OrderRate):
            return (self.kind, self.params.window_seconds)
        return (self.kind,)

    def matches(self, account_id: str, symbol: str) -> bool:
        return (not self.account_id or self.account_id == account_id) and (not self.symbol or self.symbol == symbol)


@dataclass(slots=True)
class Policy:
    """A versioned policy. Treat as immutable: an update makes a new instance (and a new cache)."""

    version: int
    rules: tuple[RuleSpec, ...]
    currency: str = "USD"
    quote_max_age_seconds: Decimal = Decimal(10)
    change_reason: str = ""
    created_by: str = ""
    _resolved: dict[tuple[str, str], tuple[RuleSpec, ...]] = field(default_factory=dict, repr=False,
                                                                     compare=False)
    # (account, symbol) → the evaluation plan built from `rules_for` (see evaluate.py); same lifetime.
    plans: dict = field(default_factory=dict, repr=False, compare=False)
    quote_max_age: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.quote_max_age = float(self.quote_max_age_seconds)

    def rules_for(self, account_id: str, symbol: str) -> tuple[RuleSpec, ...]:
        """The rules that apply to an order, most specific per group, in evaluation order."""
        key = (account_id, symbol)
        found = self._resolved.get(key)
        if found is None:
            best: dict[tuple, RuleSpec] = {}
            for rule in self.rules:
                if rule.disabled or not rule.matches(account_id, symbol):
                    continue
                group = rule.group()
                current = best.get(group)
                if current is None or rule.specificity > current.specificity:
                    best[group] = rule
            found = tuple(sorted(best.values(), key=lambda r: (_ORDER[r.kind], r.rule_id)))
            # Bounded by accounts × symbols traded; a policy update drops the whole cache with the instance.
            self._resolved[key] = found
        return found

    def rule(self, rule_id: str) -> RuleSpec | None:
        return next((r for r in self.rules if r.rule_id == rule_id), None)
