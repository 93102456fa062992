"""Recently traded symbols keep a fresh quote: the next market order is priced without a lookup on its path."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import grpc
import pytest
from ibkr.risk.v1 import risk_pb2
from ibkr.trading.v1 import market_data_pb2, order_pb2

from services.common.errors import NotFound
from services.common.money import decimal_to_proto
from services.risk.tests.conftest import ACCOUNT, spec

MARKET = {"order_type": order_pb2.ORDER_TYPE_MARKET, "limit": None}
QUOTE_AGE = "1"  # seconds: the keeper checks every 0.25 s and refreshes a quote older than 0.5 s


def submit(coid: str, order: order_pb2.OrderSpec) -> risk_pb2.SubmitOrderRequest:
    return risk_pb2.SubmitOrderRequest(account_id=ACCOUNT, client_order_id=coid, order=order, principal="test")


async def _until(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def test_a_traded_symbol_keeps_a_fresh_quote_and_its_next_market_order_does_not_look_up(risk_factory, gateway):
    gateway[0].quote = market_data_pb2.Quote(bid_price=decimal_to_proto(Decimal(99)),
                                             ask_price=decimal_to_proto(Decimal(100)))
    risk = await risk_factory(risk_quote_lookup=True, risk_quote_max_age_seconds=Decimal(QUOTE_AGE),
                              risk_quote_keep_fresh_seconds=30)
    await risk.stub.SubmitOrder(submit("keep-1", spec(quantity="1", **MARKET)))
    assert gateway[0].quote_requests == ["AAPL"]  # no quote yet: looked up on the order's path
    # Longer than the quote age: without the keeper the next order would look up again.
    await _until(lambda: len(gateway[0].quote_requests) >= 3)
    market = risk.app.gate.books.market
    assert market.fresh("AAPL", time.time(), float(QUOTE_AGE)) is not None
    before = len(gateway[0].quote_requests)
    await risk.stub.SubmitOrder(submit("keep-2", spec(quantity="1", **MARKET)))
    assert len(gateway[0].quote_requests) in (before, before + 1)  # at most the keeper's own refresh meanwhile
    assert [p.client_order_id for p in gateway[0].placed] == ["keep-1", "keep-2"]


async def test_symbols_without_a_market_order_lately_are_not_refreshed(risk_factory, gateway):
    gateway[0].quote = market_data_pb2.Quote(ask_price=decimal_to_proto(Decimal(100)))
    risk = await risk_factory(risk_quote_lookup=True, risk_quote_max_age_seconds=Decimal(QUOTE_AGE),
                              risk_quote_keep_fresh_seconds=0.5)
    await risk.stub.SubmitOrder(submit("old-1", spec(quantity="1", **MARKET)))
    await _until(lambda: risk.app.quote_keeper is not None and risk.app.quote_keeper.symbols == [])
    settled = len(gateway[0].quote_requests)
    await asyncio.sleep(1.0)
    assert len(gateway[0].quote_requests) == settled
    # A limit order needs no quote and does not make its symbol one to keep fresh.
    await risk.stub.SubmitOrder(submit("old-2", spec(quantity="1")))
    assert risk.app.quote_keeper.symbols == []


async def test_only_the_most_recently_traded_symbols_are_kept(risk_factory, gateway):
    gateway[0].quote = market_data_pb2.Quote(ask_price=decimal_to_proto(Decimal(10)))
    risk = await risk_factory(risk_quote_lookup=True, risk_quote_keep_fresh_symbols=2)
    for n, symbol in enumerate(("AAA", "BBB", "CCC")):
        await risk.stub.SubmitOrder(submit(f"few-{n}", spec(symbol=symbol, quantity="1", **MARKET)))
    assert risk.app.quote_keeper.symbols == ["BBB", "CCC"]


async def test_a_symbol_the_bridge_does_not_know_is_dropped(risk_factory, gateway):
    gateway[0].quote = market_data_pb2.Quote(ask_price=decimal_to_proto(Decimal(10)))
    risk = await risk_factory(risk_quote_lookup=True, risk_quote_max_age_seconds=Decimal(QUOTE_AGE))
    await risk.stub.SubmitOrder(submit("gone-1", spec(symbol="GONE", quantity="1", **MARKET)))
    assert risk.app.quote_keeper.symbols == ["GONE"]
    gateway[0].quote_error = NotFound("UNKNOWN_SYMBOL", "unknown symbol GONE")
    await _until(lambda: risk.app.quote_keeper.symbols == [])


async def test_no_keeper_when_it_is_switched_off(risk_factory, gateway):
    risk = await risk_factory(risk_quote_lookup=True, risk_quote_keep_fresh_symbols=0)
    assert risk.app.quote_keeper is None
    with pytest.raises(grpc.aio.AioRpcError):
        await risk.stub.SubmitOrder(submit("off-1", spec(quantity="1", **MARKET)))  # no quote, no reference price
