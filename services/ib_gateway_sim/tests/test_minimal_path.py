"""The path every other team builds on: connect + sync, contracts, quotes, a market fill, a limit cancel,
account pushes, executions and reconnect, all driven by unmodified ib_async over a real socket."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from ib_async import IB, LimitOrder, MarketOrder, Stock

from services.ib_gateway_sim import Simulator

from .conftest import Recorder, connect, until


async def test_connect_completes_startup_sync_without_errors(sim: Simulator) -> None:
    ib = await connect(sim, 3, raiseSyncErrors=True)
    try:
        assert ib.isConnected()
        assert ib.managedAccounts() == ["DU1234567"]
        assert ib.client.serverVersion() == 178
        assert any(v.tag == "NetLiquidation" for v in ib.accountValues())
    finally:
        ib.disconnect()


async def test_qualify_contracts_fills_in_con_id_and_primary_exchange(ib: IB) -> None:
    [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
    assert aapl.conId == 265598
    assert aapl.primaryExchange == "NASDAQ"
    details = await ib.reqContractDetailsAsync(Stock("SPY", "SMART", "USD"))
    assert details[0].minTick == 0.01 and details[0].longName == "SPDR S&P 500 ETF TRUST"


async def test_unknown_symbol_is_error_200_and_not_qualified(ib: IB) -> None:
    errors = []
    ib.errorEvent += lambda req_id, code, text, contract: errors.append(code)
    result = await ib.qualifyContractsAsync(Stock("NOSUCH", "SMART", "USD"))
    assert result == [None]
    assert 200 in errors


async def test_streaming_quotes_follow_price_changes(sim: Simulator, ib: IB) -> None:
    [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
    ticker = ib.reqMktData(aapl)
    await until(lambda: ticker.last == 190.0 and ticker.bid > 0 and ticker.ask > 0)
    assert ticker.close == 190.0
    sim.set_price("AAPL", Decimal("195.50"))
    await until(lambda: ticker.last == 195.5)
    assert ticker.bid < ticker.ask and ticker.bidSize > 0 and ticker.askSize > 0
    assert ticker.volume > 0
    volume = ticker.volume
    sim.step_market(3, ["AAPL"])
    await until(lambda: ticker.volume > volume)
    assert ticker.last == float(sim.market.quote(aapl.conId).last)


async def test_snapshot_quote_ends_with_snapshot_end(ib: IB) -> None:
    [msft] = await ib.qualifyContractsAsync(Stock("MSFT", "SMART", "USD"))
    [ticker] = await ib.reqTickersAsync(msft)
    assert ticker.last == 410.0 and ticker.bid > 0 and ticker.ask > ticker.bid


async def test_market_buy_is_filled_with_commission_attached(sim: Simulator, ib: IB) -> None:
    [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
    rec = Recorder(ib)
    trade = ib.placeOrder(aapl, MarketOrder("BUY", 100, orderRef="ref-1"))
    await until(lambda: trade.orderStatus.status == "Filled" and trade.fills
                and trade.fills[0].commissionReport.commission > 0)
    order_msgs = [i for i in rec.ids() if i in (3, 5, 11, 59)]
    assert order_msgs[:6] == [5, 3, 11, 5, 3, 59]
    assert [e.status for e in trade.log] == ["PendingSubmit", "Submitted", "Submitted", "Filled"]
    fill = trade.fills[0]
    ask = sim.market.quote(aapl.conId).ask
    assert fill.execution.price == float(ask)
    assert fill.execution.side == "BOT" and fill.execution.shares == 100
    assert fill.execution.orderRef == "ref-1"
    assert fill.execution.clientId == 1
    assert fill.execution.permId == trade.order.permId == trade.orderStatus.permId != 0
    assert fill.commissionReport.commission == 1.0  # 100 x 0.005 = 0.50, minimum 1.00
    assert trade.orderStatus.avgFillPrice == float(ask)


async def test_limit_order_rests_then_cancel_reports_cancelled_then_202(ib: IB) -> None:
    [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
    errors = []
    ib.errorEvent += lambda req_id, code, text, contract: errors.append((req_id, code))
    trade = ib.placeOrder(aapl, LimitOrder("BUY", 10, 150.00))
    await until(lambda: trade.orderStatus.status == "Submitted")
    rec = Recorder(ib)
    ib.cancelOrder(trade.order)
    await until(lambda: (trade.order.orderId, 202) in errors)
    assert trade.orderStatus.status == "Cancelled"
    assert [e.status for e in trade.log] == ["PendingSubmit", "Submitted", "PendingCancel", "Cancelled"]
    ids = [i for i in rec.ids() if i in (3, 4)]
    assert ids == [3, 4]  # orderStatus Cancelled, then error 202
    assert not trade.fills


async def test_positions_and_account_values_are_pushed_after_a_fill(sim: Simulator, ib: IB) -> None:
    [spy] = await ib.qualifyContractsAsync(Stock("SPY", "SMART", "USD"))
    cash_before = float(next(v.value for v in ib.accountValues() if v.tag == "TotalCashValue"))
    trade = ib.placeOrder(spy, MarketOrder("BUY", 10))
    await until(lambda: trade.isDone())
    await until(lambda: any(p.contract.conId == spy.conId for p in ib.positions()))
    [pos] = [p for p in ib.positions() if p.contract.conId == spy.conId]
    price = trade.fills[0].execution.price
    assert pos.position == 10
    assert abs(pos.avgCost - (price * 10 + 1.0) / 10) < 1e-9  # commission is in the average cost
    await until(lambda: any(i.contract.conId == spy.conId for i in ib.portfolio()))
    [item] = [i for i in ib.portfolio() if i.contract.conId == spy.conId]
    assert item.position == 10 and item.marketPrice == float(sim.market.quote(spy.conId).last)
    cash_after = float(next(v.value for v in ib.accountValues() if v.tag == "TotalCashValue"))
    assert abs(cash_before - cash_after - (price * 10 + 1.0)) < 0.01


async def test_req_executions_returns_the_days_fills_with_commissions(ib: IB) -> None:
    [ibm] = await ib.qualifyContractsAsync(Stock("IBM", "SMART", "USD"))
    trade = ib.placeOrder(ibm, MarketOrder("SELL", 5))
    await until(lambda: trade.isDone())
    fills = await ib.reqExecutionsAsync()
    assert [f.execution.execId for f in fills] == [trade.fills[0].execution.execId]
    assert fills[0].execution.side == "SLD"


async def test_reconnecting_client_gets_its_open_orders_back(sim: Simulator) -> None:
    ib = await connect(sim, 9)
    [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
    trade = ib.placeOrder(aapl, LimitOrder("BUY", 10, 100.00, orderRef="keep-me"))
    await until(lambda: trade.orderStatus.status == "Submitted")
    perm_id = trade.orderStatus.permId
    ib.disconnect()
    await asyncio.sleep(0.05)
    again = await connect(sim, 9)
    try:
        [open_trade] = again.openTrades()
        assert open_trade.order.permId == perm_id
        assert open_trade.order.orderRef == "keep-me"
        assert open_trade.orderStatus.status == "Submitted"
        again.cancelOrder(open_trade.order)
        await until(lambda: open_trade.orderStatus.status == "Cancelled")
    finally:
        again.disconnect()


async def test_second_client_with_same_client_id_is_refused_with_326(sim: Simulator, ib: IB) -> None:
    other = IB()
    errors = []
    other.errorEvent += lambda req_id, code, text, contract: errors.append(code)
    try:
        await other.connectAsync("127.0.0.1", sim.tws_port, clientId=1, timeout=0.5)
    except (ConnectionError, TimeoutError):
        pass
    finally:
        other.disconnect()
    assert 326 in errors
    assert ib.isConnected()
