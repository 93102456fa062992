"""Quotes: snapshots, reference-counted lines within the budget, quotes on the bus, and 1101 recovery."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import grpc
import pytest
from ibkr.gateway.v1 import gateway_pb2
from ibkr.trading.v1 import instrument_pb2

from services.gateway_bridge.domain.lines import LineBook, LineBudgetExceeded

from .conftest import bridge_settings, start_bridge, until

STOCK = instrument_pb2.SECURITY_TYPE_STOCK


def inst(symbol: str) -> instrument_pb2.Instrument:
    return instrument_pb2.Instrument(symbol=symbol, security_type=STOCK)


def held_lines(sim) -> set[int]:
    return {con_id for con_id, subs in sim.gateway.quote_subs.items() if subs}


def test_line_book_counts_holders_and_refuses_beyond_budget_all_or_nothing():
    book = LineBook(budget=2)
    assert book.add("a", [1, 2]) == [1, 2]
    assert book.add("b", [1]) == [] and book.count(1) == 2
    with pytest.raises(LineBudgetExceeded):
        book.add("c", [3])
    assert book.count(3) == 0
    assert book.remove("a") == [2]
    assert book.remove("b", [1]) == [1] and book.in_use == 0


async def test_get_quote_without_a_line_returns_a_snapshot(bridge):
    reply = await bridge.stub.GetQuote(gateway_pb2.GetQuoteRequest(instrument=inst("MSFT")), timeout=10)
    q = reply.quote
    assert q.instrument.con_id > 0 and q.last_price.value == "410"
    assert Decimal(q.bid_price.value) < Decimal(q.ask_price.value)


async def test_get_quote_of_unknown_symbol_is_not_found(bridge):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await bridge.stub.GetQuote(gateway_pb2.GetQuoteRequest(instrument=inst("NOSUCH")), timeout=10)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND and "NOSUCH" in err.value.details()


async def test_lines_are_reference_counted_and_quotes_flow_on_the_bus(bridge, bus, sim):
    one = await bridge.stub.SubscribeQuotes(
        gateway_pb2.SubscribeQuotesRequest(subscriber_id="s1", instruments=[inst("AAPL")]), timeout=10)
    two = await bridge.stub.SubscribeQuotes(
        gateway_pb2.SubscribeQuotesRequest(subscriber_id="s2", instruments=[inst("AAPL")]), timeout=10)
    assert one.subscriptions[0].reference_count == 1 and two.subscriptions[0].reference_count == 2
    assert two.lines_in_use == 1
    con_id = two.subscriptions[0].instrument.con_id
    sim.set_price("AAPL", Decimal("195.5"))
    quotes: list = []

    async def have_quote():
        quotes[:] = [e.quote_update.quote for e in await bus.events() if e.WhichOneof("payload") == "quote_update"]
        return any(q.last_price.value == "195.5" for q in quotes)

    for _ in range(500):
        if await have_quote():
            break
        await asyncio.sleep(0.02)
    assert any(q.last_price.value == "195.5" and q.instrument.symbol == "AAPL" for q in quotes)
    await bridge.stub.UnsubscribeQuotes(gateway_pb2.UnsubscribeQuotesRequest(subscriber_id="s1", all=True), timeout=5)
    assert con_id in held_lines(sim)
    last = await bridge.stub.UnsubscribeQuotes(
        gateway_pb2.UnsubscribeQuotesRequest(subscriber_id="s2", instruments=[inst("AAPL")]), timeout=5)
    assert last.lines_in_use == 0
    await until(lambda: con_id not in held_lines(sim))


async def test_subscriptions_beyond_the_line_budget_are_resource_exhausted(sim, bridge_dsn, redis_url, unique_name):
    running = await start_bridge(bridge_settings(sim, bridge_dsn, redis_url, unique_name, bridge_market_data_lines=1))
    try:
        await running.wait_serving()
        await running.stub.SubscribeQuotes(
            gateway_pb2.SubscribeQuotesRequest(subscriber_id="s", instruments=[inst("AAPL")]), timeout=10)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await running.stub.SubscribeQuotes(
                gateway_pb2.SubscribeQuotesRequest(subscriber_id="s", instruments=[inst("MSFT")]), timeout=10)
        assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    finally:
        await running.stop()


async def test_connectivity_restored_with_data_lost_1101_brings_every_quote_line_back(bridge, sim):
    reply = await bridge.stub.SubscribeQuotes(
        gateway_pb2.SubscribeQuotesRequest(subscriber_id="s", instruments=[inst("AAPL"), inst("MSFT")]), timeout=10)
    con_ids = {s.instrument.con_id for s in reply.subscriptions}
    await until(lambda: con_ids <= held_lines(sim))
    sim.interrupt_connectivity(data_lost=True)
    await until(lambda: not bridge.app.orders.ready)
    sim.restore_connectivity(data_lost=True)  # the simulator drops every subscription, then sends 1101
    await until(lambda: bridge.app.orders.ready and con_ids <= held_lines(sim))
    await bridge.wait_serving()
