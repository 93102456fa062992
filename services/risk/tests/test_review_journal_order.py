"""The reservation journal replays to the book, also when the bus moves a reservation while its order is being
sent. The accepted order's reservation is journaled by the report that runs once the request is on its way
(one loop turn after the send starts, as `Bridge._order_call` does); a bus update applied in that turn
(here: the replaced order filled) must not leave the journal with a reservation the book no longer holds."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D

import pytest
from ibkr.trading.v1 import order_pb2
from prometheus_client import CollectorRegistry

from services.common.errors import Unavailable
from services.risk.core import policy as p
from services.risk.core.book import Books, OpenOrder
from services.risk.core.model import OrderIntent, OrderType, Quote, Side
from services.risk.gate import Gate, Policies
from services.risk.metrics import RiskMetrics
from services.risk.publisher import Publisher
from services.risk.tests.conftest import ACCOUNT, spec
from services.risk.trading_state import TradingStates

POLICY = p.Policy(1, (p.RuleSpec("max-qty", p.MaxOrderQuantity(D(1000))),))


class RecordingStore:
    """The reservation table as the journal's statements leave it, in the order they were written."""

    def __init__(self) -> None:
        self.table: dict[str, D] = {}

    def save_reservation(self, order: OpenOrder, decision_id: str = "") -> None:
        self.table[order.key] = order.remaining

    def update_reservation(self, key: str, remaining: D, order_id: str = "") -> None:
        if key in self.table:
            self.table[key] = remaining

    def delete_reservation(self, key: str) -> None:
        self.table.pop(key, None)

    def save_activity(self, *args: object) -> None:
        pass

    def prune_activity(self, *args: object) -> None:
        pass


def test_a_reservation_released_while_its_replacement_is_sent_stays_deleted_in_the_journal():
    async def scenario() -> None:
        metrics = RiskMetrics(CollectorRegistry())
        publisher = Publisher(None, None, metrics)
        books = Books()
        books.market.update("AAPL", Quote(1e12, D("99.99"), D("100.01"), D(100)))
        store = RecordingStore()
        gate = Gate(books, Policies(POLICY), TradingStates(None, publisher, metrics), store, publisher, metrics,
                    reference_prices={}, clock=lambda: 1000.0)
        working = OpenOrder("c1", ACCOUNT, "AAPL", Side.BUY, D(10), D(100), order_id="ord_c1")
        books.account(ACCOUNT).reserve(working)
        store.save_reservation(working)

        filled = order_pb2.Order(order_id="ord_c1", client_order_id="c1", account_id=ACCOUNT,
                                 status=order_pb2.ORDER_STATUS_FILLED, spec=spec(quantity="10"))

        async def forward(decision_id: str, while_waiting) -> order_pb2.Order:
            # The bus's update of the original order is ready in the loop turn the send takes.
            asyncio.get_running_loop().call_soon(gate.apply_order, ACCOUNT, "c1", filled)
            await asyncio.sleep(0)  # as Bridge._order_call: the request goes out, then the overlapping work
            while_waiting()
            return order_pb2.Order(order_id="ord_c1", client_order_id="c1", account_id=ACCOUNT,
                                   status=order_pb2.ORDER_STATUS_SUBMITTED, spec=spec(quantity="20"))

        intent = OrderIntent(ACCOUNT, "AAPL", Side.BUY, D(20), OrderType.LIMIT, D(100), None, "c1")
        await gate.submit(intent, spec(quantity="20"), "", forward, lambda o: o, replaces="c1")
        await asyncio.sleep(0)  # the bridge's answer, applied on the next turn

        book = books.account(ACCOUNT)
        assert store.table == {k: o.remaining for k, o in book.open_orders.items()}

    asyncio.run(scenario())


def _gate(store: RecordingStore) -> tuple[Gate, Books, RiskMetrics]:
    metrics = RiskMetrics(CollectorRegistry())
    publisher = Publisher(None, None, metrics)
    books = Books()
    books.market.update("AAPL", Quote(1e12, D("99.99"), D("100.01"), D(100)))
    gate = Gate(books, Policies(POLICY), TradingStates(None, publisher, metrics), store, publisher, metrics,
                reference_prices={}, clock=lambda: 1000.0)
    return gate, books, metrics


def test_the_bridge_answer_tags_the_reservation_a_loop_turn_after_the_response_and_the_gauge_counts_it():
    async def scenario() -> None:
        store = RecordingStore()
        gate, books, metrics = _gate(store)

        async def forward(decision_id: str, while_waiting) -> order_pb2.Order:
            while_waiting()
            return order_pb2.Order(order_id="ord_c2", client_order_id="c2", account_id=ACCOUNT,
                                   status=order_pb2.ORDER_STATUS_SUBMITTED, spec=spec(quantity="5"))

        intent = OrderIntent(ACCOUNT, "AAPL", Side.BUY, D(5), OrderType.LIMIT, D(100), None, "c2")
        await gate.submit(intent, spec(quantity="5"), "", forward, lambda o: o)
        await asyncio.sleep(0)
        reservation = books.account(ACCOUNT).open_orders["c2"]
        assert (reservation.order_id, reservation.remaining) == ("ord_c2", D(5))
        assert store.table == {"c2": D(5)}
        assert metrics.open_reservations._value.get() == 1

    asyncio.run(scenario())


def test_a_refused_send_leaves_no_reservation_in_the_book_the_journal_or_the_gauge():
    async def scenario() -> None:
        store = RecordingStore()
        gate, books, metrics = _gate(store)

        async def forward(decision_id: str, while_waiting) -> order_pb2.Order:
            raise Unavailable("BRIDGE_UNAVAILABLE", "IB is disconnected")

        intent = OrderIntent(ACCOUNT, "AAPL", Side.BUY, D(5), OrderType.LIMIT, D(100), None, "c3")
        with pytest.raises(Unavailable):
            await gate.submit(intent, spec(quantity="5"), "", forward, lambda o: o)
        await asyncio.sleep(0)
        assert "c3" not in books.account(ACCOUNT).open_orders
        assert store.table == {}
        assert metrics.open_reservations._value.get() == 0

    asyncio.run(scenario())
