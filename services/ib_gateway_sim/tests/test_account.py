"""Cash, positions, P&L, commissions, account summary, executions and completed orders, as ib_async sees them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ib_async import IB, ExecutionFilter, LimitOrder, MarketOrder, Stock

from services.ib_gateway_sim import Simulator

from .conftest import connect, until

ACCOUNT = "DU1234567"


async def contract(ib: IB, symbol: str = "AAPL") -> Stock:
    [c] = await ib.qualifyContractsAsync(Stock(symbol, "SMART", "USD"))
    return c


async def filled(ib: IB, c: Stock, order) -> object:
    trade = ib.placeOrder(c, order)
    await until(lambda: trade.orderStatus.status == "Filled" and trade.fills
                and all(f.commissionReport.execId for f in trade.fills))
    return trade


async def test_covering_a_short_realizes_pnl_net_of_both_commissions(sim: Simulator, ib: IB) -> None:
    aapl = await contract(ib)
    short = await filled(ib, aapl, MarketOrder("SELL", 100))
    assert short.fills[0].commissionReport.realizedPNL == 0.0  # opening fill: UNSET, shown as 0
    sim.set_price("AAPL", Decimal("185.00"))
    cover = await filled(ib, aapl, MarketOrder("BUY", 100))
    sold, bought = short.fills[0].execution.price, cover.fills[0].execution.price
    expected = (Decimal(str(sold)) - Decimal(str(bought))) * 100 - 2
    assert Decimal(str(cover.fills[0].commissionReport.realizedPNL)) == expected
    await until(lambda: not ib.positions())


async def test_pnl_and_pnl_single_follow_the_mark(sim: Simulator, ib: IB) -> None:
    aapl = await contract(ib)
    pnl = ib.reqPnL(ACCOUNT)
    single = ib.reqPnLSingle(ACCOUNT, "", aapl.conId)
    buy = await filled(ib, aapl, MarketOrder("BUY", 100))
    cost = Decimal(str(buy.fills[0].execution.price)) * 100 + 1
    sim.set_price("AAPL", Decimal("195.00"))
    expected = Decimal(19500) - cost
    await until(lambda: pnl.unrealizedPnL == float(expected) and single.unrealizedPnL == float(expected))
    assert pnl.dailyPnL == float(expected) and pnl.realizedPnL == 0
    assert single.position == 100 and single.value == 19500.0
    sell = await filled(ib, aapl, MarketOrder("SELL", 40))
    realized = Decimal(str(sell.fills[0].commissionReport.realizedPNL))
    await until(lambda: pnl.realizedPnL == float(realized) and single.position == 60)


async def test_account_summary_answers_the_tags_ib_async_asks_for(sim: Simulator, ib: IB) -> None:
    summary = {(v.tag, v.currency): v.value for v in await ib.accountSummaryAsync()}
    assert summary[("NetLiquidation", "USD")] == "1000000.00"
    assert summary[("BuyingPower", "USD")] == "4000000.00"
    assert summary[("AvailableFunds", "USD")] == "1000000.00"
    assert summary[("AccountType", "")] == "INDIVIDUAL"
    assert ("CashBalance", "BASE") in summary and ("Cushion", "") in summary
    aapl = await contract(ib)
    await filled(ib, aapl, MarketOrder("BUY", 100))

    def now() -> dict[tuple[str, str], str]:  # the subscription keeps ib.wrapper.acctSummary current
        return {(v.tag, v.currency): v.value for v in ib.wrapper.acctSummary.values()}

    await until(lambda: now()[("GrossPositionValue", "USD")] != "0.00")
    values = {k: Decimal(v) for k, v in now().items()
              if k[0] in ("GrossPositionValue", "InitMarginReq", "NetLiquidation", "BuyingPower")}
    assert values[("InitMarginReq", "USD")] == values[("GrossPositionValue", "USD")] / 4
    assert values[("BuyingPower", "USD")] == (values[("NetLiquidation", "USD")]
                                              - values[("InitMarginReq", "USD")]) * 4


async def test_account_values_and_portfolio_follow_fills_and_prices(sim: Simulator, ib: IB) -> None:
    spy = await contract(ib, "SPY")
    await filled(ib, spy, MarketOrder("BUY", 10))
    sim.set_price("SPY", Decimal("550.00"))
    await until(lambda: any(i.marketPrice == 550.0 for i in ib.portfolio()))
    [item] = ib.portfolio()
    assert item.marketValue == 5500.0
    assert item.unrealizedPNL == pytest.approx(5500.0 - item.averageCost * 10, abs=0.01)
    values = {(v.tag, v.currency): v.value for v in ib.accountValues()}
    assert values[("StockMarketValue", "USD")] == "5500.00"


async def test_executions_can_be_filtered_by_client_symbol_and_side(sim: Simulator, ib: IB) -> None:
    aapl, ibm = await contract(ib), await contract(ib, "IBM")
    other = await connect(sim, 2)
    try:
        await filled(ib, aapl, MarketOrder("BUY", 1))
        await filled(ib, ibm, MarketOrder("SELL", 2))
        await filled(other, aapl, MarketOrder("SELL", 3))
        everything = await ib.reqExecutionsAsync()
        assert len(everything) == 3
        by_client = await ib.reqExecutionsAsync(ExecutionFilter(clientId=2))
        assert [f.execution.shares for f in by_client] == [3]
        by_symbol = await ib.reqExecutionsAsync(ExecutionFilter(symbol="IBM"))
        assert [f.execution.shares for f in by_symbol] == [2]
        sells = await ib.reqExecutionsAsync(ExecutionFilter(side="SELL"))
        assert sorted(f.execution.shares for f in sells) == [2, 3]
    finally:
        other.disconnect()


async def test_completed_orders_include_filled_and_cancelled_ones(ib: IB) -> None:
    aapl = await contract(ib)
    done = await filled(ib, aapl, MarketOrder("BUY", 2, orderRef="done"))
    resting = ib.placeOrder(aapl, LimitOrder("BUY", 1, 100.0, orderRef="gone"))
    await until(lambda: resting.orderStatus.status == "Submitted")
    ib.cancelOrder(resting.order)
    await until(lambda: resting.orderStatus.status == "Cancelled")
    completed = await ib.reqCompletedOrdersAsync(False)
    assert [(t.order.orderRef, t.orderStatus.status, t.order.permId) for t in completed] == [
        ("done", "Filled", done.order.permId), ("gone", "Cancelled", resting.order.permId)]
    assert completed[0].order.filledQuantity == 2


async def test_positions_are_pushed_to_every_subscribed_client(sim: Simulator, ib: IB) -> None:
    other = await connect(sim, 2)
    try:
        aapl = await contract(ib)
        await filled(ib, aapl, MarketOrder("BUY", 5))
        await until(lambda: [(p.contract.conId, p.position) for p in other.positions()] == [(aapl.conId, 5.0)])
        assert other.trades() == []  # the order itself stays private to client 1
    finally:
        other.disconnect()


async def test_commission_is_per_share_with_a_per_order_minimum(sim: Simulator, ib: IB) -> None:
    f = await contract(ib, "F")  # 11.50 a share
    sim.set_quote("F", ask_size=Decimal(100_000), bid_size=Decimal(100_000))
    small = await filled(ib, f, MarketOrder("BUY", 10))  # 0.05 -> minimum 1.00
    large = await filled(ib, f, MarketOrder("BUY", 1000))  # 5.00
    assert small.fills[0].commissionReport.commission == 1.0
    assert large.fills[0].commissionReport.commission == 5.0
