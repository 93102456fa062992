"""Domain types of the risk core: what is checked (an order intent), what the rules see (quotes) and what
they answer (rule results, decisions). Plain slotted dataclasses and enums; Decimal for every figure.

The proto enums are mirrored here (same names, same numbers) so the core never imports generated code;
the servicer maps between the two.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal(0)
ONE = Decimal(1)
TWO = Decimal(2)
HUNDRED = Decimal(100)


class Side(enum.IntEnum):
    """Order side; the value is the sign of the position change."""

    BUY = 1
    SELL = -1

    # Enum's __hash__ is written in Python (hash of the name); sides key the book's aggregates, so every
    # lookup paid for it. The int's own hash is consistent with IntEnum equality and runs in C.
    __hash__ = int.__hash__


# Reading a member off an enum class (`Side.BUY`) runs the enum machinery, ~30 times the cost of reading a
# global: the hot paths compare against these module constants instead.
BUY, SELL = Side.BUY, Side.SELL


class OrderType(enum.Enum):
    """How an order is priced (mirrors `ibkr.trading.v1.OrderType`)."""

    MARKET = 1
    LIMIT = 2
    STOP = 3
    STOP_LIMIT = 4
    TRAILING_STOP = 5
    TRAILING_STOP_LIMIT = 6
    MARKET_ON_CLOSE = 7
    LIMIT_ON_CLOSE = 8

    __hash__ = object.__hash__  # members are singletons compared by identity: C hash (fingerprints use it)


# Orders whose execution price is whatever the market gives: they need a market reference for notional.
MARKET_PRICED = frozenset({OrderType.MARKET, OrderType.MARKET_ON_CLOSE, OrderType.STOP,
                           OrderType.TRAILING_STOP})


class TradingState(enum.IntEnum):
    """The kill switch (mirrors `ibkr.trading.v1.TradingState`); a larger value is stricter."""

    ACTIVE = 1
    REDUCING = 2
    HALTED = 3


class Control(enum.IntEnum):
    """The SEC 15c3-5 control a rule implements (mirrors `ibkr.trading.v1.MarketAccessControl`)."""

    CREDIT_THRESHOLD = 1
    ERRONEOUS_ORDER = 2
    DUPLICATIVE_ORDER = 3
    RESTRICTED_SECURITY = 4
    KILL_SWITCH = 5
    VENUE_LIMIT = 6


class Outcome(enum.IntEnum):
    """One rule's verdict (mirrors `ibkr.trading.v1.RuleOutcome`)."""

    PASSED = 1
    DENIED = 2
    SKIPPED = 3


PASSED, DENIED, SKIPPED = Outcome.PASSED, Outcome.DENIED, Outcome.SKIPPED  # as BUY/SELL above


@dataclass(slots=True)  # not frozen, for the same reason as RuleResult: one is built per request
class OrderIntent:
    """A validated order as the rules see it. `quantity` is positive; prices are None when not given.
    Treated as immutable."""

    account_id: str
    symbol: str
    side: Side
    quantity: Decimal
    order_type: OrderType
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    client_order_id: str = ""
    multiplier: Decimal = ONE

    @property
    def signed_quantity(self) -> Decimal:
        return self.quantity if self.side is BUY else -self.quantity

    def fingerprint(self) -> tuple:
        """What makes two orders 'the same order' for duplicate detection (15c3-5 'duplicative')."""
        return (self.symbol, self.side, self.quantity, self.order_type, self.limit_price, self.stop_price)


@dataclass(frozen=True, slots=True)
class Quote:
    """The top of book and last trade of a symbol, with the time (epoch seconds) it was received."""

    received_at: float
    bid: Decimal | None = None
    ask: Decimal | None = None
    last: Decimal | None = None
    close: Decimal | None = None

    @property
    def midpoint(self) -> Decimal | None:
        # Compared and divided by Decimal constants: an int operand is converted to a Decimal every time.
        if self.bid is not None and self.ask is not None and self.bid > ZERO and self.ask > ZERO:
            return (self.bid + self.ask) / TWO
        return None


@dataclass(slots=True)  # not frozen: frozen dataclasses set every field through object.__setattr__, which
class RuleResult:       # made building the ~15 results of one evaluation cost more than the rules themselves
    """One rule's verdict with what it compared: `observed` (counting the request) against `threshold`.
    Treated as immutable.

    `threshold_text` / `observed_text` carry non-numeric values (a symbol, "no fresh quote").
    """

    rule_id: str
    outcome: Outcome
    control: Control
    threshold: Decimal | None = None
    observed: Decimal | None = None
    unit: str = ""
    message: str = ""
    scope_account_id: str = ""
    scope_symbol: str = ""
    threshold_text: str = ""
    observed_text: str = ""

    @property
    def denied(self) -> bool:
        return self.outcome is DENIED

    def threshold_str(self) -> str:
        return self.threshold_text if self.threshold is None else _plain(self.threshold)

    def observed_str(self) -> str:
        return self.observed_text if self.observed is None else _plain(self.observed)


# A passing rule's result in compact form: (rule spec, threshold, observed, unit). The hot path builds
# these plain tuples instead of ~15 RuleResult objects per order; `Decision.results` (and the proto codec,
# directly) expand them only when a decision is explained. Everything else a passing result holds is fixed by
# the rule spec (id, control, scope).
Compact = tuple


def expand(item: RuleResult | Compact) -> RuleResult:
    """A RuleResult from either form."""
    if item.__class__ is tuple:
        rule, threshold, observed, unit = item
        return RuleResult(rule.rule_id, PASSED, rule.control, threshold, observed, unit, "",
                          rule.account_id, rule.symbol, "", "")
    return item


@dataclass(slots=True)  # not frozen, for the same reason as RuleResult; treated as immutable
class Decision:
    """The verdict of a whole policy on one request. `trip_state` asks the gate to move the account to a
    stricter trading state (the daily loss limit); the core never changes state itself.

    `raw` holds each rule's result, passing ones in compact form; read them through `results`."""

    accepted: bool
    raw: tuple
    policy_version: int
    trading_state: TradingState
    notional: Decimal | None
    reducing: bool
    denied_by: RuleResult | None = None
    trip_state: TradingState | None = None
    shadow: bool = False
    price_source: str = ""
    price: Decimal | None = None  # what the notional is computed at (see evaluate.py); None without a notional
    _results: tuple[RuleResult, ...] | None = None

    @property
    def results(self) -> tuple[RuleResult, ...]:
        if self._results is None:
            self._results = tuple(expand(r) for r in self.raw)
        return self._results


def _plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros, for messages and ErrorInfo metadata."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


plain = _plain
