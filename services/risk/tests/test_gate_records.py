"""An accepted order's decision records, made while the bridge works: the id sent is the record's, each record is
published once, and a cancelled send or a failing report still leaves the record and the reservation."""
from __future__ import annotations

import asyncio
from decimal import Decimal as D

import pytest
from ibkr.trading.v1 import order_pb2
from prometheus_client import CollectorRegistry

from services.risk.core import policy as p
from services.risk.core.book import Books
from services.risk.core.model import OrderIntent, OrderType, Quote, Side
from services.risk.gate import Gate, Policies
from services.risk.metrics import RiskMetrics
from services.risk.publisher import Publisher
from services.risk.tests.conftest import ACCOUNT, spec
from services.risk.trading_state import TradingStates

POLICY = p.Policy(1, (p.RuleSpec("max-qty", p.MaxOrderQuantity(D(1000))),))
SHADOW = p.Policy(2, (p.RuleSpec("max-qty", p.MaxOrderQuantity(D(1))),))


def _gate():
    metrics = RiskMetrics(CollectorRegistry())
    publisher = Publisher(None, None, metrics)
    published = []
    publisher.decision = published.append
    books = Books()
    books.market.update("AAPL", Quote(1e12, D("99.99"), D("100.01"), D(100)))
    gate = Gate(books, Policies(POLICY, SHADOW), TradingStates(None, publisher, metrics), None, publisher, metrics,
                reference_prices={}, clock=lambda: 1000.0)
    return gate, books, published


def test_sent_id_is_record_id_and_published_once():
    async def scenario():
        gate, books, published = _gate()
        sent = []

        async def forward(decision_id, while_waiting):
            sent.append(decision_id)
            await asyncio.sleep(0)
            while_waiting()
            return order_pb2.Order(order_id="o1", status=order_pb2.ORDER_STATUS_SUBMITTED)

        intent = OrderIntent(ACCOUNT, "AAPL", Side.BUY, D(3), OrderType.LIMIT, D("100.50"), None, "c1",
                             D(7))
        _, rec = await gate.submit(intent, spec(quantity="3"), "", forward, lambda o: o)
        await asyncio.sleep(0)
        assert sent == [rec.decision_id]
        assert len(published) == 2 and published[0].decision_id == rec.decision_id
        assert published[1].decision.shadow and published[1].decision_id != rec.decision_id
        assert published[1].time == rec.time
        res = books.account(ACCOUNT).open_orders["c1"]
        assert res.notional == rec.decision.notional
    asyncio.run(scenario())


def test_cancel_while_waiting_still_reports():
    async def scenario():
        gate, books, published = _gate()

        async def forward(decision_id, while_waiting):
            await asyncio.sleep(10)

        intent = OrderIntent(ACCOUNT, "AAPL", Side.BUY, D(3), OrderType.LIMIT, D(100), None, "c2")
        task = asyncio.ensure_future(gate.submit(intent, spec(quantity="3"), "", forward, lambda o: o))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert len(published) == 2 and "c2" in books.account(ACCOUNT).open_orders
    asyncio.run(scenario())


def test_report_failure_still_returns_a_record():
    async def scenario():
        gate, books, _ = _gate()

        def boom(rec):
            raise RuntimeError("publisher down")

        gate.publisher.decision = boom

        async def forward(decision_id, while_waiting):
            while_waiting()
            return order_pb2.Order(order_id="o3", status=order_pb2.ORDER_STATUS_SUBMITTED)

        intent = OrderIntent(ACCOUNT, "AAPL", Side.BUY, D(3), OrderType.LIMIT, D(100), None, "c3")
        _, rec = await gate.submit(intent, spec(quantity="3"), "", forward, lambda o: o)
        assert rec.decision_id.startswith("rd_") and rec.decision.accepted
        assert "c3" in books.account(ACCOUNT).open_orders
    asyncio.run(scenario())
