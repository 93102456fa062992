"""The control service (`ibkr.sim.v1.SimulatorControlService`) and what ib_async sees for each fault."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import grpc
import pytest
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2
from google.type import decimal_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status
from ib_async import IB, LimitOrder, MarketOrder, Stock
from ibkr.sim.v1 import sim_pb2, sim_pb2_grpc

from services.ib_gateway_sim import Simulator
from services.ib_gateway_sim.grpc_server import serve_control

from .conftest import connect, until


def d(x: str) -> decimal_pb2.Decimal:
    return decimal_pb2.Decimal(value=x)


def ms(n: int) -> duration_pb2.Duration:
    return duration_pb2.Duration(nanos=n * 1_000_000)


@pytest.fixture
async def stub(sim: Simulator) -> AsyncIterator[sim_pb2_grpc.SimulatorControlServiceStub]:
    control = await serve_control(sim)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{control.port}")
    try:
        yield sim_pb2_grpc.SimulatorControlServiceStub(channel)
    finally:
        await channel.close()
        await control.stop(0)


async def qualified(ib: IB, symbol: str = "AAPL") -> Stock:
    [contract] = await ib.qualifyContractsAsync(Stock(symbol, "SMART", "USD"))
    return contract


def error_reason(err: grpc.aio.AioRpcError) -> str:
    status = rpc_status.from_call(err)
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info.reason
    return ""


async def test_control_server_reports_serving_on_health(sim: Simulator) -> None:
    control = await serve_control(sim)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{control.port}") as channel:
            reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""))
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        await control.stop(0)


async def test_set_price_updates_the_ticker_and_fills_a_resting_limit(stub, ib: IB) -> None:
    aapl = await qualified(ib)
    ticker = ib.reqMktData(aapl)
    trade = ib.placeOrder(aapl, LimitOrder("BUY", 50, 185.00))
    await until(lambda: trade.orderStatus.status == "Submitted")
    reply = await stub.SetPrice(sim_pb2.SetPriceRequest(symbol="AAPL", last_price=d("184.50")))
    assert reply.quote.last_price.value == "184.5"
    await until(lambda: ticker.last == 184.5)
    await until(lambda: trade.orderStatus.status == "Filled")
    assert trade.fills[0].execution.price == 185.0  # a resting limit fills at its limit
    assert trade.fills[0].execution.lastLiquidity == 1


async def test_set_price_of_unknown_symbol_is_not_found(stub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.SetPrice(sim_pb2.SetPriceRequest(symbol="NOPE", last_price=d("1")))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert error_reason(err.value) == "UNKNOWN_SYMBOL"


async def test_set_price_without_a_price_is_invalid_argument(stub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.SetPrice(sim_pb2.SetPriceRequest(symbol="AAPL"))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_price_path_is_played_in_order_and_triggers_a_stop(stub, ib: IB) -> None:
    from ib_async import StopOrder

    msft = await qualified(ib, "MSFT")
    ticker = ib.reqMktData(msft)
    seen: list[float] = []
    ticker.updateEvent += lambda t: seen.append(t.last)
    stop = ib.placeOrder(msft, StopOrder("SELL", 10, 405.00))
    await until(lambda: stop.orderStatus.status == "PreSubmitted")
    await stub.SetPricePath(sim_pb2.SetPricePathRequest(
        symbol="MSFT", prices=[d("409"), d("407"), d("404.90"), d("406")], step_interval=ms(5)))
    await until(lambda: ticker.last == 406.0)
    assert [p for i, p in enumerate(seen) if i == 0 or seen[i - 1] != p][-4:] == [409.0, 407.0, 404.9, 406.0]
    await until(lambda: stop.orderStatus.status == "Filled")
    assert stop.fills[0].execution.price <= 404.9


async def test_paused_market_data_sends_no_ticks_until_resumed(stub, sim: Simulator, ib: IB) -> None:
    aapl = await qualified(ib)
    ticker = ib.reqMktData(aapl)
    await until(lambda: ticker.last == 190.0)
    reply = await stub.PauseMarketData(sim_pb2.PauseMarketDataRequest(symbols=["AAPL"]))
    assert list(reply.paused_symbols) == ["AAPL"]
    sim.set_price("AAPL", Decimal(199))
    await ib.reqCurrentTimeAsync()  # a round trip: any tick sent before it has arrived by now
    assert ticker.last == 190.0
    await stub.ResumeMarketData(sim_pb2.ResumeMarketDataRequest())
    await until(lambda: ticker.last == 199.0)


async def test_rejected_next_order_is_cancelled_in_ib_async_with_the_code(stub, sim: Simulator, ib: IB) -> None:
    aapl = await qualified(ib)
    errors = []
    ib.errorEvent += lambda req_id, code, text, contract: errors.append((req_id, code, text))
    reply = await stub.RejectNextOrder(sim_pb2.RejectNextOrderRequest(
        code=201, message="Order rejected - reason:test says no", count=1))
    assert reply.pending_rejections == 1
    trade = ib.placeOrder(aapl, MarketOrder("BUY", 1, orderRef="coid-1"))
    await until(lambda: trade.orderStatus.status == "Cancelled")
    assert (trade.order.orderId, 201, "Order rejected - reason:test says no") in errors
    log = await stub.GetBrokerLog(sim_pb2.GetBrokerLogRequest(order_ref="coid-1"))
    assert [o.reject_code for o in log.orders] == [201] and not log.executions
    second = ib.placeOrder(aapl, MarketOrder("BUY", 1))
    await until(lambda: second.orderStatus.status == "Filled")


async def test_dropped_executions_response_times_out_the_startup_sync(stub, sim: Simulator) -> None:
    await stub.SetResponseDelay(sim_pb2.SetResponseDelayRequest(request_types=["reqExecutions"], drop=True))
    ib = IB()
    with pytest.raises(ConnectionError) as err:
        await ib.connectAsync("127.0.0.1", sim.tws_port, clientId=5, timeout=0.3, raiseSyncErrors=True)
    assert "executions request timed out" in str(err.value)
    await stub.SetResponseDelay(sim_pb2.SetResponseDelayRequest())
    ib = await connect(sim, 5)
    ib.disconnect()


async def test_delayed_responses_still_arrive_in_order(stub, ib: IB) -> None:
    reply = await stub.SetResponseDelay(sim_pb2.SetResponseDelayRequest(delay=ms(30)))
    assert reply.delay.nanos == 30_000_000
    contracts = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"), Stock("IBM", "SMART", "USD"))
    assert [c.conId for c in contracts] == [265598, 8314]
    await stub.SetResponseDelay(sim_pb2.SetResponseDelayRequest())


async def test_unknown_request_type_in_delay_is_invalid_argument(stub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.SetResponseDelay(sim_pb2.SetResponseDelayRequest(request_types=["reqTeleport"]))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_drop_connections_disconnects_ib_async_and_refuses_for_a_while(stub, sim: Simulator) -> None:
    ib = await connect(sim, 11)
    gone = asyncio.Event()
    ib.disconnectedEvent += gone.set
    reply = await stub.DropConnections(sim_pb2.DropConnectionsRequest(client_id=11, refuse_duration=ms(300)))
    assert reply.dropped_count == 1
    await asyncio.wait_for(gone.wait(), 5)
    assert not ib.isConnected()
    with pytest.raises(ConnectionRefusedError):
        await IB().connectAsync("127.0.0.1", sim.tws_port, clientId=11, timeout=2)
    await until(lambda: sim.gateway.accepting)
    again = await connect(sim, 11)
    assert again.isConnected()
    again.disconnect()


async def test_connectivity_lost_then_restored_with_data_maintained(stub, sim: Simulator, ib: IB) -> None:
    aapl = await qualified(ib)
    ticker = ib.reqMktData(aapl)
    codes: list[int] = []
    ib.errorEvent += lambda req_id, code, text, contract: codes.append(code)
    reply = await stub.SendConnectivitySequence(sim_pb2.SendConnectivitySequenceRequest(
        sequence=sim_pb2.CONNECTIVITY_SEQUENCE_LOST_RESTORED_DATA_MAINTAINED, outage=ms(50),
        suspend_during_outage=True))
    assert reply.client_count == 1
    await until(lambda: 1102 in codes)
    assert codes.index(1100) < codes.index(1102)
    assert ib.isConnected()
    sim.set_price("AAPL", Decimal(193))
    await until(lambda: ticker.last == 193.0)  # the subscription survived


async def test_connectivity_restored_with_data_lost_ends_market_data(stub, sim: Simulator, ib: IB) -> None:
    aapl = await qualified(ib)
    ticker = ib.reqMktData(aapl)
    await until(lambda: ticker.last == 190.0)
    codes: list[int] = []
    ib.errorEvent += lambda req_id, code, text, contract: codes.append(code)
    await stub.SendConnectivitySequence(sim_pb2.SendConnectivitySequenceRequest(
        sequence=sim_pb2.CONNECTIVITY_SEQUENCE_LOST_RESTORED_DATA_LOST, outage=ms(20)))
    await until(lambda: 1101 in codes)
    assert codes[:2] == [1100, 1101]
    sim.set_price("AAPL", Decimal(193))
    await ib.reqCurrentTimeAsync()
    assert ticker.last == 190.0  # the subscription is gone: the client must resubscribe
    ib.cancelMktData(aapl)
    fresh = ib.reqMktData(aapl)
    await until(lambda: fresh.last == 193.0)


async def test_orders_wait_during_an_outage_and_trade_after_it(stub, sim: Simulator, ib: IB) -> None:
    aapl = await qualified(ib)
    await stub.SendConnectivitySequence(sim_pb2.SendConnectivitySequenceRequest(
        sequence=sim_pb2.CONNECTIVITY_SEQUENCE_LOST, suspend_during_outage=True))
    trade = ib.placeOrder(aapl, MarketOrder("BUY", 3))
    await until(lambda: trade.orderStatus.status == "Submitted")
    await ib.reqCurrentTimeAsync()
    assert not trade.fills
    await stub.SendConnectivitySequence(sim_pb2.SendConnectivitySequenceRequest(
        sequence=sim_pb2.CONNECTIVITY_SEQUENCE_LOST_RESTORED_DATA_MAINTAINED, outage=ms(1)))
    await until(lambda: trade.orderStatus.status == "Filled")


async def test_restart_keeping_state_gives_back_orders_and_positions(stub, sim: Simulator) -> None:
    ib = await connect(sim, 21)
    aapl = await qualified(ib)
    buy = ib.placeOrder(aapl, MarketOrder("BUY", 7))
    resting = ib.placeOrder(aapl, LimitOrder("SELL", 7, 250.00, tif="GTC"))
    await until(lambda: buy.isDone() and resting.orderStatus.status == "Submitted")
    gone = asyncio.Event()
    ib.disconnectedEvent += gone.set
    await stub.RestartGateway(sim_pb2.RestartGatewayRequest(keep_state=True, downtime=ms(50)))
    await asyncio.wait_for(gone.wait(), 5)
    await until(lambda: sim.gateway.accepting)
    again = await connect(sim, 21)
    try:
        assert [t.order.permId for t in again.openTrades()] == [resting.order.permId]
        assert [(p.contract.conId, p.position) for p in again.positions()] == [(aapl.conId, 7.0)]
        assert [f.execution.execId for f in again.fills()] == [buy.fills[0].execution.execId]
    finally:
        again.disconnect()


async def test_restart_resetting_state_comes_back_empty(stub, sim: Simulator) -> None:
    ib = await connect(sim, 22)
    aapl = await qualified(ib)
    buy = ib.placeOrder(aapl, MarketOrder("BUY", 7))
    await until(lambda: buy.isDone())
    gone = asyncio.Event()
    ib.disconnectedEvent += gone.set
    await stub.RestartGateway(sim_pb2.RestartGatewayRequest(keep_state=False, downtime=ms(10)))
    await asyncio.wait_for(gone.wait(), 5)
    await until(lambda: sim.gateway.accepting)
    again = await connect(sim, 22)
    try:
        assert again.positions() == [] and again.fills() == [] and again.openTrades() == []
    finally:
        again.disconnect()


async def test_reset_to_a_seed_reproduces_prices_and_ids(stub, sim: Simulator) -> None:
    async def run(seed: int) -> tuple[list[str], int, int, str, float]:
        assert (await stub.Reset(sim_pb2.ResetRequest(seed=seed, drop_connections=True))).seed == seed
        ib = await connect(sim, 1)
        try:
            aapl = await qualified(ib)
            reply = await stub.StepMarket(sim_pb2.StepMarketRequest(steps=25, symbols=["AAPL", "SPY"]))
            prices = [q.last_price.value for q in reply.quotes]
            trade = ib.placeOrder(aapl, MarketOrder("BUY", 1))
            await until(lambda: trade.isDone() and trade.fills)
            fill = trade.fills[0].execution
            return prices, trade.order.orderId, trade.order.permId, fill.execId, fill.price
        finally:
            ib.disconnect()

    first, second, third = await run(7), await run(7), await run(8)
    assert first == second
    assert first[0] != third[0]


async def test_broker_log_has_orders_with_their_executions(stub, ib: IB) -> None:
    aapl = await qualified(ib)
    trade = ib.placeOrder(aapl, MarketOrder("BUY", 4, orderRef="coid-log"))
    await until(lambda: trade.isDone())
    other = ib.placeOrder(aapl, LimitOrder("BUY", 1, 100.00, orderRef="coid-other"))
    await until(lambda: other.orderStatus.status == "Submitted")
    log = await stub.GetBrokerLog(sim_pb2.GetBrokerLogRequest(order_ref="coid-log"))
    [order] = log.orders
    assert order.status == "Filled" and order.filled_quantity.value == "4"
    assert order.perm_id == trade.order.permId and order.client_id == 1
    assert [e.execution_id for e in order.executions] == [f.execution.execId for f in trade.fills]
    assert order.executions[0].commission.units == 1
    everything = await stub.GetBrokerLog(sim_pb2.GetBrokerLogRequest())
    assert [o.order_ref for o in everything.orders] == ["coid-log", "coid-other"]


async def test_status_reports_clients_and_faults(stub, sim: Simulator, ib: IB) -> None:
    await stub.RejectNextOrder(sim_pb2.RejectNextOrderRequest(code=201, count=2))
    status = await stub.GetSimulatorStatus(sim_pb2.GetSimulatorStatusRequest())
    assert [c.client_id for c in status.clients] == [1]
    assert status.clients[0].server_version == 178
    assert status.api_port == sim.tws_port and status.accepting_connections
    assert status.pending_rejections == 2 and list(status.account_ids) == ["DU1234567"]


async def test_control_service_requires_the_internal_token_when_one_is_set() -> None:
    from services.ib_gateway_sim import SimConfig

    sim = Simulator(SimConfig.for_tests(internal_token="s3cret"))
    await sim.start()
    control = await serve_control(sim)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{control.port}") as channel:
            stub = sim_pb2_grpc.SimulatorControlServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.GetSimulatorStatus(sim_pb2.GetSimulatorStatusRequest())
            assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
            reply = await stub.GetSimulatorStatus(sim_pb2.GetSimulatorStatusRequest(),
                                                  metadata=(("x-ibkr-internal-token", "s3cret"),))
            assert reply.api_port == sim.tws_port
    finally:
        await control.stop(0)
        await sim.stop()


async def test_trading_session_and_end_of_day_over_grpc(stub, ib: IB) -> None:
    aapl = await qualified(ib)
    await stub.SetTradingSession(sim_pb2.SetTradingSessionRequest(session=sim_pb2.TRADING_SESSION_CLOSED))
    held = ib.placeOrder(aapl, MarketOrder("BUY", 1))
    day = ib.placeOrder(aapl, LimitOrder("BUY", 1, 150.0))
    await until(lambda: held.log[-1].errorCode == 399)
    assert not held.fills
    reply = await stub.SetTradingSession(sim_pb2.SetTradingSessionRequest(session=sim_pb2.TRADING_SESSION_REGULAR))
    assert reply.session == sim_pb2.TRADING_SESSION_REGULAR
    await until(lambda: held.orderStatus.status == "Filled")
    eod = await stub.EndTradingDay(sim_pb2.EndTradingDayRequest())
    assert eod.expired_order_count == 1
    await until(lambda: day.orderStatus.status == "Cancelled")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.SetTradingSession(sim_pb2.SetTradingSessionRequest())
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
