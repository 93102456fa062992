"""Property: whatever stream of orders, fills and cancels arrives, the gate never lets the account go beyond
any configured limit. Drives the real `Gate` and `Feed` in-process (no I/O: the bridge is a function that
accepts everything), so hypothesis can try many streams quickly."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ibkr.trading.v1 import order_pb2
from prometheus_client import CollectorRegistry

from services.common.errors import FailedPrecondition
from services.risk.core import policy as p
from services.risk.core.book import Books
from services.risk.core.model import OrderIntent, OrderType, Quote, Side
from services.risk.feed import Feed
from services.risk.gate import Gate, Policies
from services.risk.metrics import RiskMetrics
from services.risk.publisher import Publisher
from services.risk.tests.conftest import fill_event, order_event, spec
from services.risk.trading_state import TradingStates

ACCOUNT = "DU1234567"
SYMBOLS = ("AAPL", "MSFT")
LIMITS = {"qty": D(150), "position": D(300), "open": 8, "per_side": 3, "rate": 25, "gross": D(45000)}
POLICY = p.Policy(1, (
    p.RuleSpec("max-qty", p.MaxOrderQuantity(LIMITS["qty"])),
    p.RuleSpec("max-position", p.MaxPosition(LIMITS["position"], None)),
    p.RuleSpec("max-open", p.MaxOpenOrders(LIMITS["open"])),
    p.RuleSpec("per-side", p.MaxWorkingOrdersPerSide(LIMITS["per_side"])),
    p.RuleSpec("rate", p.OrderRate(D(60), D(LIMITS["rate"]), None)),
    p.RuleSpec("gross", p.MaxGrossExposure(D(LIMITS["gross"]), None)),
    p.RuleSpec("collar", p.PriceCollar(D(5))),
))

submit_op = st.tuples(st.just("submit"), st.sampled_from(SYMBOLS), st.sampled_from([Side.BUY, Side.SELL]),
                      st.integers(1, 200), st.integers(95, 105))
fill_op = st.tuples(st.just("fill"), st.integers(0, 40), st.integers(1, 100))
cancel_op = st.tuples(st.just("cancel"), st.integers(0, 40))
tick_op = st.tuples(st.just("tick"), st.integers(1, 30))


def check_limits(placed: list, positions: dict[str, D], accepted_at: list[float], now: float) -> None:
    """The limits, computed from the test's own record of what was accepted, filled and cancelled (not from
    the gate's book), so a gate that forgot a reservation would be caught."""
    working = [e for e in placed if not e[5] and D(e[3]) > D(e[4])]
    assert len(working) <= LIMITS["open"]
    gross = D(0)
    for symbol in SYMBOLS:
        buys = sum((D(e[3]) - D(e[4]) for e in working if e[1] == symbol and e[2] == 1), D(0))
        sells = sum((D(e[3]) - D(e[4]) for e in working if e[1] == symbol and e[2] == 2), D(0))
        worst = max(abs(positions[symbol] + buys), abs(positions[symbol] - sells))
        assert worst <= LIMITS["position"]
        gross += worst * 100
        for side in (1, 2):
            assert sum(1 for e in working if e[1] == symbol and e[2] == side) <= LIMITS["per_side"]
    assert gross <= LIMITS["gross"]
    assert sum(1 for t in accepted_at if t > now - 60) <= LIMITS["rate"]
    assert all(D(e[3]) <= LIMITS["qty"] for e in placed)


async def play(ops: list) -> None:
    clock = [1000.0]
    metrics = RiskMetrics(CollectorRegistry())
    publisher = Publisher(None, None, metrics)
    books = Books()
    for symbol in SYMBOLS:
        books.market.update(symbol, Quote(1e12, D("99.99"), D("100.01"), D(100)))  # always fresh, marks at 100
    gate = Gate(books, Policies(POLICY), TradingStates(None, publisher, metrics), None, publisher, metrics,
                reference_prices={}, clock=lambda: clock[0])
    feed = Feed(gate, metrics, lambda: clock[0])
    placed: list[list] = []  # [coid, symbol, side, quantity, filled, cancelled]
    positions = {s: D(0) for s in SYMBOLS}
    accepted_at: list[float] = []

    for n, op in enumerate(ops):
        if op[0] == "submit":
            _, symbol, side, qty, price = op
            coid = f"c{n}"
            intent = OrderIntent(ACCOUNT, symbol, side, D(qty), OrderType.LIMIT, D(price), None, coid)
            order_spec = spec(symbol=symbol, side=int(side == Side.SELL) + 1, quantity=str(qty), limit=str(price))

            async def forward(decision_id: str, while_waiting, coid=coid, order_spec=order_spec):
                return order_pb2.Order(order_id=f"ord_{coid}", client_order_id=coid, spec=order_spec,
                                       status=order_pb2.ORDER_STATUS_SUBMITTED)
            try:
                await gate.submit(intent, order_spec, "", forward, lambda o: o)
                placed.append([coid, symbol, int(side == Side.SELL) + 1, str(qty), "0", False])
                accepted_at.append(clock[0])
            except FailedPrecondition:
                pass
        elif op[0] == "fill" and placed:
            entry = placed[op[1] % len(placed)]
            coid, symbol, side, qty, filled, cancelled = entry
            left = D(qty) - D(filled)
            if left > 0 and not cancelled:
                amount = min(left, D(op[2]))
                entry[4] = str(D(filled) + amount)
                positions[symbol] += amount if side == 1 else -amount
                await feed.apply(fill_event(coid, str(amount), side=side, symbol=symbol, execution_id=f"x{n}"))
                status = order_pb2.ORDER_STATUS_FILLED if amount == left else order_pb2.ORDER_STATUS_PARTIALLY_FILLED
                await feed.apply(order_event(coid, status, qty, filled=entry[4], symbol=symbol, side=side))
        elif op[0] == "cancel" and placed:
            entry = placed[op[1] % len(placed)]
            coid, symbol, side, qty, filled, _ = entry
            entry[5] = True
            await feed.apply(order_event(coid, order_pb2.ORDER_STATUS_CANCELLED, qty, filled=filled, symbol=symbol,
                                         side=side))
        elif op[0] == "tick":
            clock[0] += op[1]
        check_limits(placed, positions, accepted_at, clock[0])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(submit_op, submit_op, fill_op, cancel_op, tick_op), min_size=1, max_size=60))
def test_random_order_streams_never_leave_the_account_beyond_any_limit(ops):
    asyncio.run(play(ops))

