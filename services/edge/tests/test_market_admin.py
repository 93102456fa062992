"""StreamQuotes shares bridge lines between subscribers and conflates for slow readers; GetSystemStatus
gathers every service's view; admin calls carry the caller's key name to risk."""

from __future__ import annotations

import asyncio
import uuid

import grpc
from ibkr.edge.v1 import admin_service_pb2 as admin
from ibkr.edge.v1 import admin_service_pb2_grpc, market_data_service_pb2_grpc
from ibkr.edge.v1 import market_data_service_pb2 as market
from ibkr.trading.v1 import event_pb2, instrument_pb2, market_data_pb2, risk_types_pb2, system_pb2

from services.edge.resume import StreamPosition
from services.edge.tests.test_stream_events import publish

AAPL = instrument_pb2.Instrument(symbol="AAPL", security_type=instrument_pb2.SECURITY_TYPE_STOCK)
MSFT = instrument_pb2.Instrument(symbol="MSFT", security_type=instrument_pb2.SECURITY_TYPE_STOCK)


def quote_event(inst: instrument_pb2.Instrument, last: str) -> event_pb2.Event:
    quote = market_data_pb2.Quote(instrument=inst)
    quote.last_price.value = last
    return event_pb2.Event(event_id=str(uuid.uuid4()), symbol=inst.symbol, source="test",
                           quote_update=event_pb2.QuoteUpdate(quote=quote))


def quotes(harness, *instruments):
    stub = market_data_service_pb2_grpc.MarketDataServiceStub(harness.channel)
    return stub.StreamQuotes(market.StreamQuotesRequest(instruments=list(instruments)), metadata=harness.auth("viewer"))


async def next_quote(call) -> market_data_pb2.Quote:
    while True:
        frame = await call.read()
        if frame.WhichOneof("frame") == "quote":
            return frame.quote


async def test_two_streams_share_one_bridge_line_released_when_the_last_leaves(harness):
    first, second = quotes(harness, AAPL), quotes(harness, AAPL, MSFT)
    await next_quote(first)  # the initial snapshot quote
    await next_quote(second)
    subscribes = [r for m, r in harness.state.calls if m == "bridge.SubscribeQuotes"]
    assert sorted(i.symbol for r in subscribes for i in r.instruments) == ["AAPL", "MSFT"]
    first.cancel()
    second.cancel()
    while any(harness.state.quote_subscriptions.values()):
        await asyncio.sleep(0.01)
    assert harness.state.quote_subscriptions == {"AAPL": 0, "MSFT": 0}


async def test_live_quotes_arrive_for_the_requested_symbols_only(harness):
    call = quotes(harness, AAPL)
    await next_quote(call)
    await publish(harness, quote_event(MSFT, "300"))
    await publish(harness, quote_event(AAPL, "190.5"))
    quote = await next_quote(call)
    assert (quote.instrument.symbol, quote.last_price.value) == ("AAPL", "190.5")
    call.cancel()


async def test_a_reader_that_falls_behind_gets_the_latest_quote_not_a_backlog(harness):
    # A reader with a small HTTP/2 window that reads nothing while 200 quotes are published.
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{harness.edge.port}", options=[
        ("grpc.http2.bdp_probe", 0), ("grpc.http2.lookahead_bytes", 1024)])
    stub = market_data_service_pb2_grpc.MarketDataServiceStub(channel)
    call = stub.StreamQuotes(market.StreamQuotesRequest(instruments=[AAPL]), metadata=harness.auth("viewer"))
    await next_quote(call)
    last = ""
    for i in range(200):
        last = await publish(harness, quote_event(AAPL, str(100 + i)))
    while harness.edge.hub.position < StreamPosition.parse(last):
        await asyncio.sleep(0.01)
    seen = []
    while not seen or seen[-1] != "299":
        seen.append((await next_quote(call)).last_price.value)
    assert len(seen) < 200  # conflated: intermediate prices were replaced, the last one always arrives
    assert seen == sorted(seen, key=int)
    call.cancel()
    await channel.close()


async def test_system_status_reports_broker_ledger_and_each_service(harness):
    stub = admin_service_pb2_grpc.AdminServiceStub(harness.channel)
    status = await stub.GetSystemStatus(admin.GetSystemStatusRequest(), metadata=harness.auth("viewer"))
    assert status.broker_connection.state == system_pb2.BROKER_CONNECTION_STATE_CONNECTED
    names = {s.service_name: s.status for s in status.services}
    assert set(names) == {"edge", "risk", "ledger", "bridge"}
    assert set(names.values()) == {system_pb2.ServingStatus.Value("SERVING_STATUS_SERVING")}


async def test_system_status_still_answers_when_the_services_are_down(harness):
    await harness.fakes.stop(0)
    stub = admin_service_pb2_grpc.AdminServiceStub(harness.channel)
    status = await stub.GetSystemStatus(admin.GetSystemStatusRequest(), metadata=harness.auth("viewer"))
    unreachable = system_pb2.ServingStatus.Value("SERVING_STATUS_UNREACHABLE")
    assert {s.service_name for s in status.services if s.status == unreachable} == {"risk", "ledger", "bridge"}


async def test_halt_goes_to_risk_with_the_admins_key_name(harness):
    stub = admin_service_pb2_grpc.AdminServiceStub(harness.channel)
    await stub.SetTradingState(admin.SetTradingStateRequest(global_scope=True, state=risk_types_pb2.TRADING_STATE_HALTED,
                                                            reason="drill"), metadata=harness.auth("admin"))
    [(method, request)] = harness.state.calls
    assert (method, request.global_scope, request.principal, request.reason) == (
        "risk.SetTradingState", True, "admin", "drill")
