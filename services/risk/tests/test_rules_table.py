"""Table-driven tests of every rule on the pure core: at the limit passes, over the limit is denied with the
rule's id and observed value — in ACTIVE, and the same orders in REDUCING and HALTED."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal as D

import pytest

from services.risk.core import policy as p
from services.risk.core.book import AccountBook, Books, OpenOrder, PositionState
from services.risk.core.evaluate import TRADING_STATE_RULE_ID, evaluate
from services.risk.core.model import Decision, OrderIntent, OrderType, Outcome, Quote, Side, TradingState

NOW = 1000.0
ACCOUNT = "DU1"


@dataclass
class Case:
    """One rule, a book set-up, and the order at and over its limit (the order is a SELL)."""

    name: str
    params: p.Params
    at: dict
    over: dict
    observed: str  # the observed value reported for the order over the limit
    setup: Callable[[AccountBook], None] = lambda book: None
    # Exposure rules skip reducing orders: in REDUCING a reducing order passes them even over the limit.
    exposure: bool = False
    extra: dict = field(default_factory=dict)


def open_orders(n: int, side: Side = Side.SELL, symbol: str = "AAPL", qty: str = "1", price: str = "100"):
    def setup(book: AccountBook) -> None:
        for i in range(n):
            book.reserve(OpenOrder(f"o{i}", ACCOUNT, symbol, side, D(qty), D(price)))
    return setup


def prior_orders(n: int, notional: str = "100"):
    def setup(book: AccountBook) -> None:
        for i in range(n):
            book.add_activity(NOW - 30 + i, D(notional))
    return setup


def fingerprint_at(t: float):
    def setup(book: AccountBook) -> None:
        book.fingerprints[order(qty="10").fingerprint()] = (t, "earlier")
    return setup


def with_(**attrs):
    def setup(book: AccountBook) -> None:
        for k, v in attrs.items():
            setattr(book, k, v)
    return setup


def msft_position(book: AccountBook) -> None:
    book.positions["MSFT"] = PositionState(D(-200), None, D(100))


def order(symbol: str = "AAPL", qty: str = "10", limit: str | None = "100", otype: OrderType = OrderType.LIMIT,
          coid: str = "new") -> OrderIntent:
    return OrderIntent(ACCOUNT, symbol, Side.SELL, D(qty), otype, D(limit) if limit else None, None, coid)


CASES = [
    Case("restricted_list", p.RestrictedList(frozenset({"AAPL"}), frozenset({"GME"})), {}, {"symbol": "TSLA"}, "TSLA"),
    Case("restricted_list_denied", p.RestrictedList(frozenset(), frozenset({"GME"})), {}, {"symbol": "GME"}, "GME"),
    Case("max_order_quantity", p.MaxOrderQuantity(D(100)), {"qty": "100"}, {"qty": "101"}, "101"),
    Case("max_order_notional", p.MaxOrderNotional(D(10000)), {"qty": "100"}, {"qty": "100.01"}, "10001"),
    Case("price_collar", p.PriceCollar(D(5)), {"limit": "95"}, {"limit": "94.9"}, "5.1"),
    Case("duplicate_order", p.DuplicateOrder(D(10)), {}, {}, "9", setup=fingerprint_at(NOW - 9),
         extra={"at_setup": fingerprint_at(NOW - 10)}),
    Case("order_rate_count", p.OrderRate(D(60), D(3), None), {}, {}, "4", setup=prior_orders(3),
         extra={"at_setup": prior_orders(2)}),
    Case("order_rate_notional", p.OrderRate(D(60), None, D(3000)), {"qty": "10"}, {"qty": "10.01"}, "3001",
         setup=prior_orders(2, "1000")),
    Case("max_open_orders", p.MaxOpenOrders(3), {}, {}, "4", setup=open_orders(3, symbol="MSFT"),
         extra={"at_setup": open_orders(2, symbol="MSFT")}),
    Case("max_working_orders_per_side", p.MaxWorkingOrdersPerSide(20), {}, {}, "21", setup=open_orders(20),
         extra={"at_setup": open_orders(19)}),
    Case("max_position_quantity", p.MaxPosition(D(1000), None), {"qty": "600"}, {"qty": "601"}, "1001",
         setup=open_orders(1, qty="400"), exposure=True),
    Case("max_position_notional", p.MaxPosition(None, D(100000)), {"qty": "1000"}, {"qty": "1001"}, "100100",
         exposure=True),
    Case("max_gross_exposure", p.MaxGrossExposure(D(50000), None), {"qty": "300"}, {"qty": "301"}, "50100",
         setup=msft_position, exposure=True),
    Case("max_leverage", p.MaxGrossExposure(None, D(2)), {"qty": "500"}, {"qty": "501"}, "2.004",
         setup=with_(net_liquidation=D(25000)), exposure=True),
    Case("buying_power", p.BuyingPower(D(100)), {"qty": "300"}, {"qty": "301"}, "50100",
         setup=lambda b: (with_(buying_power=D(50000))(b), open_orders(1, Side.BUY, "MSFT", "200")(b)),
         exposure=True),
    Case("daily_loss_limit", p.DailyLossLimit(D(1000)), {}, {}, "1000.01",
         setup=with_(daily_pnl=D("-1000.01")), exposure=True, extra={"at_setup": with_(daily_pnl=D(-1000))}),
]


def run(case: Case, which: str, state: TradingState, *, reducing: bool = False) -> tuple[Decision, str]:
    books = Books()
    books.market.update("AAPL", Quote(NOW, D("99.9"), D("100.1"), D(100)))
    book = books.account(ACCOUNT)
    (case.extra.get("at_setup", case.setup) if which == "at" else case.setup)(book)
    intent = order(**(case.at if which == "at" else case.over))
    if reducing:
        book.positions[intent.symbol] = PositionState(D(1_000_000), D(100))
    rule_id = case.name.replace("_", "-")
    policy = p.Policy(7, (p.RuleSpec(rule_id, case.params),))
    return evaluate(intent, book, books.market, policy, state, NOW, {}), rule_id


def result(decision: Decision, rule_id: str):
    return next(r for r in decision.results if r.rule_id == rule_id)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rule_at_the_limit_passes_in_active(case):
    decision, rule_id = run(case, "at", TradingState.ACTIVE)
    assert decision.accepted, decision.denied_by
    assert result(decision, rule_id).outcome is Outcome.PASSED


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rule_over_the_limit_is_denied_with_rule_id_and_observed_value(case):
    decision, rule_id = run(case, "over", TradingState.ACTIVE)
    assert not decision.accepted
    assert decision.denied_by.rule_id == rule_id
    assert decision.denied_by.observed_str() == case.observed
    assert decision.policy_version == 7
    assert decision.denied_by.message.startswith(rule_id)


@pytest.mark.parametrize("state", [TradingState.REDUCING, TradingState.HALTED])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rule_is_still_explained_when_the_trading_state_denies_a_new_exposure(case, state):
    at, rule_id = run(case, "at", state)
    over, _ = run(case, "over", state)
    assert at.denied_by.rule_id == over.denied_by.rule_id == TRADING_STATE_RULE_ID
    assert result(at, rule_id).outcome is Outcome.PASSED
    denied = result(over, rule_id)
    assert denied.outcome is Outcome.DENIED and denied.observed_str() == case.observed


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_reducing_order_in_reducing_state_is_judged_by_the_rule(case):
    at, rule_id = run(case, "at", TradingState.REDUCING, reducing=True)
    over, _ = run(case, "over", TradingState.REDUCING, reducing=True)
    assert at.reducing and at.accepted, at.denied_by
    if case.exposure:
        # A reducing order lowers exposure: exposure rules let it through however far over.
        assert over.accepted and result(over, rule_id).outcome is Outcome.SKIPPED
    else:
        assert over.denied_by.rule_id == rule_id and over.denied_by.observed_str() == case.observed


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_halted_denies_even_a_reducing_order(case):
    decision, _ = run(case, "at", TradingState.HALTED, reducing=True)
    assert decision.denied_by.rule_id == TRADING_STATE_RULE_ID


def test_market_order_without_a_fresh_quote_is_refused_by_the_collar():
    books = Books()
    books.market.update("AAPL", Quote(NOW - 11, D(99), D(101), D(100)))  # older than the 10 s max age
    policy = p.Policy(1, (p.RuleSpec("price-collar", p.PriceCollar(D(5))),))
    intent = order(limit=None, otype=OrderType.MARKET)
    decision = evaluate(intent, books.account(ACCOUNT), books.market, policy, TradingState.ACTIVE, NOW, {})
    assert decision.denied_by.rule_id == "price-collar"
    assert decision.denied_by.observed_str() == "no fresh quote"


def test_stale_quote_is_never_used_for_a_market_order_notional():
    books = Books()
    books.market.update("AAPL", Quote(NOW - 11, D(1), D(1), D(1)))
    policy = p.Policy(1, (p.RuleSpec("max-order-notional", p.MaxOrderNotional(D(1000))),))
    intent = order(qty="10", limit=None, otype=OrderType.MARKET)
    decision = evaluate(intent, books.account(ACCOUNT), books.market, policy, TradingState.ACTIVE, NOW,
                        {"AAPL": D(200)})
    assert decision.denied_by.observed_str() == "2000"  # the reference price, not the stale 1


def test_daily_loss_over_the_limit_asks_to_trip_the_account_to_reducing():
    decision, _ = run(CASES[-1], "over", TradingState.ACTIVE)
    assert decision.trip_state is TradingState.REDUCING


def test_most_specific_rule_wins_account_symbol_over_symbol_over_account_over_global():
    rules = (p.RuleSpec("g", p.MaxOrderQuantity(D(1))), p.RuleSpec("a", p.MaxOrderQuantity(D(2)), account_id=ACCOUNT),
             p.RuleSpec("s", p.MaxOrderQuantity(D(3)), symbol="AAPL"),
             p.RuleSpec("as", p.MaxOrderQuantity(D(4)), account_id=ACCOUNT, symbol="AAPL"))
    policy = p.Policy(1, rules)
    assert [r.rule_id for r in policy.rules_for(ACCOUNT, "AAPL")] == ["as"]
    assert [r.rule_id for r in policy.rules_for(ACCOUNT, "MSFT")] == ["a"]
    assert [r.rule_id for r in policy.rules_for("DU2", "AAPL")] == ["s"]
    assert [r.rule_id for r in policy.rules_for("DU2", "MSFT")] == ["g"]
