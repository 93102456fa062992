"""A reservation counts the order's fills against the order's quantity as of the latest revision risk knows: an
update of an earlier revision (one from before a modification risk has already reserved, still on the bus) must not
shrink the modified reservation below what is really working, and the order's own updates set its size."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D

import pytest
from ibkr.trading.v1 import order_pb2
from prometheus_client import CollectorRegistry

from services.common.errors import DeadlineExceeded, FailedPrecondition
from services.common.money import decimal_to_proto
from services.risk.core import policy as p
from services.risk.core.book import Books, OpenOrder
from services.risk.core.model import OrderIntent, OrderType, Quote, Side
from services.risk.gate import Gate, Policies
from services.risk.metrics import RiskMetrics
from services.risk.publisher import Publisher
from services.risk.tests.conftest import ACCOUNT, spec
from services.risk.trading_state import TradingStates

POLICY = p.Policy(1, (p.RuleSpec("max-position", p.MaxPosition(max_quantity=D(1000))),))


def _gate() -> Gate:
    metrics = RiskMetrics(CollectorRegistry())
    publisher = Publisher(None, None, metrics)
    publisher.decision = lambda rec: None
    books = Books()
    books.market.update("AAPL", Quote(1e12, D("99.99"), D("100.01"), D(100)))
    return Gate(books, Policies(POLICY), TradingStates(None, publisher, metrics), None, publisher, metrics,
                reference_prices={}, clock=lambda: 1000.0)


def _order(quantity: str, filled: str, revision: int = 0,
           status: int = order_pb2.ORDER_STATUS_SUBMITTED) -> order_pb2.Order:
    return order_pb2.Order(order_id="o1", client_order_id="c1", account_id=ACCOUNT, spec=spec(quantity=quantity),
                           status=status, filled_quantity=decimal_to_proto(D(filled)), revision=revision)


async def _submit(gate: Gate, quantity: str, *, replaces: str | None = None, answer: order_pb2.Order | None = None,
                  error: Exception | None = None) -> None:
    async def forward(decision_id, while_waiting):
        while_waiting()
        if error is not None:
            raise error
        return answer if answer is not None else _order(quantity, "0", 1 if replaces else 0)

    intent = OrderIntent(ACCOUNT, "AAPL", Side.BUY, D(quantity), OrderType.LIMIT, D(100), None, "c1")
    await gate.submit(intent, spec(quantity=quantity), "", forward, lambda order: order, replaces=replaces)
    await asyncio.sleep(0)  # the answer is applied on the next loop turn


async def _replace_timing_out(gate: Gate, quantity: str, meanwhile: order_pb2.Order) -> None:
    """A replace of "c1" to `quantity` whose call to the bridge times out, `meanwhile` applied while it waits."""
    async def forward(decision_id, while_waiting):
        while_waiting()
        gate.apply_order(ACCOUNT, "c1", meanwhile)
        raise DeadlineExceeded("BRIDGE_TIMEOUT", "no answer in time")

    intent = OrderIntent(ACCOUNT, "AAPL", Side.BUY, D(quantity), OrderType.LIMIT, D(100), None, "c1")
    with pytest.raises(DeadlineExceeded):
        await gate.submit(intent, spec(quantity=quantity), "", forward, lambda order: order, replaces="c1")


def test_an_update_from_before_an_upsizing_replace_does_not_shrink_the_new_reservation() -> None:
    async def scenario() -> None:
        gate = _gate()
        book = gate.books.account(ACCOUNT)
        await _submit(gate, "100")
        gate.apply_order(ACCOUNT, "c1", _order("100", "30"))
        assert book.open_orders["c1"].remaining == D(70)
        await _submit(gate, "300", replaces="c1")  # the order is now 300 (revision 1), of which 30 filled
        assert (book.open_orders["c1"].quantity, book.open_orders["c1"].revision) == (D(300), 1)
        # A later fill of the order as it was before the modification, still on the bus: its fills count.
        gate.apply_order(ACCOUNT, "c1", _order("100", "40", revision=0))
        assert book.open_orders["c1"].remaining == D(260)
        # The modified order's own updates shrink it as before; a stale one never raises it.
        gate.apply_order(ACCOUNT, "c1", _order("300", "100", revision=1))
        assert book.open_orders["c1"].remaining == D(200)
        gate.apply_order(ACCOUNT, "c1", _order("100", "40", revision=0))
        assert book.open_orders["c1"].remaining == D(200)
        gate.apply_order(ACCOUNT, "c1", _order("300", "300", revision=1, status=order_pb2.ORDER_STATUS_FILLED))
        assert "c1" not in book.open_orders

    asyncio.run(scenario())


def test_a_downsizing_replace_counts_earlier_fills_against_its_new_quantity() -> None:
    async def scenario() -> None:
        gate = _gate()
        book = gate.books.account(ACCOUNT)
        await _submit(gate, "300")
        await _submit(gate, "100", replaces="c1")
        assert book.open_orders["c1"].remaining == D(100)
        gate.apply_order(ACCOUNT, "c1", _order("300", "20", revision=0))  # filled before the modification
        assert book.open_orders["c1"].remaining == D(80)

    asyncio.run(scenario())


def test_the_orders_own_update_sets_a_smaller_size_than_reserved() -> None:
    async def scenario() -> None:
        gate = _gate()
        book = gate.books.account(ACCOUNT)
        # A close of 100 that the bridge sized at its own position, 60.
        await _submit(gate, "100", answer=_order("60", "0"))
        assert book.open_orders["c1"].quantity == D(60)
        gate.apply_order(ACCOUNT, "c1", _order("60", "20"))
        assert book.open_orders["c1"].remaining == D(40)
        gate.apply_order(ACCOUNT, "c1", _order("60", "50"))
        assert book.open_orders["c1"].remaining == D(10)

    asyncio.run(scenario())


@pytest.mark.parametrize("error", [DeadlineExceeded("BRIDGE_TIMEOUT", "no answer in time"), asyncio.CancelledError()])
def test_a_replace_of_unknown_outcome_lets_the_orders_next_updates_decide(error) -> None:
    async def scenario() -> None:
        gate = _gate()
        book = gate.books.account(ACCOUNT)
        await _submit(gate, "100")
        with pytest.raises(type(error)):
            await _submit(gate, "300", replaces="c1", error=error)
        assert book.open_orders["c1"].remaining == D(300)  # it may have happened: the larger size stands
        gate.apply_order(ACCOUNT, "c1", _order("100", "30", revision=0))  # it did not
        assert book.open_orders["c1"].remaining == D(70)

    asyncio.run(scenario())


def test_a_reservation_of_unknown_quantity_follows_the_update_as_before() -> None:
    gate = _gate()
    book = gate.books.account(ACCOUNT)
    book.reserve(OpenOrder("c1", ACCOUNT, "AAPL", Side.BUY, D(100), D(100)))  # restored from before the column
    gate.apply_order(ACCOUNT, "c1", _order("100", "30"))
    assert book.open_orders["c1"].remaining == D(70)


def test_a_replace_in_flight_keeps_the_confirmed_revision_for_storage() -> None:
    async def scenario() -> None:
        gate = _gate()
        book = gate.books.account(ACCOUNT)
        await _submit(gate, "100")
        seen = []

        async def forward(decision_id, while_waiting):
            while_waiting()
            reserved = book.open_orders["c1"]
            # What a crash now would leave stored: the new size at the confirmed revision, so after a restart the
            # order's updates decide whether the modification happened.
            seen.append((reserved.quantity, reserved.revision, reserved.expected_revision))
            return _order("300", "0", revision=1)

        intent = OrderIntent(ACCOUNT, "AAPL", Side.BUY, D(300), OrderType.LIMIT, D(100), None, "c1")
        await gate.submit(intent, spec(quantity="300"), "", forward, lambda order: order, replaces="c1")
        await asyncio.sleep(0)
        assert seen == [(D(300), 0, 1)]
        reserved = book.open_orders["c1"]
        assert (reserved.quantity, reserved.revision, reserved.expected_revision) == (D(300), 1, None)

    asyncio.run(scenario())


def test_an_update_confirming_a_replace_outlives_its_timed_out_answer() -> None:
    async def scenario() -> None:
        gate = _gate()
        book = gate.books.account(ACCOUNT)
        await _submit(gate, "100")
        await _replace_timing_out(gate, "300", _order("300", "0", revision=1))  # the bus confirms it meanwhile
        gate.apply_order(ACCOUNT, "c1", _order("100", "30", revision=0))  # stale: from before the modification
        assert book.open_orders["c1"].remaining == D(270)

    asyncio.run(scenario())


def test_a_superseded_replace_of_unknown_outcome_leaves_its_successor_alone() -> None:
    async def scenario() -> None:
        gate = _gate()
        book = gate.books.account(ACCOUNT)
        await _submit(gate, "100")
        release = asyncio.Event()

        async def slow(decision_id, while_waiting):
            while_waiting()
            await release.wait()
            raise DeadlineExceeded("BRIDGE_TIMEOUT", "no answer in time")

        first = asyncio.ensure_future(gate.submit(
            OrderIntent(ACCOUNT, "AAPL", Side.BUY, D(200), OrderType.LIMIT, D(100), None, "c1"),
            spec(quantity="200"), "", slow, lambda order: order, replaces="c1"))
        await asyncio.sleep(0.01)
        await _submit(gate, "300", replaces="c1", answer=_order("300", "0", revision=2))
        release.set()
        with pytest.raises(DeadlineExceeded):
            await first
        reserved = book.open_orders["c1"]
        assert (reserved.quantity, reserved.revision, reserved.expected_revision) == (D(300), 2, None)

    asyncio.run(scenario())


def test_an_unconfirmed_downsizing_replace_counts_earlier_fills_against_the_larger_size() -> None:
    async def scenario() -> None:
        gate = _gate()
        book = gate.books.account(ACCOUNT)
        await _submit(gate, "10")
        await _replace_timing_out(gate, "5", _order("10", "4", revision=0))  # a fill of the order as it was
        assert book.open_orders["c1"].remaining == D(5)  # not 5 - 4: the order may still be 10, 6 of it working

    asyncio.run(scenario())


def test_a_superseded_replace_of_unknown_outcome_put_back_lets_updates_decide() -> None:
    async def scenario() -> None:
        gate = _gate()
        book = gate.books.account(ACCOUNT)
        await _submit(gate, "100")
        first_done, second_go = asyncio.Event(), asyncio.Event()

        async def times_out(decision_id, while_waiting):
            while_waiting()
            await first_done.wait()
            raise DeadlineExceeded("BRIDGE_TIMEOUT", "no answer in time")

        async def refused(decision_id, while_waiting):
            while_waiting()
            await second_go.wait()
            raise FailedPrecondition("ORDER_NOT_MODIFIABLE", "refused")

        def intent(quantity: str) -> OrderIntent:
            return OrderIntent(ACCOUNT, "AAPL", Side.BUY, D(quantity), OrderType.LIMIT, D(100), None, "c1")

        first = asyncio.ensure_future(gate.submit(intent("40"), spec(quantity="40"), "", times_out, lambda o: o,
                                                  replaces="c1"))
        await asyncio.sleep(0.01)
        second = asyncio.ensure_future(gate.submit(intent("50"), spec(quantity="50"), "", refused, lambda o: o,
                                                   replaces="c1"))
        await asyncio.sleep(0.01)
        first_done.set()
        with pytest.raises(DeadlineExceeded):
            await first
        second_go.set()
        with pytest.raises(FailedPrecondition):
            await second
        # The first replace's reservation is back, its outcome unknown: the order's updates decide.
        gate.apply_order(ACCOUNT, "c1", _order("100", "35", revision=0))
        assert book.open_orders["c1"].remaining == D(40)  # never raised, but not shrunk to 40 - 35 either

    asyncio.run(scenario())


def test_an_update_naming_no_quantity_does_not_shrink_a_reservation() -> None:
    gate = _gate()
    book = gate.books.account(ACCOUNT)
    book.reserve(OpenOrder("c1", ACCOUNT, "AAPL", Side.BUY, D(10), D(100), quantity=D(10)))
    update = _order("10", "4")
    update.spec.ClearField("quantity")
    gate.apply_order(ACCOUNT, "c1", update)
    assert book.open_orders["c1"].remaining == D(10)
